"""engram — the storage engine for the memory of AI agents, from Python.

Two ways in, with the same methods (every operation of docs/operations.md, keyword arguments, plain Python
values back):

    import engram
    with engram.open("/var/lib/agent-memory") as db:          # in this process, through libengram.so
        db.create_entity(id="alice", text="Alice fixed the WAL")
        print(db.recall(text="who fixed the WAL?", type="entity", limit=3))

    db = engram.connect("http://127.0.0.1:8080", api_key="...")  # a running `engram serve`

Failures raise the exceptions of engram.errors (InvalidArgument, NotFound, Conflict, Unavailable, ...), each
with engram's code and message; a Remote whose API key the server refuses raises Unauthorized. Results are plain
JSON values (dicts, lists, numbers, strings); vectors may be lists, tuples or numpy arrays. engram.aio has the same API for asyncio. engram.compat has the original
system's classes (Neo4jStore, QdrantStore, MemorySaga, ...) over engram. Manual: docs/python.md."""

from typing import Any, Mapping, Optional

from ._transport import Engram, Remote
from .errors import (Conflict, Corrupt, EngramError, IncompatibleFormat, Internal, InvalidArgument, IoError, Locked,
                     NotFound, Timeout, Unauthorized, Unavailable)

__version__ = "0.1.0"

__all__ = ["open", "connect", "Engram", "Remote", "EngramError", "InvalidArgument", "NotFound", "Conflict",
           "Unavailable", "Timeout", "IoError", "Locked", "IncompatibleFormat", "Corrupt", "Internal",
           "Unauthorized"]


def open(path: str, *, library: Optional[str] = None, settings: Optional[Mapping[str, Any]] = None,
         **keywords: Any) -> Engram:
    """Opens (or creates) the data folder `path` in this process; close it (or use `with`) when done. One process
    per folder: share the Engram among threads.

    Settings (docs/settings.md) override the folder's engram.conf for this opening. Give them as keywords, a
    dot written as a double underscore — `engram.open(p, durability="none", graph__schema="open")` — or by their
    names in `settings={"graph.schema": "open"}`. `library` is the path of libengram.so when it is neither
    installed nor named by $ENGRAM_LIBRARY."""
    named = {key.replace("__", "."): value for key, value in keywords.items()}
    named.update(settings or {})
    return Engram(path, library=library, settings=named)


def connect(url: str, *, api_key: Optional[str] = None, timeout: float = 60.0) -> Remote:
    """The same API against `engram serve` at `url` (http:// or https://), authenticated by `api_key` when the
    server needs one (a missing or wrong key raises Unauthorized at the first call). Nothing is sent until the
    first call; a server that cannot be reached raises Unavailable, one that does not answer within `timeout`
    seconds Timeout."""
    return Remote(url, api_key=api_key, timeout=timeout)
