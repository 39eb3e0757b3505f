# Every project target links hydra_warnings; third-party headers are included as SYSTEM
# so their warnings never fail our build.
add_library(hydra_warnings INTERFACE)
target_compile_options(hydra_warnings INTERFACE -Wall -Wextra -Wpedantic)
if(HYDRA_WERROR)
  target_compile_options(hydra_warnings INTERFACE -Werror)
endif()
target_compile_definitions(hydra_warnings INTERFACE $<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS>)

