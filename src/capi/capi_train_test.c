/* capi_train_test DIR: the training C API's test suite (fastintent_train.h), in C99 (warnings as
 * errors), linked against libfastintent_train.so and libfastintent.so only. Trains small
 * keyword models from in-memory arrays and from a JSON Lines file it writes into DIR, checks
 * that they classify what they were taught and work with the inference functions (quantize,
 * save, load), and drives every error path: NULL arguments, no data, counts that differ,
 * decreasing offsets, empty labels, invalid UTF-8, one label only, bad params, a missing file
 * and cancellation from the progress callback. Runs under ASan (preset asan).
 * Ends with "N passed, M failed"; exits non-zero when a check failed. */
/* NOLINTNEXTLINE(bugprone-reserved-identifier): a feature-test macro, reserved on purpose. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fastintent/fastintent.h"
#include "fastintent/fastintent_train.h"

static int g_passed = 0;
static int g_failed = 0;

static int Check(int ok, const char* what, int line) {
  if (ok) {
    ++g_passed;
  } else {
    ++g_failed;
    fprintf(stderr, "capi_train_test.c:%d: FAILED: %s\n", line, what);
  }
  return ok;
}
#define CHECK(cond) Check((cond) ? 1 : 0, #cond, __LINE__)

/* Checks that `e` is an error with `code` and a message containing `part`, then frees it. */
static void ExpectError(fi_error* e, int32_t code, const char* part, int line) {
  char what[512];
  snprintf(what, sizeof what, "expected %s (%s), got %s: %s", fi_code_name(code), part,
           fi_code_name(fi_error_code(e)), fi_error_message(e));
  Check(e != NULL && fi_error_code(e) == code && strstr(fi_error_message(e), part) != NULL, what,
        line);
  fi_error_free(e);
}
#define EXPECT_ERROR(expr, code, part) ExpectError((expr), (code), (part), __LINE__)

static void ExpectOk(fi_error* e, const char* expr, int line) {
  char what[512];
  snprintf(what, sizeof what, "%s: %s", expr, fi_error_message(e));
  Check(e == NULL, what, line);
  fi_error_free(e);
}
#define EXPECT_OK(expr) ExpectOk((expr), #expr, __LINE__)

/* ---- A keyword dataset: three intents, each text three of its intent's words. ---- */

enum { kClasses = 3, kPerClass = 40, kExamples = kClasses * kPerClass };
static const char* const kLabels[kClasses] = {"weather", "music", "alarm"};
static const char* const kWords[kClasses][4] = {{"rain", "sunny", "forecast", "umbrella"},
                                                {"song", "playlist", "guitar", "album"},
                                                {"wake", "alarm", "snooze", "morning"}};

/* The arrays fi_train_arrays takes, built once by BuildData. */
static char g_texts[kExamples * 64];
static size_t g_text_offsets[kExamples + 1];
static char g_labels[kExamples * 16];
static size_t g_label_offsets[kExamples + 1];

static void BuildData(void) {
  size_t t = 0;
  size_t l = 0;
  int i;
  unsigned rng = 7;
  for (i = 0; i < kExamples; ++i) {
    const int c = i % kClasses;
    int w;
    g_text_offsets[i] = t;
    g_label_offsets[i] = l;
    for (w = 0; w < 3; ++w) {
      const char* word;
      rng = rng * 1103515245u + 12345u;
      word = kWords[c][(rng >> 16) % 4];
      if (w) g_texts[t++] = ' ';
      /* NOLINTNEXTLINE(bugprone-not-null-terminated-result): texts are (offset, length) spans. */
      memcpy(g_texts + t, word, strlen(word));
      t += strlen(word);
    }
    memcpy(g_labels + l, kLabels[c], strlen(kLabels[c]));
    l += strlen(kLabels[c]);
  }
  g_text_offsets[kExamples] = t;
  g_label_offsets[kExamples] = l;
}

/* Small, fast settings: a 16-wide layer, a few epochs, one thread. */
static fi_train_params SmallParams(void) {
  fi_train_params p = fi_train_default_params();
  p.hidden[0] = 16;
  p.hidden_count = 1;
  p.max_epochs = 6;
  p.learning_rate = 0.02f;
  p.threads = 1;
  p.valid_fraction = 0.25f;
  return p;
}

