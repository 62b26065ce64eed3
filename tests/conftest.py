import os, sys, subprocess
from pathlib import Path
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# pytest-xdist runs one test per core and most tests start an `ecg-scan` process: one torch thread each, or the
# threads of parallel tests fight over the same cores (the suite ran about 40 % slower on 2 cores)
os.environ.setdefault("OMP_NUM_THREADS", "1")

CLI = str(Path(sys.executable).parent / "ecg-scan")


def run_cli(*args, cwd=None, timeout=600, env=None):
    "Run the installed `ecg-scan` console script; returns the CompletedProcess (text mode)"
    e = dict(os.environ, **(env or {}))
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout, env=e)


@pytest.fixture
def cli():
    return run_cli


def assert_one_line_error(r, *fragments):
    "A user error: non-zero exit, no traceback, one line on stderr naming the problem"
    assert r.returncode != 0, r.stdout
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, r.stderr
    lines = [l for l in r.stderr.strip().splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    for f in fragments:
        assert f in lines[0], lines[0]


def pytest_configure(config):
    config.addinivalue_line("markers", "long: a test of a minute or more, started first (see below)")


def pytest_collection_modifyitems(config, items):
    """The long tests first: pytest-xdist hands them out while every worker is free, and the short ones fill the gaps,
    instead of one worker finishing a long test alone at the end"""
    items.sort(key=lambda it: it.get_closest_marker("long") is None)  # a stable sort: otherwise collection order
