# Helpers shared by every folder's CMakeLists.txt.  Each plugin, internal
# library, tool, test folder and benchmark is its own subdirectory, found by
# flowrun_add_subdirectories(), so adding one never edits a shared file.

# Adds every immediate subdirectory of DIR that has a CMakeLists.txt.
function(flowrun_add_subdirectories dir)
    file(GLOB children LIST_DIRECTORIES true ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/*)
    list(SORT children)
    foreach(child ${children})
        if(IS_DIRECTORY ${child} AND EXISTS ${child}/CMakeLists.txt)
            add_subdirectory(${child})
        endif()
    endforeach()
endfunction()

# Hot loops (FAST plugins, the resize core) are compiled for a CPU baseline,
# not for the build machine, so what `cmake --install` installs runs on any
# x86-64 host with AVX2 (x86-64-v3); kernels that gain from AVX-512 carry a
# second copy for x86-64-v4, picked at load time (plugins/lib/cpu/cpu.h).
# FLOWRUN_NATIVE=ON tunes them for this machine instead (not portable).
option(FLOWRUN_NATIVE "Compile hot loops with -march=native (binaries run only on CPUs like this one)" OFF)
if(FLOWRUN_NATIVE)
    set(FLOWRUN_HOT_FLAGS -O3 -march=native)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
    set(FLOWRUN_HOT_FLAGS -O3 -march=x86-64-v3)
else()
    set(FLOWRUN_HOT_FLAGS -O3)
endif()

# flowrun_add_plugin(NAME SOURCES a.c b.c [LIBS x y] [FAST] [TEST_ONLY])
# Builds plugins/NAME as NAME.so in the plugin directory and installs it.
# FAST compiles it with FLOWRUN_HOT_FLAGS for hot loops (measured first).
# TEST_ONLY: built for the tests and benchmarks into their own directory
# (lib/flowrun/test-plugins, which only tests put on FLOWRUN_PLUGIN_PATH), so
# a user of the build tree never sees them; never installed.
function(flowrun_add_plugin name)
    cmake_parse_arguments(P "FAST;TEST_ONLY" "" "SOURCES;LIBS" ${ARGN})
    add_library(plugin-${name} MODULE ${P_SOURCES})
    set(output_dir ${FLOWRUN_PLUGIN_OUTPUT_DIR})
    if(P_TEST_ONLY)
        set(output_dir ${FLOWRUN_TEST_PLUGIN_OUTPUT_DIR})
    endif()
    set_target_properties(plugin-${name} PROPERTIES
        OUTPUT_NAME ${name} PREFIX ""
        LIBRARY_OUTPUT_DIRECTORY ${output_dir})
    target_link_libraries(plugin-${name} PRIVATE flowrun-headers ${P_LIBS})
    # Hidden visibility (the project default) plus the export map: only
    # flowrun_plugin leaves the .so, whatever its static libraries export.
    target_link_options(plugin-${name} PRIVATE
                        "LINKER:--version-script=${PROJECT_SOURCE_DIR}/cmake/flowrun-plugin.map")
    set_property(TARGET plugin-${name} APPEND PROPERTY LINK_DEPENDS
                 ${PROJECT_SOURCE_DIR}/cmake/flowrun-plugin.map)
    if(P_FAST)
        target_compile_options(plugin-${name} PRIVATE ${FLOWRUN_HOT_FLAGS})
    endif()
    if(NOT P_TEST_ONLY)
        install(TARGETS plugin-${name} LIBRARY DESTINATION ${FLOWRUN_PLUGIN_INSTALL_DIR})
    endif()
endfunction()

# flowrun_add_test(NAME SOURCES a.c [LIBS x] [ENV K=V ...] [LABELS l ...] [TIMEOUT s])
# A C test program linked with the plugin harness, run by ctest.
function(flowrun_add_test name)
    cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;ENV;LABELS" ${ARGN})
    add_executable(test-${name} ${T_SOURCES})
    target_link_libraries(test-${name} PRIVATE flowrun-harness flowrun-check ${T_LIBS})
    set_target_properties(test-${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
    add_test(NAME ${name} COMMAND test-${name})
    flowrun_test_properties(${name} TIMEOUT "${T_TIMEOUT}" ENV ${T_ENV} LABELS ${T_LABELS})
endfunction()

# flowrun_add_script_test(NAME COMMAND cmd args... [ENV ...] [LABELS ...] [TIMEOUT s])
# A test written as a script (Python from Debian, shell, node): gets the same
# environment as the C tests.
function(flowrun_add_script_test name)
    cmake_parse_arguments(T "" "TIMEOUT" "COMMAND;ENV;LABELS" ${ARGN})
    add_test(NAME ${name} COMMAND ${T_COMMAND})
    flowrun_test_properties(${name} TIMEOUT "${T_TIMEOUT}" ENV ${T_ENV} LABELS ${T_LABELS})
endfunction()

function(flowrun_test_properties name)
    cmake_parse_arguments(T "" "TIMEOUT" "ENV;LABELS" ${ARGN})
    if(NOT T_TIMEOUT)
        set(T_TIMEOUT 300)
    endif()
    set(env
        FLOWRUN_PLUGIN_PATH=${FLOWRUN_TEST_PLUGIN_OUTPUT_DIR}
        FLOWRUN_BIN=${CMAKE_BINARY_DIR}/bin/flowrun
        FLOWRUN_BUILD_DIR=${CMAKE_BINARY_DIR}
        FLOWRUN_SOURCE_DIR=${CMAKE_SOURCE_DIR}
        FLOWRUN_SANITIZE=$<BOOL:${FLOWRUN_SANITIZE}>
        PYTHONDONTWRITEBYTECODE=1
        # Pipelines without `state:` keep their ledger here, never in the HOME of the machine.
        XDG_STATE_HOME=${CMAKE_BINARY_DIR}/test-state
        ${T_ENV})
    set_tests_properties(${name} PROPERTIES ENVIRONMENT "${env}" TIMEOUT ${T_TIMEOUT}
                                            LABELS "${T_LABELS}")
endfunction()