/* The top label's name for `text` (NULL when rejected or on error). */
static const char* Top(const fi_model* m, const char* text) {
  fi_label_score top[1];
  size_t n = 0;
  fi_error* e = fi_model_classify(m, text, strlen(text), 1, 0.0f, top, 1, &n);
  if (e != NULL) {
    fprintf(stderr, "classify '%s': %s\n", text, fi_error_message(e));
    fi_error_free(e);
    return NULL;
  }
  return n == 1 ? fi_model_label(m, top[0].label, NULL) : NULL;
}

static void ExpectLearned(const fi_model* m, int line) {
  const char* a = Top(m, "rain forecast");
  const char* b = Top(m, "guitar album");
  const char* c = Top(m, "snooze morning");
  Check(a && strcmp(a, "weather") == 0, "weather learned", line);
  Check(b && strcmp(b, "music") == 0, "music learned", line);
  Check(c && strcmp(c, "alarm") == 0, "alarm learned", line);
}

/* ---- Progress callback ---- */

typedef struct Progress {
  uint32_t calls;
  uint32_t last_epoch;
  uint32_t cancel_at; /* 0: never cancel */
  int bad;            /* set when a report is out of range */
} Progress;

static int32_t OnEpoch(uint32_t epoch, uint32_t max_epochs, double loss, double valid_accuracy,
                       void* user_data) {
  Progress* p = (Progress*)user_data;
  ++p->calls;
  if (epoch != p->last_epoch + 1 || epoch > max_epochs || !(loss >= 0) ||
      !(valid_accuracy >= 0 && valid_accuracy <= 1))
    p->bad = 1;
  p->last_epoch = epoch;
  return p->cancel_at != 0 && epoch >= p->cancel_at;
}

/* ---- Tests ---- */

static void TestDefaults(void) {
  fi_train_params p = fi_train_default_params();
  CHECK(p.hidden_count == 1 && p.hidden[0] == 256);
  CHECK(p.max_epochs == 30 && p.patience == 4 && p.batch_size == 64);
  CHECK(p.threads >= 1 && p.seed == 1 && p.quantize == 0);
  CHECK(p.progress == NULL && p.oos_label == NULL);
}

static void TestArrays(void) {
  fi_train_params p = SmallParams();
  Progress progress = {0, 0, 0, 0};
  fi_model* m = NULL;
  p.progress = OnEpoch;
  p.progress_user_data = &progress;
  EXPECT_OK(fi_train_arrays(g_texts, g_text_offsets, kExamples, g_labels, g_label_offsets,
                            kExamples, &p, &m));
  CHECK(m != NULL);
  if (m == NULL) return;
  CHECK(progress.calls >= 1 && progress.calls <= p.max_epochs && !progress.bad);
  CHECK(fi_model_label_count(m) == 3);
  CHECK(fi_model_precision(m) == FI_PRECISION_FLOAT32);
  ExpectLearned(m, __LINE__);
  fi_model_free(m);
}

static void TestQuantizeSaveLoad(const char* dir) {
  fi_train_params p = SmallParams();
  fi_model* q = NULL;
  fi_model* loaded = NULL;
  char path[1200];
  p.quantize = 1;
  EXPECT_OK(fi_train_arrays(g_texts, g_text_offsets, kExamples, g_labels, g_label_offsets,
                            kExamples, &p, &q));
  if (q == NULL) return;
  CHECK(fi_model_precision(q) == FI_PRECISION_INT8);
  ExpectLearned(q, __LINE__);
  snprintf(path, sizeof path, "%s/arrays_int8.fim", dir);
  EXPECT_OK(fi_model_save(q, path, strlen(path)));
  EXPECT_OK(fi_model_load(path, strlen(path), &loaded));
  if (loaded != NULL) {
    CHECK(fi_model_precision(loaded) == FI_PRECISION_INT8);
    ExpectLearned(loaded, __LINE__);
  }
  fi_model_free(q); /* freed before the model loaded from its file: handles are independent */
  fi_model_free(loaded);
}

/* Writes the dataset as JSON Lines to `path`; returns 0 on failure. */
static int WriteJsonl(const char* path, int first, int count) {
  FILE* f = fopen(path, "w");
  int i;
  if (f == NULL) return 0;
  for (i = first; i < first + count; ++i) {
    const int n_text = (int)(g_text_offsets[i + 1] - g_text_offsets[i]);
    const int n_label = (int)(g_label_offsets[i + 1] - g_label_offsets[i]);
    fprintf(f, "{\"text\": \"%.*s\", \"label\": \"%.*s\"}\n", n_text, g_texts + g_text_offsets[i],
            n_label, g_labels + g_label_offsets[i]);
  }
  return fclose(f) == 0;
}

