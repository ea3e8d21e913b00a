# Build flags as INTERFACE targets, and the helpers every directory uses to
# declare libraries, programs, unit tests and fuzz targets the same way.

add_library(hearth_build INTERFACE)
target_compile_options(hearth_build INTERFACE
  -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes
  -Wmissing-prototypes -Wno-unused-parameter -fno-strict-aliasing)
target_compile_definitions(hearth_build INTERFACE _GNU_SOURCE
  HEARTH_VERSION="${PROJECT_VERSION}")
if(HEARTH_FUZZ)
  # Coverage for libFuzzer in every library a fuzz target links, not just
  # in the target's own file (the runtime comes with -fsanitize=fuzzer).
  target_compile_options(hearth_build INTERFACE -fsanitize=fuzzer-no-link)
endif()
if(HEARTH_SANITIZE)
  target_compile_options(hearth_build INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(hearth_build INTERFACE -fsanitize=address,undefined)
endif()

# hearth_library(NAME SOURCES... LIBS ...): a static library linked with
# hearth_build; include directory is the library's own source directory.
function(hearth_library name)
  cmake_parse_arguments(A "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${name} STATIC ${A_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC hearth_build ${A_LIBS})
endfunction()

function(hearth_program name)
  cmake_parse_arguments(A "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE hearth_build ${A_LIBS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)
  install(TARGETS ${name} RUNTIME DESTINATION bin)
endfunction()

# hearth_unit_test(NAME SOURCES... LIBS ...): a cmocka program, label unit.
function(hearth_unit_test name)
  cmake_parse_arguments(A "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE hearth_build PkgConfig::CMOCKA ${A_LIBS})
  add_test(NAME unit/${name} COMMAND ${name})
  set_tests_properties(unit/${name} PROPERTIES LABELS unit TIMEOUT 120
    ENVIRONMENT "HEARTH_SOURCE_DIR=${PROJECT_SOURCE_DIR};HEARTH_BINARY_DIR=${PROJECT_BINARY_DIR}")
endfunction()

# hearth_fuzzer(NAME SOURCE file LIBS ... CORPUS dir): a libFuzzer target
# (HEARTH_FUZZ) or, in every other build, a program that replays each
# corpus file once. Either way ctest runs it on the corpus, label fuzz;
# with HEARTH_FUZZ it also fuzzes HEARTH_FUZZ_RUNS inputs from seed 1.
# A fixed seed and a run count make a CI fuzz run repeatable (what passed
# here passes there); the time is only a cap for slow targets.
set(HEARTH_FUZZ_RUNS 200000 CACHE STRING "Inputs each fuzz target tries in ctest")
set(HEARTH_FUZZ_SECONDS 90 CACHE STRING "At most this many seconds per fuzz target in ctest")
add_custom_target(fuzzers)
function(hearth_fuzzer name)
  cmake_parse_arguments(A "" "SOURCE;CORPUS" "LIBS" ${ARGN})
  if(HEARTH_FUZZ)
    add_executable(${name} ${A_SOURCE})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${name} PRIVATE hearth_build ${A_LIBS})
    file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/${name}.corpus)
    add_test(NAME fuzz/${name} COMMAND ${name}
      -seed=1 -runs=${HEARTH_FUZZ_RUNS} -max_total_time=${HEARTH_FUZZ_SECONDS}
      -rss_limit_mb=2048 -timeout=10
      ${CMAKE_CURRENT_BINARY_DIR}/${name}.corpus ${A_CORPUS})
  else()
    add_executable(${name} ${A_SOURCE} ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.c)
    target_link_libraries(${name} PRIVATE hearth_build ${A_LIBS})
    add_test(NAME fuzz/${name} COMMAND ${name} ${A_CORPUS})
  endif()
  add_dependencies(fuzzers ${name})
  set_tests_properties(fuzz/${name} PROPERTIES LABELS fuzz TIMEOUT 600)
endfunction()
