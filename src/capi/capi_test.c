/* capi_test DIR: the C API's test suite, in C99 (warnings as errors), linked against
 * libfastintent.so only. DIR holds the models written by capi_test_models (tiny.fim: weather,
 * music, alarm with a component registry where weather depends on alarm; tiny_plain.fim: no
 * registry; tiny_other.fim: meteo, musique, reveil). Every function of fastintent.h is called,
 * with its error paths; handles are freed in every order, NULL is passed to every free
 * function, and the engine is driven from many threads. Runs under ASan (preset asan).
 * Prints each failed check and ends with "N passed, M failed". */
/* NOLINTNEXTLINE(bugprone-reserved-identifier): a feature-test macro, reserved on purpose. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */

#include "capi/capi_test_util.h"

int g_passed = 0;
int g_failed = 0;
pthread_mutex_t g_check_mu = PTHREAD_MUTEX_INITIALIZER;
char g_dir[1024];

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
