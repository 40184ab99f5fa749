/* capi_test DIR: the C API's test suite, in C99 (warnings as errors), linked against
 * libfastintent.so only. DIR holds the models written by capi_test_models (tiny.fim: weather,
 * music, alarm with a component registry where weather depends on alarm; tiny_plain.fim: no
 * registry; tiny_other.fim: meteo, musique, reveil). Every function of fastintent.h is called,
 * with its error paths; handles are freed in every order, NULL is passed to every free
 * function, and the engine is driven from many threads. Runs under ASan (preset asan).
 * Prints each failed check and ends with "N passed, M failed". */
/* NOLINTNEXTLINE(bugprone-reserved-identifier): a feature-test macro, reserved on purpose. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fastintent/fastintent.h"

static int g_passed = 0;
static int g_failed = 0;
static pthread_mutex_t g_check_mu = PTHREAD_MUTEX_INITIALIZER;

/* Counts a check; prints it when it fails. Thread-safe (callbacks check too). */
static int Check(int ok, const char* what, int line) {
  pthread_mutex_lock(&g_check_mu);
  if (ok) {
    ++g_passed;
  } else {
    ++g_failed;
    fprintf(stderr, "capi_test.c:%d: FAILED: %s\n", line, what);
  }
  pthread_mutex_unlock(&g_check_mu);
  return ok;
}
#define CHECK(cond) Check((cond) ? 1 : 0, #cond, __LINE__)

/* Checks that `e` is an error with `code` (and, when `part` is non-NULL, a message containing
 * it), then frees it. */
static void ExpectError(fi_error* e, int32_t code, const char* part, int line) {
  char what[512];
  snprintf(what, sizeof what, "expected %s (%s), got %s: %s", fi_code_name(code), part ? part : "",
           fi_code_name(fi_error_code(e)), fi_error_message(e));
  Check(
      e != NULL && fi_error_code(e) == code && (part == NULL || strstr(fi_error_message(e), part)),
      what, line);
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

static char g_dir[1024];

static void SleepMs(long ms) {
  struct timespec t;
  t.tv_sec = ms / 1000;
  t.tv_nsec = (ms % 1000) * 1000000L;
  nanosleep(&t, NULL);
}

static void PathOf(const char* name, char* out, size_t cap) {
  snprintf(out, cap, "%s/%s", g_dir, name);
}

static fi_model* Load(const char* name) {
  char path[1200];
  fi_model* m = NULL;
  PathOf(name, path, sizeof path);
  EXPECT_OK(fi_model_load(path, strlen(path), &m));
  return m;
}

/* The whole file at `path` (malloc'ed) and its size; NULL when unreadable. */
static unsigned char* ReadFile(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  unsigned char* data;
  long n;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  data = (unsigned char*)malloc((size_t)n + 1);
  if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
    free(data);
    data = NULL;
  }
  fclose(f);
  *size = (size_t)n;
  return data;
}

static int WriteFile(const char* path, const void* data, size_t size) {
  FILE* f = fopen(path, "wb");
  int ok;
  if (!f) return 0;
  ok = fwrite(data, 1, size, f) == size;
  return fclose(f) == 0 && ok;
}

/* The best label's name for `text` ("" on error or rejection). */
static const char* Top(const fi_model* m, const char* text) {
  fi_label_score out[1];
  size_t n = 0;
  fi_error* e = fi_model_classify(m, text, strlen(text), 1, 0.0f, out, 1, &n);
  if (e) {
    fi_error_free(e);
    return "";
  }
  return n ? fi_model_label(m, out[0].label, NULL) : "";
}

/* ---------------------------------------------------------------------------------------- */

static void TestVersionAndErrors(void) {
  int32_t c;
  CHECK(FI_API_VERSION_COMPATIBLE(fi_api_version()));
  CHECK(fi_api_version() == FI_API_VERSION);
  CHECK(strstr(fi_version_string(), "C API 1.0") != NULL);
  CHECK(strncmp(fi_version_string(), "fastintent ", 11) == 0);
  for (c = FI_OK; c <= FI_OUT_OF_MEMORY; ++c) CHECK(strcmp(fi_code_name(c), "unknown") != 0);
  CHECK(strcmp(fi_code_name(FI_BUFFER_TOO_SMALL), "buffer too small") == 0);
  CHECK(strcmp(fi_code_name(FI_DATA_LOSS), "data loss") == 0);
  CHECK(strcmp(fi_code_name(-1), "unknown") == 0);
  CHECK(strcmp(fi_code_name(FI_OUT_OF_MEMORY + 1), "unknown") == 0);
  CHECK(fi_error_code(NULL) == FI_OK);
  CHECK(strcmp(fi_error_message(NULL), "") == 0);
}

static void TestNullFrees(void) {
  /* Every free function accepts NULL. */
  fi_error_free(NULL);
  fi_model_free(NULL);
  fi_engine_free(NULL);
  fi_result_free(NULL);
  fi_cancel_token_free(NULL);
  fi_cancel_token_cancel(NULL);
  CHECK(fi_cancel_token_is_cancelled(NULL) == 0);
}

