# Warnings live on an INTERFACE target that every project target links; no global flags.
add_library(lambdad_warnings INTERFACE)
target_compile_options(lambdad_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror
  -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
  -Wconversion -Wsign-conversion -Wdouble-promotion -Wformat=2
  -Wimplicit-fallthrough)
# GCC 12's -Wrestrict reports overlaps that cannot happen inside libstdc++'s std::string
# (concatenation, insert, replace) once inlined at -O2/-O3; GCC 13 no longer does. With -Werror
# a plain optimised build would fail on correct code, so GCC 12 keeps the warning on but not
# as an error.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(lambdad_warnings INTERFACE -Wno-error=restrict)
endif()
