"""fastintent.Model: the blocking API over fi_model_*."""
from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import fastintent

MUSIC = "play some music"
WEATHER = "snow and rain forecast"


def test_properties(model: fastintent.Model) -> None:
    assert model.labels == ("alarm", "music", "weather")  # the trainer sorts them
    assert model.kind == "softmax"
    assert model.precision == "float32"
    assert 0.0 <= model.threshold <= 1.0
    assert model.metadata["components"][0]["name"] == "weather"
    assert model.feature_count > 10
    assert model.component_count == 3
    assert isinstance(model.oos_label, str)
    assert "3 labels" in repr(model)


def test_predict(model: fastintent.Model) -> None:
    top = model.predict(MUSIC)
    assert len(top) == 1 and top[0].label == "music" and top[0] == ("music", top[0].prob)
    three = model.predict(MUSIC, k=3, threshold=0.0)
    assert [l.label for l in three][0] == "music" and len(three) == 3
    assert three[0].prob >= three[1].prob >= three[2].prob
    probs = model.probabilities(MUSIC)
    assert probs.dtype == np.float32 and probs.shape == (3,)
    assert math.isclose(float(probs.sum()), 1.0, rel_tol=1e-5)
    for label, prob in three:
        assert probs[model.labels.index(label)] == np.float32(prob)
    # A threshold just above the top probability rejects the text: no labels, no error.
    above = float(np.nextafter(np.float32(three[0].prob), np.float32(2)))
    if above <= 1.0:
        assert model.predict(MUSIC, threshold=above) == []
    assert model.predict(MUSIC, k=100)[0].label == "music"  # k beyond the labels is fine
    assert model.predict(b"will it rain tomorrow")[0].label == "weather"  # bytes are UTF-8


def test_malformed_text_is_replaced_not_refused(model: fastintent.Model) -> None:
    bad = model.probabilities(b"play some music \xff\xfe\xc3")
    fixed = model.probabilities("play some music \ufffd\ufffd\ufffd")
    assert np.array_equal(bad, fixed)
    assert model.predict("play music \ud800")[0].label == "music"  # a lone surrogate
    assert model.predict(b"rain\x00music music")  # NUL is a byte like any other