static void TestLoad(void) {
  char path[1200];
  fi_model* sentinel = (fi_model*)&g_passed; /* never dereferenced: checks "untouched" */
  fi_model* m = sentinel;
  unsigned char* bytes;
  size_t size = 0, cut;
  size_t cuts[6];
  int i;

  EXPECT_ERROR(fi_model_load("/nonexistent/x.fim", 18, &m), FI_NOT_FOUND, "/nonexistent/x.fim");
  CHECK(m == sentinel);
  EXPECT_ERROR(fi_model_load(NULL, 3, &m), FI_INVALID_ARGUMENT, "path");
  EXPECT_ERROR(fi_model_load("", 0, &m), FI_INVALID_ARGUMENT, "path");
  EXPECT_ERROR(fi_model_load("a\0b", 3, &m), FI_INVALID_ARGUMENT, "NUL");
  PathOf("tiny.fim", path, sizeof path);
  EXPECT_ERROR(fi_model_load(path, strlen(path), NULL), FI_INVALID_ARGUMENT, "out");
  /* The path is (ptr, len): bytes after len are not read. */
  {
    char longer[1300];
    snprintf(longer, sizeof longer, "%sXYZ", path);
    m = NULL;
    EXPECT_OK(fi_model_load(longer, strlen(path), &m));
    CHECK(m != NULL);
    fi_model_free(m);
  }
  /* A directory is not a model. */
  m = sentinel;
  {
    fi_error* e = fi_model_load(g_dir, strlen(g_dir), &m);
    CHECK(e != NULL && m == sentinel);
    fi_error_free(e);
  }

  bytes = ReadFile(path, &size);
  CHECK(bytes != NULL && size > 64);
  if (!bytes) return;
  m = NULL;
  EXPECT_OK(fi_model_load_from_buffer(bytes, size, "tiny", 4, &m));
  CHECK(m != NULL && fi_model_label_count(m) == 3);
  fi_model_free(m);
  m = NULL;
  EXPECT_OK(fi_model_load_from_buffer(bytes, size, NULL, 0, &m));
  fi_model_free(m);

  /* Bad bytes, truncations and a flipped byte: clear errors naming the buffer, never a crash. */
  m = sentinel;
  EXPECT_ERROR(fi_model_load_from_buffer("not a model at all", 18, "junk", 4, &m), FI_DATA_LOSS,
               "junk: not a fastintent model file");
  EXPECT_ERROR(fi_model_load_from_buffer(NULL, 0, "empty", 5, &m), FI_DATA_LOSS, "empty");
  EXPECT_ERROR(fi_model_load_from_buffer(NULL, 5, "x", 1, &m), FI_INVALID_ARGUMENT, "data");
  EXPECT_ERROR(fi_model_load_from_buffer(bytes, size, NULL, 3, &m), FI_INVALID_ARGUMENT, "name");
  cuts[0] = 4;
  cuts[1] = 8;
  cuts[2] = 20;
  cuts[3] = size / 3;
  cuts[4] = size / 2;
  cuts[5] = size - 1;
  for (i = 0; i < 6; ++i) {
    unsigned char* part = (unsigned char*)malloc(cuts[i]); /* exact size: ASan sees overreads */
    memcpy(part, bytes, cuts[i]);
    EXPECT_ERROR(fi_model_load_from_buffer(part, cuts[i], "cut", 3, &m), FI_DATA_LOSS, "cut");
    free(part);
  }
  CHECK(m == sentinel);
  for (cut = 16; cut < size; cut += size / 7) {
    bytes[cut] ^= 0x5A;
    EXPECT_ERROR(fi_model_load_from_buffer(bytes, size, "flipped", 7, &m), FI_DATA_LOSS, "flipped");
    bytes[cut] ^= 0x5A;
  }
  CHECK(m == sentinel);

  /* A truncated file. */
  {
    char cut_path[1200];
    PathOf("truncated.fim", cut_path, sizeof cut_path);
    CHECK(WriteFile(cut_path, bytes, size / 2));
    EXPECT_ERROR(fi_model_load(cut_path, strlen(cut_path), &m), FI_DATA_LOSS, "truncated.fim");
    CHECK(m == sentinel);
    remove(cut_path);
  }
  free(bytes);
}

static void TestAccessors(void) {
  fi_model* m = Load("tiny.fim");
  fi_model* plain = Load("tiny_plain.fim");
  size_t len = 99;
  const char* s;
  if (!m || !plain) return;
  CHECK(fi_model_label_count(m) == 3);
  /* The trainer sorts labels by name. */
  s = fi_model_label(m, 2, &len);
  CHECK(s && strcmp(s, "weather") == 0 && len == 7);
  CHECK(strcmp(fi_model_label(m, 1, NULL), "music") == 0);
  CHECK(strcmp(fi_model_label(m, 0, NULL), "alarm") == 0);
  len = 99;
  CHECK(fi_model_label(m, 3, &len) == NULL && len == 99);
  CHECK(fi_model_label_index(m, "music", 5) == 1);
  CHECK(fi_model_label_index(m, "musicXX", 5) == 1);
  CHECK(fi_model_label_index(m, "nope", 4) == -1);
  CHECK(fi_model_label_index(m, NULL, 4) == -1);
  CHECK(fi_model_kind(m) == FI_KIND_SOFTMAX);
  CHECK(fi_model_precision(m) == FI_PRECISION_FLOAT32);
  CHECK(fi_model_threshold(m) >= 0.0f && fi_model_threshold(m) <= 1.0f);
  s = fi_model_oos_label(m, &len);
  CHECK(s != NULL && strlen(s) == len);
  s = fi_model_metadata(m, &len);
  CHECK(s != NULL && strstr(s, "\"components\"") != NULL && strlen(s) == len);
  s = fi_model_metadata(plain, &len);
  CHECK(s != NULL && len == 0 && s[0] == 0);
  CHECK(fi_model_feature_count(m) > 10);
  CHECK(fi_model_component_count(m) == 3);
  CHECK(fi_model_component_count(plain) == 0);
  /* NULL handles get the documented answers. */
  CHECK(fi_model_label_count(NULL) == 0);
  CHECK(fi_model_label(NULL, 0, NULL) == NULL);
  CHECK(fi_model_label_index(NULL, "a", 1) == -1);
  CHECK(fi_model_kind(NULL) == -1);
  CHECK(fi_model_precision(NULL) == -1);
  CHECK(fi_model_threshold(NULL) == -1.0f);
  CHECK(fi_model_oos_label(NULL, NULL) == NULL);
  CHECK(fi_model_metadata(NULL, NULL) == NULL);
  CHECK(fi_model_feature_count(NULL) == 0);
  CHECK(fi_model_component_count(NULL) == 0);
  fi_model_free(plain);
  fi_model_free(m);
}

