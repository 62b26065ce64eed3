"No import cycle in `ecg_scan`, and no module imports a later one in the notebook order (not even lazily in a function)"

import ast, json, re
from pathlib import Path
import ecg_scan

PKG = Path(ecg_scan.__file__).parent
NBS = Path(__file__).parents[1] / "nbs"


def notebook_order() -> dict:
    "module name -> number of the notebook that owns it (`#| default_exp`); 05b_digitise counts as 05, 14b_bench as 14"
    order = {}
    for nb in sorted(NBS.glob("[0-9][0-9]*_*.ipynb")):
        for c in json.loads(nb.read_text())["cells"]:
            m = re.search(r"^#\|\s*default_exp\s+(\S+)", "".join(c["source"]), re.M)
            if m:
                order[m[1]] = int(nb.name[:2])
                break
    return order


def imports_of(path: Path, mod: str) -> set:
    "The `ecg_scan` modules `path` imports anywhere (top level or inside functions); `ecg_scan` itself is the package `__init__`"
    out = set()
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, ast.Import):
            names = [a.name for a in n.names]
        elif isinstance(n, ast.ImportFrom):
            base = n.module or ""
            if n.level:
                base = "ecg_scan" + ("." + base if base else "")  # relative: from .x / from . import x
            names = (
                [base]
                if base != "ecg_scan"
                else ["ecg_scan." + a.name if (PKG / f"{a.name}.py").exists() else "ecg_scan" for a in n.names]
            )
        else:
            continue
        for name in names:
            if name == "ecg_scan" or name.startswith("ecg_scan."):
                t = name.split(".")[1] if "." in name else "__init__"
                if t != mod:
                    out.add(t)
    return out


def import_graph() -> dict:
    return {p.stem: imports_of(p, p.stem) for p in PKG.glob("*.py") if p.stem != "_modidx"}


def find_cycle(g: dict):
    "A list of modules forming a cycle in `g`, or None"
    state, stack = {}, []

    def visit(u):
        state[u] = 1
        stack.append(u)
        for v in sorted(g.get(u, ())):
            if state.get(v) == 1:
                return stack[stack.index(v) :] + [v]
            if not state.get(v) and (c := visit(v)):
                return c
        state[u] = 2
        stack.pop()

    for u in sorted(g):
        if not state.get(u) and (c := visit(u)):
            return c


def test_find_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]


def test_no_import_cycle():
    g = import_graph()
    assert {"signals", "render", "augment", "cli", "evaluate", "demo"} <= set(g)
    assert find_cycle(g) is None, f"import cycle: {' -> '.join(find_cycle(g))}"


def test_imports_flow_one_way():
    order, g = notebook_order(), import_graph()
    assert order["signals"] == 0 and order["cli"] > order["evaluate"] > order["train"]
    assert order["cli"] > order["demo"] > order["evaluate"] and "demo" not in g["evaluate"]
    order["__init__"] = -1
    bad = [
        f"{m} ({order[m]:02d}) imports {t} ({order[t]:02d})"
        for m, ts in g.items()
        if m in order
        for t in ts
        if order.get(t, -1) > order[m]
    ]
    assert not bad, "imports of later notebooks: " + "; ".join(sorted(bad))
