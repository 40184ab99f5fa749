"""fastintent.Model: a loaded model and its blocking calls (the C API's fi_model_*)."""
from __future__ import annotations

import json
import os
import threading
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from ._errors import check, error_from
from ._native import ffi, lib

Text = Union[str, bytes, bytearray, memoryview]
PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

_PRIORITIES = ("CORE", "HIGH", "MEDIUM", "LOW")
_LABEL_SCORE = np.dtype([("label", "<u4"), ("prob", "<f4")])
assert _LABEL_SCORE.itemsize == ffi.sizeof("fi_label_score")


class Label(NamedTuple):
    """One reported label and its probability."""
    label: str
    prob: float


class Component(NamedTuple):
    """One assistant component a command needs (see Model.route)."""
    name: str
    priority: str       # "CORE", "HIGH", "MEDIUM" or "LOW"
    confidence: float   # the model's probability for it (a dependency: its own)
    memory_mb: int
    load_ms: int
    dependency: bool    # added because a routed component depends on it


class Route(NamedTuple):
    """The components a command needs, by priority, and their memory in all."""
    components: List[Component]
    total_memory_mb: int


class BatchPrediction(NamedTuple):
    """predict_batch's answer for n texts with k labels each, as NumPy arrays.

    labels: int32 (n, k), label indices into Model.labels, best first, -1 past the labels
        reported for that text (a rejected text has none).
    probs: float32 (n, k), their probabilities (0 where labels is -1).
    codes: int32 (n,), the C error code of each text: 0 when classified, 1 (invalid argument)
        for a text with nothing to classify (empty, or no known word or character).
    """
    labels: np.ndarray
    probs: np.ndarray
    codes: np.ndarray


def text_bytes(text: Text) -> bytes:
    """A text argument as UTF-8 bytes (lone surrogates pass through and are replaced by U+FFFD
    in the library, like any malformed UTF-8)."""
    if isinstance(text, str):
        return text.encode("utf-8", "surrogatepass")
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text)
    raise TypeError(f"text must be str or bytes, not {type(text).__name__}")


def _path_bytes(path: PathLike) -> bytes:
    p = os.fsencode(path)
    if not p:
        raise ValueError("path is empty")
    return p


def check_k(k: int) -> int:
    if not isinstance(k, int) or isinstance(k, bool):
        raise TypeError(f"k must be an int, not {type(k).__name__}")
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    return min(k, 1 << 30)


def threshold_arg(threshold: Optional[float]) -> float:
    """None -> -1 (the model's calibrated threshold); numbers are checked by the library."""
    if threshold is None:
        return -1.0
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise TypeError(f"threshold must be a float or None, not {type(threshold).__name__}")
    return float(threshold)


def components_from(ptr, count: int) -> List[Component]:
    """Python values of `count` fi_routed_component structs."""
    out = []
    for i in range(count):
        c = ptr[i]
        out.append(Component(ffi.string(c.name, c.name_len).decode("utf-8", "replace"),
                             _PRIORITIES[c.priority], c.confidence, c.memory_mb, c.load_ms,
                             bool(c.dependency)))
    return out


def labels_of(ptr) -> Tuple[str, ...]:
    """The label names of an fi_model*."""
    n = lib.fi_model_label_count(ptr)
    size = ffi.new("size_t*")
    out = []
    for i in range(n):
        s = lib.fi_model_label(ptr, i, size)
        out.append(ffi.unpack(s, size[0]).decode("utf-8", "replace"))
    return tuple(out)


class _Buffers(threading.local):
    """Per-thread output buffers for the blocking calls (the library releases the GIL while it
    computes, so threads must not share them)."""

    def __init__(self) -> None:
        self.resize(16)
        self.count = ffi.new("size_t*")
        self.components = ffi.new("fi_routed_component[]", 16)
        self.memory = ffi.new("int32_t*")

    def resize(self, cap: int) -> None:
        self.cap = cap
        self.labels = ffi.new("fi_label_score[]", cap)
        # fi_label_score is {uint32 label; float prob}: reading the two fields through flat
        # views is much cheaper in cffi than through struct proxies.
        self.label_ids = ffi.cast("uint32_t*", self.labels)
        self.label_probs = ffi.cast("float*", self.labels)


