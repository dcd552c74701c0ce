"""engram_build — the PEP 517 build backend of engram's Python package, in the tree so that `pip install ./python`
needs nothing from a package index (the package is pure Python: every file under engram/ goes into the wheel as
it is). It writes a wheel (and an sdist) with the standard library's zipfile and tarfile only."""

import base64
import hashlib
import io
import os
import tarfile
import zipfile

NAME = "engram"
VERSION = "0.1.0"
SUMMARY = "engram from Python: the storage engine for the memory of AI agents, embedded or over the network"
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIST_INFO = f"{NAME}-{VERSION}.dist-info"
WHEEL_NAME = f"{NAME}-{VERSION}-py3-none-any.whl"


def _package_files():
    """Every file of the package, as (path in the wheel, path on disk), in a stable order."""
    root = os.path.join(HERE, NAME)
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(folder, name)
            found.append((os.path.relpath(path, HERE).replace(os.sep, "/"), path))
    return found


def _metadata():
    return (f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\nSummary: {SUMMARY}\n"
            "Requires-Python: >=3.9\n").encode()


def _wheel_file():
    return b"Wheel-Version: 1.0\nGenerator: engram_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}\n"


def _write_wheel(wheel_directory, entries):
    path = os.path.join(wheel_directory, WHEEL_NAME)
    record = ""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in entries:
            wheel.writestr(name, data)
            record += _record_line(name, data)
        record_name = f"{DIST_INFO}/RECORD"
        record += f"{record_name},,\n"
        wheel.writestr(record_name, record)
    return WHEEL_NAME


def _dist_info_entries():
    return [(f"{DIST_INFO}/METADATA", _metadata()), (f"{DIST_INFO}/WHEEL", _wheel_file())]


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    target = os.path.join(metadata_directory, DIST_INFO)
    os.makedirs(target, exist_ok=True)
    for name, data in _dist_info_entries():
        with open(os.path.join(metadata_directory, name), "wb") as f:
            f.write(data)
    return DIST_INFO


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    entries = []
    for name, path in _package_files():
        with open(path, "rb") as f:
            entries.append((name, f.read()))
    return _write_wheel(wheel_directory, entries + _dist_info_entries())


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """An editable install: a .pth file that puts this folder on sys.path."""
    return _write_wheel(wheel_directory, [(f"{NAME}.pth", (HERE + "\n").encode())] + _dist_info_entries())


def build_sdist(sdist_directory, config_settings=None):
    base = f"{NAME}-{VERSION}"
    name = f"{base}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as sdist:
        for relative in ["pyproject.toml", "_build/engram_build.py"] + [n for n, _ in _package_files()]:
            sdist.add(os.path.join(HERE, relative), arcname=f"{base}/{relative}")
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        data = _metadata()
        info.size = len(data)
        sdist.addfile(info, io.BytesIO(data))
    return name