static void TestClassify(void) {
  fi_model* m = Load("tiny.fim");
  fi_label_score out[4], sentinel = {77, 7.0f};
  size_t n = 0, i;
  float probs[3];
  char* huge;
  if (!m) return;

  EXPECT_OK(fi_model_classify(m, "play some music", 15, 1, -1.0f, out, 4, &n));
  CHECK(n == 1 && out[0].label == 1 && out[0].prob > 1.0f / 3);
  CHECK(strcmp(Top(m, "will it rain tomorrow"), "weather") == 0);
  CHECK(strcmp(Top(m, "wake me with an alarm"), "alarm") == 0);

  /* Top-k, best first; agrees with the probabilities. */
  EXPECT_OK(fi_model_classify(m, "play some music", 15, 3, 0.0f, out, 4, &n));
  CHECK(n == 3 && out[0].prob >= out[1].prob && out[1].prob >= out[2].prob);
  EXPECT_OK(fi_model_probabilities(m, "play some music", 15, probs, 3, &n));
  CHECK(n == 3 && fabsf(probs[0] + probs[1] + probs[2] - 1.0f) < 1e-4f);
  for (i = 0; i < 3; ++i) CHECK(probs[out[i].label] == out[i].prob);

  /* Rejection: a threshold just above the top probability reports nothing (a success); at it,
   * the top label is reported. */
  {
    const float top = fmaxf(fmaxf(probs[0], probs[1]), probs[2]);
    EXPECT_OK(fi_model_classify(m, "play some music", 15, 3, top, out, 4, &n));
    CHECK(n >= 1 && out[0].prob == top);
    if (top < 1.0f) {
      EXPECT_OK(fi_model_classify(m, "play some music", 15, 3, nextafterf(top, 2.0f), out, 4, &n));
      CHECK(n == 0);
    }
  }

  /* Too small a buffer: FI_BUFFER_TOO_SMALL, the size needed, the buffer untouched. */
  out[0] = sentinel;
  n = 0;
  EXPECT_ERROR(fi_model_classify(m, "play some music", 15, 3, 0.0f, out, 2, &n),
               FI_BUFFER_TOO_SMALL, "3 entries needed");
  CHECK(n == 3 && out[0].label == 77 && out[0].prob == 7.0f);
  n = 0;
  EXPECT_ERROR(fi_model_classify(m, "play some music", 15, 1, 0.0f, NULL, 0, &n),
               FI_BUFFER_TOO_SMALL, NULL);
  CHECK(n == 1);
  n = 0;
  EXPECT_ERROR(fi_model_probabilities(m, "play music", 10, probs, 2, &n), FI_BUFFER_TOO_SMALL,
               NULL);
  CHECK(n == 3);

  /* Bad arguments: clear errors, out-parameters untouched. */
  n = 42;
  EXPECT_ERROR(fi_model_classify(m, "", 0, 1, -1.0f, out, 4, &n), FI_INVALID_ARGUMENT,
               "empty text");
  EXPECT_ERROR(fi_model_classify(m, NULL, 0, 1, -1.0f, out, 4, &n), FI_INVALID_ARGUMENT,
               "empty text");
  EXPECT_ERROR(fi_model_classify(m, NULL, 3, 1, -1.0f, out, 4, &n), FI_INVALID_ARGUMENT, "NULL");
  EXPECT_ERROR(fi_model_classify(m, "music", 5, 0, -1.0f, out, 4, &n), FI_INVALID_ARGUMENT,
               "k must");
  EXPECT_ERROR(fi_model_classify(m, "music", 5, 1, 1.5f, out, 4, &n), FI_INVALID_ARGUMENT,
               "threshold");
  EXPECT_ERROR(fi_model_classify(m, "music", 5, 1, nanf(""), out, 4, &n), FI_INVALID_ARGUMENT,
               "threshold");
  EXPECT_ERROR(fi_model_classify(NULL, "music", 5, 1, -1.0f, out, 4, &n), FI_INVALID_ARGUMENT,
               NULL);
  EXPECT_ERROR(fi_model_classify(m, "music", 5, 1, -1.0f, out, 4, NULL), FI_INVALID_ARGUMENT, NULL);
  EXPECT_ERROR(fi_model_classify(m, "music", 5, 1, -1.0f, NULL, 4, &n), FI_INVALID_ARGUMENT, NULL);
  EXPECT_ERROR(fi_model_probabilities(m, "", 0, probs, 3, &n), FI_INVALID_ARGUMENT, "empty");
  CHECK(n == 42);

  /* A text with no known word or character: featurising finds nothing, classifying refuses. */
  {
    const char* unknown = "\xe2\x98\x83\xe2\x98\x83 \xe2\x98\x83"; /* snowmen */
    uint32_t idx[8];
    float w[8];
    EXPECT_OK(fi_model_featurize(m, unknown, strlen(unknown), idx, w, 8, &n));
    CHECK(n == 0);
    EXPECT_ERROR(fi_model_classify(m, unknown, strlen(unknown), 1, -1.0f, out, 4, &n),
                 FI_INVALID_ARGUMENT, "no known");
  }

  /* Malformed UTF-8 is classified like its U+FFFD replacement; NUL bytes are text; the text is
   * read to its length only (an exact-size heap copy, so ASan would see an overread). */
  {
    const char bad[] = "play some music \xff\xfe\xc3";
    const char fixed[] = "play some music \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd";
    float p_bad[3], p_fixed[3];
    char* exact = (char*)malloc(sizeof bad - 1);
    memcpy(exact, bad, sizeof bad - 1);
    EXPECT_OK(fi_model_probabilities(m, exact, sizeof bad - 1, p_bad, 3, &n));
    EXPECT_OK(fi_model_probabilities(m, fixed, sizeof fixed - 1, p_fixed, 3, &n));
    /* NOLINTNEXTLINE(bugprone-suspicious-memory-comparison): bit-exact on purpose. */
    CHECK(memcmp(p_bad, p_fixed, sizeof p_bad) == 0);
    free(exact);
    EXPECT_OK(fi_model_classify(m, "rain\0music music", 16, 1, 0.0f, out, 1, &n));
    CHECK(n == 1);
  }

  /* Huge texts: one byte over the limit is refused; exactly at it is classified. */
  huge = (char*)malloc(FI_MAX_TEXT_BYTES + 1);
  for (i = 0; i < FI_MAX_TEXT_BYTES + 1; ++i) huge[i] = "music "[i % 6];
  EXPECT_ERROR(fi_model_classify(m, huge, FI_MAX_TEXT_BYTES + 1, 1, 0.0f, out, 1, &n),
               FI_INVALID_ARGUMENT, "too long");
  EXPECT_OK(fi_model_classify(m, huge, FI_MAX_TEXT_BYTES, 1, 0.0f, out, 1, &n));
  CHECK(n == 1 && out[0].label == 1);
  {
    uint32_t idx[4];
    float w[4];
    EXPECT_ERROR(fi_model_featurize(m, huge, FI_MAX_TEXT_BYTES + 1, idx, w, 4, &n),
                 FI_INVALID_ARGUMENT, "too long");
  }
  free(huge);
  /* The session is still good after the long text. */
  CHECK(strcmp(Top(m, "play some music"), "music") == 0);
  fi_model_free(m);
}

