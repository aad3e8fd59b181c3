# Runs one driver mutant's model test (-DBIN=...; NB_TEST_FILTER picks the
# test) and passes
# only if the model caught the mutation: the binary ran and cmocka reported
# at least one failed test. A clean pass means the mutant survived.
execute_process(COMMAND ${BIN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE out TIMEOUT 240)
string(REGEX MATCHALL "\\[  FAILED  \\] test_[a-z0-9_]+" failed "${out}")
string(REGEX MATCHALL "\\[       OK \\] test_[a-z0-9_]+" passed "${out}")
if(rc MATCHES "^[0-9]+$" AND NOT rc EQUAL 0 AND failed)
  list(REMOVE_DUPLICATES failed)
  string(REGEX MATCHALL "(ERROR: [^\n]*|error: [^\n]*|expected [^\n]*|model [0-9]: [^\n]*)" why "${out}")
  message("mutant caught: ${failed}\n${why}")
elseif(NOT passed)
  message(FATAL_ERROR "mutant test did not run (exit ${rc}):\n${out}")
else()
  message(FATAL_ERROR "mutant survived (exit ${rc}): the model tests pass with a wrong constant in the driver's header")
endif()
