# Sanitizers and fuzzing, for every project target (they all link hydra_warnings).
#
#   HYDRA_SANITIZE=address,undefined   instrument all our code; the first report ends the process
#                                      (-fno-sanitize-recover=all), so a test cannot pass over one
#   HYDRA_FUZZ=ON                      also build the libFuzzer targets of tests/fuzz (clang only);
#                                      implies HYDRA_SANITIZE=address,undefined unless set, and
#                                      gives all our code coverage instrumentation (fuzzer-no-link)
#                                      so libFuzzer sees into the libraries, not only the harness
#
# Third-party libraries (Debian's Pistache, Poco, Botan, libpqxx) are not instrumented: their
# own bugs are out of reach, but every call into them from our code is checked at our side.
option(HYDRA_FUZZ "Build the libFuzzer targets in tests/fuzz (needs clang, e.g. CMAKE_CXX_COMPILER=clang++-16)" OFF)

if(HYDRA_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "HYDRA_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++-16")
  endif()
  if(NOT HYDRA_SANITIZE)
    set(HYDRA_SANITIZE "address,undefined" CACHE STRING "Sanitizers to enable, e.g. address,undefined" FORCE)
  endif()
endif()

if(HYDRA_SANITIZE)
  # -fno-omit-frame-pointer: usable stacks in reports from the fast unwinder.
  target_compile_options(hydra_warnings INTERFACE -fsanitize=${HYDRA_SANITIZE} -fno-sanitize-recover=all
                         -fno-omit-frame-pointer)
  target_link_options(hydra_warnings INTERFACE -fsanitize=${HYDRA_SANITIZE})
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    # The few checks not made, each with its reason (a third-party header's known UB).
    target_compile_options(hydra_warnings INTERFACE
                           -fsanitize-ignorelist=${PROJECT_SOURCE_DIR}/cmake/sanitizer-ignorelist.txt)
  endif()
endif()

if(HYDRA_FUZZ)
  # Coverage and comparison tracing in all our code; only the tests/fuzz executables link
  # libFuzzer's main (-fsanitize=fuzzer). Elsewhere the hooks are the sanitizer runtime's no-ops.
  target_compile_options(hydra_warnings INTERFACE -fsanitize=fuzzer-no-link)
  target_link_options(hydra_warnings INTERFACE -fsanitize=fuzzer-no-link)
endif()
