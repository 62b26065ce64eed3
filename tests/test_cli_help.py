"""Every option of every `ecg-scan` command (COMMANDS in nbs/15_cli.ipynb, the `bench` benchmarks included) has help
text in `--help`, and no two parameters share one docments line (the comment of a shared line documents only the last
parameter on it, so `--help` shows the first with no text, or one text for two options)."""

import argparse, ast, inspect, re, textwrap
import pytest
from fastcore.script import anno_parser
from ecg_scan.cli import BENCHES, COMMANDS, _load, bench_cmd, main


def _help_text(action) -> str:
    "What `--help` shows for `action`, less the `(default: ...)` that argparse adds to every option"
    return re.sub(r"\s*\(default: .*\)$", "", action.help or "").strip()


def _shared_lines(func) -> list:
    "Groups of parameters of `func` written on one source line"
    fn = ast.parse(textwrap.dedent(inspect.getsource(inspect.unwrap(func)))).body[0]
    a = fn.args
    lines = {}
    for p in a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x]:
        lines.setdefault(p.lineno, []).append(p.arg)
    return [ps for ps in lines.values() if len(ps) > 1]


def _options(func, prog: str) -> list:
    "The argparse actions `ecg-scan ... --help` lists for `func`"
    p = anno_parser(func, prog=prog)
    return [a for a in p._actions if a.dest != "help" and a.help != argparse.SUPPRESS]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_option_has_help(name):
    func = _load(*COMMANDS[name][:2])
    missing = [a.option_strings[0] if a.option_strings else a.dest for a in _options(func, name) if not _help_text(a)]
    assert not missing, f"`ecg-scan {name} --help`: no help text for {', '.join(missing)}"
    assert not _shared_lines(func), f"{func.__name__}: parameters sharing one docments line: {_shared_lines(func)}"


@pytest.mark.parametrize("name", list(BENCHES))
def test_bench_options_have_help(name):
    "`ecg-scan bench NAME` takes its options through `bench_cmd`: each one the benchmark accepts is documented there"
    mod, fn, listing = BENCHES[name]
    assert listing.strip(), f"BENCHES[{name!r}] has no description for `ecg-scan bench list`"
    bench = _load(mod, fn)
    documented = {a.dest: _help_text(a) for a in _options(bench_cmd, "bench")}
    passed = [k for k in inspect.signature(bench).parameters if k in ("minutes", "out", "dry_run", "model")]
    assert all(documented[k] for k in passed), f"bench {name}: {passed} not all documented in bench_cmd"


def test_help_output_shows_the_texts(capsys):
    "The check above reads the same parser `--help` prints: a documented option's text appears in the output"
    assert main(["probe", "--help"]) == 0
    out = capsys.readouterr().out
    for a in _options(_load(*COMMANDS["probe"][:2]), "probe"):
        words = _help_text(a).split()[:3]
        assert " ".join(words) in " ".join(out.split()), f"{a.dest}: {words} not in `ecg-scan probe --help`"


def test_shared_line_is_caught():
    "The line check finds what ruff format produces when a signature with comments is packed"

    def f(a: int = 1, b: int = 2):  # one comment for two parameters
        pass

    def g(
        a: int = 1,  # the first
        b: int = 2,  # the second
    ):
        pass

    assert _shared_lines(f) == [["a", "b"]]
    assert _shared_lines(g) == []


# options with one meaning across commands: the retired spellings, and what each shared name must be
RETIRED_OPTIONS = {
    "out_dir": "--out",
    "csv": "--out",
    "n_synth": "--n",
    "fractions": "--fracs",
    "probe_epochs": "--epochs",
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_one_vocabulary(name):
    "`--out` is an output folder and never positional; `--n` a count; `--fracs`, `--epochs` one spelling each"
    func = inspect.unwrap(_load(*COMMANDS[name][:2]))
    ps = inspect.signature(func).parameters
    old = [f"{p} (now {RETIRED_OPTIONS[p]})" for p in ps if p in RETIRED_OPTIONS]
    assert not old, f"`ecg-scan {name}` still takes {', '.join(old)}"
    acts = {a.dest: a for a in _options(func, name)}
    if "out" in acts:
        assert acts["out"].option_strings == ["--out"], f"`ecg-scan {name}`: OUT is positional; make it --out"
        assert "folder" in _help_text(acts["out"]), f"`ecg-scan {name} --out`: not described as a folder"
    if "n" in ps:
        assert ps["n"].annotation in (int, "int"), f"`ecg-scan {name} --n` is not a count"
    if "style" in ps:
        assert "random" in _help_text(acts["style"]), f"`ecg-scan {name} --style` is not the print style"
