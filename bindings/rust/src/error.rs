//! [`Error`]: a failed C API call's code and message.
use std::ffi::CStr;
use std::fmt;

use crate::sys;

/// What went wrong, as the C API's `fi_code` says it.
///
/// New codes may come with a minor version of the C library; they arrive as [`Code::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Code {
    /// Bad input: an empty text or one with nothing to classify, a text over
    /// [`MAX_TEXT_BYTES`](crate::MAX_TEXT_BYTES), `k` = 0, a threshold outside [0, 1].
    InvalidArgument,
    /// A missing file; routing with a model that has no component registry.
    NotFound,
    /// Corrupt or truncated model bytes, a checksum mismatch.
    DataLoss,
    /// A model format version this library does not know.
    Unimplemented,
    /// The OS refused a read or write.
    IoError,
    /// The engine's queue is full: retry later.
    Overloaded,
    /// The request's timeout passed before it was computed.
    DeadlineExceeded,
    /// The request was cancelled (by [`Engine::shutdown`](crate::Engine::shutdown) with
    /// [`ShutdownMode::CancelQueued`](crate::ShutdownMode::CancelQueued)).
    Cancelled,
    /// A bug in the library: please report it.
    Internal,
    /// A caller buffer was too small (the safe API sizes its buffers, so it never returns this).
    BufferTooSmall,
    /// The engine was shut down: it takes no more requests.
    ShutDown,
    /// An allocation failed.
    OutOfMemory,
    /// A code this binding does not know (from a newer library).
    Other(i32),
}

impl Code {
    /// The code of a C `fi_code` value.
    pub fn from_raw(code: i32) -> Code {
        match code {
            sys::FI_INVALID_ARGUMENT => Code::InvalidArgument,
            sys::FI_NOT_FOUND => Code::NotFound,
            sys::FI_DATA_LOSS => Code::DataLoss,
            sys::FI_UNIMPLEMENTED => Code::Unimplemented,
            sys::FI_IO_ERROR => Code::IoError,
            sys::FI_OVERLOADED => Code::Overloaded,
            sys::FI_DEADLINE_EXCEEDED => Code::DeadlineExceeded,
            sys::FI_CANCELLED => Code::Cancelled,
            sys::FI_INTERNAL => Code::Internal,
            sys::FI_BUFFER_TOO_SMALL => Code::BufferTooSmall,
            sys::FI_SHUT_DOWN => Code::ShutDown,
            sys::FI_OUT_OF_MEMORY => Code::OutOfMemory,
            other => Code::Other(other),
        }
    }

    /// The C `fi_code` value.
    pub fn as_raw(self) -> i32 {
        match self {
            Code::InvalidArgument => sys::FI_INVALID_ARGUMENT,
            Code::NotFound => sys::FI_NOT_FOUND,
            Code::DataLoss => sys::FI_DATA_LOSS,
            Code::Unimplemented => sys::FI_UNIMPLEMENTED,
            Code::IoError => sys::FI_IO_ERROR,
            Code::Overloaded => sys::FI_OVERLOADED,
            Code::DeadlineExceeded => sys::FI_DEADLINE_EXCEEDED,
            Code::Cancelled => sys::FI_CANCELLED,
            Code::Internal => sys::FI_INTERNAL,
            Code::BufferTooSmall => sys::FI_BUFFER_TOO_SMALL,
            Code::ShutDown => sys::FI_SHUT_DOWN,
            Code::OutOfMemory => sys::FI_OUT_OF_MEMORY,
            Code::Other(c) => c,
        }
    }

    /// The library's lower-case name of the code ("invalid argument", "not found", ...).
    pub fn name(self) -> &'static str {
        // SAFETY: fi_code_name is pure and returns a static NUL-terminated string for any value.
        let name = unsafe { CStr::from_ptr(sys::fi_code_name(self.as_raw())) };
        name.to_str().unwrap_or("unknown")
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed call: the C error's code and its message, which names the input at fault
/// (`"/models/x.fim: checksum mismatch in section 'weights'"`).
///
/// ```
/// use fastintent::{Code, Model};
///
/// let err = Model::load("/no/such/model.fim").unwrap_err();
/// assert_eq!(err.code(), Code::NotFound);
/// assert!(err.message().contains("/no/such/model.fim"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    code: Code,
    message: String,
}

/// `std::result::Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with this code and message (for errors found before calling the library, and
    /// for callers that wrap this crate).
    pub fn new(code: Code, message: impl Into<String>) -> Error {
        Error { code, message: message.into() }
    }

    /// The error's code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The error's message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Takes ownership of a C error: reads it and frees it.
    ///
    /// # Safety
    /// `error` must be a non-NULL `fi_error*` the caller owns; it is freed here.
    pub(crate) unsafe fn from_raw(error: *mut sys::fi_error) -> Error {
        let code = Code::from_raw(sys::fi_error_code(error));
        let message = CStr::from_ptr(sys::fi_error_message(error)).to_string_lossy().into_owned();
        sys::fi_error_free(error);
        Error { code, message }
    }
}

/// Turns a C call's returned error (NULL: success) into a `Result`.
///
/// # Safety
/// `error` is NULL or an `fi_error*` the caller owns (freed here).
pub(crate) unsafe fn check(error: *mut sys::fi_error) -> Result<()> {
    if error.is_null() {
        Ok(())
    } else {
        Err(Error::from_raw(error))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_their_c_values() {
        for raw in 1..=12 {
            let code = Code::from_raw(raw);
            assert!(!matches!(code, Code::Other(_)), "code {raw} is known to fi_code 1.0");
            assert_eq!(code.as_raw(), raw);
            assert_ne!(code.name(), "unknown");
        }
        assert_eq!(Code::from_raw(99), Code::Other(99));
        assert_eq!(Code::Other(99).name(), "unknown");
        assert_eq!(Code::ShutDown.to_string(), "shut down");
    }

    #[test]
    fn display_shows_code_and_message() {
        let e = Error::new(Code::InvalidArgument, "k must be >= 1");
        assert_eq!(e.to_string(), "invalid argument: k must be >= 1");
        assert_eq!(e.code(), Code::InvalidArgument);
        assert_eq!(e.message(), "k must be >= 1");
    }
}