# A Label without NamedTuple's Python-level __new__ (a quarter of predict's time otherwise).
_new_tuple = tuple.__new__


class Model:
    """An intent model loaded from a fastintent model file (``.fim``).

    Immutable and thread-safe: share one Model between threads; every method may run
    concurrently (the library keeps a session per thread, and releases the GIL while it
    computes). Load with ``Model.load(path)`` or ``Model.from_bytes(data)``.

    >>> model = fastintent.Model.load("assistant.fim")
    >>> model.predict("can you see my screen")
    [Label(label='vision', prob=0.96...)]
    """

    __slots__ = ("_ptr", "_labels", "_buffers", "__weakref__")

    def __init__(self, _ptr: Any) -> None:
        """Use Model.load or Model.from_bytes."""
        self._ptr = ffi.gc(_ptr, lib.fi_model_free)
        self._labels: Tuple[str, ...] = labels_of(_ptr)
        self._buffers = _Buffers()

    @classmethod
    def load(cls, path: PathLike) -> "Model":
        """Loads and fully verifies a model file.

        Raises NotFoundError (missing file), DataLossError (corrupt or truncated),
        UnimplementedError (a newer format), IOFailureError.
        """
        p = _path_bytes(path)
        out = ffi.new("fi_model**")
        check(lib.fi_model_load(p, len(p), out))
        return cls(out[0])

    @classmethod
    def from_bytes(cls, data: Union[bytes, bytearray, memoryview], name: str = "<bytes>") -> "Model":
        """Loads a model from the bytes of a model file (copied); `name` appears in errors."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes, not {type(data).__name__}")
        buf = ffi.from_buffer(data)
        n = name.encode()
        out = ffi.new("fi_model**")
        check(lib.fi_model_load_from_buffer(buf, len(buf), n, len(n), out))
        return cls(out[0])

    def close(self) -> None:
        """Frees the model now (otherwise when garbage collected). Engines built on it and
        results keep what they need."""
        if self._ptr is not None:
            ffi.release(self._ptr)
            self._ptr = None

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _p(self) -> Any:
        if self._ptr is None:
            raise ValueError("the model is closed")
        return self._ptr

    # ------------------------------------------------------------------ properties

    @property
    def labels(self) -> Tuple[str, ...]:
        """Label names; predictions refer to them (BatchPrediction.labels by index)."""
        return self._labels

    @property
    def kind(self) -> str:
        """"softmax" (single-label) or "sigmoid" (multi-label)."""
        return "softmax" if lib.fi_model_kind(self._p()) == lib.FI_KIND_SOFTMAX else "sigmoid"

    @property
    def precision(self) -> str:
        """"float32" or "int8" weights."""
        return "float32" if lib.fi_model_precision(self._p()) == lib.FI_PRECISION_FLOAT32 else "int8"

    @property
    def threshold(self) -> float:
        """The calibrated threshold, used when a call's threshold is None."""
        return float(lib.fi_model_threshold(self._p()))

    @property
    def oos_label(self) -> str:
        """The label meaning "out of scope" in the training data ("" when none)."""
        n = ffi.new("size_t*")
        return ffi.unpack(lib.fi_model_oos_label(self._p(), n), n[0]).decode("utf-8", "replace")

    @property
    def metadata(self) -> Dict[str, Any]:
        """The model file's metadata (how it was trained, its component registry), parsed."""
        n = ffi.new("size_t*")
        text = ffi.unpack(lib.fi_model_metadata(self._p(), n), n[0]).decode("utf-8", "replace")
        return json.loads(text) if text else {}

    @property
    def feature_count(self) -> int:
        """Input dimension of the network (featurize's indices are below it)."""
        return int(lib.fi_model_feature_count(self._p()))

    @property
    def component_count(self) -> int:
        """Components in the model's registry (0: route raises NotFoundError)."""
        return int(lib.fi_model_component_count(self._p()))

    def __repr__(self) -> str:
        if self._ptr is None:
            return "<fastintent.Model (closed)>"
        return (f"<fastintent.Model {len(self._labels)} labels, {self.kind}, {self.precision}, "
                f"threshold {self.threshold:.3f}>")

    # ------------------------------------------------------------------ inference

    def predict(self, text: Text, k: int = 1, threshold: Optional[float] = None) -> List[Label]:
        """The best labels for `text`, best first: at most k; none when the model rejects the
        text (softmax: top probability below the threshold; sigmoid: no label at or above it).
        threshold None means the model's calibrated one.

        Raises InvalidArgumentError for an empty text, one with no known word or character, or
        one over 1 MiB; TypeError for a text that is not str or bytes.
        """
        b = text.encode("utf-8", "surrogatepass") if type(text) is str else text_bytes(text)
        if type(k) is not int or k < 1:
            k = check_k(k)
        t = -1.0 if threshold is None else threshold_arg(threshold)
        p = self._ptr
        if p is None:
            raise ValueError("the model is closed")
        if k == 1:  # the common case in one call, with nothing to read back
            v = lib.fipy_classify1(p, b, len(b), t)
            if v >= 0:
                label = int(v * 0.5)
                return [_new_tuple(Label, (self._labels[label], v - 2 * label))]
            if v == -1:
                return []
            raise error_from(lib.fipy_take_error())
        bufs = self._buffers
        if k > bufs.cap and len(self._labels) > bufs.cap:
            bufs.resize(min(k, len(self._labels)))
        n = lib.fipy_classify(p, b, len(b), k if k < 0x7FFFFFFF else 0x7FFFFFFF, t, bufs.labels,
                              bufs.cap)
        if n < 0:
            raise error_from(lib.fipy_take_error())
        labels, ids, probs = self._labels, bufs.label_ids, bufs.label_probs
        return [_new_tuple(Label, (labels[ids[2 * i]], probs[2 * i + 1])) for i in range(n)]

    def probabilities(self, text: Text) -> np.ndarray:
        """Every label's probability for `text` (float32, len(labels))."""
        b = text_bytes(text)
        out = np.empty(len(self._labels), dtype=np.float32)
        count = ffi.new("size_t*")
        check(lib.fi_model_probabilities(self._p(), b, len(b), ffi.from_buffer("float[]", out),
                                         out.size, count))
        return out

    def predict_batch(self, texts: Sequence[Text], k: int = 1,
                      threshold: Optional[float] = None) -> BatchPrediction:
        """Classifies many texts in one call (the GIL is released meanwhile): NumPy arrays of
        label indices, probabilities and per-text codes (see BatchPrediction). A text that
        cannot be classified does not fail the batch; it gets code 1 and no labels."""
        data, offsets = _pack(texts)
        n = len(offsets) - 1
        k = min(check_k(k), len(self._labels))
        t = threshold_arg(threshold)
        out = np.empty((n, k), dtype=_LABEL_SCORE)
        counts = np.empty(n, dtype=np.uint32)
        codes = np.empty(n, dtype=np.int32)
        total = ffi.new("size_t*")
        check(lib.fi_model_classify_batch(
            self._p(), data, ffi.from_buffer("size_t[]", offsets), n, k, t,
            ffi.from_buffer("fi_label_score[]", out), n * k, total,
            ffi.from_buffer("uint32_t[]", counts), ffi.from_buffer("int32_t[]", codes)))
        labels = out["label"].astype(np.int32)
        labels[np.arange(k)[None, :] >= counts[:, None]] = -1
        return BatchPrediction(labels, np.ascontiguousarray(out["prob"]), codes)

    def probabilities_batch(self, texts: Sequence[Text]) -> Tuple[np.ndarray, np.ndarray]:
        """Every label's probability for many texts: (float32 (n, len(labels)), int32 codes
        (n,)); the row of a text that cannot be classified is zeros with code 1."""
        data, offsets = _pack(texts)
        n = len(offsets) - 1
        out = np.empty((n, len(self._labels)), dtype=np.float32)
        codes = np.empty(n, dtype=np.int32)
        total = ffi.new("size_t*")
        check(lib.fi_model_probabilities_batch(
            self._p(), data, ffi.from_buffer("size_t[]", offsets), n,
            ffi.from_buffer("float[]", out), out.size, total, ffi.from_buffer("int32_t[]", codes)))
        return out, codes

    def route(self, text: Text, threshold: Optional[float] = None) -> Route:
        """The assistant components `text` needs, dependencies added, by priority (like
        ``fastintent route``). Raises NotFoundError when the model has no component registry,
        and predict's errors."""
        b = text_bytes(text)
        t = threshold_arg(threshold)
        bufs = self._buffers
        p = self._p()
        cap = max(1, int(lib.fi_model_component_count(p)))
        if len(bufs.components) < cap:
            bufs.components = ffi.new("fi_routed_component[]", cap)
        check(lib.fi_model_route(p, b, len(b), t, bufs.components, len(bufs.components),
                                 bufs.count, bufs.memory))
        return Route(components_from(bufs.components, bufs.count[0]), int(bufs.memory[0]))

    def featurize(self, text: Text) -> Tuple[np.ndarray, np.ndarray]:
        """The model's sparse input for `text`: (uint32 indices < feature_count, float32
        weights), the input an exported model (ONNX, Core ML) takes. Unknown words are dropped,
        so an empty text gives empty arrays."""
        b = text_bytes(text)
        p = self._p()
        count = ffi.new("size_t*")
        cap = 256
        while True:
            idx = np.empty(cap, dtype=np.uint32)
            w = np.empty(cap, dtype=np.float32)
            err = lib.fi_model_featurize(p, b, len(b), ffi.from_buffer("uint32_t[]", idx),
                                         ffi.from_buffer("float[]", w), cap, count)
            if err == ffi.NULL:
                return idx[: count[0]].copy(), w[: count[0]].copy()
            if lib.fi_error_code(err) != lib.FI_BUFFER_TOO_SMALL:
                raise error_from(err)
            lib.fi_error_free(err)
            cap = int(count[0])

    # ------------------------------------------------------------------ transforms

    def quantize(self) -> "Model":
        """An int8 copy (about 4x smaller; labels, threshold, metadata kept)."""
        out = ffi.new("fi_model**")
        check(lib.fi_model_quantize(self._p(), out))
        return Model(out[0])

    def save(self, path: PathLike) -> None:
        """Writes the model file atomically."""
        p = _path_bytes(path)
        check(lib.fi_model_save(self._p(), p, len(p)))

    def to_bytes(self) -> bytes:
        """The model file's bytes (what save writes; Model.from_bytes reads them)."""
        size = ffi.new("size_t*")
        err = lib.fi_model_serialize(self._p(), ffi.NULL, 0, size)
        if err != ffi.NULL:
            if lib.fi_error_code(err) != lib.FI_BUFFER_TOO_SMALL:
                raise error_from(err)
            lib.fi_error_free(err)
        buf = bytearray(size[0])
        check(lib.fi_model_serialize(self._p(), ffi.from_buffer(buf), len(buf), size))
        return bytes(buf[: size[0]])


def _pack(texts: Iterable[Text]) -> Tuple[bytes, np.ndarray]:
    """Texts as one buffer and n + 1 offsets (the C API's batch layout)."""
    if isinstance(texts, (str, bytes)):
        raise TypeError("texts must be a sequence of texts, not one text")
    encoded = [text_bytes(t) for t in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.uintp)
    if encoded:
        np.cumsum(np.fromiter(map(len, encoded), dtype=np.uintp, count=len(encoded)),
                  out=offsets[1:])
    return b"".join(encoded), offsets
