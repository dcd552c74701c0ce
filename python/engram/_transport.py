"""_transport — the two ways an operation reaches engram: in this process through libengram (Engram, from
engram.open) or over HTTP to `engram serve` (Remote, from engram.connect). Both send the same JSON request,
{"op": ..., arguments...} (docs/operations.md), and read the same answer, {"ok": true, "result": ...} or
{"ok": false, "error": {"code", "message"}}, which becomes the result or the exception of errors.py. The
operations themselves are methods of Operations (_operations.py), written once for both."""

import http.client
import json
import os
import socket
import threading
import urllib.parse
import weakref
from typing import Any, Dict, Mapping, Optional, Tuple, Union

from . import _native
from ._operations import Operations
from .errors import error_for


def _to_json(value: Any) -> Any:
    """What json cannot encode by itself: numpy arrays and scalars, array.array, memoryview (anything with
    tolist(), which gives plain Python numbers), other mappings, sets (sorted, so the request is the same every
    time)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def encode_request(op: str, arguments: Mapping[str, Any]) -> bytes:
    """The request's JSON text: {"op": op, **arguments}, exactly (Operations leaves out the arguments not
    given). Something JSON cannot hold (an object, NaN, a non-text key) is InvalidArgument before anything is
    sent."""
    request: Dict[str, Any] = {"op": op}
    request.update(arguments)
    try:
        return json.dumps(request, default=_to_json, ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError) as e:
        raise error_for("invalid_argument", f"{op}: an argument is not JSON: {e}") from None


def decode_response(op: str, body: bytes) -> Any:
    try:
        answer = json.loads(body)
    except ValueError:
        raise error_for("internal", f"{op}: engram answered something that is not JSON") from None
    if not isinstance(answer, dict) or "ok" not in answer:
        raise error_for("internal", f"{op}: engram answered without 'ok'")
    if answer["ok"]:
        return answer.get("result")
    raise _error_of(answer)


def _error_of(answer: Mapping[str, Any]) -> Exception:
    """The exception of a failure response {"ok": false, "error": {"code", "message"}}."""
    error = answer.get("error")
    error = error if isinstance(error, dict) else {}
    return error_for(str(error.get("code", "internal")), str(error.get("message", "(no message)")))


class _Handle:
    """An open eg_db and the calls in flight on it. Kept apart from Engram so that the finalizer, which must not
    hold the Engram itself, can close it the same careful way close() does."""

    def __init__(self, lib: Any, handle: Any) -> None:
        self.lib = lib
        self.handle = handle
        self.pid = os.getpid()
        self.closed = False
        self.in_flight = 0
        self.state = threading.Condition()

    def enter(self, op: str) -> None:
        with self.state:
            if self.closed:
                raise error_for("unavailable", f"{op}: this Engram is closed")
            if os.getpid() != self.pid:
                # LMDB handles and engram's threads do not survive fork: the child must open the folder itself,
                # once the parent has closed it.
                raise error_for("unavailable", f"{op}: this Engram was opened by process {self.pid} before a fork; "
                                               "open the folder again in this process")
            self.in_flight += 1

    def leave(self) -> None:
        with self.state:
            self.in_flight -= 1
            self.state.notify_all()

    def close(self) -> None:
        """Closes once, after the calls in flight; in a forked child only forgets the handle, which belongs to
        the parent (closing it there would write to the parent's folder)."""
        with self.state:
            if self.closed:
                return
            self.closed = True
            while self.in_flight:
                self.state.wait()
        if os.getpid() == self.pid:
            self.lib.eg_close(self.handle)


class Engram(Operations):
    """An engram data folder open in this process (engram.open). Thread-safe: share one among threads (one
    process per folder; calls run in parallel inside engram, without the GIL). A context manager; close() waits
    for calls in flight on other threads, and an Engram dropped or still open when the interpreter exits is
    closed then. It cannot be pickled or used in a forked child: open the folder in that process instead."""

    def __init__(self, path: Union[str, "os.PathLike[str]"], *, library: Optional[str] = None,
                 settings: Optional[Mapping[str, Any]] = None) -> None:
        lib = _native.load(library)
        overrides = [f"{name}={_setting_text(value)}" for name, value in (settings or {}).items()]
        self.path: str = os.fspath(path)
        self._handle = _Handle(lib, _native.open_db(lib, self.path, overrides))
        self._finalizer = weakref.finalize(self, self._handle.close)

    @property
    def closed(self) -> bool:
        return self._handle.closed

    def _call(self, op: str, arguments: Mapping[str, Any]) -> Any:
        request = encode_request(op, arguments)
        self._handle.enter(op)
        try:
            body = _native.exec_json(self._handle.lib, self._handle.handle, request)
        finally:
            self._handle.leave()
        return decode_response(op, body)

    def close(self) -> None:
        """Closes the folder, after the calls other threads have in flight; later calls raise Unavailable.
        Closing again does nothing."""
        self._finalizer()

    def __enter__(self) -> "Engram":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError(f"cannot pickle {self!r}: it is an open data folder, usable only in the process that "
                        "opened it; pass the path and call engram.open there (or use engram.connect)")

    def __repr__(self) -> str:
        return f"<engram.Engram {self.path!r}{' closed' if self.closed else ''}>"


class Remote(Operations):
    """The same operations against a running `engram serve` (engram.connect), one HTTP request each (POST
    /v1/exec, a new connection per call), with the standard library only. Thread-safe, and picklable (it holds
    only the URL, the key and the timeout). A context manager for symmetry: close() sends nothing, it only
    refuses later calls."""

    def __init__(self, url: str, *, api_key: Optional[str] = None, timeout: float = 60.0) -> None:
        try:
            parts = urllib.parse.urlsplit(url)
            valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
        except (TypeError, ValueError, AttributeError):  # not a string, or a port that is not a number
            valid = False
        if not valid:
            raise error_for("invalid_argument", f"the URL must be http://HOST[:PORT] or https://..., not {url!r}")
        self.url = url.rstrip("/")
        self._parts = parts
        self._api_key = api_key
        self._timeout = timeout
        self.closed = False

    def _call(self, op: str, arguments: Mapping[str, Any]) -> Any:
        if self.closed:
            raise error_for("unavailable", f"{op}: this connection to {self.url} is closed")
        request = encode_request(op, arguments)
        try:
            status, body = self._post(request)
        except (TimeoutError, socket.timeout):
            raise error_for("timeout", f"{op}: engram serve at {self.url} did not answer within {self._timeout} s; "
                                       "the operation may have taken effect") from None
        except (OSError, http.client.HTTPException) as e:
            raise error_for("unavailable", f"{op}: cannot reach engram serve at {self.url}: {e}") from None
        if status != 200:
            raise self._http_error(op, status, body)
        return decode_response(op, body)

    def _post(self, request: bytes) -> Tuple[int, bytes]:
        """POST /v1/exec on a connection of its own: the status and the body answered."""
        parts = self._parts
        if parts.scheme == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=self._timeout)
        else:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self._timeout)
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["api-key"] = self._api_key
        try:
            connection.connect()
            try:
                connection.request("POST", parts.path.rstrip("/") + "/v1/exec", request, headers)
            except (BrokenPipeError, ConnectionResetError):
                # engram serve refuses a body over serve.max_body_bytes (413) or a missing key (401) without
                # reading the body, then closes: its answer is in the socket, and says more than a broken pipe.
                pass
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def _http_error(self, op: str, status: int, body: bytes) -> Exception:
        """The exception for an answer other than 200. POST /v1/exec answers 200 for every request it parses
        (the response says ok or not) and 400 with exec's own error for a body it cannot; anything else comes
        before engram runs anything, in Qdrant's envelope {"status": {"error": ...}}: 401 for a missing or wrong
        key, 413 for a body over serve.max_body_bytes, 404 when the URL is not an engram serve."""
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if isinstance(answer, dict) and answer.get("ok") is False:
            return _error_of(answer)
        if isinstance(answer, dict) and isinstance(answer.get("status"), dict):
            said = str(answer["status"].get("error", ""))
        else:
            said = body.decode("utf-8", "replace").strip()[:200]
        message = f"{op}: engram serve at {self.url} answered HTTP {status}" + (f": {said}" if said else "")
        if status in (401, 403):
            return error_for("unauthorized", message + ("" if self._api_key else " (no api_key was given)"))
        if status == 404:
            return error_for("unavailable", message + " (is this the URL of engram serve?)")
        if status == 504:
            return error_for("timeout", message)
        if status >= 500:
            return error_for("unavailable" if status in (502, 503) else "internal", message)
        return error_for("invalid_argument", message)

    def close(self) -> None:
        """Refuses later calls (with Unavailable); there is no connection to close between calls."""
        self.closed = True

    def __enter__(self) -> "Remote":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<engram.Remote {self.url!r}{' closed' if self.closed else ''}>"


def _setting_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

