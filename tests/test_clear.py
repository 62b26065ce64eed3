"Issue 14: CLEAR as published, the HUG head, and `ecg-scan probe --head linear|hug` on tiny data."

import numpy as np, pandas as pd, pytest, torch
from conftest import run_cli, assert_one_line_error
from ecg_scan.signals import samples_path, load_ecg
from ecg_scan.encoders import load_signal_teacher, teacher_tokens, beat_tokens, CLEAR, CLEAREncoder


@pytest.fixture(scope="module")
def sig():
    return np.stack([load_ecg(samples_path("cinc2021", r)) for r in ("HR06000", "JS20002", "E07500")])


def test_shipped_teachers(sig):
    c, s = load_signal_teacher("clear"), load_signal_teacher("clear_style")
    assert isinstance(c, CLEAR) and isinstance(s, CLEAREncoder)
    with torch.no_grad():
        assert c(sig).shape == (3, 768) and torch.isfinite(c(sig)).all()
        assert teacher_tokens(c, sig).shape == (3, 12, c.d) and teacher_tokens(s, sig[:1]).shape == (1, 12, 768)


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
