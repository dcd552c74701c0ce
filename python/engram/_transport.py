"""_transport — the two ways an operation reaches engram: in this process through libengram (Engram, from
engram.open) or over HTTP to `engram serve` (Remote, from engram.connect). Both send the same JSON request,
{"op": ..., arguments...} (docs/operations.md), and read the same answer, {"ok": true, "result": ...} or
{"ok": false, "error": {"code", "message"}}, which becomes the result or the exception of errors.py. The
operations themselves are methods of Operations (_operations.py), written once for both."""

import json
import threading
import urllib.error
import urllib.request
from typing import Any, Dict, Mapping, Optional

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
    error = answer.get("error") or {}
    raise error_for(str(error.get("code", "internal")), str(error.get("message", "(no message)")))


class Engram(Operations):
    """An engram data folder open in this process (engram.open). Thread-safe: share one among threads (one
    process per folder). A context manager; close() waits for calls in flight on other threads."""

    def __init__(self, path: str, *, library: Optional[str] = None,
                 settings: Optional[Mapping[str, Any]] = None) -> None:
        self._lib = _native.load(library)
        overrides = [f"{name}={_setting_text(value)}" for name, value in (settings or {}).items()]
        self._handle = _native.open_db(self._lib, path, overrides)
        self.path = path
        self._in_flight = 0
        self._closed = False
        self._state = threading.Condition()

    def _call(self, op: str, arguments: Mapping[str, Any]) -> Any:
        request = encode_request(op, arguments)
        with self._state:
            if self._closed:
                raise error_for("unavailable", f"{op}: this Engram is closed")
            self._in_flight += 1
        try:
            body = _native.exec_json(self._lib, self._handle, request)
        finally:
            with self._state:
                self._in_flight -= 1
                self._state.notify_all()
        return decode_response(op, body)

    def close(self) -> None:
        """Closes the folder, after the calls other threads have in flight; later calls raise Unavailable."""
        with self._state:
            if self._closed:
                return
            self._closed = True
            while self._in_flight:
                self._state.wait()
        self._lib.eg_close(self._handle)

    def __enter__(self) -> "Engram":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<engram.Engram {self.path!r}{' closed' if self._closed else ''}>"


class Remote(Operations):
    """The same operations against a running `engram serve` (engram.connect), one HTTP request each (POST
    /v1/exec), with the standard library only. Thread-safe; a context manager for symmetry (close does nothing
    but refuse later calls)."""

    def __init__(self, url: str, *, api_key: Optional[str] = None, timeout: float = 60.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise error_for("invalid_argument", f"the URL must start with http:// or https://, not {url!r}")
        self.url = url.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout
        self._closed = False

    def _call(self, op: str, arguments: Mapping[str, Any]) -> Any:
        if self._closed:
            raise error_for("unavailable", f"{op}: this connection is closed")
        request = urllib.request.Request(self.url + "/v1/exec", data=encode_request(op, arguments), method="POST",
                                         headers={"Content-Type": "application/json"})
        if self._api_key:
            request.add_header("api-key", self._api_key)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return decode_response(op, response.read())
        except urllib.error.HTTPError as e:
            body = e.read()
            try:
                answer = json.loads(body)
            except ValueError:
                answer = None
            if isinstance(answer, dict) and answer.get("ok") is False:
                return decode_response(op, body)  # raises engram's own error
            code = "unavailable" if e.code >= 500 else "invalid_argument"
            raise error_for(code, f"{op}: engram serve at {self.url} answered HTTP {e.code}") from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise error_for("unavailable", f"{op}: cannot reach engram serve at {self.url}: {reason}") from None

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> "Remote":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<engram.Remote {self.url!r}>"


def _setting_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

