# LAMBDAD_SANITIZE=address -> ASan + UBSan; LAMBDAD_SANITIZE=thread -> TSan.
add_library(lambdad_sanitizers INTERFACE)
if(LAMBDAD_SANITIZE STREQUAL "address")
  target_compile_options(lambdad_sanitizers INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  # Not a position-independent executable: the instrumented daemon is large (about 280 MB with
  # line tables) and, as a PIE, the loader spent about half of every start applying its relative
  # relocations (0.65 s against 0.34 s per `lambdad --version` on the 2-core CI machine). The
  # end-to-end suites start the daemon and the CLI hundreds of times.
  target_link_options(lambdad_sanitizers INTERFACE -fsanitize=address,undefined -no-pie)
elseif(LAMBDAD_SANITIZE STREQUAL "thread")
  # GCC 12 warns that TSan does not instrument atomic_thread_fence (used inside Asio); that is
  # a note about coverage, not a defect in our code, so it is not an error here.
  target_compile_options(lambdad_sanitizers INTERFACE -fsanitize=thread -fno-omit-frame-pointer
                         $<$<CXX_COMPILER_ID:GNU>:-Wno-tsan>)
  target_link_options(lambdad_sanitizers INTERFACE -fsanitize=thread)
elseif(NOT LAMBDAD_SANITIZE STREQUAL "")
  message(FATAL_ERROR "LAMBDAD_SANITIZE must be '', 'address' or 'thread'")
endif()

# Every project target links this: warnings, sanitizers, and the Asio/Beast separate-compilation
# switches (their implementation is compiled once, in src/http/asio_beast_impl.cpp).
add_library(lambdad_options INTERFACE)
target_link_libraries(lambdad_options INTERFACE lambdad_warnings lambdad_sanitizers)
target_compile_definitions(lambdad_options INTERFACE
  BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)
target_include_directories(lambdad_options INTERFACE ${PROJECT_SOURCE_DIR}/include)
