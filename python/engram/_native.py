"""_native — libengram.so through ctypes: finding the library, and the four C functions the package needs
(eg_open, eg_exec_json, eg_close, eg_status_name). Every operation goes through eg_exec_json, engram's JSON
operation interface (include/engram/exec.h), so this file knows no operation by name.

The library is looked for, in order: the `library` argument of engram.open; $ENGRAM_LIBRARY; the libdir that
`pkg-config engram` names; the default install prefix (/usr/local/lib); the system's search (ldconfig)."""

import ctypes
import ctypes.util
import os
import shutil
import subprocess
import threading
from typing import List, Optional

from .errors import error_for

_ERROR_MESSAGE_MAX = 512  # EG_ERROR_MESSAGE_MAX (include/engram/status.h)


class _Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("message", ctypes.c_char * _ERROR_MESSAGE_MAX)]


class _Options(ctypes.Structure):
    _fields_ = [("durability", ctypes.c_int), ("settings", ctypes.POINTER(ctypes.c_char_p)),
                ("setting_count", ctypes.c_size_t)]


def _candidates(explicit: Optional[str]) -> List[str]:
    found = []
    if explicit:
        return [explicit]
    if os.environ.get("ENGRAM_LIBRARY"):
        return [os.environ["ENGRAM_LIBRARY"]]
    if shutil.which("pkg-config"):
        try:
            libdir = subprocess.run(["pkg-config", "--variable=libdir", "engram"], capture_output=True, text=True,
                                    timeout=10).stdout.strip()
            if libdir:
                found.append(os.path.join(libdir, "libengram.so"))
        except (OSError, subprocess.SubprocessError):
            pass
    found += ["/usr/local/lib/libengram.so", "/usr/local/lib/x86_64-linux-gnu/libengram.so"]
    system = ctypes.util.find_library("engram")
    if system:
        found.append(system)
    return found


_loaded = {}
_load_lock = threading.Lock()


def load(explicit: Optional[str] = None) -> ctypes.CDLL:
    """libengram, loaded once per path, with its functions' signatures declared."""
    tried = []
    for path in _candidates(explicit):
        if os.sep in path and not os.path.exists(path):
            tried.append(path)
            continue
        with _load_lock:
            if path in _loaded:
                return _loaded[path]
            try:
                lib = ctypes.CDLL(path)
            except OSError as e:
                tried.append(f"{path} ({e})")
                continue
            lib.eg_open.argtypes = [ctypes.c_char_p, ctypes.POINTER(_Options), ctypes.POINTER(ctypes.c_void_p),
                                    ctypes.POINTER(_Error)]
            lib.eg_open.restype = ctypes.c_int
            lib.eg_close.argtypes = [ctypes.c_void_p]
            lib.eg_close.restype = None
            lib.eg_exec_json.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
            lib.eg_exec_json.restype = ctypes.c_void_p  # a malloc'd string: read, then freed with free()
            lib.eg_status_name.argtypes = [ctypes.c_int]
            lib.eg_status_name.restype = ctypes.c_char_p
            _loaded[path] = lib
            return lib
    raise error_for("unavailable", "cannot find libengram.so (looked at: " + ", ".join(tried or ["nothing"]) +
                    "); pass library=PATH to engram.open or set ENGRAM_LIBRARY")


# free() as the process resolves it, not libc's own by name: under a sanitizer's preloaded runtime (the sanitizer
# builds' tests) engram's malloc is the runtime's, and libc's free would be handed memory it never gave.
_libc = ctypes.CDLL(None)
_libc.free.argtypes = [ctypes.c_void_p]
_libc.free.restype = None


def open_db(lib: ctypes.CDLL, path: str, settings: List[str]) -> ctypes.c_void_p:
    """eg_open with "NAME=VALUE" setting overrides (durability among them): the handle, or the exception for what
    it answered."""
    encoded = [s.encode() for s in settings]
    array = (ctypes.c_char_p * max(len(encoded), 1))(*encoded)
    options = _Options(0, array, len(encoded))  # durability 0: the settings' own
    handle = ctypes.c_void_p()
    err = _Error()
    status = lib.eg_open(os.fsencode(path), ctypes.byref(options), ctypes.byref(handle), ctypes.byref(err))
    if status != 0:
        raise error_for(lib.eg_status_name(status).decode(), err.message.decode("utf-8", "replace"))
    return handle


def exec_json(lib: ctypes.CDLL, handle: ctypes.c_void_p, request: bytes) -> bytes:
    """eg_exec_json: one JSON request in, its JSON response out. ctypes lets go of the GIL for the call, so
    threads sharing a handle run in parallel inside engram."""
    response = lib.eg_exec_json(handle, request, len(request))
    if not response:
        raise error_for("internal", "out of memory")
    try:
        return ctypes.string_at(response)
    finally:
        _libc.free(response)
