# Warnings live on an INTERFACE target that every project target links; no global flags.
add_library(lambdad_warnings INTERFACE)
target_compile_options(lambdad_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror
  -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
  -Wconversion -Wsign-conversion -Wdouble-promotion -Wformat=2
  -Wimplicit-fallthrough)
