"""Move imports inside functions (and imports further down a module) to the module's import cell.

House rule (DEVELOPERS.md): a module's imports sit at its top, in the notebook's first `#| export` cell; an import
stays inside a function only for a heavy dependency that few callers need (the `LAZY` and `LAZY_IN` tables below,
each entry with its reason). This script enforces the rule on the notebooks, which are the source:

    python tools/hoist_imports.py                  # rewrite every nbs/NN_*.ipynb that needs it
    python tools/hoist_imports.py nbs/06_encoders.ipynb   # only these notebooks (the import graph still reads all)
    python tools/hoist_imports.py --check          # change nothing; exit 1 if anything would move
    python tools/hoist_imports.py --list           # also print every import kept lazy, with its reason

then `nbdev-export && nbdev-clean && ruff format nbs tests tools && ruff check nbs ecg_scan tests tools`.

What it does, in the `#| export` cells of each notebook that has `#| default_exp`:
- finds every `import`/`from ... import` inside a function or class, and every import at the top level of an export
  cell other than the first (the import cell);
- moves each imported name to the import cell unless it is allow-listed lazy (`LAZY`: anywhere, `LAZY_IN`: in one
  module), would clash with another binding of that name (a definition, assignment or different import at the
  notebook's top level, a local assignment in the same function, or two hoists of one name from different places),
  would make a module import a later notebook's module (the one-way rule of tests/test_imports.py) or close an
  import cycle, or sits inside a `try`/`if` (an optional-dependency probe) or on a line with another statement;
  everything not moved is listed with the reason;
- rewrites a statement that moves only in part (`import torch, sys as _sys` -> `import torch` where torch stays lazy);
- merges the moved imports into the import cell without duplicates and sorts that cell's imports as ruff's isort
  (`ruff check --select I --fix`, `ecg_scan` first-party) would.

Idempotent: a second run finds nothing to move and changes nothing. Run it again after merging branches that add
functions with local imports.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"
PKG = "ecg_scan"

# Imports that stay inside functions everywhere: optional (not in pyproject's [project] dependencies) or seconds to
# import for one feature. Keys match a module and its submodules ("torch" matches "torch.nn"). The reason is written as
# a `# lazy: ...` comment above the import.
LAZY = {
    "open_clip": "open_clip takes ~5 s to import; only the CLIP image towers need it",
    "peft": "peft takes ~6 s to import; only LoRA adapters need it",
    "timm": "timm takes ~5 s to import (an open_clip dependency); only this bench needs it",
    "transformers": "transformers takes 1-3 s to import; only the hub models built with it need it",
    "wandb": "optional: wandb is not a dependency",
    "torch.utils.tensorboard": "optional: tensorboard is only in the dev extra",
    "IPython": "optional: IPython is not a dependency (notebook display only)",
}

# Heavy required dependencies (import cost on the project machine): one moves to a module's top only if that module
# already loads it through its other top-level imports (an earlier package module, or a package in IMPLIES); otherwise
# it stays in the functions that need it, so e.g. `ecg-scan synth` does not wait for torch.
HEAVY = {"torch": "~3 s", "fastai": "~5 s", "sklearn": "~2 s", "scipy": "~1 s", "matplotlib": "~0.6 s"}
# What importing a package loads of HEAVY (checked with `python -c "import X; print(sys.modules)"`)
IMPLIES = {
    "fastai": {"torch", "matplotlib", "scipy", "sklearn"},
    "accelerate": {"torch"},
    "safetensors": {"torch"},
    "torchvision": {"torch"},
}
# HEAVY packages a module is built on: imported at its top even though it would not otherwise load them
OWN = {("measure", "scipy"): "the measurements are scipy filters and peak finding"}
# Modules whose own start-up matters: they import at the top only the package modules they import there already (the
# CLI imports each command's module only when that command runs; `ecg-scan --help` loads cli and signals only)
STARTUP = {"cli"}
# Further imports kept inside functions of one module, with the reason
LAZY_IN = {
    ("signals", "wfdb"): "CLI start-up: `ecg-scan --help` imports signals; wfdb adds ~0.1 s for two readers",
    ("signals", "h5py"): "CLI start-up: `ecg-scan --help` imports signals; h5py adds ~0.1 s for one reader",
}


def heavy_of(target: str) -> set:
    "The HEAVY packages importing `target` loads"
    root = target.split(".")[0]
    return ({root} & set(HEAVY)) | IMPLIES.get(root, set())


def lazy_reason(mod: str, target: str):
    "Why `target` (a dotted module) stays lazy in module `mod`, or None"
    for key, why in [*LAZY.items(), *((k[1], v) for k, v in LAZY_IN.items() if k[0] == mod)]:
        if target == key or target.startswith(key + "."):
            return why
    return None


@dataclass
class Alias:
    "One imported name of one statement: its spec (the import written alone) and the name it binds"

    stmt: ast.stmt
    alias: ast.alias
    cell: int
    func: ast.AST | None  # the enclosing function or class; None for a late top-level import
    target: str = ""  # the dotted module it reads from
    spec: str = ""
    name: str = ""
    why: str | None = None  # reason to keep it where it is; None: hoist
    body: list = None  # the statements of its block (to tidy the blank line a removed import leaves)
    comment: str | None = None  # for an import kept lazy: the `# lazy: ...` comment it gets

    def __post_init__(self):
        a, s = self.alias, self.stmt
        if isinstance(s, ast.Import):
            self.target = a.name
            self.spec = f"import {a.name}" + (f" as {a.asname}" if a.asname else "")
            self.name = a.asname or a.name.split(".")[0]
        else:
            mod = "." * s.level + (s.module or "")
            self.target = PKG + (f".{s.module}" if s.module else "") if s.level else mod
            self.spec = f"from {mod} import {a.name}" + (f" as {a.asname}" if a.asname else "")
            self.name = a.asname or a.name

    @property
    def key(self) -> str:
        "What the binding means, for clash checks: `import a.b` and `import a` both bind the package `a`"
        return f"import {self.name}" if isinstance(self.stmt, ast.Import) and not self.alias.asname else self.spec


@dataclass
class Notebook:
    path: Path
    nb: dict
    mod: str
    order: int
    export: list  # indices of the export cells; export[0] is the import cell
    trees: dict = field(default_factory=dict)
    found: list = field(default_factory=list)  # Alias list
    kept_stmt: list = field(default_factory=list)  # (cell, line, reason) for statements left whole


def cell_src(cell) -> str:
    s = cell["source"]
    return s if isinstance(s, str) else "".join(s)


def is_export(src: str) -> bool:
    return re.search(r"^#\|\s*export\s*$", src, re.M) is not None


def load(path: Path):
    nb = json.loads(path.read_text())
    cells = nb["cells"]
    mod = None
    for c in cells:
        m = re.search(r"^#\|\s*default_exp\s+(\S+)", cell_src(c), re.M)
        if c["cell_type"] == "code" and m:
            mod = m[1]
            break
    export = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and is_export(cell_src(c))]
    if mod is None or not export:
        return None
    return Notebook(path, nb, mod, int(path.name[:2]), export)


def parents(tree):
    out = {}
    for n in ast.walk(tree):
        for ch in ast.iter_child_nodes(n):
            out[ch] = n
    return out


def bound_names(fn) -> set:
    "Names a function binds itself (parameters, assignments, loop and with targets), not counting imports"
    out = set()
    if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        a = fn.args
        out |= {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg] if x}
    for n in ast.walk(fn):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            out.add(n.id)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            out |= set(n.names)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            out.add(n.name)
    return out


def top_bindings(tree) -> dict:
    "name -> set of how the notebook's top level binds it (an import spec, or 'def'/'class'/'assign')"
    out = {}
    for s in tree.body:
        if isinstance(s, (ast.Import, ast.ImportFrom)):
            for a in s.names:
                al = Alias(s, a, -1, None)
                out.setdefault(al.name, set()).add(al.key)
        elif isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.setdefault(s.name, set()).add("def")
        else:
            for n in ast.walk(s):
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                    out.setdefault(n.id, set()).add("assign")
    return out


def scan(nb: Notebook):
    "Fill `nb.found` with the imports of export cells that are not in the import cell's top level"
    cells = nb.nb["cells"]
    for ci in nb.export:
        try:
            tree = ast.parse(cell_src(cells[ci]))
        except SyntaxError as e:
            print(f"{nb.path.name} cell {ci}: not Python ({e.msg}, line {e.lineno}); its imports are left alone")
            continue
        nb.trees[ci] = tree
        par = parents(tree)
        lines = {}  # line -> simple statements (no body) on it
        for s in ast.walk(tree):
            if isinstance(s, ast.stmt) and not hasattr(s, "body"):
                for ln in range(s.lineno, s.end_lineno + 1):
                    lines.setdefault(ln, []).append(s)
        for s in ast.walk(tree):
            if not isinstance(s, (ast.Import, ast.ImportFrom)) or getattr(s, "module", None) == "__future__":
                continue
            up, func, guarded = par.get(s), None, False
            while up is not None and up is not tree:
                if isinstance(up, ast.Try) and func is None and _catches_import_error(up):
                    guarded = True
                if func is None and isinstance(up, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    func = up
                up = par.get(up)
            if func is None and ci == nb.export[0] and not guarded:
                continue  # the import cell itself
            why = None
            body = next(b for b in _bodies(par[s]) if s in b)
            if guarded:
                why = "inside `try: ... except ImportError` (an optional-dependency probe)"
            elif all(isinstance(o, (ast.Import, ast.ImportFrom)) for o in body):
                why = "the only statement of its block"
            elif any(o is not s for ln in range(s.lineno, s.end_lineno + 1) for o in lines[ln]):
                why = "shares its line with another statement"
            elif getattr(s, "level", 0):
                why = "relative import in a notebook"
            for a in s.names:
                al = Alias(s, a, ci, func)
                al.body = body
                al.why = why or lazy_reason(nb.mod, al.target)
                if al.why and not why:
                    al.comment = al.why
                if al.why is None and func is not None and al.name in bound_names(func):
                    al.why = f"`{al.name}` is also bound locally in {func.name}"
                nb.found.append(al)


def _catches_import_error(t: ast.Try) -> bool:
    names = {n.id for h in t.handlers if h.type is not None for n in ast.walk(h.type) if isinstance(n, ast.Name)}
    return bool(names & {"ImportError", "ModuleNotFoundError"})


def _bodies(n) -> list:
    "The statement lists of a node (body, orelse, finalbody, handlers' and cases' bodies)"
    out = [getattr(n, k) for k in ("body", "orelse", "finalbody") if isinstance(getattr(n, k, None), list)]
    out += [h.body for h in getattr(n, "handlers", [])] + [c.body for c in getattr(n, "cases", [])]
    return out


def check_clashes(nb: Notebook):
    "Keep lazy a name that the notebook's top level binds otherwise, or that two hoists bind differently"
    top = {}
    for c in nb.nb["cells"]:
        if c["cell_type"] != "code":
            continue
        try:
            tree = ast.parse(cell_src(c))
        except SyntaxError:
            continue  # magics: not Python, binds nothing we can see
        for k, v in top_bindings(tree).items():
            top.setdefault(k, set()).update(v)
    todo = [a for a in nb.found if a.why is None]
    for a in todo:
        mine = a.key
        others = {x.key for x in todo if x.name == a.name}
        if len(others) > 1:
            a.why = f"`{a.name}` is imported from different places: {sorted(others)}"
        elif top.get(a.name, {mine}) - {mine}:
            a.why = f"`{a.name}` is also bound at the notebook's top level ({sorted(top[a.name] - {mine})})"


def graph(nbs: list) -> tuple:
    "module -> set of package modules it imports at top level (after the planned hoists), and module -> notebook number"
    order = {n.mod: n.order for n in nbs}
    order[PKG] = -1
    g = {n.mod: set() for n in nbs}
    for n in nbs:
        for ci, tree in n.trees.items():
            for s in tree.body:
                if isinstance(s, (ast.Import, ast.ImportFrom)):
                    for a in s.names:
                        t = _pkg_module(Alias(s, a, ci, None))
                        if t and t != n.mod:
                            g[n.mod].add(t)
        for a in n.found:
            t = _pkg_module(a)
            if a.why is None and a.func is not None and t and t != n.mod:
                g[n.mod].add(t)
    return g, order


def _pkg_module(a: Alias):
    "The package module (`signals`, or `ecg_scan` for the package) an import reads, or None"
    parts = a.target.split(".")
    if parts[0] != PKG:
        return None
    if len(parts) > 1:
        return parts[1]
    return (
        a.alias.name
        if isinstance(a.stmt, ast.ImportFrom) and (NBS.parent / PKG / f"{a.alias.name}.py").exists()
        else PKG
    )


def reaches(g, src, dst) -> bool:
    seen, todo = set(), [src]
    while todo:
        u = todo.pop()
        if u == dst:
            return True
        if u not in seen:
            seen.add(u)
            todo += sorted(g.get(u, ()))
    return False


def check_layers(nbs: list):
    "No hoist may import a later notebook's module or close an import cycle"
    g, order = graph(nbs)
    for n in nbs:
        for a in n.found:
            t = _pkg_module(a)
            if a.why is not None or not t or t == n.mod:
                continue
            if order.get(t, -1) > n.order:
                a.why = f"LAYERING: {n.mod} ({n.order:02d}) would import later {t} ({order[t]:02d}); move the code"
            elif a.func is not None:
                g2 = {k: set(v) for k, v in g.items()}
                g2[n.mod].discard(t)
                if not reaches(g2, n.mod, t) and reaches(g2, t, n.mod):
                    a.why = f"CYCLE: {t} already imports {n.mod} (directly or through others)"
                    g[n.mod].discard(t)


def check_heavy(nbs: list):
    "Keep a HEAVY import (or, in STARTUP modules, a package module that pulls one) where it is unless already loaded"
    by_mod = {n.mod: n for n in nbs}
    memo = {}

    def hoisted(n, a):
        return a.why is None and a.func is not None

    def loaded(mod: str) -> set:
        "HEAVY packages that importing `mod` loads (its top-level imports, and the light imports hoisted into it)"
        if mod not in memo:
            memo[mod], n = set(), by_mod.get(mod)
            out = {h for m, h in OWN if m == mod}
            if n is not None:
                tops = [
                    Alias(s, al, ci, None)
                    for ci, t in n.trees.items()
                    for s in t.body
                    if isinstance(s, (ast.Import, ast.ImportFrom))
                    for al in s.names
                ]
                for a in tops + [a for a in n.found if hoisted(n, a)]:
                    p = _pkg_module(a)
                    if p and p != mod:
                        if n.mod not in STARTUP or a in tops:
                            out |= loaded(p)
                    elif not p and (a in tops or not heavy_of(a.target)):
                        out |= heavy_of(a.target)
            memo[mod] = out
        return memo[mod]

    for n in nbs:
        have = loaded(n.mod)
        top_pkgs = {
            _pkg_module(Alias(s, al, ci, None))
            for ci, t in n.trees.items()
            for s in t.body
            if isinstance(s, (ast.Import, ast.ImportFrom))
            for al in s.names
        }
        for a in n.found:
            if a.why is not None:
                continue
            p = _pkg_module(a)
            if p and n.mod in STARTUP and p not in top_pkgs:
                a.why = f"{n.mod} imports {PKG}.{p} only when a command needs it (start-up time)"
                a.comment = f"{n.mod} starts every `ecg-scan` call; what only this command needs is imported here"
                continue
            need = (loaded(p) if n.mod in STARTUP else set()) if p else heavy_of(a.target)
            if need - have:
                miss = ", ".join(f"{h} ({HEAVY[h]})" for h in sorted(need - have))
                a.why = a.comment = f"{miss}, not otherwise loaded by {n.mod}"
                if n.mod in STARTUP:
                    a.comment = f"{n.mod} starts every `ecg-scan` call; what only this command needs is imported here"


def isort(src: str) -> str:
    "`src` with its imports sorted as ruff's isort rule does (ecg_scan first-party)"
    r = subprocess.run(
        [
            "ruff",
            "check",
            "--select",
            "I",
            "--fix",
            "--quiet",
            "--exit-zero",
            "--stdin-filename",
            "nbs/_hoist.py",
            "--config",
            f"lint.isort.known-first-party=['{PKG}']",
            "-",
        ],
        input=src,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if r.returncode:
        sys.exit(f"ruff failed: {r.stderr.strip()}; install the dev extra (`pip install -e .[dev]`)")
    return r.stdout


def set_src(cell, src: str):
    lines = src.splitlines(keepends=True)
    if lines and lines[-1].endswith("\n"):
        lines[-1] = lines[-1][:-1]
    cell["source"] = lines


def _is_doc(s) -> bool:
    return isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str)


def rewrite(nb: Notebook) -> bool:
    "Apply the hoists of `nb` to its cells and write the `# lazy:` comments; True if anything changed"
    cells, moved = nb.nb["cells"], [a for a in nb.found if a.why is None]
    by_stmt = {}
    for a in nb.found:
        by_stmt.setdefault((a.cell, id(a.stmt)), []).append(a)
    note_of = {k: next((a.comment for a in als if a.comment), None) for k, als in by_stmt.items()}
    said = {}  # (cell, function, note) -> line of the first import that carries it: one comment per function
    for (c, k), als in sorted(by_stmt.items(), key=lambda kv: kv[1][0].stmt.lineno):
        if note_of[(c, k)]:
            said.setdefault((c, id(als[0].func), note_of[(c, k)]), k)
    changed = False
    for ci in sorted({a.cell for a in nb.found}):
        lines = cell_src(cells[ci]).split("\n")
        edits = []
        gone = {id(als[0].stmt) for (c, _), als in by_stmt.items() if c == ci and not any(a.why for a in als)}
        for (c, k), als in by_stmt.items():
            if c != ci:
                continue
            s, body = als[0].stmt, als[0].body
            i = next(j for j, o in enumerate(body) if o is s)
            indent = re.match(r"\s*", lines[s.lineno - 1])[0]
            tail = lines[s.end_lineno - 1][s.end_col_offset :]
            tail = tail if "#" in tail else ""
            note = note_of[(c, k)]
            if note and (lines[s.lineno - 2].strip().startswith("#") or tail or said[(c, id(als[0].func), note)] != k):
                note = None  # commented already, or an earlier import in the function says the same
            head = [indent + "# lazy: " + note] if note else []
            keep = [a.alias for a in als if a.why]
            if len(keep) == len(als):
                if head:
                    edits.append((s.lineno, s.lineno - 1, head))
                continue
            if keep:
                new = type(s)(names=keep, module=getattr(s, "module", None), level=getattr(s, "level", 0))
                if isinstance(s, ast.Import):
                    new = ast.Import(names=keep)
                edits.append((s.lineno, s.end_lineno, head + [indent + ast.unparse(new) + tail]))
                continue
            hi = s.end_lineno
            first = all(id(o) in gone or (j == 0 and _is_doc(o)) for j, o in enumerate(body[:i]))
            last = i + 1 == len(body) or id(body[i + 1]) not in gone
            while (tail or (first and last)) and hi < len(lines) and not lines[hi].strip():
                hi += 1  # the blank line that separated the imports from the code goes with them
            edits.append((s.lineno, hi, [indent + tail.strip()] if tail else []))
        for lo, hi, new in sorted(edits, key=lambda e: e[0], reverse=True):
            lines[lo - 1 : hi] = new
        src = "\n".join(lines)
        if src != cell_src(cells[ci]):
            set_src(cells[ci], src)
            changed = True
    if not moved:
        return changed
    # merge into the import cell: after its last top-level import, then sort
    ic = nb.export[0]
    src = cell_src(cells[ic])
    tree = ast.parse(src)
    have = set()
    for s in tree.body:
        if isinstance(s, (ast.Import, ast.ImportFrom)):
            have |= {Alias(s, a, ic, None).spec for a in s.names}
    new = []
    for a in moved:
        if a.spec not in have and a.spec not in new:
            new.append(a.spec)
    last = max((s.end_lineno for s in tree.body if isinstance(s, (ast.Import, ast.ImportFrom))), default=1)
    lines = src.split("\n")
    lines[last:last] = new
    set_src(cells[ic], isort("\n".join(lines) + "\n"))
    return True


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("notebooks", nargs="*", type=Path, help="notebooks to rewrite (default: all nbs/NN_*.ipynb)")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 if any import would move")
    p.add_argument("--list", action="store_true", help="print every import kept inside a function, with the reason")
    args = p.parse_args()
    nbs = [n for n in (load(f) for f in sorted(NBS.glob("[0-9][0-9]*_*.ipynb"))) if n]
    for n in nbs:
        scan(n)
        check_clashes(n)
    check_layers(nbs)
    check_heavy(nbs)
    chosen = {f.resolve() for f in args.notebooks}
    n_moved = n_kept = n_changed = 0
    for n in nbs:
        if chosen and n.path.resolve() not in chosen:
            continue
        moved = [a for a in n.found if a.why is None]
        kept = [a for a in n.found if a.why]
        n_moved, n_kept = n_moved + len(moved), n_kept + len(kept)
        if moved:
            print(
                f"{n.path.name}: {'would move' if args.check else 'moved'} {len(moved)}: "
                + ", ".join(sorted({a.spec for a in moved}))
            )
        for a in kept:
            important = a.why.startswith(("LAYERING", "CYCLE", "`"))
            if args.list or important:
                where = a.func.name if a.func is not None else "top level"
                print(f"  kept {n.path.name} cell {a.cell} ({where}): {a.spec}: {a.why}")
        if rewrite(n):
            n_changed += 1
            if not args.check:
                n.path.write_text(json.dumps(n.nb, indent=1, ensure_ascii=False) + "\n")
    print(
        f"{n_moved} imported names {'to move' if args.check else 'moved'}, {n_kept} kept where they are; "
        f"{n_changed} notebooks {'to change' if args.check else 'changed'}"
    )
    if args.check and n_changed:
        sys.exit(1)


if __name__ == "__main__":
    main()
