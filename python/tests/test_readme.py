"""The README's Python example runs as written (in a scratch folder, with the library the tests use)."""

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_example_runs_as_written(library: str, tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) == 1, "the README has one Python example"
    run = subprocess.run([sys.executable, "-c", blocks[0]], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "ENGRAM_LIBRARY": library})  # a sanitizer build's preload too
    assert run.returncode == 0, run.stderr
    assert "Alice fixed the WAL" in run.stdout
    assert (tmp_path / "agent-memory").is_dir()