static void TestBatch(void) {
  fi_model* m = Load("tiny.fim");
  const char* texts[5] = {"play some music", "will it rain", "", "wake me up alarm",
                          "snow forecast"};
  char data[256];
  size_t offsets[6], n = 0, i;
  fi_label_score out[10];
  uint32_t counts[5];
  int32_t codes[5];
  float probs[15], single[3];
  if (!m) return;
  offsets[0] = 0;
  data[0] = 0;
  for (i = 0; i < 5; ++i) {
    strcat(data, texts[i]);
    offsets[i + 1] = offsets[i] + strlen(texts[i]);
  }
  EXPECT_OK(fi_model_classify_batch(m, data, offsets, 5, 2, 0.0f, out, 10, &n, counts, codes));
  CHECK(n == 10);
  for (i = 0; i < 5; ++i) {
    fi_label_score one[2];
    size_t k = 0;
    fi_error* e = fi_model_classify(m, texts[i], strlen(texts[i]), 2, 0.0f, one, 2, &k);
    CHECK(codes[i] == fi_error_code(e));
    if (e == NULL) {
      CHECK(counts[i] == k && memcmp(one, out + 2 * i, k * sizeof(fi_label_score)) == 0);
    } else {
      CHECK(counts[i] == 0);
    }
    fi_error_free(e);
  }
  CHECK(codes[2] == FI_INVALID_ARGUMENT && codes[0] == FI_OK);

  /* All or nothing without codes: the error names the text. */
  EXPECT_ERROR(fi_model_classify_batch(m, data, offsets, 5, 2, 0.0f, out, 10, &n, counts, NULL),
               FI_INVALID_ARGUMENT, "text 2");
  /* Sizes, empty batches and bad offsets. */
  n = 0;
  EXPECT_ERROR(fi_model_classify_batch(m, data, offsets, 5, 2, 0.0f, out, 9, &n, counts, codes),
               FI_BUFFER_TOO_SMALL, "10 entries needed");
  CHECK(n == 10);
  n = 7;
  EXPECT_OK(fi_model_classify_batch(m, NULL, NULL, 0, 1, -1.0f, NULL, 0, &n, NULL, NULL));
  CHECK(n == 0);
  {
    size_t bad[3] = {0, 5, 3};
    EXPECT_ERROR(fi_model_classify_batch(m, data, bad, 2, 1, -1.0f, out, 10, &n, counts, codes),
                 FI_INVALID_ARGUMENT, "offsets decrease at text 1");
  }
  EXPECT_ERROR(fi_model_classify_batch(m, data, NULL, 2, 1, -1.0f, out, 10, &n, counts, codes),
               FI_INVALID_ARGUMENT, "offsets");
  EXPECT_ERROR(fi_model_classify_batch(m, data, offsets, 2, 1, -1.0f, out, 10, &n, NULL, codes),
               FI_INVALID_ARGUMENT, "label_counts");
  EXPECT_ERROR(fi_model_classify_batch(m, data, offsets, 2, 0, -1.0f, out, 10, &n, counts, codes),
               FI_INVALID_ARGUMENT, "k must");

  /* Probabilities of a batch: rows equal the single-text call, a failed row is zeros. */
  EXPECT_OK(fi_model_probabilities_batch(m, data, offsets, 5, probs, 15, &n, codes));
  CHECK(n == 15);
  for (i = 0; i < 5; ++i) {
    size_t k = 0;
    fi_error* e = fi_model_probabilities(m, texts[i], strlen(texts[i]), single, 3, &k);
    CHECK(codes[i] == fi_error_code(e));
    if (e == NULL) {
      /* NOLINTNEXTLINE(bugprone-suspicious-memory-comparison): bit-exact on purpose. */
      CHECK(memcmp(single, probs + 3 * i, sizeof single) == 0);
    } else {
      CHECK(probs[3 * i] == 0.0f && probs[3 * i + 1] == 0.0f && probs[3 * i + 2] == 0.0f);
    }
    fi_error_free(e);
  }
  EXPECT_ERROR(fi_model_probabilities_batch(m, data, offsets, 5, probs, 14, &n, codes),
               FI_BUFFER_TOO_SMALL, "15 entries needed");
  CHECK(n == 15);
  EXPECT_ERROR(fi_model_probabilities_batch(m, data, offsets, 5, probs, 15, &n, NULL),
               FI_INVALID_ARGUMENT, "text 2");
  fi_model_free(m);
}

static void TestRoute(void) {
  fi_model* m = Load("tiny.fim");
  fi_model* plain = Load("tiny_plain.fim");
  fi_routed_component out[4];
  size_t n = 0;
  int32_t mem = -1;
  if (!m || !plain) return;
  /* weather depends on alarm: alarm (CORE) comes first, as a dependency. */
  EXPECT_OK(fi_model_route(m, "will it rain tomorrow", 21, 0.0f, out, 4, &n, &mem));
  CHECK(n == 2 && mem == 15);
  if (n == 2) {
    CHECK(strcmp(out[0].name, "alarm") == 0 && out[0].name_len == 5 && out[0].dependency == 1);
    CHECK(out[0].priority == FI_PRIORITY_CORE && out[0].memory_mb == 5 && out[0].component == 2);
    CHECK(strcmp(out[1].name, "weather") == 0 && out[1].dependency == 0);
    CHECK(out[1].priority == FI_PRIORITY_HIGH && out[1].memory_mb == 10 && out[1].load_ms == 1);
    CHECK(out[1].confidence > 1.0f / 3 && out[1].component == 0);
  }
  EXPECT_OK(fi_model_route(m, "play some music", 15, -1.0f, out, 4, &n, NULL));
  CHECK(n == 1 && strcmp(out[0].name, "music") == 0 && out[0].priority == FI_PRIORITY_LOW);
  n = 0;
  EXPECT_ERROR(fi_model_route(m, "will it rain tomorrow", 21, 0.0f, out, 1, &n, &mem),
               FI_BUFFER_TOO_SMALL, "components");
  CHECK(n == 2);
  EXPECT_ERROR(fi_model_route(plain, "will it rain", 12, -1.0f, out, 4, &n, &mem), FI_NOT_FOUND,
               "no component registry");
  EXPECT_ERROR(fi_model_route(m, "", 0, -1.0f, out, 4, &n, &mem), FI_INVALID_ARGUMENT, "empty");
  EXPECT_ERROR(fi_model_route(m, "rain", 4, 2.0f, out, 4, &n, &mem), FI_INVALID_ARGUMENT,
               "threshold");
  fi_model_free(plain);
  fi_model_free(m);
}

