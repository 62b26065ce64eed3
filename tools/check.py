"""The whole test suite, as CI runs it (`bash run.sh test`):
1. the committed package equals a fresh `nbdev-export` of the notebooks;
2. the notebooks are clean (`nbdev-clean` changes nothing) and README.md is derived from nbs/index.ipynb;
3. `ruff format --check` and `ruff check` (unused and star imports, one statement a line) pass;
4. `nbdev-test` runs every notebook (cells marked `#| slow` are skipped; `--slow` runs them too);
5. the docs pre-processing that the Pages build runs before Quarto (nbdev's `proc_nbs`: it executes every export and
   import cell, so a notebook whose imports depend on an ordinary cell breaks the site);
6. pytest runs tests/ and, being last, prints the final summary line.
Extra arguments after `--` go to pytest."""

import subprocess, sys, hashlib, os, time
from pathlib import Path

root = Path(__file__).resolve().parent.parent
os.chdir(root)
bindir = Path(sys.executable).parent


def tool(name):
    return str(bindir / name) if (bindir / name).exists() else name


def snapshot(pattern):
    return {
        p: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.glob(pattern))
        if "__pycache__" not in p.parts
    }


def changed(before, after):
    return sorted(str(p.relative_to(root)) for p in set(before) | set(after) if before.get(p) != after.get(p))


failures = []


def step(title, ok, detail=""):
    print(f"[{'ok' if ok else 'FAIL'}] {title}" + (f"\n{detail}" if detail and not ok else ""), flush=True)
    if not ok:
        failures.append(title)


args = sys.argv[1:]
slow = "--slow" in args
pytest_args = args[args.index("--") + 1 :] if "--" in args else []

before = snapshot("ecg_scan/**/*.py")
subprocess.run([tool("nbdev-export")], check=True)
diff = changed(before, snapshot("ecg_scan/**/*.py"))
step(
    "package equals a fresh nbdev-export",
    not diff,
    "nbdev-export changed (now exported; commit them):\n  " + "\n  ".join(diff),
)

before = snapshot("nbs/**/*.ipynb")
subprocess.run([tool("nbdev-clean")], check=True)
diff = changed(before, snapshot("nbs/**/*.ipynb"))
step("notebooks are clean", not diff, "nbdev-clean changed (now cleaned; commit them):\n  " + "\n  ".join(diff))

r = subprocess.run([tool("ruff"), "format", "--check", "nbs", "tests", "tools"], capture_output=True, text=True)
step("notebooks, tests and tools are formatted (ruff format)", r.returncode == 0, r.stdout.strip()[-3000:])

r = subprocess.run([tool("ruff"), "check", "nbs", "ecg_scan", "tests", "tools"], capture_output=True, text=True)
step("no unused or star imports, one statement a line (ruff check)", r.returncode == 0, r.stdout.strip()[-3000:])

r = subprocess.run([sys.executable, "tools/readme.py", "--check"], capture_output=True, text=True)
step("README.md is generated from nbs/index.ipynb", r.returncode == 0, r.stdout.strip())

t = time.time()
cmd = [tool("nbdev-test"), "--n-workers", str(min(os.cpu_count() or 1, 4)), "--timing"] + (
    ["--flags", "slow"] if slow else []
)
r = subprocess.run(cmd)
step(f"nbdev-test ({time.time() - t:.0f} s)", r.returncode == 0)

t = time.time()
r = subprocess.run(
    [sys.executable, "-c", "from nbdev.serve import proc_nbs; proc_nbs(force=True, n_workers=2)"],
    capture_output=True,
    text=True,
)
step(f"docs pre-processing, nbdev proc_nbs ({time.time() - t:.0f} s)", r.returncode == 0, r.stderr[-3000:])

if failures:
    print("\nFAILED before pytest: " + "; ".join(failures), flush=True)
r = subprocess.run([sys.executable, "-m", "pytest", "-n", str(min(os.cpu_count() or 1, 4)), "tests"] + pytest_args)
sys.exit(r.returncode or (1 if failures else 0))
