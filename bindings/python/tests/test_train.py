"""fastintent.train / train_file: the training C API through the lazily loaded _train_native."""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from typing import List, Tuple

import pytest

import fastintent

WORDS = {
    "weather": ["rain", "sunny", "forecast", "umbrella"],
    "music": ["song", "playlist", "guitar", "album"],
    "alarm": ["wake", "alarm", "snooze", "morning"],
}
SMALL = dict(hidden=(16,), max_epochs=6, learning_rate=0.02, threads=1, valid_fraction=0.25)


def dataset(per_class: int = 40) -> Tuple[List[str], List[str]]:
    texts, labels = [], []
    for i in range(per_class * len(WORDS)):
        label = list(WORDS)[i % len(WORDS)]
        words = WORDS[label]
        texts.append(" ".join(words[(i * 7 + j * 3) % 4] for j in range(3)))
        labels.append(label)
    return texts, labels


def assert_learned(model: fastintent.Model) -> None:
    assert model.predict("rain forecast", threshold=0)[0].label == "weather"
    assert model.predict("guitar album", threshold=0)[0].label == "music"
    assert model.predict("snooze morning", threshold=0)[0].label == "alarm"


def test_train_from_arrays_with_progress() -> None:
    texts, labels = dataset()
    reports = []
    model = fastintent.train(texts, labels, progress=lambda *r: reports.append(r), **SMALL)
    assert sorted(model.labels) == ["alarm", "music", "weather"]
    assert model.precision == "float32"
    assert_learned(model)
    assert 1 <= len(reports) <= 6
    assert [r[0] for r in reports] == list(range(1, len(reports) + 1))
    assert all(r[1] == 6 and r[2] >= 0 and 0 <= r[3] <= 1 for r in reports)


def test_quantized_model_saves_and_loads(tmp_path: pathlib.Path) -> None:
    model = fastintent.train(*dataset(), quantize=True, **SMALL)
    assert model.precision == "int8"
    model.save(tmp_path / "m.fim")
    loaded = fastintent.Model.load(tmp_path / "m.fim")
    assert loaded.precision == "int8"
    assert_learned(loaded)


def test_train_file(tmp_path: pathlib.Path) -> None:
    texts, labels = dataset()
    rows = [json.dumps({"text": t, "label": l}) for t, l in zip(texts, labels)]
    (tmp_path / "train.jsonl").write_text("\n".join(rows[:90]) + "\n")
    (tmp_path / "valid.jsonl").write_text("\n".join(rows[90:]) + "\n")
    assert_learned(fastintent.train_file(tmp_path / "train.jsonl", tmp_path / "valid.jsonl",
                                         **SMALL))
    assert_learned(fastintent.train_file(str(tmp_path / "train.jsonl"), **SMALL))
    with pytest.raises(fastintent.NotFoundError, match="missing.jsonl"):
        fastintent.train_file(tmp_path / "missing.jsonl", **SMALL)
    (tmp_path / "bad.jsonl").write_text('{"label": "x"}\n')
    with pytest.raises(fastintent.InvalidArgumentError, match="bad.jsonl:1"):
        fastintent.train_file(tmp_path / "bad.jsonl", **SMALL)


def test_bad_inputs() -> None:
    texts, labels = dataset()
    with pytest.raises(fastintent.InvalidArgumentError, match="no examples"):
        fastintent.train([], [], **SMALL)
    with pytest.raises(fastintent.InvalidArgumentError, match="120 texts but 119 labels"):
        fastintent.train(texts, labels[:-1], **SMALL)
    with pytest.raises(fastintent.InvalidArgumentError, match="example 1: text is not valid UTF-8"):
        fastintent.train([b"rain", b"song \xff"] + texts, ["weather", "music"] + labels, **SMALL)
    with pytest.raises(fastintent.InvalidArgumentError, match="example 0: empty label"):
        fastintent.train(texts, [""] + labels[1:], **SMALL)
    with pytest.raises(fastintent.InvalidArgumentError, match="two distinct labels"):
        fastintent.train(texts, ["weather"] * len(texts), **SMALL)
    with pytest.raises(TypeError):
        fastintent.train(texts, "weather", **SMALL)
    with pytest.raises(TypeError):
        fastintent.train(texts, [1] * len(texts), **SMALL)
    with pytest.raises(TypeError):
        fastintent.train([1] * len(labels), labels, **SMALL)
    with pytest.raises(fastintent.InvalidArgumentError, match="dropout"):
        fastintent.train(texts, labels, **{**SMALL, "dropout": 1.5})
    with pytest.raises(ValueError):
        fastintent.train(texts, labels, **{**SMALL, "hidden": (0,)})


def test_cancel_from_progress() -> None:
    seen = []

    def stop_after_two(epoch: int, *_: float) -> bool:
        seen.append(epoch)
        return epoch >= 2

    with pytest.raises(fastintent.CancelledError, match="cancelled"):
        fastintent.train(*dataset(), progress=stop_after_two,
                         **{**SMALL, "max_epochs": 20, "patience": 20})
    assert seen == [1, 2]


def test_exception_in_progress_is_raised() -> None:
    def boom(*_: float) -> None:
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        fastintent.train(*dataset(), progress=boom, **SMALL)


def test_inference_never_loads_the_training_library(models_dir: pathlib.Path) -> None:
    # A fresh interpreter: loading a model and predicting maps neither libfastintent_train nor
    # OpenMP; the first train call maps both.
    code = f"""
import fastintent
def mapped():
    return open("/proc/self/maps").read()
m = fastintent.Model.load({str(models_dir / "tiny.fim")!r})
m.predict("will it rain")
before = mapped()
print("libfastintent_train" in before, "libgomp" in before)
fastintent.train(["rain", "song", "rain sun", "song tune"], ["w", "m", "w", "m"], hidden=(4,),
                 max_epochs=1, threads=1, valid_fraction=0.5)
after = mapped()
print("libfastintent_train" in after, "libgomp" in after)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd="/").stdout.split("\n")
    assert out[0] == "False False", out
    assert out[1] == "True True", out
