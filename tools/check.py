"""The whole test suite, as CI runs it (`bash run.sh test`):
1. the committed package equals a fresh `nbdev-export` of the notebooks;
2. the notebooks are clean (`nbdev-clean` changes nothing) and README.md is derived from nbs/index.ipynb;
3. `ruff format --check`, `ruff check` (unused and star imports, one statement a line) and `tools/hoist_imports.py
   --check` (no import inside a function unless its table says why) pass, and every code cell
   that draws (matplotlib, `show_ecg`, `show_image`, `mosaic`, `plot_*`, `*_figure`) and runs in the tests is saved with
   its picture (refresh with `nbdev-test nbs/X.ipynb --save`, then `nbdev-clean`);
4. `nbdev-test` runs every notebook (cells marked `#| slow` are skipped; `--slow` runs them too);
5. the docs pre-processing that the Pages build runs before Quarto (nbdev's `proc_nbs`: it executes every export and
   import cell, so a notebook whose imports depend on an ordinary cell breaks the site);
6. pytest runs tests/ and, being last, prints the final summary line.
Extra arguments after `--` go to pytest."""

import subprocess, sys, hashlib, os, time, json, re
from pathlib import Path

root = Path(__file__).resolve().parent.parent
os.chdir(root)
# nbdev-test and pytest run one notebook / test per core: one torch thread each, or they fight over the cores
os.environ.setdefault("OMP_NUM_THREADS", "1")
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

# a call that draws a picture; `plt.close`, `plt.rcParams`... do not
DRAWS = re.compile(
    r"\bplt\.(?!close\b|rcParams\b|style\b|ioff\b|ion\b)|\bshow_ecg\(|\bshow_image\(|\bmosaic\(|\bplot_\w+\(|\.plot\(|\w+_figure\(|\bimshow\("
)
NOT_RUN = re.compile(r"^#\|\s*(eval:\s*false|slow|export)\b", re.M)  # export cells define drawing functions


def pictures_missing(nb_paths) -> list:
    "'notebook cell N' for each code cell that draws, runs in `nbdev-test`, and has no image among its saved outputs"
    out = []
    for p in nb_paths:
        for i, c in enumerate(json.loads(p.read_text())["cells"]):
            src = "".join(c["source"])
            if c["cell_type"] != "code" or NOT_RUN.search(src) or not DRAWS.search(src):
                continue
            if not any(k.startswith("image/") for o in c.get("outputs", []) for k in o.get("data", {})):
                out.append(f"{p.relative_to(root)} cell {i}: {src.splitlines()[0][:80]}")
    return out


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

r = subprocess.run([sys.executable, "tools/hoist_imports.py", "--check"], capture_output=True, text=True)
step("imports at the top of each module (run `python tools/hoist_imports.py`)", r.returncode == 0, r.stdout.strip())

missing = pictures_missing(sorted(root.glob("nbs/*.ipynb")))
step(
    "every drawing cell is saved with its picture",
    not missing,
    "no image saved (run `nbdev-test NB --save`, then `nbdev-clean`):\n  " + "\n  ".join(missing),
)

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
