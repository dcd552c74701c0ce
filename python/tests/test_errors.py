"""Each error class raised by a real failing call, and the package's contract: method names and keywords are the
operations' and arguments' (docs/operations.md), and db.OP(**args) sends exactly {"op": OP, **args}."""

import inspect
import json
import math
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import engram
from engram._operations import Operations

DOCS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_invalid_argument(db):
    with pytest.raises(engram.InvalidArgument, match="Person") as caught:
        db.create_node("Person", "x")
    assert caught.value.code == "invalid_argument" and isinstance(caught.value, ValueError)
    with pytest.raises(engram.InvalidArgument, match="not JSON"):
        db.create_node("Entity", "x", properties={"when": object()})
    with pytest.raises(engram.InvalidArgument, match="not JSON"):
        db.create_entity(vector=[1.0, math.nan])
    with pytest.raises(engram.InvalidArgument):
        db.create_entity(text="both", vector=[1.0])


def test_not_found(db):
    with pytest.raises(engram.NotFound, match="nobody") as caught:
        db.get_node("nobody")
    assert isinstance(caught.value, LookupError)
    with pytest.raises(engram.NotFound):
        db.get_collection("nothing")


def test_conflict(db):
    db.create_node("Entity", "x", properties={"v": 1})
    with pytest.raises(engram.Conflict):
        db.create_node("Entity", "x", properties={"v": 2})


def test_unavailable_after_close(db):
    db.close()
    db.close()  # again: nothing
    assert db.closed and "closed" in repr(db)
    with pytest.raises(engram.Unavailable, match="closed"):
        db.stats()


def test_unavailable_when_nothing_listens():
    with socket.socket() as s:  # a port the system gave and nothing listens on once it is closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(engram.Unavailable, match="cannot reach"):
        engram.connect(f"http://127.0.0.1:{port}").health()


def test_locked_by_another_process(embedded, folder, library):
    script = ("import engram, sys\n"
              "try:\n"
              f"    engram.open({folder!r}, library={library!r})\n"
              "except engram.Locked as e:\n"
              "    print(e.code); sys.exit(0)\n"
              "sys.exit(1)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "locked", done.stderr


def test_incompatible_format(tmp_path, library):
    folder = tmp_path / "future"
    engram.open(folder, library=library, durability="none").close()
    (folder / "FORMAT").write_text("engram data folder\nformat 999\n")
    with pytest.raises(engram.IncompatibleFormat):
        engram.open(folder, library=library)


def test_library_not_found(tmp_path):
    missing = str(tmp_path / "libengram.so")
    with pytest.raises(engram.Unavailable, match=re.escape(missing) + ".*ENGRAM_LIBRARY"):
        engram.open(str(tmp_path / "data"), library=missing)


class Recorder(Operations):
    """Operations whose _call keeps the request instead of sending it."""

    def __init__(self):
        self.sent = []

    def _call(self, op, arguments):
        self.sent.append(json.loads(engram._transport.encode_request(op, arguments)))


def _documented_operations():
    """The operation names of docs/operations.md's tables (first column, `add` given as `upsert`'s alias)."""
    names = set()
    for line in DOCS.read_text().splitlines():
        cell = line.split("|")[1] if line.startswith("| `") else ""
        names.update(re.findall(r"`([a-z_]+)`", cell))
    return names - {"invalid_argument", "not_found", "conflict", "unavailable", "timeout", "io_error", "locked",
                    "incompatible_format", "corrupt", "internal", "episode", "entity", "procedure", "fail", "type"}


def test_every_documented_operation_is_a_method():
    methods = {name for name, _ in inspect.getmembers(Operations, inspect.isfunction) if not name.startswith("_")}
    documented = _documented_operations()
    assert len(documented) > 50
    assert methods == documented


def test_keywords_are_sent_as_given():
    recorder = Recorder()
    for name, method in inspect.getmembers(Operations, inspect.isfunction):
        if name.startswith("_"):
            continue
        arguments = {parameter: f"value of {parameter}" for parameter in inspect.signature(method).parameters
                     if parameter != "self"}
        getattr(recorder, name)(**arguments)
        assert recorder.sent[-1] == {"op": name, **arguments}
    recorder.get_node("x", label=None)  # None: not sent, so engram's default applies
    assert recorder.sent[-1] == {"op": "get_node", "id": "x"}
    recorder.update_property("x", "p", None)  # except here, where null removes the property
    assert recorder.sent[-1] == {"op": "update_property", "id": "x", "property_name": "p", "property_value": None}


def test_remote_answers_before_engram_runs(engram_bin, folder):
    """What engram serve answers before any operation runs: 401 for a missing or wrong key, 413 for a body over
    serve.max_body_bytes (sent before the body is read), 404 for a URL that is not engram serve's."""
    from conftest import Server

    server = Server(engram_bin, folder, "--api-key", "right-key")
    try:
        for key in (None, "wrong-key"):
            with pytest.raises(engram.Unauthorized, match="HTTP 401") as caught:
                engram.connect(server.url, api_key=key).stats()
            assert isinstance(caught.value, PermissionError)
        db = engram.connect(server.url, api_key="right-key")
        assert db.stats()["nodes"] == 0
        with pytest.raises(engram.InvalidArgument, match="HTTP 413.*max_body_bytes"):
            db.create_entity(text="word " * (8 * 1024 * 1024))
        with pytest.raises(engram.Unavailable, match="HTTP 404"):
            engram.connect(server.url + "/elsewhere", api_key="right-key").stats()
        assert db.count_nodes() == 0
    finally:
        assert server.stop() == 0, "".join(server.stderr)
