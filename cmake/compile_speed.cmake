# Compile time of a full build from nothing (scripts/test.sh on a fresh CI machine, no ccache).
#
#   HYDRA_UNITY_BUILD=ON         the big targets compile their sources in batches (one compiler run
#                                per HYDRA_UNITY_BATCH_SIZE files): the headers are read and their
#                                inline code compiled once per batch, not once per file
#   HYDRA_PRECOMPILE_HEADERS=ON  the big targets read their heavy third-party headers (doctest,
#                                libpqxx, RapidJSON, Pistache, Poco, the standard library) from a
#                                precompiled header
#
# Both are off by default: with ccache and a change to one file, an incremental build is faster
# without them. scripts/test.sh turns both on.
#
# A unity batch is one translation unit: two files of a target defining the same name in an
# anonymous namespace (or a header depending on what was included before it) break it. Keep
# such names distinct within a target; a file that cannot be gets
# set_source_files_properties(... PROPERTIES SKIP_UNITY_BUILD_INCLUDE ON).
option(HYDRA_UNITY_BUILD "Compile the big targets in unity batches" OFF)
set(HYDRA_UNITY_BATCH_SIZE 8 CACHE STRING "Source files per unity batch (HYDRA_UNITY_BUILD)")
option(HYDRA_PRECOMPILE_HEADERS "Precompile the big targets' third-party headers" OFF)

# hydra_compile_speed(TARGET [BATCH_SIZE N] [HEADERS header...]): what the options above do, for
# one target. HEADERS are the target's precompiled headers, e.g. <pqxx/pqxx>.
function(hydra_compile_speed target)
  cmake_parse_arguments(arg "" "BATCH_SIZE" "HEADERS" ${ARGN})
  if(HYDRA_UNITY_BUILD)
    if(NOT arg_BATCH_SIZE)
      set(arg_BATCH_SIZE ${HYDRA_UNITY_BATCH_SIZE})
    endif()
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE ${arg_BATCH_SIZE})
  endif()
  if(HYDRA_PRECOMPILE_HEADERS AND arg_HEADERS)
    target_precompile_headers(${target} PRIVATE ${arg_HEADERS})
  endif()
endfunction()
