# The Python runtime client's modules compiled to bytecode beside their sources
# (runtimes/python/lambdad_runtime/__pycache__, not in git), by the python3 lambdad runs
# (runtime_environment.cpp looks in /usr/local/bin, /usr/bin, /bin in this order). In a
# Lambda-shaped root /var/runtime is read-only, so Python can never cache them itself and every
# cold start would compile them again. Checked-hash bytecode: an interpreter uses it only while
# the source's hash matches, so an edit made after the build is compiled as before, never stale.
find_program(LAMBDAD_RUNTIME_PYTHON python3 PATHS /usr/local/bin /usr/bin /bin NO_DEFAULT_PATH)
if(LAMBDAD_RUNTIME_PYTHON)
  set(_runtime_package ${PROJECT_SOURCE_DIR}/runtimes/python/lambdad_runtime)
  file(GLOB _runtime_sources CONFIGURE_DEPENDS ${_runtime_package}/*.py)
  set(_stamp ${PROJECT_BINARY_DIR}/runtime_bytecode.stamp)
  add_custom_command(
    OUTPUT ${_stamp}
    COMMAND ${LAMBDAD_RUNTIME_PYTHON} -m compileall -q --invalidation-mode checked-hash ${_runtime_package}
    COMMAND ${CMAKE_COMMAND} -E touch ${_stamp}
    DEPENDS ${_runtime_sources}
    COMMENT "Compiling the Python runtime client's bytecode"
    VERBATIM)
  add_custom_target(runtime_bytecode ALL DEPENDS ${_stamp})
else()
  message(STATUS "no python3 in /usr/local/bin, /usr/bin or /bin: the Python runtime client is compiled at each cold start")
endif()