def test_errors(model: fastintent.Model, plain: fastintent.Model, models_dir, tmp_path) -> None:
    with pytest.raises(fastintent.NotFoundError) as e:
        fastintent.Model.load(tmp_path / "missing.fim")
    assert e.value.code == 2 and e.value.code_name == "not found"
    assert "missing.fim" in e.value.message and isinstance(e.value, LookupError)
    with pytest.raises(fastintent.DataLossError, match="junk: not a fastintent model file"):
        fastintent.Model.from_bytes(b"not a model file at all", name="junk")
    data = (models_dir / "tiny.fim").read_bytes()
    (tmp_path / "cut.fim").write_bytes(data[: len(data) // 2])
    with pytest.raises(fastintent.DataLossError, match="cut.fim"):
        fastintent.Model.load(tmp_path / "cut.fim")
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x5A
    with pytest.raises(fastintent.DataLossError) as e:
        fastintent.Model.from_bytes(flipped)
    assert e.value.code == 3
    with pytest.raises(TypeError):
        fastintent.Model.from_bytes("a str")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        fastintent.Model.load("")

    with pytest.raises(fastintent.InvalidArgumentError, match="empty text") as e:
        model.predict("")
    assert e.value.code == 1 and isinstance(e.value, ValueError)
    with pytest.raises(fastintent.InvalidArgumentError, match="empty text"):
        model.predict(b"", k=2)
    with pytest.raises(fastintent.InvalidArgumentError, match="no known"):
        model.predict("\u2603\u2603 \u2603")
    with pytest.raises(fastintent.InvalidArgumentError, match="too long"):
        model.predict("music " * (fastintent.MAX_TEXT_BYTES // 6 + 1))
    assert model.predict(("music " * fastintent.MAX_TEXT_BYTES)[: fastintent.MAX_TEXT_BYTES])
    with pytest.raises(TypeError, match="text must be str or bytes"):
        model.predict(123)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        model.predict(MUSIC, k="2")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        model.predict(MUSIC, k=0)
    with pytest.raises(fastintent.InvalidArgumentError, match="threshold"):
        model.predict(MUSIC, threshold=1.5)
    with pytest.raises(fastintent.InvalidArgumentError, match="threshold"):
        model.predict(MUSIC, threshold=float("nan"))
    with pytest.raises(TypeError):
        model.predict(MUSIC, threshold="high")  # type: ignore[arg-type]
    with pytest.raises(fastintent.NotFoundError, match="no component registry"):
        plain.route(WEATHER)
    with pytest.raises(TypeError):
        model.predict_batch("one text")  # type: ignore[arg-type]


def test_batch_equals_single(model: fastintent.Model) -> None:
    texts = [MUSIC, WEATHER, "", "wake me up with the alarm", b"snow"]
    batch = model.predict_batch(texts, k=2, threshold=0.0)
    assert batch.labels.shape == (5, 2) and batch.labels.dtype == np.int32
    assert batch.probs.shape == (5, 2) and batch.probs.dtype == np.float32
    assert list(batch.codes) == [0, 0, 1, 0, 0]
    for i, text in enumerate(texts):
        if batch.codes[i]:
            assert list(batch.labels[i]) == [-1, -1] and list(batch.probs[i]) == [0, 0]
            continue
        single = model.predict(text, k=2, threshold=0.0)
        assert [model.labels[j] for j in batch.labels[i] if j >= 0] == [l.label for l in single]
        assert [float(p) for p in batch.probs[i][: len(single)]] == [l.prob for l in single]
    probs, codes = model.probabilities_batch(texts)
    assert probs.shape == (5, 3) and list(codes) == [0, 0, 1, 0, 0]
    assert np.array_equal(probs[0], model.probabilities(MUSIC)) and not probs[2].any()
    empty = model.predict_batch([])
    assert empty.labels.shape == (0, 1) and empty.codes.shape == (0,)


def test_route(model: fastintent.Model) -> None:
    r = model.route(WEATHER, threshold=0.0)
    assert [c.name for c in r.components] == ["alarm", "weather"]  # CORE first, a dependency
    assert r.components[0].dependency and not r.components[1].dependency
    assert r.components[0].priority == "CORE" and r.components[1].priority == "HIGH"
    assert r.total_memory_mb == 15 and r.components[1].memory_mb == 10
    assert model.route(MUSIC).components[0].name == "music"


def test_featurize(model: fastintent.Model) -> None:
    idx, w = model.featurize(MUSIC)
    assert idx.dtype == np.uint32 and w.dtype == np.float32 and len(idx) == len(w) > 0
    assert int(idx.max()) < model.feature_count
    assert math.isclose(float((w.astype(np.float64) ** 2).sum()), 1.0, rel_tol=1e-3)
    assert len(model.featurize("")[0]) == 0
    long_text = " ".join(f"music{i} rain{i}" for i in range(300))  # more than 256 pairs
    assert len(model.featurize(long_text)[0]) > 256


def test_quantize_save_bytes(model: fastintent.Model, tmp_path) -> None:
    q = model.quantize()
    assert q.precision == "int8" and q.component_count == 3
    assert q.predict(MUSIC)[0].label == "music"
    q.save(tmp_path / "q.fim")
    back = fastintent.Model.load(tmp_path / "q.fim")
    assert np.array_equal(back.probabilities(WEATHER), q.probabilities(WEATHER))
    again = fastintent.Model.from_bytes(model.to_bytes(), name="copy")
    assert np.array_equal(again.probabilities(MUSIC), model.probabilities(MUSIC))
    with pytest.raises(fastintent.IOFailureError, match="nonexistent-dir"):
        q.save("/nonexistent-dir/m.fim")
    q.close()
    q.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        q.predict(MUSIC)
    with fastintent.Model.load(tmp_path / "q.fim") as m:
        assert m.labels == model.labels


def test_threads_share_a_model(model: fastintent.Model, other: fastintent.Model) -> None:
    def work(i: int) -> bool:
        m = model if i % 2 else other
        want = ("music", "weather") if m is model else ("musique", "meteo")
        return all(m.predict(MUSIC)[0].label == want[0] and m.predict(WEATHER)[0].label == want[1]
                   for _ in range(200))
    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(work, range(16)))


def test_batch_releases_the_gil(model: fastintent.Model) -> None:
    texts = [MUSIC, WEATHER] * 20000
    running = threading.Event()
    done = threading.Event()

    def batch() -> None:
        running.set()
        model.predict_batch(texts)
        done.set()

    t = threading.Thread(target=batch)
    t.start()
    running.wait()
    ticks = 0
    while not done.is_set():  # only runs while the batch thread does not hold the GIL
        ticks += 1
    t.join()
    assert ticks > 1000
