# Trains a tiny model with the CLI, then runs both examples on it and checks what they print:
# the right label for texts of the training intents, and a clear error for a missing file.
#   cmake -DCLI=... -DEMBED=... -DCLASSIFY=... -DDATA=... -DWORK_DIR=... -P run_examples.cmake
foreach(var CLI EMBED CLASSIFY DATA WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_examples.cmake: -D${var}=... is required")
  endif()
endforeach()

file(MAKE_DIRECTORY ${WORK_DIR})
set(model ${WORK_DIR}/tiny.fim)
execute_process(
  COMMAND ${CLI} train ${DATA} -o ${model} --valid ${DATA} --hidden 16 --epochs 8 --patience 2
          --threads 1 --buckets 65536 --lr 0.1 --seed 1 -q
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "training the tiny model failed (${rc}): ${err}")
endif()

# Each example must print "<label> <probability>" with the expected label.
foreach(example ${EMBED} ${CLASSIFY})
  foreach(case "play some jazz tonight=music" "will it rain=weather" "snooze the alarm now=alarm")
    string(REPLACE "=" ";" parts "${case}")
    list(GET parts 0 text)
    list(GET parts 1 want)
    execute_process(COMMAND ${example} ${model} "${text}"
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0 OR NOT out MATCHES "^${want} [01]\\.[0-9][0-9]\n$")
      message(FATAL_ERROR "${example} '${text}': exit ${rc}, printed '${out}' '${err}', "
                          "expected '${want} <prob>'")
    endif()
  endforeach()
  execute_process(COMMAND ${example} ${WORK_DIR}/missing.fim "hello"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0 OR NOT err MATCHES "missing.fim")
    message(FATAL_ERROR "${example} on a missing model: exit ${rc}, stderr '${err}'")
  endif()
endforeach()
message(STATUS "examples: both print the expected labels")