static void TestFeaturizeQuantizeSave(void) {
  fi_model* m = Load("tiny.fim");
  fi_model* q = NULL;
  fi_model* back = NULL;
  uint32_t idx[256];
  float w[256], p1[3], p2[3];
  size_t n = 0, i, size = 0, written = 0;
  double sq = 0;
  char path[1200];
  void* bytes;
  if (!m) return;
  EXPECT_OK(fi_model_featurize(m, "play some music", 15, idx, w, 256, &n));
  CHECK(n > 0);
  for (i = 0; i < n; ++i) {
    CHECK(idx[i] < fi_model_feature_count(m));
    sq += (double)w[i] * w[i];
  }
  CHECK(fabs(sq - 1.0) < 1e-3); /* unit norm */
  {
    size_t need = 0;
    EXPECT_ERROR(fi_model_featurize(m, "play some music", 15, idx, w, 1, &need),
                 FI_BUFFER_TOO_SMALL, NULL);
    CHECK(need == n);
  }
  EXPECT_OK(fi_model_featurize(m, "", 0, NULL, NULL, 0, &n));
  CHECK(n == 0);
  EXPECT_ERROR(fi_model_featurize(m, "x", 1, NULL, w, 3, &n), FI_INVALID_ARGUMENT, NULL);

  /* Quantised: int8, smaller, same decisions on the keyword texts; keeps the registry. */
  EXPECT_OK(fi_model_quantize(m, &q));
  CHECK(fi_model_precision(q) == FI_PRECISION_INT8 && fi_model_component_count(q) == 3);
  CHECK(strcmp(Top(q, "play some music"), "music") == 0);
  CHECK(strcmp(Top(q, "snow and rain forecast"), "weather") == 0);
  EXPECT_ERROR(fi_model_quantize(NULL, &q), FI_INVALID_ARGUMENT, NULL);

  /* Serialise: size first, then the bytes, which load back to the same model. */
  EXPECT_ERROR(fi_model_serialize(m, NULL, 0, &size), FI_BUFFER_TOO_SMALL, "bytes needed");
  CHECK(size > 64);
  bytes = malloc(size);
  EXPECT_OK(fi_model_serialize(m, bytes, size, &written));
  CHECK(written == size);
  EXPECT_OK(fi_model_load_from_buffer(bytes, written, "serialized", 10, &back));
  free(bytes);
  EXPECT_OK(fi_model_probabilities(m, "play some music", 15, p1, 3, &n));
  EXPECT_OK(fi_model_probabilities(back, "play some music", 15, p2, 3, &n));
  /* NOLINTNEXTLINE(bugprone-suspicious-memory-comparison): bit-exact on purpose. */
  CHECK(memcmp(p1, p2, sizeof p1) == 0 && fi_model_component_count(back) == 3);
  fi_model_free(back);
  back = NULL;

  /* Save the int8 model and load it back. */
  PathOf("saved_int8.fim", path, sizeof path);
  EXPECT_OK(fi_model_save(q, path, strlen(path)));
  EXPECT_OK(fi_model_load(path, strlen(path), &back));
  CHECK(back && fi_model_precision(back) == FI_PRECISION_INT8 &&
        fi_model_component_count(back) == 3);
  EXPECT_OK(fi_model_probabilities(q, "wake me up", 10, p1, 3, &n));
  EXPECT_OK(fi_model_probabilities(back, "wake me up", 10, p2, 3, &n));
  /* NOLINTNEXTLINE(bugprone-suspicious-memory-comparison): bit-exact on purpose. */
  CHECK(memcmp(p1, p2, sizeof p1) == 0);
  remove(path);
  EXPECT_ERROR(fi_model_save(q, "/nonexistent-dir/m.fim", 22), FI_IO_ERROR,
               "/nonexistent-dir/m.fim");
  EXPECT_ERROR(fi_model_save(q, NULL, 0), FI_INVALID_ARGUMENT, "path");
  /* Freed in another order than created. */
  fi_model_free(m);
  fi_model_free(back);
  fi_model_free(q);
}

/* Many threads classify at once on shared models, each alternating between more models than a
 * thread caches sessions for, while one model is freed as the others go on. */
#define kThreads 6
#define kModels 6
static fi_model* g_models[kModels];
static void* ClassifyLoop(void* arg) {
  int t = (int)(size_t)arg, i;
  for (i = 0; i < 300; ++i) {
    const fi_model* m = g_models[(t + i) % (kModels - 1)]; /* the last one is freed meanwhile */
    const char* top = Top(m, i % 2 ? "play some music" : "snow and rain forecast");
    const char* want = i % 2 ? ((t + i) % (kModels - 1) == 1 ? "musique" : "music")
                             : ((t + i) % (kModels - 1) == 1 ? "meteo" : "weather");
    if (!CHECK(strcmp(top, want) == 0)) break;
  }
  return NULL;
}

static void TestThreadsBlocking(void) {
  pthread_t threads[kThreads];
  int i;
  for (i = 0; i < kModels; ++i) g_models[i] = Load(i == 1 ? "tiny_other.fim" : "tiny.fim");
  for (i = 0; i < kThreads; ++i) {
    /* NOLINTNEXTLINE(performance-no-int-to-ptr): the thread's index, the pthread idiom. */
    pthread_create(&threads[i], NULL, ClassifyLoop, (void*)(size_t)i);
  }
  CHECK(strcmp(Top(g_models[kModels - 1], "play some music"), "music") == 0);
  fi_model_free(g_models[kModels - 1]);
  for (i = 0; i < kThreads; ++i) pthread_join(threads[i], NULL);
  for (i = 0; i < kModels - 1; ++i) fi_model_free(g_models[i]);
}

/* ------------------------------ Engine ------------------------------ */

/* A completion counter the main thread can wait on. */
typedef struct Waiter {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done;
  int ok;
  int codes[16]; /* count of errors by code */
} Waiter;

static void WaiterInit(Waiter* w) {
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  w->done = 0;
  w->ok = 0;
  memset(w->codes, 0, sizeof w->codes);
}

static void WaiterDestroy(Waiter* w) {
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cv);
}

/* Waits until `n` completions arrived (or 30 s passed); returns whether they did. */
static int WaitFor(Waiter* w, int n) {
  struct timespec until;
  int reached;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 30;
  pthread_mutex_lock(&w->mu);
  while (w->done < n) {
    if (pthread_cond_timedwait(&w->cv, &w->mu, &until) != 0) break;
  }
  reached = w->done >= n;
  pthread_mutex_unlock(&w->mu);
  return reached;
}

static void Count(Waiter* w, fi_error* e) {
  pthread_mutex_lock(&w->mu);
  if (e == NULL) {
    ++w->ok;
  } else if (fi_error_code(e) >= 0 && fi_error_code(e) < 16) {
    ++w->codes[fi_error_code(e)];
  }
  ++w->done;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

/* One request of the many-thread test: what to expect and where to count. */
typedef struct Request {
  Waiter* waiter;
  const char* want; /* expected top label */
} Request;

static void OnChecked(void* user_data, fi_result* result, fi_error* error) {
  Request* r = (Request*)user_data;
  const fi_label_score* labels = NULL;
  size_t n;
  CHECK((result == NULL) != (error == NULL));
  n = fi_result_labels(result, &labels);
  if (CHECK(error == NULL && n == 1 && labels != NULL)) {
    const char* name = fi_result_label_name(result, labels[0].label, NULL);
    CHECK(name != NULL && strcmp(name, r->want) == 0);
  }
  fi_result_free(result);
  Count(r->waiter, error);
  fi_error_free(error);
}

/* Keeps results for the main thread to read and free later (another freeing order). */
typedef struct Kept {
  Waiter waiter;
  fi_result* results[8];
  fi_error* errors[8];
} Kept;

static void OnKeep(void* user_data, fi_result* result, fi_error* error) {
  Kept* k = (Kept*)user_data;
  pthread_mutex_lock(&k->waiter.mu);
  k->results[k->waiter.done] = result;
  k->errors[k->waiter.done] = error;
  ++k->waiter.done;
  pthread_cond_broadcast(&k->waiter.cv);
  pthread_mutex_unlock(&k->waiter.mu);
}

static void OnCount(void* user_data, fi_result* result, fi_error* error) {
  Count((Waiter*)user_data, error);
  fi_result_free(result);
  fi_error_free(error);
}

/* Blocks the worker that runs it until `release` is set: lets a test fill the queue. */
typedef struct Gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int entered;
  int released;
} Gate;

