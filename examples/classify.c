/* A minimal C program on the C API (fastintent.h only): loads a model, classifies one text
 * and prints the top label.
 *   classify MODEL.fim "play some jazz"   ->   music 0.93 */
#include <stdio.h>
#include <string.h>

#include "fastintent/fastintent.h"

/* Prints and frees `error`; returns 1 (the exit code). */
static int Fail(fi_error* error) {
  fprintf(stderr, "%s: %s\n", fi_code_name(fi_error_code(error)), fi_error_message(error));
  fi_error_free(error);
  return 1;
}

int main(int argc, char** argv) {
  fi_model* model = NULL;
  fi_label_score top;
  size_t count = 0;
  fi_error* error;
  if (argc != 3) {
    fprintf(stderr, "usage: %s MODEL.fim TEXT\n", argv[0]);
    return 2;
  }
  error = fi_model_load(argv[1], strlen(argv[1]), &model);
  if (error) return Fail(error);
  /* k = 1, threshold < 0: the model's calibrated one; count is 0 when the text is rejected. */
  error = fi_model_classify(model, argv[2], strlen(argv[2]), 1, -1.0f, &top, 1, &count);
  if (error) {
    fi_model_free(model);
    return Fail(error);
  }
  if (count == 0) {
    printf("(rejected: out of scope)\n");
  } else {
    size_t len = 0;
    const char* name = fi_model_label(model, top.label, &len);
    printf("%.*s %.2f\n", (int)len, name, top.prob);
  }
  fi_model_free(model);
  return 0;
}
