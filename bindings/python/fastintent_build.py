"""cffi builders of fastintent._native: the C API (include/fastintent/fastintent.h) plus a small
C completion queue that lets asyncio await engine requests; and of fastintent._train_native: the
training C API (fastintent_train.h, libfastintent_train.so), a module of its own that only
fastintent.train imports, so that inference-only programs never load the trainer or OpenMP.

The declarations given to cffi are read from the header itself (its preprocessor lines dropped,
integer #defines kept), so the binding cannot drift from the C API. The extension is C only and
links libfastintent.so (found by setup.py); no C++ is compiled here.
"""
from __future__ import annotations

import os
import re

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
INCLUDE_DIR = os.environ.get("FASTINTENT_INCLUDE_DIR", os.path.join(REPO, "include"))
HEADER = os.path.join(INCLUDE_DIR, "fastintent", "fastintent.h")
# Where setup.py put libfastintent.so for linking (it also copies it into the package).
LIB_DIR = os.environ.get("FASTINTENT_LINK_DIR", os.path.join(HERE, "build", "native"))


def cdef_from_header(text: str, guard: str = "FASTINTENT_FASTINTENT_H_") -> str:
    """The header's declarations in the subset of C that cffi's cdef reads.

    Keeps the body of the include guard; drops the `#ifdef __cplusplus` blocks (extern "C"), the
    FI_EXPORT definition block and every other preprocessor line except `#define NAME <integer>`.
    """
    out = []
    skip_stack: list[bool] = []
    continued = False
    for line in text.splitlines():
        stripped = line.strip()
        if continued:
            continued = stripped.endswith("\\")
            continue
        if stripped.startswith("#"):
            continued = stripped.endswith("\\")
            directive = stripped[1:].strip()
            if directive.startswith(("if ", "ifdef ", "ifndef ")):
                parent = bool(skip_stack and skip_stack[-1])
                is_guard = directive.startswith("ifndef " + guard)
                skip_stack.append(parent or not is_guard)
            elif directive.startswith("endif"):
                skip_stack.pop()
            elif not (skip_stack and skip_stack[-1]):
                m = re.fullmatch(r"define\s+(\w+)\s+(\d+)", directive)
                if m:
                    out.append(f"#define {m.group(1)} {m.group(2)}")
            continue
        if skip_stack and skip_stack[-1]:
            continue
        out.append(line.replace("FI_EXPORT ", ""))
    return "\n".join(out)


# The completion queue, in C: engine workers push finished requests onto a mutex-protected
# FIFO without touching Python, and only the push that finds the queue idle calls into Python
# (fipy_wakeup, which takes the GIL and does loop.call_soon_threadsafe). The event loop then
# drains everything queued in one go. So a burst of completions costs one GIL acquisition and
# one loop wake-up, not one per request.
QUEUE_DECLS = r"""
typedef struct fipy_queue fipy_queue;
typedef struct fipy_request fipy_request;
fipy_queue* fipy_queue_new(uint64_t key);
void fipy_queue_release(fipy_queue* queue);
/* Takes up to `cap` finished requests, oldest first, into parallel arrays (cheap for Python to
 * unpack): their ids, the requests themselves (free them with fipy_free_requests once handled:
 * that frees their results and errors too), their error codes (0: a result), the index and
 * probability of their best label (UINT32_MAX / 0 when none) and their model versions. */
size_t fipy_take(fipy_queue* queue, size_t cap, uint64_t* ids, fipy_request** requests,
                 int32_t* codes, uint32_t* label0, float* prob0, uint64_t* versions);
fi_result* fipy_request_result(const fipy_request* request);
fi_error* fipy_request_error(const fipy_request* request);
void fipy_free_requests(fipy_request** requests, size_t count);
/* Submits with the queue's callback. Returns the request (as an integer, cheap for Python)
 * when accepted; 0 when refused or out of memory, and then fipy_take_error() returns the error
 * (NULL: out of memory). */
uint64_t fipy_submit(fi_engine* engine, fipy_queue* queue, uint64_t id, const char* text,
                     size_t text_len, const fi_request_options* options, int cancellable);
void fipy_request_cancel(fipy_request* request);
void fipy_request_free(fipy_request* request);
/* fi_model_classify for Python's predict, without out-parameters to read back: the label
 * count, or -1 on error (then fipy_take_error() returns it). */
int64_t fipy_classify(const fi_model* model, const char* text, size_t text_len, int32_t k,
                      float threshold, fi_label_score* out, size_t out_cap);
/* k = 1: 2 * label + prob (exact in a double), -1 when rejected, -2 on error. */
double fipy_classify1(const fi_model* model, const char* text, size_t text_len, float threshold);
/* The calling thread's last fipy_classify* error (its owner now), or NULL. */
fi_error* fipy_take_error(void);
extern "Python" void fipy_wakeup(uint64_t key);
"""

