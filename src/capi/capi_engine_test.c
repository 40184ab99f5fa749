/* capi_engine_test.c: the C API's async engine under test (part of capi_test; see
 * capi_test.c): submit with callbacks, refusals, shutdown modes, re-entrant callbacks and many
 * submitting threads. */
/* NOLINTNEXTLINE(bugprone-reserved-identifier): a feature-test macro, reserved on purpose. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */

#include "capi/capi_test_util.h"

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

void TestEngineBasics(void) {
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

void TestEngineRefusals(void) {
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

void TestShutdownCancelQueued(void) {
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

void TestReentrantCallbacks(void) {
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

void TestEngineThreads(void) {
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
