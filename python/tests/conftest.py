"""Fixtures for the engram package's tests. The environment names what is tested: ENGRAM_LIBRARY the libengram.so
that engram.open loads, ENGRAM_BIN the engram command whose `serve` the Remote tests talk to (python/run-tests.sh
sets both from a build folder).

`db` is parametrised: every test that takes it runs twice, once against an embedded Engram and once against a
Remote talking to `engram serve` over loopback, each on a folder of its own, so the two ways in are held to the
same answers."""

import os
import re
import signal
import subprocess
import threading
from pathlib import Path
from typing import Iterator, List

import pytest

import engram

SERVER_START_TIMEOUT = 30.0  # seconds for `engram serve` to print its port (a loaded CI machine)
SERVER_STOP_TIMEOUT = 30.0  # its own bound on a stop is 10 s for the requests in flight, then the close


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value or not os.path.exists(value):
        pytest.skip(f"${name} must name an existing file (python/run-tests.sh sets it)", allow_module_level=True)
    return value


@pytest.fixture(scope="session")
def library() -> str:
    return _required("ENGRAM_LIBRARY")


@pytest.fixture(scope="session")
def engram_bin() -> str:
    return _required("ENGRAM_BIN")


@pytest.fixture
def folder(tmp_path: Path) -> str:
    return str(tmp_path / "data")


@pytest.fixture
def embedded(library: str, folder: str) -> Iterator[engram.Engram]:
    db = engram.open(folder, library=library, durability="none")
    yield db
    db.close()


class Server:
    """`engram serve` on a folder, HTTP on a port the system picks, Bolt off. Its stderr is read all along by a
    thread (so it never blocks on a full pipe) and kept for the failure messages."""

    def __init__(self, engram_bin: str, folder: str, *extra: str) -> None:
        self.stderr: List[str] = []
        self._port_seen = threading.Event()
        self.port = 0
        self.process = subprocess.Popen(
            [engram_bin, "--data", folder, "--set", "durability=none", "serve", "--http", "127.0.0.1:0", "--bolt",
             "", *extra], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._port_seen.wait(SERVER_START_TIMEOUT):
            self.process.kill()
            self.process.wait()
            raise RuntimeError("engram serve printed no port: " + "".join(self.stderr))
        self.url = f"http://127.0.0.1:{self.port}"

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)
            found = re.search(r"listening on http://127\.0\.0\.1:0 \(port (\d+)\)", line)
            if found:
                self.port = int(found.group(1))
                self._port_seen.set()
        self._port_seen.set()  # it exited without a port: the waiter reports what it said

    def stop(self) -> int:
        """SIGTERM, then its exit status (the clean stop is 0)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(SERVER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        self._reader.join(5)
        return status


@pytest.fixture
def server(engram_bin: str, folder: str) -> Iterator[Server]:
    started = Server(engram_bin, folder)
    yield started
    status = started.stop()
    assert status == 0, "engram serve did not stop cleanly: " + "".join(started.stderr)


@pytest.fixture
def remote(server: Server) -> Iterator[engram.Remote]:
    db = engram.connect(server.url, timeout=60)
    yield db
    db.close()


@pytest.fixture(params=["embedded", "remote"])
def db(request: pytest.FixtureRequest) -> engram.Engram:
    """The same tests against both ways in."""
    return request.getfixturevalue(request.param)

