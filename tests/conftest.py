import functools, importlib, io, os, select, signal, subprocess, sys, time, traceback
from pathlib import Path
import cv2, pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# pytest-xdist runs one test per core and most tests start an `ecg-scan` process: one torch thread each, or the
# threads of parallel tests fight over the same cores (the suite ran about 40 % slower on 2 cores)
os.environ.setdefault("OMP_NUM_THREADS", "1")
# OpenCV's own thread pool, likewise; and a pool started here would hang a forked `ecg-scan` call (`run_cli`) that
# calls `cv2.setNumThreads` (the pool's threads do not exist in the child)
cv2.setNumThreads(1)

CLI = str(Path(sys.executable).parent / "ecg-scan")


def run_cli(*args, cwd=None, timeout=600, env=None, fresh=False):
    """Run the `ecg-scan` command line; returns a CompletedProcess (text mode). By default a fork of this test process
    runs it (`_forked_cli`: the same `cli.main` in its own process, without paying Python's and torch's start-up
    again); `fresh=True`, an `env` to change, or ECG_SCAN_TEST_SUBPROCESS=1 start the installed console script"""
    argv = [CLI, *map(str, args)]
    if fresh or env or not FORK:
        e = dict(os.environ, **(env or {}))
        return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=timeout, env=e)
    return _forked_cli(argv, cwd, timeout)


FORK = hasattr(os, "fork") and not os.environ.get("ECG_SCAN_TEST_SUBPROCESS")


@functools.cache
def _preload():
    "Every command's module, imported once per test process (about 5 s), so that each fork starts ready"
    import ecg_scan.cli

    for mod in sorted({m for m, _, _ in [*ecg_scan.cli.COMMANDS.values(), *ecg_scan.cli.BENCHES.values()]}):
        importlib.import_module(mod)
    return ecg_scan.cli.main


def _forked_cli(argv: list, cwd, timeout: float) -> subprocess.CompletedProcess:
    """`ecg-scan ARGS` in a child forked from this process: its own process group, stdout and stderr as pipes, the
    exit status that `sys.exit(main())` would give; killed with its children after `timeout` seconds"""
    main = _preload()
    sys.stdout.flush()
    sys.stderr.flush()
    (out_r, out_w), (err_r, err_w) = os.pipe(), os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.setpgid(0, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            for fd in (out_r, out_w, err_r, err_w):
                os.close(fd)
            sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8")
            sys.stderr = io.TextIOWrapper(
                io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace", line_buffering=True
            )
            if cwd:
                os.chdir(cwd)
            sys.argv = argv
            code = main()
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            if isinstance(e.code, str):
                print(e.code, file=sys.stderr)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code if isinstance(code, int) else 0)
    os.close(out_w)
    os.close(err_w)
    data, live, t0 = {out_r: [], err_r: []}, {out_r, err_r}, time.time()
    try:
        while live:  # read both pipes as they fill (a child blocked on a full pipe would never exit)
            left = timeout - (time.time() - t0)
            if left <= 0:
                os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise subprocess.TimeoutExpired(argv, timeout)
            ready, _, _ = select.select(sorted(live), [], [], min(left, 1.0))
            for fd in ready:
                b = os.read(fd, 1 << 16)
                if b:
                    data[fd].append(b)
                else:
                    live.discard(fd)
    finally:
        os.close(out_r)
        os.close(err_r)
    _, status = os.waitpid(pid, 0)
    # decoded as subprocess.run(text=True) does: universal newlines ('\r' and '\r\n' become '\n')
    text = lambda fd: io.TextIOWrapper(io.BytesIO(b"".join(data[fd])), encoding="utf-8", errors="replace").read()
    return subprocess.CompletedProcess(argv, os.waitstatus_to_exitcode(status), text(out_r), text(err_r))


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
