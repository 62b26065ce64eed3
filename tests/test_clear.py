"Issue 14: CLEAR as published, the HUG head, and `ecg-scan probe --head linear|hug` on tiny data."

import json
import numpy as np, pandas as pd, pytest, torch
from conftest import run_cli, assert_one_line_error
from ecg_scan.signals import samples_path, load_ecg
from ecg_scan.encoders import load_signal_teacher, teacher_tokens, beat_tokens, CLEAR
from ecg_scan.model import get_config


@pytest.fixture(scope="module")
def sig():
    return np.stack([load_ecg(samples_path("cinc2021", r)) for r in ("HR06000", "JS20002", "E07500")])


def test_shipped_teacher(sig):
    c = load_signal_teacher("clear")
    assert isinstance(c, CLEAR)
    with torch.no_grad():
        assert c(sig).shape == (3, 768) and torch.isfinite(c(sig)).all()
        assert teacher_tokens(c, sig).shape == (3, 12, c.d)
    for name in ("tiny", "small"):  # every CPU preset uses the one CLEAR teacher
        assert get_config(name).model.teacher == "clear"


def test_clear_style_is_gone(tmp_path):
    "One CLEAR teacher: the removed CLEAR-style teacher is refused in one line naming the fix, wherever it is named"
    assert_one_line_error(run_cli("probe", "teacher:clear_style", "--data", "samples"), "use the teacher 'clear'")
    assert_one_line_error(
        run_cli("pretrain", "--config", "small", "--set", "model.teacher=clear_style", "--out", tmp_path / "run"),
        "config key model.teacher = 'clear_style' is not one of 'clear', 'dbeta', 'eee'; e.g. --set model.teacher=clear",
    )
    assert not (tmp_path / "run").exists()
    cfg = tmp_path / "old" / "config.json"  # a model folder written while `small` used the CLEAR-style teacher
    cfg.parent.mkdir()
    flat = {k.rpartition(".")[2]: v for k, v in get_config("small").flat().items()}  # flat, as that version wrote it
    flat["render"] = flat.pop("style")
    cfg.write_text(json.dumps(dict(flat, teacher="clear_style")))
    assert_one_line_error(
        run_cli("pretrain", "--config", cfg, "--out", tmp_path / "run"), "teacher='clear_style' is no longer"
    )
    assert_one_line_error(run_cli("teacher", "--arch", "clear_style", "--out", tmp_path / "t"), "--arch")
    assert not (tmp_path / "t").exists()


def test_tokeniser_policy(sig):
    x = sig[0].copy()
    x[3] = np.nan
    b = beat_tokens(x)
    assert b.pad[3].all() and not b.pad[0, 0] and any("aVR" in i for i in b.issues)
    z = beat_tokens(np.zeros((12, 5000)))
    assert z.pad.all() and "all leads flat" in z.issues[-1] and (z.x == 0).all()


@pytest.mark.parametrize("head", ["linear", "hug"])
def test_probe_cli_heads(tmp_path, head):
    out = tmp_path / "t"
    r = run_cli(
        "probe",
        "teacher:clear",
        "--data",
        "synth:120",
        "--head",
        head,
        "--epochs",
        "3",
        "--fracs",
        "0.1,1",
        "--out",
        out,
    )
    assert r.returncode == 0, r.stderr
    assert f"{head} probing on" in r.stdout and "true signals" in r.stdout
    t = pd.read_csv(out / "probe.csv")
    assert list(t.fraction) == [0.1, 1.0] and t.auroc.between(0, 1).all()


def test_probe_cli_hug_refuses_image_models(tmp_path):
    assert_one_line_error(run_cli("probe", tmp_path, "--head", "hug"), "--head hug reads one token per lead")
    assert_one_line_error(run_cli("probe", "teacher:clear", "--head", "moe"), "--head must be linear or hug")