static void TestFile(const char* dir) {
  char train[1200];
  char valid[1200];
  char empty[1200];
  char missing[1200];
  fi_train_params p = SmallParams();
  fi_model* m = NULL;
  fi_model* untouched = (fi_model*)&m; /* any non-NULL value: failures must leave it alone */
  FILE* f;
  snprintf(train, sizeof train, "%s/train.jsonl", dir);
  snprintf(valid, sizeof valid, "%s/valid.jsonl", dir);
  snprintf(empty, sizeof empty, "%s/empty.jsonl", dir);
  snprintf(missing, sizeof missing, "%s/missing.jsonl", dir);
  CHECK(WriteJsonl(train, 0, kExamples - 30));
  CHECK(WriteJsonl(valid, kExamples - 30, 30));
  f = fopen(empty, "w");
  CHECK(f != NULL);
  if (f) fclose(f);

  EXPECT_OK(fi_train_file(train, strlen(train), valid, strlen(valid), &p, &m));
  if (m != NULL) {
    ExpectLearned(m, __LINE__);
    fi_model_free(m);
  }
  m = NULL; /* without a validation file a split is carved from the training data */
  EXPECT_OK(fi_train_file(train, strlen(train), NULL, 0, &p, &m));
  if (m != NULL) ExpectLearned(m, __LINE__);
  fi_model_free(m);

  m = untouched;
  EXPECT_ERROR(fi_train_file(missing, strlen(missing), NULL, 0, &p, &m), FI_NOT_FOUND,
               "missing.jsonl");
  EXPECT_ERROR(fi_train_file(empty, strlen(empty), NULL, 0, &p, &m), FI_INVALID_ARGUMENT,
               "no examples");
  EXPECT_ERROR(fi_train_file(train, strlen(train), empty, strlen(empty), &p, &m),
               FI_INVALID_ARGUMENT, "no examples");
  EXPECT_ERROR(fi_train_file(NULL, 0, NULL, 0, &p, &m), FI_INVALID_ARGUMENT, "path");
  EXPECT_ERROR(fi_train_file(train, strlen(train) + 1, NULL, 0, &p, &m), FI_INVALID_ARGUMENT,
               "NUL");
  EXPECT_ERROR(fi_train_file(train, strlen(train), NULL, 3, &p, &m), FI_INVALID_ARGUMENT,
               "valid_path");
  EXPECT_ERROR(fi_train_file(train, strlen(train), NULL, 0, &p, NULL), FI_INVALID_ARGUMENT, "out");
  CHECK(m == untouched);
}

static void TestBadArrays(void) {
  fi_train_params p = SmallParams();
  fi_model* m = NULL;
  fi_model* untouched = (fi_model*)&m;
  /* Two examples, each with its own label: "a b" -> x, "c" -> y. */
  const char texts[] = "a bc";
  const size_t text_offsets[] = {0, 3, 4};
  const char labels[] = "xy";
  const size_t label_offsets[] = {0, 1, 2};
  const size_t empty_label[] = {0, 1, 1};
  const size_t decreasing[] = {0, 3, 2};
  const char bad_utf8_texts[] = "a b\xC3"; /* C3 starts a sequence the text cuts short */
  const char bad_utf8_labels[] = "x\xFF";
  const char same_labels[] = "xx";
  m = untouched;

  EXPECT_ERROR(fi_train_arrays(texts, text_offsets, 0, labels, label_offsets, 0, &p, &m),
               FI_INVALID_ARGUMENT, "no examples");
  EXPECT_ERROR(fi_train_arrays(texts, text_offsets, 2, labels, label_offsets, 1, &p, &m),
               FI_INVALID_ARGUMENT, "2 texts but 1 labels");
  EXPECT_ERROR(fi_train_arrays(NULL, text_offsets, 2, labels, label_offsets, 2, &p, &m),
               FI_INVALID_ARGUMENT, "texts is NULL");
  EXPECT_ERROR(fi_train_arrays(texts, NULL, 2, labels, label_offsets, 2, &p, &m),
               FI_INVALID_ARGUMENT, "text_offsets is NULL");
  EXPECT_ERROR(fi_train_arrays(texts, text_offsets, 2, NULL, label_offsets, 2, &p, &m),
               FI_INVALID_ARGUMENT, "labels is NULL");
  EXPECT_ERROR(fi_train_arrays(texts, text_offsets, 2, labels, NULL, 2, &p, &m),
               FI_INVALID_ARGUMENT, "label_offsets is NULL");
  EXPECT_ERROR(fi_train_arrays(texts, text_offsets, 2, labels, label_offsets, 2, &p, NULL),
               FI_INVALID_ARGUMENT, "out is NULL");
  EXPECT_ERROR(fi_train_arrays(texts, decreasing, 2, labels, label_offsets, 2, &p, &m),
               FI_INVALID_ARGUMENT, "decrease at example 1");
  EXPECT_ERROR(fi_train_arrays(texts, text_offsets, 2, labels, empty_label, 2, &p, &m),
               FI_INVALID_ARGUMENT, "example 1: empty label");
  EXPECT_ERROR(fi_train_arrays(bad_utf8_texts, text_offsets, 2, labels, label_offsets, 2, &p, &m),
               FI_INVALID_ARGUMENT, "example 1: text is not valid UTF-8");
  EXPECT_ERROR(fi_train_arrays(texts, text_offsets, 2, bad_utf8_labels, label_offsets, 2, &p, &m),
               FI_INVALID_ARGUMENT, "example 1: label is not valid UTF-8");
  EXPECT_ERROR(fi_train_arrays(texts, text_offsets, 2, same_labels, label_offsets, 2, &p, &m),
               FI_INVALID_ARGUMENT, "two distinct labels");
  CHECK(m == untouched);
}