static void OnGate(void* user_data, fi_result* result, fi_error* error) {
  Gate* g = (Gate*)user_data;
  pthread_mutex_lock(&g->mu);
  g->entered = 1;
  pthread_cond_broadcast(&g->cv);
  while (!g->released) pthread_cond_wait(&g->cv, &g->mu);
  pthread_mutex_unlock(&g->mu);
  fi_result_free(result);
  fi_error_free(error);
}

static void GateInit(Gate* g) {
  pthread_mutex_init(&g->mu, NULL);
  pthread_cond_init(&g->cv, NULL);
  g->entered = 0;
  g->released = 0;
}

static void GateWaitEntered(Gate* g) {
  pthread_mutex_lock(&g->mu);
  while (!g->entered) pthread_cond_wait(&g->cv, &g->mu);
  pthread_mutex_unlock(&g->mu);
}

static void GateRelease(Gate* g) {
  pthread_mutex_lock(&g->mu);
  g->released = 1;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
}

static void GateDestroy(Gate* g) {
  pthread_mutex_destroy(&g->mu);
  pthread_cond_destroy(&g->cv);
}

/* An engine with one worker held inside a gate callback, so later requests stay queued. */
static fi_engine* BlockedEngine(fi_model* m, Gate* gate, uint32_t queue_capacity) {
  fi_engine_options o;
  fi_engine* e = NULL;
  fi_engine_options_init(&o);
  o.workers = 1;
  o.max_batch = 1;
  o.queue_capacity = queue_capacity;
  EXPECT_OK(fi_engine_create(m, &o, &e));
  GateInit(gate);
  EXPECT_OK(fi_engine_submit(e, "music", 5, NULL, OnGate, gate));
  GateWaitEntered(gate);
  return e;
}

static void TestEngineBasics(void) {
  fi_model* m = Load("tiny.fim");
  fi_engine* e = NULL;
  fi_engine* sentinel = (fi_engine*)&g_failed;
  fi_engine_options o;
  fi_request_options r;
  Kept kept;
  int i;
  if (!m) return;
  fi_engine_options_init(&o);
  CHECK(o.workers == 2 && o.max_batch == 64 && o.max_wait_us == 0 && o.queue_capacity == 65536);
  fi_request_options_init(&r);
  CHECK(r.k == 1 && r.threshold < 0 && r.outputs == FI_OUTPUT_LABELS && r.reserved == 0);
  CHECK(r.timeout_us == 0 && r.cancel == NULL);
  fi_engine_options_init(NULL);
  fi_request_options_init(NULL);
  e = sentinel;
  EXPECT_ERROR(fi_engine_create(NULL, NULL, &e), FI_INVALID_ARGUMENT, NULL);
  CHECK(e == sentinel);
  e = NULL;
  EXPECT_OK(fi_engine_create(m, NULL, &e));
  CHECK(fi_engine_model_version(e) == 1 && fi_engine_model_version(NULL) == 0);

  /* Labels, probabilities and route in one result, read and freed on this thread. */
  WaiterInit(&kept.waiter);
  r.k = 2;
  r.outputs = FI_OUTPUT_LABELS | FI_OUTPUT_PROBABILITIES | FI_OUTPUT_ROUTE;
  r.threshold = 0.0f;
  EXPECT_OK(fi_engine_submit(e, "will it rain tomorrow", 21, &r, OnKeep, &kept));
  EXPECT_OK(fi_engine_submit(e, "", 0, &r, OnKeep, &kept)); /* accepted; fails in the callback */
  CHECK(WaitFor(&kept.waiter, 2));
  for (i = 0; i < 2; ++i) {
    fi_result* res = kept.results[i];
    if (res) {
      const fi_label_score* labels;
      const float* probs;
      const fi_routed_component* comps;
      int32_t mem = 0;
      uint64_t qns = 1, cns = 0;
      CHECK(kept.errors[i] == NULL);
      CHECK(fi_result_labels(res, &labels) == 2 &&
            strcmp(fi_result_label_name(res, labels[0].label, NULL), "weather") == 0);
      CHECK(fi_result_label_name(res, 3, NULL) == NULL);
      CHECK(fi_result_probabilities(res, &probs) == 3 && probs[labels[0].label] == labels[0].prob);
      CHECK(fi_result_components(res, &comps, &mem) == 2 && mem == 15);
      CHECK(strcmp(comps[0].name, "alarm") == 0 && comps[0].dependency == 1);
      CHECK(fi_result_model_version(res) == 1);
      fi_result_timings(res, &qns, &cns);
      CHECK(cns > 0);
      fi_result_timings(res, NULL, NULL);
    } else {
      EXPECT_ERROR(kept.errors[i], FI_INVALID_ARGUMENT, "empty text");
    }
  }
  CHECK((kept.results[0] == NULL) != (kept.results[1] == NULL));
  /* A result outlives its engine and model. */
  fi_model_free(m);
  m = NULL;
  fi_engine_free(e);
  for (i = 0; i < 2; ++i) {
    if (kept.results[i]) {
      CHECK(strcmp(fi_result_label_name(kept.results[i], 2, NULL), "weather") == 0);
      fi_result_free(kept.results[i]);
    }
  }
  /* Accessors of a NULL result. */
  {
    const fi_label_score* l = (const fi_label_score*)&g_passed;
    const float* p = (const float*)&g_passed;
    const fi_routed_component* c = (const fi_routed_component*)&g_passed;
    int32_t mem = 5;
    uint64_t q = 5, cns = 5;
    CHECK(fi_result_labels(NULL, &l) == 0 && l == NULL);
    CHECK(fi_result_probabilities(NULL, &p) == 0 && p == NULL);
    CHECK(fi_result_components(NULL, &c, &mem) == 0 && c == NULL && mem == 0);
    CHECK(fi_result_label_name(NULL, 0, NULL) == NULL && fi_result_model_version(NULL) == 0);
    fi_result_timings(NULL, &q, &cns);
    CHECK(q == 0 && cns == 0);
  }
  WaiterDestroy(&kept.waiter);
}

