// app: the composition root. Each subcommand wires the modules together for one run.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace lambdad::app {

struct CommonOptions {
  std::filesystem::path template_file = "template.yaml";
  std::filesystem::path runtimes_dir;                 // empty: found next to the executable
  std::map<std::string, std::string> interpreters;    // runtime or family -> program
  std::string log_level = "info";
  std::string region = "us-east-1";
};

struct ServeOptions {
  CommonOptions common;
  std::string host = "127.0.0.1";
  std::uint16_t port = 3001;
};

struct InvokeOptions {
  CommonOptions common;
  std::string function;
  std::string event_file;  // "" = {} ; "-" = stdin
};

// Exit codes: 0 ok, 1 function error (invoke), 2 usage or template error.
int run_serve(const ServeOptions& options);
int run_invoke(const InvokeOptions& options);

// Parses argv and runs the chosen subcommand.
int run_cli(int argc, char** argv);

}  // namespace lambdad::app
