# The Node.js runtime client lambdad runs, runtimes/nodejs/bootstrap.mjs (not in git), generated
# from runtimes/nodejs/lib by scripts/bundle-node-runtime.mjs: one ES module instead of a graph of
# them, which Node would load file by file at every cold start. Without node the Node.js runtime
# cannot run anyway; the build says so and goes on.
find_program(LAMBDAD_NODE node)
if(LAMBDAD_NODE)
  set(_node_runtime ${PROJECT_SOURCE_DIR}/runtimes/nodejs)
  file(GLOB _node_sources CONFIGURE_DEPENDS ${_node_runtime}/lib/*.mjs)
  add_custom_command(
    OUTPUT ${_node_runtime}/bootstrap.mjs
    COMMAND ${LAMBDAD_NODE} ${PROJECT_SOURCE_DIR}/scripts/bundle-node-runtime.mjs
    DEPENDS ${_node_sources} ${PROJECT_SOURCE_DIR}/scripts/bundle-node-runtime.mjs
    COMMENT "Bundling the Node.js runtime client"
    VERBATIM)
  add_custom_target(runtime_bundle ALL DEPENDS ${_node_runtime}/bootstrap.mjs)
else()
  message(WARNING "no node: runtimes/nodejs/bootstrap.mjs is not generated and nodejs functions cannot run")
endif()
