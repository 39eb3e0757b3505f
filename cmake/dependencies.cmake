# All dependencies come from Debian 12 packages (see scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PISTACHE REQUIRED IMPORTED_TARGET libpistache)
pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx libpq)
pkg_check_modules(BOTAN REQUIRED IMPORTED_TARGET botan-2)
find_package(Poco REQUIRED COMPONENTS Foundation Net NetSSL Util)
find_package(OpenSSL REQUIRED)  # the servers' TLS settings (shared/http/tls.cpp)
find_package(RapidJSON REQUIRED)
if(HYDRA_BUILD_TESTS)
  find_package(doctest REQUIRED)
endif()

# RapidJSON ships no imported target, only an include path.
add_library(hydra_rapidjson INTERFACE)
target_include_directories(hydra_rapidjson SYSTEM INTERFACE ${RAPIDJSON_INCLUDE_DIRS})
# Never let a malformed document reach an assert(): our reader checks types first.
target_compile_definitions(hydra_rapidjson INTERFACE RAPIDJSON_HAS_STDSTRING=1)