QUEUE_SOURCE = r"""
#include <pthread.h>
#include <stdlib.h>
#include "fastintent/fastintent.h"

struct fipy_request {
  struct fipy_queue* queue;
  uint64_t id;
  fi_cancel_token* token;
  fi_result* result;
  fi_error* error;
  struct fipy_request* next;
};

/* Lives while its owner (the Python side) holds it or any request submitted through it is
 * unfreed (refs), so a callback that arrives after the Python engine is gone (an engine freed
 * from its own callback is freed later, on a library thread) never touches freed memory. */
struct fipy_queue {
  pthread_mutex_t mu;
  fipy_request* head;
  fipy_request* tail;
  int wakeup_pending;  /* a fipy_wakeup is on its way: pushes need not send another */
  int closed;          /* released by its owner: finished requests are freed, not queued */
  size_t refs;
  uint64_t key;
};

static void fipy_wakeup(uint64_t key);

fipy_queue* fipy_queue_new(uint64_t key) {
  fipy_queue* q = (fipy_queue*)calloc(1, sizeof *q);
  if (q == NULL) return NULL;
  pthread_mutex_init(&q->mu, NULL);
  q->refs = 1;
  q->key = key;
  return q;
}

static void fipy_queue_unref(fipy_queue* q) {
  size_t left;
  pthread_mutex_lock(&q->mu);
  left = --q->refs;
  pthread_mutex_unlock(&q->mu);
  if (left == 0) {
    pthread_mutex_destroy(&q->mu);
    free(q);
  }
}

void fipy_request_free(fipy_request* r) {
  fipy_queue* q;
  if (r == NULL) return;
  q = r->queue;
  fi_cancel_token_free(r->token);
  fi_result_free(r->result);
  fi_error_free(r->error);
  free(r);
  fipy_queue_unref(q);
}

void fipy_queue_release(fipy_queue* q) {
  fipy_request* r;
  if (q == NULL) return;
  pthread_mutex_lock(&q->mu);
  q->closed = 1;
  r = q->head;
  q->head = q->tail = NULL;
  pthread_mutex_unlock(&q->mu);
  while (r != NULL) {
    fipy_request* next = r->next;
    fipy_request_free(r);
    r = next;
  }
  fipy_queue_unref(q);
}

/* The engine's completion callback (a worker thread; no GIL). */
static void fipy_done(void* user_data, fi_result* result, fi_error* error) {
  fipy_request* r = (fipy_request*)user_data;
  fipy_queue* q = r->queue;
  int wake;
  uint64_t key;
  r->result = result;
  r->error = error;
  r->next = NULL;
  pthread_mutex_lock(&q->mu);
  if (q->closed) {
    pthread_mutex_unlock(&q->mu);
    fipy_request_free(r);
    return;
  }
  if (q->tail) q->tail->next = r; else q->head = r;
  q->tail = r;
  wake = !q->wakeup_pending;
  q->wakeup_pending = 1;
  key = q->key;
  pthread_mutex_unlock(&q->mu);
  if (wake) fipy_wakeup(key);
}

size_t fipy_take(fipy_queue* q, size_t cap, uint64_t* ids, fipy_request** requests,
                 int32_t* codes, uint32_t* label0, float* prob0, uint64_t* versions) {
  size_t n = 0, i;
  fipy_request* r;
  pthread_mutex_lock(&q->mu);
  while (n < cap && q->head != NULL) {
    requests[n++] = q->head;
    q->head = q->head->next;
  }
  if (q->head == NULL) {
    q->tail = NULL;
    q->wakeup_pending = 0; /* emptied: the next push must wake the loop again */
  }
  pthread_mutex_unlock(&q->mu);
  for (i = 0; i < n; ++i) {
    const fi_label_score* labels = NULL;
    r = requests[i];
    ids[i] = r->id;
    codes[i] = fi_error_code(r->error);
    label0[i] = fi_result_labels(r->result, &labels) ? labels[0].label : UINT32_MAX;
    prob0[i] = labels ? labels[0].prob : 0.0f;
    versions[i] = fi_result_model_version(r->result);
  }
  return n;
}

fi_result* fipy_request_result(const fipy_request* r) { return r->result; }
fi_error* fipy_request_error(const fipy_request* r) { return r->error; }

void fipy_free_requests(fipy_request** requests, size_t count) {
  size_t i;
  for (i = 0; i < count; ++i) fipy_request_free(requests[i]);
}

static _Thread_local fi_error* t_error = NULL;

fi_error* fipy_take_error(void) {
  fi_error* e = t_error;
  t_error = NULL;
  return e;
}

int64_t fipy_classify(const fi_model* model, const char* text, size_t text_len, int32_t k,
                      float threshold, fi_label_score* out, size_t out_cap) {
  size_t n = 0;
  fi_error* e = fi_model_classify(model, text, text_len, k, threshold, out, out_cap, &n);
  if (e) {
    fi_error_free(t_error);
    t_error = e;
    return -1;
  }
  return (int64_t)n;
}

double fipy_classify1(const fi_model* model, const char* text, size_t text_len, float threshold) {
  fi_label_score top;
  size_t n = 0;
  fi_error* e = fi_model_classify(model, text, text_len, 1, threshold, &top, 1, &n);
  if (e) {
    fi_error_free(t_error);
    t_error = e;
    return -2.0;
  }
  return n ? 2.0 * (double)top.label + (double)top.prob : -1.0;
}

uint64_t fipy_submit(fi_engine* engine, fipy_queue* queue, uint64_t id, const char* text,
                     size_t text_len, const fi_request_options* options, int cancellable) {
  fi_request_options o = *options;
  fi_error* err;
  fipy_request* r = (fipy_request*)calloc(1, sizeof *r);
  if (r == NULL) return 0; /* out of memory: no error object either */
  r->queue = queue;
  r->id = id;
  pthread_mutex_lock(&queue->mu);
  ++queue->refs;
  pthread_mutex_unlock(&queue->mu);
  if (cancellable) {
    err = fi_cancel_token_create(&r->token);
    if (err) {
      fipy_request_free(r);
      fi_error_free(t_error);
      t_error = err;
      return 0;
    }
    o.cancel = r->token;
  }
  err = fi_engine_submit(engine, text, text_len, &o, fipy_done, r);
  if (err) {
    fipy_request_free(r);
    fi_error_free(t_error);
    t_error = err;
    return 0;
  }
  return (uint64_t)(uintptr_t)r;
}

void fipy_request_cancel(fipy_request* r) {
  if (r) fi_cancel_token_cancel(r->token);
}
"""

