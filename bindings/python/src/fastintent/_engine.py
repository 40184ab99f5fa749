"""fastintent.Engine: the C API's asynchronous engine, awaitable from asyncio.

How a request travels: ``engine.predict(text)`` submits it through the C API (fi_engine_submit)
and returns an asyncio Future at once. An engine worker thread computes it and its completion
callback (C, in the extension: no GIL) appends it to a queue belonging to the caller's event
loop; only when that queue was idle does it call into Python, once, to schedule a drain with
``loop.call_soon_threadsafe``. The drain, on the loop's thread, resolves every future queued
by then. No executor, no thread per request, and one loop wake-up per burst of completions.
"""
from __future__ import annotations

import asyncio
import atexit
import itertools
import threading
import weakref
from typing import Any, Dict, List, Optional, Tuple

from ._errors import FastIntentError, error_from
from ._model import Label, Model, Route, Text, check_k, components_from, labels_of, text_bytes, threshold_arg
from ._native import ffi, lib

_new_tuple = tuple.__new__
_get_running_loop = asyncio.get_running_loop
_LABELS = lib.FI_OUTPUT_LABELS
_ROUTE_OUTPUT = lib.FI_OUTPUT_ROUTE
_PREDICT_TOP1 = 0  # k == 1: fipy_take hands over the answer itself
_PREDICT = 1
_ROUTE = 2

# Queue key -> its _LoopQueue, for fipy_wakeup (called from engine worker threads).
_queues: Dict[int, "_LoopQueue"] = {}
_keys = itertools.count(1)


@ffi.def_extern()
def fipy_wakeup(key: int) -> None:
    """Called (with the GIL) by the first completion that finds its queue idle."""
    q = _queues.get(key)
    if q is None:
        return
    try:
        q.loop.call_soon_threadsafe(q.drain)
    except RuntimeError:  # the loop is closed: the queue is freed with the engine
        pass


class _EngineFuture(asyncio.Future):
    """A Future whose cancellation also cancels its request in the engine (a request no worker
    has reached yet is then dropped without being computed)."""

    __slots__ = ("_fi_request", "_fi_kind")

    def cancel(self, *args: Any, **kwargs: Any) -> bool:
        r = self._fi_request
        if r is not None and not self.done():
            lib.fipy_request_cancel(ffi.cast("fipy_request*", r))
        return super().cancel(*args, **kwargs)


class _LoopQueue:
    """The completion queue of one engine for one event loop (used on the loop's thread)."""

    _DRAIN = 512  # requests taken per fipy_take call

    def __init__(self, engine: "Engine", loop: asyncio.AbstractEventLoop) -> None:
        self.engine = engine
        self.loop = loop
        self.key = next(_keys)
        self.queue = lib.fipy_queue_new(self.key)
        if self.queue == ffi.NULL:
            raise MemoryError("fastintent: no memory for a completion queue")
        self.pending: Dict[int, _EngineFuture] = {}
        n = self._DRAIN
        self.ids = ffi.new("uint64_t[]", n)
        self.requests = ffi.new("fipy_request*[]", n)
        self.codes = ffi.new("int32_t[]", n)
        self.label0 = ffi.new("uint32_t[]", n)
        self.prob0 = ffi.new("float[]", n)
        self.versions = ffi.new("uint64_t[]", n)
        self.closed = False
        _queues[self.key] = self

    def drain(self) -> None:
        """Resolves the futures of every finished request (on the loop's thread)."""
        if self.closed:
            return
        pending, engine, requests, unpack = self.pending, self.engine, self.requests, ffi.unpack
        while True:
            n = lib.fipy_take(self.queue, self._DRAIN, self.ids, requests, self.codes,
                              self.label0, self.prob0, self.versions)
            if n == 0:
                return
            try:
                ids, codes = unpack(self.ids, n), unpack(self.codes, n)
                label0, prob0 = unpack(self.label0, n), unpack(self.prob0, n)
                versions = unpack(self.versions, n)
                names, names_version = engine._labels_by_version.get(1), 1
                for i in range(n):
                    fut = pending.pop(ids[i], None)
                    if fut is None or fut.done():
                        continue  # cancelled meanwhile
                    fut._fi_request = None
                    if codes[i]:
                        fut.set_exception(error_from(lib.fipy_request_error(requests[i]), free=False))
                        continue
                    kind = fut._fi_kind
                    if kind == _PREDICT_TOP1:
                        if label0[i] == 0xFFFFFFFF:
                            fut.set_result([])
                            continue
                        if versions[i] != names_version or names is None:
                            names_version = versions[i]
                            names = engine._labels(names_version, lib.fipy_request_result(requests[i]))
                        fut.set_result([_new_tuple(Label, (names[label0[i]], prob0[i]))])
                    elif kind == _PREDICT:
                        fut.set_result(engine._decode_labels(versions[i], lib.fipy_request_result(requests[i])))
                    else:
                        fut.set_result(engine._decode_route(lib.fipy_request_result(requests[i])))
            finally:
                lib.fipy_free_requests(requests, n)
            if n < self._DRAIN:
                return

    def release(self, reason: Optional[BaseException]) -> None:
        """Frees the queue (requests still in flight are freed when they finish) and fails
        futures still pending with `reason` (on the loop's thread, or when it is closed)."""
        if self.closed:
            return
        if not self.loop.is_closed():  # a closed loop's futures can no longer be resolved
            self.drain()
        self.closed = True
        _queues.pop(self.key, None)
        lib.fipy_queue_release(self.queue)
        self.queue = ffi.NULL
        for fut in self.pending.values():
            fut._fi_request = None
            if not fut.done() and reason is not None and not self.loop.is_closed():
                fut.set_exception(reason)
        self.pending.clear()