static void TestBadParams(void) {
  fi_model* m = NULL;
  fi_train_params p = SmallParams();
  p.max_epochs = 0;
  EXPECT_ERROR(fi_train_arrays(g_texts, g_text_offsets, kExamples, g_labels, g_label_offsets,
                               kExamples, &p, &m),
               FI_INVALID_ARGUMENT, "max_epochs");
  p = SmallParams();
  p.hidden_count = FI_TRAIN_MAX_HIDDEN + 1;
  EXPECT_ERROR(fi_train_arrays(g_texts, g_text_offsets, kExamples, g_labels, g_label_offsets,
                               kExamples, &p, &m),
               FI_INVALID_ARGUMENT, "hidden_count");
  p = SmallParams();
  p.dropout = 1.0f;
  EXPECT_ERROR(fi_train_arrays(g_texts, g_text_offsets, kExamples, g_labels, g_label_offsets,
                               kExamples, &p, &m),
               FI_INVALID_ARGUMENT, "dropout");
  p = SmallParams();
  p.oos_label_len = 3;
  EXPECT_ERROR(fi_train_arrays(g_texts, g_text_offsets, kExamples, g_labels, g_label_offsets,
                               kExamples, &p, &m),
               FI_INVALID_ARGUMENT, "oos_label");
  CHECK(m == NULL);
}

static void TestCancel(void) {
  fi_train_params p = SmallParams();
  Progress progress = {0, 0, 2, 0};
  fi_model* m = NULL;
  p.max_epochs = 20;
  p.patience = 20;
  p.progress = OnEpoch;
  p.progress_user_data = &progress;
  EXPECT_ERROR(fi_train_arrays(g_texts, g_text_offsets, kExamples, g_labels, g_label_offsets,
                               kExamples, &p, &m),
               FI_CANCELLED, "cancelled by the progress callback");
  CHECK(m == NULL);
  CHECK(progress.calls == 2); /* no epoch ran after the callback asked to stop */
}

static void TestErrorCreate(void) {
  fi_error* e = fi_error_create(FI_IO_ERROR, "disk full", 9);
  CHECK(fi_error_code(e) == FI_IO_ERROR && strcmp(fi_error_message(e), "disk full") == 0);
  fi_error_free(e);
  e = fi_error_create(FI_INTERNAL, NULL, 0);
  CHECK(fi_error_code(e) == FI_INTERNAL && strcmp(fi_error_message(e), "") == 0);
  fi_error_free(e);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: capi_train_test DIR\n");
    return 2;
  }
  mkdir(argv[1], 0755); /* may exist already */
  BuildData();
  TestDefaults();
  TestErrorCreate();
  TestArrays();
  TestQuantizeSaveLoad(argv[1]);
  TestFile(argv[1]);
  TestBadArrays();
  TestBadParams();
  TestCancel();
  printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
