"""fastintent.train and fastintent.train_file: training through the C API's training library
(fastintent_train.h). Its extension (_train_native, linked to libfastintent_train.so and so to
the trainer and OpenMP) is imported on the first call only: programs that only load models and
predict never load it."""
from __future__ import annotations

import os
from typing import Any, Callable, Optional, Sequence, Tuple

from ._errors import check
from ._model import Model, PathLike, Text, _pack, _path_bytes

#: progress(epoch, max_epochs, loss, valid_accuracy) -> truthy to stop training.
Progress = Callable[[int, int, float, float], Optional[bool]]

_native = None  # fastintent._train_native, once imported


def _train_lib() -> Any:
    global _native
    if _native is None:
        from . import _train_native  # loads libfastintent_train.so.1 (and OpenMP)
        _native = _train_native
        _native.ffi.def_extern(name="fipy_train_progress")(_on_epoch)
    return _native


class _Run:
    """One training call's Python side: the user's callback and what it raised."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.error: Optional[BaseException] = None


def _on_epoch(epoch: int, max_epochs: int, loss: float, accuracy: float, user: Any) -> int:
    run: _Run = _native.ffi.from_handle(user)
    try:
        return 1 if run.progress(epoch, max_epochs, loss, accuracy) else 0
    except BaseException as e:  # re-raised by the caller once the C call has returned
        run.error = e
        return 1


def _params(native: Any, hidden: Sequence[int], max_epochs: int, patience: int,
            batch_size: int, learning_rate: float, dropout: float, valid_fraction: float,
            seed: int, threads: Optional[int], quantize: bool, oos_label: Optional[str],
            progress: Optional[Progress], keep: list) -> Any:
    ffi, lib = native.ffi, native.lib
    p = ffi.new("fi_train_params*", lib.fi_train_default_params())
    hidden = [int(h) for h in hidden]
    if len(hidden) > lib.FI_TRAIN_MAX_HIDDEN:
        raise ValueError(f"at most {lib.FI_TRAIN_MAX_HIDDEN} hidden layers")
    if any(h < 1 for h in hidden):
        raise ValueError("hidden layer widths must be positive")
    for i, h in enumerate(hidden):
        p.hidden[i] = h
    p.hidden_count = len(hidden)
    for name, value in (("max_epochs", max_epochs), ("patience", patience),
                        ("batch_size", batch_size)):
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative int")
        setattr(p, name, value)
    p.learning_rate = float(learning_rate)
    p.dropout = float(dropout)
    p.valid_fraction = float(valid_fraction)
    p.seed = int(seed)
    p.threads = int(threads) if threads is not None else min(os.cpu_count() or 1, 8)
    p.quantize = 1 if quantize else 0
    if oos_label is not None:
        oos = oos_label.encode("utf-8")
        buf = ffi.new("char[]", oos)
        keep.append(buf)
        p.oos_label = buf
        p.oos_label_len = len(oos)
    if progress is not None:
        if not callable(progress):
            raise TypeError("progress must be callable")
        run = _Run(progress)
        handle = ffi.new_handle(run)
        keep.extend((run, handle))
        p.progress = native.lib.fipy_train_progress
        p.progress_user_data = handle
    return p


def _finish(native: Any, err: Any, out: Any, keep: list) -> Model:
    run = next((k for k in keep if isinstance(k, _Run)), None)
    if run is not None and run.error is not None:
        if err != native.ffi.NULL:
            native.lib.fi_error_free(err)
        raise run.error
    check(err)
    return Model(out[0])


def train(texts: Sequence[Text], labels: Sequence[str], *, hidden: Sequence[int] = (256,),
          max_epochs: int = 30, patience: int = 4, batch_size: int = 64,
          learning_rate: float = 3e-3, dropout: float = 0.3, valid_fraction: float = 0.1,
          seed: int = 1, threads: Optional[int] = None, quantize: bool = False,
          oos_label: Optional[str] = None, progress: Optional[Progress] = None) -> Model:
    """Trains a single-label model on in-memory examples: texts[i] is labelled labels[i].

    A validation split (valid_fraction, stratified) is carved from the data for early stopping
    (`patience` epochs without improvement) and for calibrating the rejection threshold.
    `hidden` lists the hidden layer widths (() trains a linear model); `threads` defaults to the
    machine's cores (at most 8); `quantize` returns the int8 model. `progress(epoch, max_epochs,
    loss, valid_accuracy)` is called after every epoch; a truthy return cancels training
    (CancelledError), and an exception it raises stops training and is re-raised here.
    The GIL is released while training. Deterministic for a given seed and thread count.

    Raises InvalidArgumentError (no examples, len(texts) != len(labels), an empty label, text
    that is not valid UTF-8, fewer than two labels, bad options), TypeError for non-str texts.

    >>> model = fastintent.train(["will it rain", "play jazz", ...], ["weather", "music", ...])
    >>> model.save("assistant.fim")
    """
    if isinstance(labels, (str, bytes)):
        raise TypeError("labels must be a sequence of str, not one str")
    for label in labels:
        if not isinstance(label, str):
            raise TypeError(f"labels must be str, not {type(label).__name__}")
    native = _train_lib()
    ffi = native.ffi
    keep: list = []
    p = _params(native, hidden, max_epochs, patience, batch_size, learning_rate, dropout,
                valid_fraction, seed, threads, quantize, oos_label, progress, keep)
    text_data, text_offsets = _pack(texts)
    label_data, label_offsets = _pack(labels)
    out = ffi.new("fi_model**")
    err = native.lib.fi_train_arrays(
        text_data, ffi.from_buffer("size_t[]", text_offsets), len(text_offsets) - 1,
        label_data, ffi.from_buffer("size_t[]", label_offsets), len(label_offsets) - 1, p, out)
    return _finish(native, err, out, keep)


def train_file(path: PathLike, valid_path: Optional[PathLike] = None, *,
               hidden: Sequence[int] = (256,), max_epochs: int = 30, patience: int = 4,
               batch_size: int = 64, learning_rate: float = 3e-3, dropout: float = 0.3,
               valid_fraction: float = 0.1, seed: int = 1, threads: Optional[int] = None,
               quantize: bool = False, oos_label: Optional[str] = None,
               progress: Optional[Progress] = None) -> Model:
    """Trains on a dataset file (JSON Lines, CSV or fastText, as ``fastintent train`` reads),
    early-stopping on `valid_path` (None: a split carved from the data). Options as train.

    Raises NotFoundError (missing file), InvalidArgumentError naming the file and line at fault.
    """
    native = _train_lib()
    ffi = native.ffi
    keep: list = []
    p = _params(native, hidden, max_epochs, patience, batch_size, learning_rate, dropout,
                valid_fraction, seed, threads, quantize, oos_label, progress, keep)
    train_path = _path_bytes(path)
    valid = _path_bytes(valid_path) if valid_path is not None else ffi.NULL
    out = ffi.new("fi_model**")
    err = native.lib.fi_train_file(train_path, len(train_path), valid,
                                   0 if valid_path is None else len(valid), p, out)
    return _finish(native, err, out, keep)


__all__: Tuple[str, ...] = ("train", "train_file")
