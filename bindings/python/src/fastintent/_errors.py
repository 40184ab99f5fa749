"""Exceptions raised by the binding: one class per C API error code (fi_code)."""
from __future__ import annotations

from typing import Dict, Type

from ._native import ffi, lib


class FastIntentError(Exception):
    """An error reported by the fastintent C library.

    Attributes:
        code: the C API's error code (an ``fi_code``: 1 = invalid argument, 2 = not found, ...).
        code_name: its name ("invalid argument", "data loss", ...).
        message: the library's message, naming the input at fault.
    """

    code: int = -1

    def __init__(self, message: str, code: int | None = None) -> None:
        if code is not None:
            self.code = code
        self.code_name = ffi.string(lib.fi_code_name(self.code)).decode()
        self.message = message
        super().__init__(f"{self.code_name}: {message}")


class InvalidArgumentError(FastIntentError, ValueError):
    """Bad input: an empty text or one with nothing known to classify, a text over 1 MiB, k < 1,
    a threshold outside [0, 1]."""
    code = 1


class NotFoundError(FastIntentError, LookupError):
    """A missing model file, or routing with a model that has no component registry."""
    code = 2


class DataLossError(FastIntentError):
    """Corrupt or truncated model bytes."""
    code = 3


class UnimplementedError(FastIntentError):
    """A model format version this library does not know."""
    code = 4


class IOFailureError(FastIntentError):
    """The operating system refused a read or write."""
    code = 5


class OverloadedError(FastIntentError):
    """The engine's queue is full: retry later."""
    code = 6


class DeadlineExceededError(FastIntentError):
    """The request's timeout passed before it was computed."""
    code = 7


class CancelledError(FastIntentError):
    """The request was cancelled (by the engine's shutdown with cancel_queued=True)."""
    code = 8


class InternalError(FastIntentError):
    """A bug in the library."""
    code = 9


class ShutDownError(FastIntentError):
    """The engine was shut down: it takes no more requests."""
    code = 11


class OutOfMemoryError(FastIntentError, MemoryError):
    """An allocation failed."""
    code = 12


_BY_CODE: Dict[int, Type[FastIntentError]] = {
    cls.code: cls
    for cls in (InvalidArgumentError, NotFoundError, DataLossError, UnimplementedError,
                IOFailureError, OverloadedError, DeadlineExceededError, CancelledError,
                InternalError, ShutDownError, OutOfMemoryError)
}


def error_from(err, free: bool = True) -> FastIntentError:  # err: fi_error*, not NULL
    """The exception for a C error object, which it frees unless told not to."""
    try:
        code = int(lib.fi_error_code(err))
        message = ffi.string(lib.fi_error_message(err)).decode("utf-8", "replace")
    finally:
        if free:
            lib.fi_error_free(err)
    cls = _BY_CODE.get(code)
    return cls(message) if cls is not None else FastIntentError(message, code)


def check(err) -> None:
    """Raises the exception for `err` unless it is NULL."""
    if err != ffi.NULL:
        raise error_from(err)
