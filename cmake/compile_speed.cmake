# Compile time of a full build from nothing (scripts/test.sh on a fresh CI machine, no ccache).
#
#   HYDRA_UNITY_BUILD=ON         the big targets compile their sources in batches, one compiler run
#                                per HYDRA_UNITY_BATCH_SIZE files: headers are read, and the inline
#                                and template code they bring compiled, once per batch instead of
#                                once per file (a third less compile time for the end-to-end suite)
#   HYDRA_PRECOMPILE_HEADERS=ON  the big targets read their heavy third-party headers (doctest,
#                                libpqxx, RapidJSON, Pistache, Poco, the standard library) from a
#                                precompiled header
#
# Both are off by default: with ccache, a change to one file rebuilds faster without them.
# scripts/test.sh turns them on.
#
# A unity batch is one translation unit. Two files of a batch that define the same name in an
# anonymous namespace, or a header whose meaning depends on what was included before it, break
# it: keep such names distinct within a target that uses hydra_compile_speed(... UNITY), or give
# the file set_source_files_properties(FILE PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON) (it is then
# compiled on its own, as without the option). A dev build does not see these clashes:
# configure with -DHYDRA_UNITY_BUILD=ON (or run scripts/test.sh) to check.
option(HYDRA_UNITY_BUILD "Compile the big targets in unity batches" OFF)
set(HYDRA_UNITY_BATCH_SIZE 8 CACHE STRING "Source files per unity batch (HYDRA_UNITY_BUILD)")
option(HYDRA_PRECOMPILE_HEADERS "Precompile the big targets' third-party headers" OFF)

# hydra_compile_speed(TARGET [UNITY] [BATCH_SIZE N] [ALONE regex] [HEADERS header...]): what the
# options above do, for one target, called where it is defined. UNITY: batches
# (HYDRA_UNITY_BUILD), but for the sources matching ALONE, which are compiled on their own;
# HEADERS: its precompiled headers, e.g. <pqxx/pqxx> (HYDRA_PRECOMPILE_HEADERS).
function(hydra_compile_speed target)
  cmake_parse_arguments(arg "UNITY" "BATCH_SIZE;ALONE" "HEADERS" ${ARGN})
  if(HYDRA_UNITY_BUILD AND arg_UNITY)
    if(NOT arg_BATCH_SIZE)
      set(arg_BATCH_SIZE ${HYDRA_UNITY_BATCH_SIZE})
    endif()
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE ${arg_BATCH_SIZE})
    if(arg_ALONE)
      get_target_property(sources ${target} SOURCES)
      foreach(source IN LISTS sources)
        if(source MATCHES "${arg_ALONE}")
          set_source_files_properties(${source} PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
        endif()
      endforeach()
    endif()
  endif()
  if(HYDRA_PRECOMPILE_HEADERS AND arg_HEADERS)
    target_precompile_headers(${target} PRIVATE ${arg_HEADERS})
  endif()
endfunction()