ffibuilder = FFI()
with open(HEADER, encoding="utf-8") as f:
    ffibuilder.cdef(cdef_from_header(f.read()) + QUEUE_DECLS)
# The C source needs the types and prototypes too (all but the extern "Python" line, which
# cffi turns into the definition of fipy_wakeup).
_C_DECLS = "\n".join(line for line in QUEUE_DECLS.splitlines() if 'extern "Python"' not in line)
ffibuilder.set_source(
    "fastintent._native",
    '#include "fastintent/fastintent.h"\n' + _C_DECLS + QUEUE_SOURCE,
    include_dirs=[INCLUDE_DIR],
    library_dirs=[LIB_DIR],
    libraries=["fastintent"],
    # libfastintent.so.1 sits beside the extension in the installed package.
    extra_link_args=["-Wl,-rpath,$ORIGIN"],
    extra_compile_args=["-std=c11", "-O2", "-Wall"],
)

# Training: shares _native's types (ffi.include), so the fi_model* it returns is the one
# fastintent.Model wraps. The progress callback calls into Python (with the GIL) once an epoch.
TRAIN_HEADER = os.path.join(INCLUDE_DIR, "fastintent", "fastintent_train.h")
train_ffibuilder = FFI()
train_ffibuilder.include(ffibuilder)
with open(TRAIN_HEADER, encoding="utf-8") as f:
    train_ffibuilder.cdef(
        cdef_from_header(f.read(), guard="FASTINTENT_FASTINTENT_TRAIN_H_") +
        '\nextern "Python" int32_t fipy_train_progress(uint32_t, uint32_t, double, double, void*);')
train_ffibuilder.set_source(
    "fastintent._train_native",
    '#include "fastintent/fastintent_train.h"\n'
    "static int32_t fipy_train_progress(uint32_t, uint32_t, double, double, void*);\n",
    include_dirs=[INCLUDE_DIR],
    library_dirs=[LIB_DIR],
    libraries=["fastintent_train", "fastintent"],
    extra_link_args=["-Wl,-rpath,$ORIGIN"],
    extra_compile_args=["-std=c11", "-O2", "-Wall"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
    train_ffibuilder.compile(verbose=True)
