"""fastintent.Engine: asyncio over the C API's engine (fi_engine_submit + completion queue)."""
from __future__ import annotations

import asyncio
import threading

import pytest

import fastintent

MUSIC = "play some music"
WEATHER = "snow and rain forecast"


def run(coro):
    return asyncio.run(coro)


def test_predict_and_route(model: fastintent.Model) -> None:
    async def main() -> None:
        async with fastintent.Engine(model, workers=2) as engine:
            assert (await engine.predict(MUSIC))[0].label == "music"
            top2 = await engine.predict(WEATHER, k=2, threshold=0.0)
            assert [l.label for l in top2][0] == "weather" and len(top2) == 2
            route = await engine.route(WEATHER, threshold=0.0)
            assert [c.name for c in route.components] == ["alarm", "weather"]
            assert route.total_memory_mb == 15
            assert engine.model_version == 1
    run(main())


def test_ten_thousand_concurrent_awaits(model: fastintent.Model) -> None:
    async def main() -> None:
        async with fastintent.Engine(model, workers=2) as engine:
            texts = [MUSIC if i % 2 else WEATHER for i in range(10000)]
            results = await asyncio.gather(*(engine.predict(t) for t in texts))
            assert [r[0].label for r in results] == ["music" if i % 2 else "weather"
                                                     for i in range(10000)]
            stats = engine.stats()
            assert stats["completed"] == 10000 and stats["queue_depth"] == 0
            assert stats["mean_batch_size"] >= 1
    run(main())


def test_cancelling_awaiting_tasks(model: fastintent.Model) -> None:
    async def one(engine: fastintent.Engine, text: str):
        return await engine.predict(text)

    async def main() -> None:
        async with fastintent.Engine(model, workers=1, max_batch=8) as engine:
            # The one worker is busy for a while with a 1 MiB text, so most of the requests
            # behind it are still queued when their tasks are cancelled.
            busy = engine.predict("music " * (fastintent.MAX_TEXT_BYTES // 6))
            tasks = [asyncio.ensure_future(one(engine, MUSIC)) for _ in range(2000)]
            await asyncio.sleep(0)  # every task has submitted and awaits its future
            for t in tasks[::2]:
                t.cancel()
            done = await asyncio.gather(*tasks, return_exceptions=True)
            assert all(isinstance(d, asyncio.CancelledError) for d in done[::2])
            assert all(d[0].label == "music" for d in done[1::2])
            assert (await busy)[0].label == "music"
        stats = engine_stats[0]
        assert stats["completed"] + stats["cancelled"] == 2001
        assert stats["cancelled"] > 0  # cancelled in the engine, not only in asyncio

    engine_stats = []
    orig_close = fastintent.Engine.close

    def close(self, cancel_queued=False):
        if self._ptr is not None:
            engine_stats.append(self.stats())
        orig_close(self, cancel_queued)

    fastintent.Engine.close = close  # type: ignore[method-assign]
    try:
        run(main())
    finally:
        fastintent.Engine.close = orig_close  # type: ignore[method-assign]


def test_errors(model: fastintent.Model, plain: fastintent.Model) -> None:
    async def main() -> None:
        engine = fastintent.Engine(model, workers=1, queue_capacity=4)
        with pytest.raises(fastintent.InvalidArgumentError, match="empty text") as e:
            await engine.predict("")
        assert e.value.code == 1
        with pytest.raises(fastintent.InvalidArgumentError, match="too long"):
            engine.predict("a" * (fastintent.MAX_TEXT_BYTES + 1))
        with pytest.raises(TypeError):
            engine.predict(42)  # type: ignore[arg-type]
        with pytest.raises(fastintent.InvalidArgumentError, match="threshold"):
            engine.predict(MUSIC, threshold=7.0)
        # A full queue refuses at once; everything accepted is answered.
        futures, refused = [], 0
        for _ in range(2000):
            try:
                futures.append(engine.predict(MUSIC))
            except fastintent.OverloadedError as err:
                assert err.code == 6
                refused += 1
        assert refused > 0
        assert all(r[0].label == "music" for r in await asyncio.gather(*futures))
        engine.close()
        with pytest.raises(fastintent.ShutDownError):
            engine.predict(MUSIC)
        engine.close()  # idempotent

        with fastintent.Engine(plain) as no_registry:
            with pytest.raises(fastintent.NotFoundError, match="component registry"):
                no_registry.route(WEATHER)
    run(main())
    with pytest.raises(RuntimeError):  # no running event loop
        fastintent.Engine(model).predict(MUSIC)
    with pytest.raises(TypeError):
        fastintent.Engine("model.fim")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        fastintent.Engine(model, workers=0)


def test_timeout(model: fastintent.Model) -> None:
    async def main() -> None:
        async with fastintent.Engine(model, workers=1, max_batch=1) as engine:
            busy = engine.predict("music " * (fastintent.MAX_TEXT_BYTES // 6))
            late = engine.predict(MUSIC, timeout=0.001)  # queued behind ~0.1 s of work
            with pytest.raises(fastintent.DeadlineExceededError) as e:
                await late
            assert e.value.code == 7
            await busy
    run(main())


def test_close_cancel_queued(model: fastintent.Model) -> None:
    async def main() -> None:
        engine = fastintent.Engine(model, workers=1, max_batch=1)
        # The worker is busy with a 1 MiB text while the rest queue up behind it.
        futures = [engine.predict("music " * (fastintent.MAX_TEXT_BYTES // 6))]
        futures += [engine.predict(MUSIC) for _ in range(4999)]
        engine.close(cancel_queued=True)
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        cancelled = [o for o in outcomes if isinstance(o, fastintent.CancelledError)]
        answered = [o for o in outcomes if isinstance(o, list)]
        assert len(cancelled) + len(answered) == 5000 and cancelled
    run(main())


def test_swap(model: fastintent.Model, other: fastintent.Model) -> None:
    async def main() -> None:
        async with fastintent.Engine(model) as engine:
            assert (await engine.predict(MUSIC))[0].label == "music"
            assert engine.swap(other) == 2
            other.close()  # the engine keeps its own reference
            assert (await engine.predict(MUSIC))[0].label == "musique"
            assert (await engine.route(MUSIC)).components[0].name == "musique"
            assert engine.stats()["model_version"] == 2
    run(main())


def test_many_loops_in_threads(model: fastintent.Model) -> None:
    engine = fastintent.Engine(model, workers=2)
    errors = []

    def thread(i: int) -> None:
        async def main() -> None:
            text, want = (MUSIC, "music") if i % 2 else (WEATHER, "weather")
            results = await asyncio.gather(*(engine.predict(text) for _ in range(2000)))
            assert all(r[0].label == want for r in results)
        try:
            asyncio.run(main())
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=thread, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.close()
    assert not errors, errors
