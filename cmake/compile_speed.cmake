# Compile time of a full build from nothing (scripts/test.sh on a fresh CI machine, no ccache).
#
#   HYDRA_UNITY_BUILD=ON   the big targets compile their sources in batches, one compiler run per
#                          HYDRA_UNITY_BATCH_SIZE files: headers are read, and the inline and
#                          template code they bring compiled, once per batch instead of once per
#                          file. Measured on a full build: gcc -O2 a third less CPU time, the
#                          clang-16 sanitizer build a sixth less.
#
# Off by default: with ccache, a change to one file rebuilds faster without it. scripts/test.sh
# turns it on. (Precompiled headers were measured too, alone and with the batches: no gain on
# top of the batches, and each target's header compile holds up its sources.)
#
# A unity batch is one translation unit. Two files of a batch that define the same name in an
# anonymous namespace, or a header whose meaning depends on what was included before it, break
# it: keep such names distinct within a target that uses hydra_unity_batches(), or give
# the file set_source_files_properties(FILE PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON) (it is then
# compiled on its own, as without the option). A dev build does not see these clashes:
# configure with -DHYDRA_UNITY_BUILD=ON (or run scripts/test.sh) to check.
option(HYDRA_UNITY_BUILD "Compile the big targets in unity batches" OFF)
set(HYDRA_UNITY_BATCH_SIZE 8 CACHE STRING "Source files per unity batch (HYDRA_UNITY_BUILD)")

# hydra_unity_batches(TARGET [BATCH_SIZE N] [ALONE regex]): HYDRA_UNITY_BUILD for one target,
# called where it is defined; the sources matching ALONE are compiled on their own.
function(hydra_unity_batches target)
  cmake_parse_arguments(arg "" "BATCH_SIZE;ALONE" "" ${ARGN})
  if(HYDRA_UNITY_BUILD)
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
endfunction()
