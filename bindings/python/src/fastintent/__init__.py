"""fastintent: fast intent classification and command routing, over fastintent's C API.

Blocking use (any thread; the GIL is released while the library computes)::

    import fastintent
    model = fastintent.Model.load("assistant.fim")
    model.predict("play some jazz")           # [Label(label='music', prob=0.97)]
    model.predict("play some jazz", k=3)      # the 3 best labels
    model.predict_batch(["a", "b"])           # NumPy arrays, one call for the batch
    model.route("will it rain")               # the components it needs, dependencies added

asyncio (no executor, no thread per request)::

    async with fastintent.Engine(model, workers=2) as engine:
        labels = await engine.predict("play some jazz")

Errors are FastIntentError subclasses carrying the C API's code and message (.code,
.code_name, .message): InvalidArgumentError, NotFoundError, DataLossError, OverloadedError, ...
Training (loads the training library, libfastintent_train, on first use only)::

    model = fastintent.train(texts, labels, progress=lambda epoch, n, loss, acc: print(epoch, acc))
    model = fastintent.train_file("train.jsonl", "valid.jsonl", quantize=True)
    model.save("assistant.fim")
"""
from __future__ import annotations

from ._engine import Engine
from ._errors import (CancelledError, DataLossError, DeadlineExceededError, FastIntentError,
                      InternalError, InvalidArgumentError, IOFailureError, NotFoundError,
                      OutOfMemoryError, OverloadedError, ShutDownError, UnimplementedError)
from ._model import BatchPrediction, Component, Label, Model, Route
from ._train import train, train_file
from ._native import ffi as _ffi
from ._native import lib as _lib

#: Version of the C API of the loaded libfastintent, as (major, minor).
API_VERSION = (_lib.fi_api_version() >> 16, _lib.fi_api_version() & 0xFFFF)
if API_VERSION[0] != _lib.FI_API_VERSION_MAJOR or API_VERSION[1] < _lib.FI_API_VERSION_MINOR:
    raise ImportError(f"fastintent: libfastintent has C API {API_VERSION}, this binding was "
                      f"built for {(_lib.FI_API_VERSION_MAJOR, _lib.FI_API_VERSION_MINOR)}")
#: The library's version for humans ("fastintent 0.1.0 (C API 1.0)").
LIBRARY_VERSION = _ffi.string(_lib.fi_version_string()).decode()
#: The longest text (bytes) a model classifies.
MAX_TEXT_BYTES = _lib.FI_MAX_TEXT_BYTES
__version__ = "0.1.0"

__all__ = [
    "API_VERSION", "LIBRARY_VERSION", "MAX_TEXT_BYTES", "BatchPrediction", "CancelledError",
    "Component", "DataLossError", "DeadlineExceededError", "Engine", "FastIntentError",
    "IOFailureError", "InternalError", "InvalidArgumentError", "Label", "Model", "NotFoundError",
    "OutOfMemoryError", "OverloadedError", "Route", "ShutDownError", "UnimplementedError", "train",
    "train_file",
]
