/* Shared by the C API's C99 test files (capi_test.c: models, classify, batch, route, threads;
 * capi_engine_test.c: the async engine): the check macros and small file helpers. */
#ifndef FASTINTENT_CAPI_TEST_UTIL_H_
#define FASTINTENT_CAPI_TEST_UTIL_H_

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fastintent/fastintent.h"

/* Defined in capi_test.c: the check counters and the models folder. */
extern int g_passed;
extern int g_failed;
extern pthread_mutex_t g_check_mu;
extern char g_dir[1024];

/* Counts a check; prints it when it fails. Thread-safe (callbacks check too). */
static inline int CheckAt(int ok, const char* what, const char* file, int line) {
  pthread_mutex_lock(&g_check_mu);
  if (ok) {
    ++g_passed;
  } else {
    ++g_failed;
    fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
  }
  pthread_mutex_unlock(&g_check_mu);
  return ok;
}
#define Check(ok, what, line) CheckAt((ok), (what), __FILE__, (line))
#define CHECK(cond) Check((cond) ? 1 : 0, #cond, __LINE__)

/* Checks that `e` is an error with `code` (and, when `part` is non-NULL, a message containing
 * it), then frees it. */
static inline void ExpectError(fi_error* e, int32_t code, const char* part, const char* file,
                               int line) {
  char what[512];
  snprintf(what, sizeof what, "expected %s (%s), got %s: %s", fi_code_name(code), part ? part : "",
           fi_code_name(fi_error_code(e)), fi_error_message(e));
  CheckAt(
      e != NULL && fi_error_code(e) == code && (part == NULL || strstr(fi_error_message(e), part)),
      what, file, line);
  fi_error_free(e);
}
#define EXPECT_ERROR(expr, code, part) ExpectError((expr), (code), (part), __FILE__, __LINE__)

static inline void ExpectOk(fi_error* e, const char* expr, const char* file, int line) {
  char what[512];
  snprintf(what, sizeof what, "%s: %s", expr, fi_error_message(e));
  CheckAt(e == NULL, what, file, line);
  fi_error_free(e);
}
#define EXPECT_OK(expr) ExpectOk((expr), #expr, __FILE__, __LINE__)

static inline void SleepMs(long ms) {
  struct timespec t;
  t.tv_sec = ms / 1000;
  t.tv_nsec = (ms % 1000) * 1000000L;
  nanosleep(&t, NULL);
}

static inline void PathOf(const char* name, char* out, size_t cap) {
  snprintf(out, cap, "%s/%s", g_dir, name);
}

static inline fi_model* Load(const char* name) {
  char path[1200];
  fi_model* m = NULL;
  PathOf(name, path, sizeof path);
  EXPECT_OK(fi_model_load(path, strlen(path), &m));
  return m;
}

/* The whole file at `path` (malloc'ed) and its size; NULL when unreadable. */
static inline unsigned char* ReadFile(const char* path, size_t* size) {
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

static inline int WriteFile(const char* path, const void* data, size_t size) {
  FILE* f = fopen(path, "wb");
  int ok;
  if (!f) return 0;
  ok = fwrite(data, 1, size, f) == size;
  return fclose(f) == 0 && ok;
}

/* The best label's name for `text` ("" on error or rejection). */
static inline const char* Top(const fi_model* m, const char* text) {
  fi_label_score out[1];
  size_t n = 0;
  fi_error* e = fi_model_classify(m, text, strlen(text), 1, 0.0f, out, 1, &n);
  if (e) {
    fi_error_free(e);
    return "";
  }
  return n ? fi_model_label(m, out[0].label, NULL) : "";
}

/* The engine's tests (capi_engine_test.c), run by capi_test.c's main. */
void TestEngineBasics(void);
void TestEngineRefusals(void);
void TestShutdownCancelQueued(void);
void TestReentrantCallbacks(void);
void TestEngineThreads(void);

#endif /* FASTINTENT_CAPI_TEST_UTIL_H_ */
