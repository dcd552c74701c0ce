"""engram's errors as Python exceptions: one class per engram error code (docs/operations.md, "Error codes"),
all under EngramError, each carrying the code and the message engram gave.

Where a Python built-in exception means the same, the class also derives from it, so that code written for
plain Python catches it: InvalidArgument is a ValueError, NotFound a LookupError, Timeout a TimeoutError, IoError
an OSError, Unauthorized a PermissionError."""

from typing import Dict, Type


class EngramError(Exception):
    """An operation failed. `code` is engram's code ("not_found", ...), `message` its one-line explanation."""

    code = "internal"

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidArgument(EngramError, ValueError):
    """A bad label, type, id, property name, value or shape, or a limit passed: fix the request."""

    code = "invalid_argument"


class NotFound(EngramError, LookupError):
    """The node, relationship, memory or collection named does not exist."""

    code = "not_found"


class Conflict(EngramError):
    """It exists already with other content, or a rule forbids the change: update instead."""

    code = "conflict"


class Unavailable(EngramError):
    """The store cannot serve now (closed, its server down, its circuit breaker open): retry later."""

    code = "unavailable"


class Timeout(EngramError, TimeoutError):
    """The operation took too long; it may have taken effect (engram's writes are idempotent: retry)."""

    code = "timeout"


class IoError(EngramError, OSError):
    """The file system failed (disk full, permissions): nothing acknowledged is lost."""

    code = "io_error"


class Unauthorized(EngramError, PermissionError):
    """engram serve refused the API key (missing or wrong): HTTP 401. Raised by engram.connect's Remote only;
    engram itself has no such code, as an embedded folder has no key."""

    code = "unauthorized"


class Locked(EngramError):
    """Another process holds the data folder: one process per folder, its handle shared among threads."""

    code = "locked"


class IncompatibleFormat(EngramError):
    """The data folder was written by a newer engram."""

    code = "incompatible_format"


class Corrupt(EngramError):
    """Stored data failed a consistency check."""

    code = "corrupt"


class Internal(EngramError):
    """A bug or an out-of-memory condition in engram."""

    code = "internal"


_BY_CODE: Dict[str, Type[EngramError]] = {
    cls.code: cls
    for cls in (InvalidArgument, NotFound, Conflict, Unavailable, Timeout, IoError, Locked, IncompatibleFormat,
                Corrupt, Internal, Unauthorized)
}


def error_for(code: str, message: str) -> EngramError:
    """The exception for an engram error code (an unknown code gives a plain EngramError that keeps it)."""
    cls = _BY_CODE.get(code)
    return cls(message) if cls is not None else EngramError(message, code)
