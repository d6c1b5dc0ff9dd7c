# Configure and build kiln with ASan + UBSan in BIN, then run its unit tests
# and the recordings that walk the sampler, aggregation and output code.
foreach(step
    "${CMAKE_COMMAND};-S;${SRC};-B;${BIN};-DKILN_SANITIZE=ON;-DCMAKE_BUILD_TYPE=Debug"
    "${CMAKE_COMMAND};--build;${BIN};--parallel"
    "${CMAKE_CTEST_COMMAND};--test-dir;${BIN};-L;unit;--output-on-failure"
    "${CMAKE_CTEST_COMMAND};--test-dir;${BIN};-R;test_record_(spin_chain|whole_host|bad_input|signals);--output-on-failure")
  execute_process(COMMAND ${step} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "sanitizer step failed (${rc}): ${step}")
  endif()
endforeach()