static void TestEngineRefusals(void) {
  fi_model* m = Load("tiny.fim");
  fi_model* plain = Load("tiny_plain.fim");
  fi_engine* e;
  fi_request_options r;
  Gate gate;
  Waiter w;
  fi_cancel_token* token = NULL;
  char* huge;
  if (!m || !plain) return;
  WaiterInit(&w);
  e = BlockedEngine(m, &gate, 3);

  /* Bad requests are refused at once; the callback is never called for them. */
  fi_request_options_init(&r);
  EXPECT_ERROR(fi_engine_submit(e, "music", 5, NULL, NULL, &w), FI_INVALID_ARGUMENT, "done");
  EXPECT_ERROR(fi_engine_submit(NULL, "music", 5, NULL, OnCount, &w), FI_INVALID_ARGUMENT, NULL);
  EXPECT_ERROR(fi_engine_submit(e, NULL, 5, NULL, OnCount, &w), FI_INVALID_ARGUMENT, "NULL");
  r.k = 0;
  EXPECT_ERROR(fi_engine_submit(e, "music", 5, &r, OnCount, &w), FI_INVALID_ARGUMENT, "k must");
  fi_request_options_init(&r);
  r.threshold = 1.01f;
  EXPECT_ERROR(fi_engine_submit(e, "music", 5, &r, OnCount, &w), FI_INVALID_ARGUMENT, "threshold");
  fi_request_options_init(&r);
  r.reserved = 1;
  EXPECT_ERROR(fi_engine_submit(e, "music", 5, &r, OnCount, &w), FI_INVALID_ARGUMENT, "reserved");
  fi_request_options_init(&r);
  r.outputs = 8;
  EXPECT_ERROR(fi_engine_submit(e, "music", 5, &r, OnCount, &w), FI_INVALID_ARGUMENT, "output");
  huge = (char*)calloc(FI_MAX_TEXT_BYTES + 1, 1);
  EXPECT_ERROR(fi_engine_submit(e, huge, FI_MAX_TEXT_BYTES + 1, NULL, OnCount, &w),
               FI_INVALID_ARGUMENT, "too long");
  free(huge);

  /* Queued behind the gate: one cancelled by its token (freed at once), one timed out, one
   * kept; then the queue (3) is full and the next is refused FI_OVERLOADED. */
  EXPECT_OK(fi_cancel_token_create(&token));
  CHECK(fi_cancel_token_is_cancelled(token) == 0);
  fi_request_options_init(&r);
  r.cancel = token;
  EXPECT_OK(fi_engine_submit(e, "music", 5, &r, OnCount, &w));
  fi_cancel_token_cancel(token);
  fi_cancel_token_cancel(token); /* idempotent */
  CHECK(fi_cancel_token_is_cancelled(token) == 1);
  fi_cancel_token_free(token);
  EXPECT_ERROR(fi_cancel_token_create(NULL), FI_INVALID_ARGUMENT, NULL);
  fi_request_options_init(&r);
  r.timeout_us = 1000;
  EXPECT_OK(fi_engine_submit(e, "music", 5, &r, OnCount, &w));
  EXPECT_OK(fi_engine_submit(e, "music", 5, NULL, OnCount, &w));
  EXPECT_ERROR(fi_engine_submit(e, "music", 5, NULL, OnCount, &w), FI_OVERLOADED, "full");
  SleepMs(20); /* the timeout passes while queued */
  GateRelease(&gate);
  CHECK(WaitFor(&w, 3));
  CHECK(w.ok == 1 && w.codes[FI_CANCELLED] == 1 && w.codes[FI_DEADLINE_EXCEEDED] == 1);
  {
    fi_engine_stats s;
    EXPECT_OK(fi_engine_stats_get(e, &s));
    CHECK(s.submitted == 5 && s.completed == 2 && s.cancelled == 1 && s.expired == 1);
    CHECK(s.rejected == 1 && s.model_version == 1 && s.batches >= 2 && s.mean_batch_size >= 1.0);
    CHECK(s.compute_p50_ns > 0 && s.compute_p99_ns >= s.compute_p50_ns && s.latency_max_ns > 0);
    EXPECT_ERROR(fi_engine_stats_get(e, NULL), FI_INVALID_ARGUMENT, NULL);
    EXPECT_ERROR(fi_engine_stats_get(NULL, &s), FI_INVALID_ARGUMENT, NULL);
  }

  /* Route with a model that has no registry: refused at submission. */
  {
    uint64_t version = 0;
    fi_request_options_init(&r);
    r.outputs = FI_OUTPUT_ROUTE;
    EXPECT_OK(fi_engine_swap(e, plain, &version));
    CHECK(version == 2 && fi_engine_model_version(e) == 2);
    EXPECT_ERROR(fi_engine_submit(e, "rain", 4, &r, OnCount, &w), FI_NOT_FOUND,
                 "component registry");
    EXPECT_ERROR(fi_engine_swap(e, NULL, NULL), FI_INVALID_ARGUMENT, NULL);
  }

  /* Shutdown: modes checked, later submits refused FI_SHUT_DOWN, idempotent. */
  EXPECT_ERROR(fi_engine_shutdown(e, 7), FI_INVALID_ARGUMENT, "mode");
  EXPECT_ERROR(fi_engine_shutdown(NULL, FI_SHUTDOWN_DRAIN), FI_INVALID_ARGUMENT, NULL);
  EXPECT_OK(fi_engine_shutdown(e, FI_SHUTDOWN_DRAIN));
  EXPECT_OK(fi_engine_shutdown(e, FI_SHUTDOWN_CANCEL_QUEUED));
  EXPECT_ERROR(fi_engine_submit(e, "music", 5, NULL, OnCount, &w), FI_SHUT_DOWN, "shut down");
  fi_engine_free(e);
  GateDestroy(&gate);
  CHECK(w.done == 3);
  /* The models are freed last here (the engine was freed first). */
  fi_model_free(plain);
  fi_model_free(m);
  WaiterDestroy(&w);
}

/* Shutdown with FI_SHUTDOWN_CANCEL_QUEUED, from a thread of its own while a worker is held. */
static void* ShutdownCancel(void* engine) {
  fi_error* err = fi_engine_shutdown((fi_engine*)engine, FI_SHUTDOWN_CANCEL_QUEUED);
  CHECK(err == NULL);
  fi_error_free(err);
  return NULL;
}

static void TestShutdownCancelQueued(void) {
  fi_model* m = Load("tiny.fim");
  Gate gate;
  Waiter w;
  fi_engine* e;
  pthread_t t;
  int i;
  if (!m) return;
  WaiterInit(&w);
  e = BlockedEngine(m, &gate, 100);
  fi_model_free(m); /* the engine keeps its own reference */
  for (i = 0; i < 10; ++i) EXPECT_OK(fi_engine_submit(e, "rain", 4, NULL, OnCount, &w));
  pthread_create(&t, NULL, ShutdownCancel, e);
  SleepMs(20); /* let it stop the engine while the worker is held */
  GateRelease(&gate);
  pthread_join(t, NULL);
  CHECK(w.done == 10 && w.codes[FI_CANCELLED] == 10);
  EXPECT_ERROR(fi_engine_submit(e, "rain", 4, NULL, OnCount, &w), FI_SHUT_DOWN, NULL);
  fi_engine_free(e);
  GateDestroy(&gate);
  WaiterDestroy(&w);
}

