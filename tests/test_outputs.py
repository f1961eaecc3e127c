"""Outputs are written whole or not at all, and never replace a file unasked."""

import os
import signal
import subprocess
import sys
import time

import pytest

from bayesclv.errors import OutputError
from bayesclv.outputs import atomic_write, check_free


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("old")

    def broken(tmp):
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        atomic_write(path, broken, overwrite=True)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_existing_files_and_folders_are_refused_by_name(tmp_path):
    (tmp_path / "a.csv").write_text("x")
    with pytest.raises(OutputError, match="a.csv exists"):
        check_free([tmp_path / "b.csv", tmp_path / "a.csv"])
    with pytest.raises(OutputError, match="is a folder"):
        check_free([tmp_path], overwrite=True)
    check_free([tmp_path / "a.csv"], overwrite=True)


def test_a_process_killed_mid_write_leaves_the_old_file(tmp_path):
    # A child writes slowly through atomic_write over an existing file and is killed
    # half-way: the file must still hold the old content, complete.
    path = tmp_path / "fit.nc"
    path.write_text("the old, complete fit")
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from bayesclv.outputs import atomic_write\n"
        "def slow(tmp):\n"
        "    with open(tmp, 'w') as f:\n"
        "        for i in range(1000):\n"
        "            f.write('x' * 1000); f.flush(); time.sleep(0.01)\n"
        "atomic_write(Path(sys.argv[1]), slow, overwrite=True)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, str(path)])
    deadline = time.time() + 30
    while not any(p.name.endswith(".partial") for p in tmp_path.iterdir()):
        assert time.time() < deadline and child.poll() is None
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert path.read_text() == "the old, complete fit"
