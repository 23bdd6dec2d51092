#include "lambdad/app/commands.hpp"

int main(int argc, char** argv) { return lambdad::app::run_cli(argc, argv); }