class Engine:
    """An asynchronous, micro-batching engine over a Model, for asyncio.

    ``await engine.predict(text)`` and ``await engine.route(text)`` never block the event loop:
    a pool of worker threads (each with its own session) computes requests from a bounded
    queue, in micro-batches, with the GIL released. Use from any number of event loops and
    threads. A full queue raises OverloadedError at once (so memory stays bounded).

    >>> async with fastintent.Engine(model, workers=2) as engine:
    ...     labels = await engine.predict("play some jazz")

    Each awaited future is completed from the engine's callback through
    ``loop.call_soon_threadsafe`` on the caller's event loop (batched: one wake-up per burst of
    completions), so no executor thread waits for an answer.

    Cancelling a task that awaits a request cancels the request too (it is dropped if no worker
    has reached it yet). close() (or leaving ``async with``) shuts the engine down: queued
    requests are computed first (cancel_queued=False) or answered CancelledError.
    """

    def __init__(self, model: Model, *, workers: int = 2, max_batch: int = 64,
                 max_wait_us: int = 0, queue_capacity: int = 65536) -> None:
        for name, value in (("workers", workers), ("max_batch", max_batch),
                            ("max_wait_us", max_wait_us), ("queue_capacity", queue_capacity)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be an int, not {type(value).__name__}")
            if value < (0 if name == "max_wait_us" else 1) or value > 0x7FFFFFFF:
                raise ValueError(f"{name} out of range: {value}")
        if not isinstance(model, Model):
            raise TypeError(f"model must be a fastintent.Model, not {type(model).__name__}")
        o = ffi.new("fi_engine_options*")
        lib.fi_engine_options_init(o)
        o.workers, o.max_batch, o.max_wait_us, o.queue_capacity = (
            workers, max_batch, max_wait_us, queue_capacity)
        out = ffi.new("fi_engine**")
        err = lib.fi_engine_create(model._p(), o, out)
        if err != ffi.NULL:
            raise error_from(err)
        self._ptr = out[0]
        self._lock = threading.Lock()
        self._loop_queues: Dict[asyncio.AbstractEventLoop, _LoopQueue] = {}
        self._labels_by_version: Dict[int, Tuple[str, ...]] = {1: model.labels}
        self._options: Dict[Tuple[int, Optional[float], int], Any] = {}
        self._ids = itertools.count(1)
        _live.add(self)

    # ------------------------------------------------------------------ requests

    def predict(self, text: Text, k: int = 1, threshold: Optional[float] = None,
                *, timeout: Optional[float] = None) -> "asyncio.Future[List[Label]]":
        """A future of the best labels for `text` (as Model.predict). Call it from a coroutine
        (it needs the running event loop) and await the result.

        Raised at once: OverloadedError (queue full), ShutDownError, InvalidArgumentError (text
        over 1 MiB, bad k or threshold), TypeError. Raised by the await: InvalidArgumentError
        (nothing to classify), DeadlineExceededError (not computed within `timeout` seconds),
        CancelledError (engine closed with cancel_queued=True).
        """
        if type(k) is not int or k < 1:
            k = check_k(k)
        return self._submit(text, k, threshold, _LABELS, timeout,
                            _PREDICT_TOP1 if k == 1 else _PREDICT)

    def route(self, text: Text, threshold: Optional[float] = None,
              *, timeout: Optional[float] = None) -> "asyncio.Future[Route]":
        """A future of the components `text` needs (as Model.route). NotFoundError at once when
        the engine's model has no component registry."""
        return self._submit(text, 1, threshold, _ROUTE_OUTPUT, timeout, _ROUTE)

    def _submit(self, text: Text, k: int, threshold: Optional[float], outputs: int,
                timeout: Optional[float], kind: int) -> asyncio.Future:
        b = text.encode("utf-8", "surrogatepass") if type(text) is str else text_bytes(text)
        loop = _get_running_loop()
        q = self._loop_queues.get(loop)
        if q is None:
            q = self._bind(loop)
        opts = self._options.get((k, threshold, outputs)) if timeout is None else None
        if opts is None:
            opts = self._request_options(k, threshold, outputs, timeout)
        rid = next(self._ids)
        ptr = self._ptr
        if ptr is None:
            raise _closed()
        request = lib.fipy_submit(ptr, q.queue, rid, b, len(b), opts, 1)
        if not request:
            err = lib.fipy_take_error()
            if err == ffi.NULL:
                raise MemoryError("fastintent: no memory for a request")
            raise error_from(err)
        fut = _EngineFuture(loop=loop)
        fut._fi_request = request
        fut._fi_kind = kind
        q.pending[rid] = fut
        return fut

    def _bind(self, loop: asyncio.AbstractEventLoop) -> _LoopQueue:
        with self._lock:
            if self._ptr is None:
                raise _closed()
            q = self._loop_queues.get(loop)
            if q is None:
                q = self._loop_queues[loop] = _LoopQueue(self, loop)
            return q

    def _request_options(self, k: int, threshold: Optional[float], outputs: int,
                         timeout: Optional[float]) -> Any:
        """The C request options (cached per (k, threshold, outputs) when there is no timeout)."""
        o = ffi.new("fi_request_options*")
        lib.fi_request_options_init(o)
        o.k, o.threshold, o.outputs = min(k, 0x7FFFFFFF), threshold_arg(threshold), outputs
        if timeout is not None:
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
                raise TypeError(f"timeout must be a number of seconds, not {type(timeout).__name__}")
            if not timeout > 0:
                raise ValueError(f"timeout must be positive, not {timeout}")
            o.timeout_us = max(1, min(int(timeout * 1e6), (1 << 63) - 1))
        elif len(self._options) < 64:
            self._options[(k, threshold, outputs)] = o
        return o

    # ------------------------------------------------------------------ results

    def _labels(self, version: int, result: Any) -> Tuple[str, ...]:
        labels = self._labels_by_version.get(version)
        if labels is None:  # computed by a model swapped in from another thread just now
            n = ffi.new("size_t*")
            out, i = [], 0
            while True:
                s = lib.fi_result_label_name(result, i, n)
                if s == ffi.NULL:
                    break
                out.append(ffi.unpack(s, n[0]).decode("utf-8", "replace"))
                i += 1
            labels = tuple(out)
        return labels

    def _decode_labels(self, version: int, result: Any) -> List[Label]:
        pp = ffi.new("fi_label_score**")
        n = lib.fi_result_labels(result, pp)
        names = self._labels(version, result)
        return [Label(names[pp[0][i].label], pp[0][i].prob) for i in range(n)]

    def _decode_route(self, result: Any) -> Route:
        pp = ffi.new("fi_routed_component**")
        mem = ffi.new("int32_t*")
        n = lib.fi_result_components(result, pp, mem)
        return Route(components_from(pp[0], n), int(mem[0]))

    # ------------------------------------------------------------------ management

    def swap(self, model: Model) -> int:
        """Serves `model` from now on (atomically; requests already taken by a worker finish on
        the old one, and each answer names labels of the model that computed it). Returns the
        new model version (1 for the first model, +1 per swap)."""
        if not isinstance(model, Model):
            raise TypeError(f"model must be a fastintent.Model, not {type(model).__name__}")
        ptr = self._ptr
        if ptr is None:
            raise _closed()
        version = ffi.new("uint64_t*")
        err = lib.fi_engine_swap(ptr, model._p(), version)
        if err != ffi.NULL:
            raise error_from(err)
        self._labels_by_version[int(version[0])] = model.labels
        return int(version[0])

    @property
    def model_version(self) -> int:
        """1 for the first model, +1 per swap."""
        return int(lib.fi_engine_model_version(self._ptr)) if self._ptr is not None else 0

    def stats(self) -> Dict[str, float]:
        """Counters since creation and latency percentiles (seconds) of computed requests."""
        if self._ptr is None:
            raise _closed()
        s = ffi.new("fi_engine_stats*")
        err = lib.fi_engine_stats_get(self._ptr, s)
        if err != ffi.NULL:
            raise error_from(err)
        out: Dict[str, float] = {}
        for field in ("submitted", "completed", "failed", "rejected", "expired", "cancelled",
                      "batches", "queue_depth", "model_version"):
            out[field] = int(getattr(s, field))
        for field in ("queue_wait_p50", "queue_wait_p99", "compute_p50", "compute_p99",
                      "latency_p50", "latency_p99", "latency_max"):
            out[field + "_s"] = getattr(s, field + "_ns") / 1e9
        out["mean_batch_size"] = float(s.mean_batch_size)
        return out

    def close(self, cancel_queued: bool = False) -> None:
        """Shuts the engine down and frees it: stops taking requests (later calls raise
        ShutDownError), computes the queued ones (or, with cancel_queued, fails them with
        CancelledError) and waits for the workers. Futures of this thread's event loop are
        resolved before it returns. Idempotent."""
        with self._lock:
            ptr, self._ptr = self._ptr, None
            queues = list(self._loop_queues.values())
            self._loop_queues.clear()
        if ptr is None:
            return
        err = lib.fi_engine_shutdown(
            ptr, lib.FI_SHUTDOWN_CANCEL_QUEUED if cancel_queued else lib.FI_SHUTDOWN_DRAIN)
        lib.fi_engine_free(ptr)
        try:
            running: Optional[asyncio.AbstractEventLoop] = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for q in queues:
            reason = _closed()
            if q.loop is running or q.loop.is_closed() or not q.loop.is_running():
                q.release(reason)
            else:  # resolved on that loop's own thread
                q.loop.call_soon_threadsafe(q.release, reason)
        if err != ffi.NULL:
            raise error_from(err)

    async def aclose(self, cancel_queued: bool = False) -> None:
        """close(), for ``async with``."""
        self.close(cancel_queued)

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> "Engine":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - nothing to report to at interpreter shutdown
            pass

    def __repr__(self) -> str:
        state = "closed" if self._ptr is None else f"model version {self.model_version}"
        return f"<fastintent.Engine {state}>"


# Engines still open at interpreter exit are closed first: their workers must not call into
# an interpreter that is being torn down.
_live: "weakref.WeakSet[Engine]" = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for engine in list(_live):
        try:
            engine.close()
        except Exception:  # noqa: BLE001 - exiting anyway
            pass


def _closed() -> FastIntentError:
    from ._errors import ShutDownError
    return ShutDownError("the engine is closed")
