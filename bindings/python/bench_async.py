#!/usr/bin/env python3
"""Throughput of the Python binding's patterns, measured side by side in one run on one model:

  blocking predict       model.predict(text) in a loop on one thread
  blocking predict_batch model.predict_batch(texts), one call per 1,000 texts
  executor (baseline)    await loop.run_in_executor(None, model.predict, text), IN_FLIGHT awaits
                         at once: the pattern of the original system (5,833 predictions/s claimed)
  engine (asyncio)       await engine.predict(text), IN_FLIGHT awaits at once, completed from the
                         engine's callback through loop.call_soon_threadsafe

Usage: bench_async.py MODEL TEXTS.jsonl [--in-flight 10000] [--requests 50000] [--workers 2]
Prints a Markdown table: predictions/s, microseconds per prediction, and the ratio to the
baseline as measured here and to the 5,833 predictions/s the original system reported.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from typing import Callable, List

import fastintent


# The original system's figure for its pattern (a thread pool around a blocking call).
CLAIMED = 5833.0


def load_texts(path: str) -> List[str]:
    with open(path, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()]
    return [t for t in texts if t.strip()]


def timed(fn: Callable[[], int], repeats: int) -> float:
    """Best predictions/s of `repeats` runs of fn (which returns how many it made)."""
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        n = fn()
        rates.append(n / (time.perf_counter() - start))
    return max(rates)


def stream(texts: List[str], n: int) -> List[str]:
    return [texts[i % len(texts)] for i in range(n)]


async def gather_in_flight(make, texts: List[str], in_flight: int) -> int:
    """Awaits len(texts) requests, at most `in_flight` outstanding at once (waves of gather)."""
    done = 0
    for start in range(0, len(texts), in_flight):
        wave = texts[start:start + in_flight]
        results = await asyncio.gather(*(make(t) for t in wave))
        done += len(results)
    return done


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("texts")
    ap.add_argument("--in-flight", type=int, default=10000)
    ap.add_argument("--requests", type=int, default=50000)
    ap.add_argument("--executor-requests", type=int, default=20000)
    ap.add_argument("--workers", type=int, default=2, help="engine worker threads")
    ap.add_argument("--max-wait-us", type=int, default=200,
                    help="the second engine row's max_wait_us (a worker waits to fill a batch)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    model = fastintent.Model.load(args.model)
    texts = load_texts(args.texts)
    many = stream(texts, args.requests)
    for t in texts[:2000]:  # warm the thread's session
        model.predict(t)

    rows = []

    def blocking() -> int:
        predict = model.predict
        for t in many:
            predict(t)
        return len(many)
    rows.append(("blocking `model.predict` (1 thread)", timed(blocking, args.repeats)))

    def batch() -> int:
        for start in range(0, len(many), 1000):
            model.predict_batch(many[start:start + 1000])
        return len(many)
    rows.append(("blocking `model.predict_batch` (1,000 per call)", timed(batch, args.repeats)))

    executor_texts = stream(texts, args.executor_requests)

    def executor() -> int:
        async def run() -> int:
            loop = asyncio.get_running_loop()
            return await gather_in_flight(lambda t: loop.run_in_executor(None, model.predict, t),
                                          executor_texts, args.in_flight)
        return asyncio.run(run())
    baseline = timed(executor, args.repeats)
    rows.append((f"baseline: `await loop.run_in_executor(None, model.predict, text)`, "
                 f"{args.in_flight:,} in flight", baseline))

    for wait in (0, args.max_wait_us):
        def engine() -> int:
            async def run() -> int:
                async with fastintent.Engine(model, workers=args.workers, max_wait_us=wait,
                                             queue_capacity=max(65536, args.in_flight)) as e:
                    return await gather_in_flight(e.predict, many, args.in_flight)
            return asyncio.run(run())
        rows.append((f"`await engine.predict(text)`, {args.in_flight:,} in flight "
                     f"(workers {args.workers}, max_wait_us {wait})", timed(engine, args.repeats)))

    print(f"model {os.path.basename(args.model)} ({len(model.labels)} labels, {model.precision}); "
          f"{len(texts):,} texts from {os.path.basename(args.texts)}; best of {args.repeats}; "
          f"Python {sys.version.split()[0]}; {fastintent.LIBRARY_VERSION}; load {os.getloadavg()[0]:.1f}")
    print()
    print("| pattern | predictions/s | us/prediction | vs baseline measured | vs 5,833/s claimed |")
    print("|---|---:|---:|---:|---:|")
    for name, rate in rows:
        print(f"| {name} | {rate:,.0f} | {1e6 / rate:.2f} | {rate / baseline:.1f}x | "
              f"{rate / CLAIMED:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