/* Callbacks that call back into the API: submit more, try to shut down (refused), free the
 * engine (deferred to a library thread). */
typedef struct Reentrant {
  Waiter waiter;
  fi_engine* engine;
  int followups;
} Reentrant;

static void OnFollowup(void* user_data, fi_result* result, fi_error* error) {
  Reentrant* r = (Reentrant*)user_data;
  fi_error* e = fi_engine_shutdown(r->engine, FI_SHUTDOWN_DRAIN);
  CHECK(fi_error_code(e) == FI_INVALID_ARGUMENT && strstr(fi_error_message(e), "own callbacks"));
  fi_error_free(e);
  if (r->followups-- > 0) {
    e = fi_engine_submit(r->engine, "rain", 4, NULL, OnFollowup, r);
    CHECK(e == NULL);
    fi_error_free(e);
  }
  fi_result_free(result);
  Count(&r->waiter, error);
  fi_error_free(error);
}

static void OnFreeEngine(void* user_data, fi_result* result, fi_error* error) {
  Reentrant* r = (Reentrant*)user_data;
  fi_engine_free(r->engine);
  fi_result_free(result);
  Count(&r->waiter, error);
  fi_error_free(error);
}

static void TestReentrantCallbacks(void) {
  fi_model* m = Load("tiny.fim");
  Reentrant r;
  if (!m) return;
  WaiterInit(&r.waiter);
  r.followups = 20;
  EXPECT_OK(fi_engine_create(m, NULL, &r.engine));
  EXPECT_OK(fi_engine_submit(r.engine, "music", 5, NULL, OnFollowup, &r));
  CHECK(WaitFor(&r.waiter, 21) && r.waiter.ok == 21);
  EXPECT_OK(fi_engine_submit(r.engine, "music", 5, NULL, OnFreeEngine, &r));
  CHECK(WaitFor(&r.waiter, 22));
  SleepMs(50); /* the library's thread frees the engine */
  WaiterDestroy(&r.waiter);
  fi_model_free(m);
}

/* Many threads submit to one engine and check every result in its callback, while the main
 * thread swaps models; results read labels from the model that computed them. */
#define kSubmitters 8
#define kPerThread 1500
static fi_engine* g_engine;
static Waiter g_waiter;
static void* SubmitLoop(void* arg) {
  static Request music = {&g_waiter, "music"}, weather = {&g_waiter, "weather"};
  int i;
  (void)arg;
  for (i = 0; i < kPerThread; ++i) {
    Request* r = i % 2 ? &music : &weather;
    const char* text = i % 2 ? "play some music" : "snow and rain forecast";
    fi_error* e;
    while ((e = fi_engine_submit(g_engine, text, strlen(text), NULL, OnChecked, r)) != NULL &&
           fi_error_code(e) == FI_OVERLOADED) {
      fi_error_free(e);
      SleepMs(1);
    }
    if (!CHECK(e == NULL)) {
      fi_error_free(e);
      Count(&g_waiter, NULL);
    }
  }
  return NULL;
}

static void OnOther(void* user_data, fi_result* result, fi_error* error) {
  Waiter* w = (Waiter*)user_data;
  const fi_label_score* l;
  const fi_routed_component* c;
  CHECK(error == NULL && fi_result_labels(result, &l) == 1);
  if (error == NULL) {
    CHECK(strcmp(fi_result_label_name(result, l[0].label, NULL), "musique") == 0);
    CHECK(fi_result_components(result, &c, NULL) == 1 && strcmp(c[0].name, "musique") == 0);
    CHECK(fi_result_model_version(result) == 2);
  }
  fi_result_free(result);
  Count(w, error);
  fi_error_free(error);
}

static void TestEngineThreads(void) {
  fi_model* m = Load("tiny.fim");
  fi_model* other = Load("tiny_other.fim");
  fi_engine_options o;
  pthread_t threads[kSubmitters];
  int i;
  fi_engine_stats s;
  if (!m || !other) return;
  WaiterInit(&g_waiter);
  fi_engine_options_init(&o);
  o.workers = 3;
  o.queue_capacity = 1024; /* small enough that submitters meet FI_OVERLOADED and retry */
  EXPECT_OK(fi_engine_create(m, &o, &g_engine));
  for (i = 0; i < kSubmitters; ++i) pthread_create(&threads[i], NULL, SubmitLoop, NULL);
  for (i = 0; i < kSubmitters; ++i) pthread_join(threads[i], NULL);
  CHECK(WaitFor(&g_waiter, kSubmitters * kPerThread));
  CHECK(g_waiter.ok == kSubmitters * kPerThread);
  EXPECT_OK(fi_engine_stats_get(g_engine, &s));
  CHECK(s.completed == (uint64_t)(kSubmitters * kPerThread) && s.failed == 0 && s.queue_depth == 0);
  CHECK(s.submitted == s.completed + s.rejected);

  /* Swap: the next results come from the other model (labels and components renamed). */
  {
    Waiter w;
    fi_request_options r;
    uint64_t v = 0;
    WaiterInit(&w);
    EXPECT_OK(fi_engine_swap(g_engine, other, &v));
    CHECK(v == 2);
    fi_model_free(other); /* the engine keeps it */
    fi_request_options_init(&r);
    r.outputs = FI_OUTPUT_ROUTE;
    for (i = 0; i < 50; ++i)
      EXPECT_OK(fi_engine_submit(g_engine, "play some music", 15, &r, OnOther, &w));
    CHECK(WaitFor(&w, 50) && w.ok == 50);
    WaiterDestroy(&w);
  }
  fi_engine_free(g_engine);
  fi_model_free(m);
  WaiterDestroy(&g_waiter);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: capi_test DIR (the models written by capi_test_models)\n");
    return 2;
  }
  snprintf(g_dir, sizeof g_dir, "%s", argv[1]);
  TestVersionAndErrors();
  TestNullFrees();
  TestLoad();
  TestAccessors();
  TestClassify();
  TestBatch();
  TestRoute();
  TestFeaturizeQuantizeSave();
  TestThreadsBlocking();
  TestEngineBasics();
  TestEngineRefusals();
  TestShutdownCancelQueued();
  TestReentrantCallbacks();
  TestEngineThreads();
  printf("capi_test: %d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
