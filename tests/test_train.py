"Integration tests for issue 6: `ecg-scan pretrain` end to end, exact resume, Ctrl-C, the NaN guard and bad input."

import signal, time, subprocess
import numpy as np, pandas as pd, pytest
from conftest import run_cli, assert_one_line_error, CLI
from ecg_scan.signals import ECGScanError
from ecg_scan.data import ECGDataset
from ecg_scan.model import get_config, ECGScan
from ecg_scan.train import pretrain, TrainingDiverged, TERMS, load_state

ARGS = ["--data", "samples", "--set", "optim.bs=8", "--steps", "12", "--valid-every", "4", "--ckpt-every", "3"]


@pytest.mark.long
def test_pretrain_resume_gives_same_losses(tmp_path):
    raw = subprocess.run(
        [CLI, "pretrain", "--out", str(tmp_path / "full"), *ARGS, "--tensorboard"], capture_output=True
    )
    assert b"\r" not in raw.stdout  # the console script's bytes: text mode would turn a carriage return into a newline
    r = subprocess.CompletedProcess(raw.args, raw.returncode, raw.stdout.decode(), raw.stderr.decode())
    assert r.returncode == 0, r.stderr
    assert "trained to step 12 of 12" in r.stdout
    assert "train_loss" in r.stdout  # piped output: the per-epoch table (no bars: checked on the bytes above)
    assert list((tmp_path / "full" / "tensorboard").glob("events.out.tfevents.*"))
    r1 = run_cli("pretrain", "--out", tmp_path / "cut", *ARGS, "--until", "5")
    assert r1.returncode == 0, r1.stderr
    r2 = run_cli("pretrain", "--out", tmp_path / "cut", *ARGS, "--resume")
    assert r2.returncode == 0, r2.stderr
    a, b = pd.read_csv(tmp_path / "full" / "log.csv"), pd.read_csv(tmp_path / "cut" / "log.csv")
    assert a.step.tolist() == b.step.tolist() and a.phase.tolist() == b.phase.tolist()
    assert np.allclose(a[TERMS].values, b[TERMS].values, atol=1e-5)
    for d in ("best", "last"):
        assert (tmp_path / "full" / d / "model.safetensors").exists()
    m = ECGScan.from_pretrained(tmp_path / "full" / "best")  # loads as a model-hub-style checkpoint
    assert m.cfg.optim.steps == 12


@pytest.mark.long
def test_ctrl_c_saves_and_resumes(tmp_path):
    out = tmp_path / "run"
    p = subprocess.Popen(
        [
            CLI,
            "pretrain",
            "--out",
            str(out),
            "--data",
            "samples",
            "--set",
            "optim.bs=8",
            "--steps",
            "400",
            "--valid-every",
            "1000",
            "--ckpt-every",
            "1000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    t0 = time.time()
    while time.time() - t0 < 300:
        log = out / "log.csv"
        if log.exists() and len(log.read_text().splitlines()) >= 4:
            break
        time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    so, se = p.communicate(timeout=300)
    assert p.returncode == 130, (so, se)
    assert "interrupted after step" in se and "Traceback" not in se
    st = load_state(out / "last")
    assert st["step"] >= 3
    r = run_cli(
        "pretrain",
        "--out",
        out,
        "--data",
        "samples",
        "--set",
        "optim.bs=8",
        "--steps",
        "400",
        "--valid-every",
        "1000",
        "--ckpt-every",
        "1000",
        "--resume",
        "--until",
        str(st["step"] + 2),
    )
    assert r.returncode == 0, r.stderr
    log = pd.read_csv(out / "log.csv")
    tr = log[log.phase == "train"].step.tolist()
    assert tr == list(range(st["step"] + 2))  # nothing lost, nothing repeated


def test_nan_guard_stops_with_clear_message(tmp_path):
    sig = np.zeros((12, 5000), np.float32)
    sig[:, ::50] = 1.0
    bad = sig.copy()
    bad[0, 10] = np.nan
    items = [
        dict(id=str(i), report="sinus rhythm", labels=[], split="train" if i < 14 else "val", bad=i == 3)
        for i in range(16)
    ]
    ds = ECGDataset(items, lambda it: bad if it["bad"] else sig, "nan-test")
    with pytest.raises(TrainingDiverged, match="loss became non-finite at step"):
        pretrain(
            get_config("tiny", optim=dict(bs=4, steps=8)), ds, tmp_path / "nan", progress=False, cache_teacher=False
        )


def test_pretrain_bad_input(tmp_path):
    assert_one_line_error(
        run_cli("pretrain", "--out", tmp_path / "x", "--data", tmp_path / "nowhere"), "no such folder"
    )
    assert_one_line_error(
        run_cli("pretrain", "--out", tmp_path / "x", "--data", "samples", "--set", "lrr=1"),
        "unknown config key 'lrr'",
        "did you mean 'optim.lr'",
    )
    assert_one_line_error(
        run_cli("pretrain", "--out", tmp_path / "x", "--data", "samples", "--config", "huge"),
        "unknown configuration 'huge'",
    )
    assert_one_line_error(
        run_cli("pretrain", "--out", tmp_path / "y", "--data", "samples", "--resume"), "nothing to resume"
    )
    assert_one_line_error(
        run_cli("pretrain", "--out", tmp_path / "x", "--data", "samples", "--precision", "bf16", "--steps", "1"),
        "needs a CUDA GPU",
    )
    assert_one_line_error(run_cli("pretrain", "--out", tmp_path / "x", "--data", "synth:2"), "N >= 4")


@pytest.mark.parametrize(
    "kv,frags",
    [
        (
            "model.dec_readout=foo",
            ["model.dec_readout = 'foo' is not one of 'shared', 'per_query', 'layout'", "--set model.dec_readout="],
        ),
        ("model.dec_redout=shared", ["unknown config key 'model.dec_redout'", "did you mean 'model.dec_readout'?"]),
        ("optim.bs=abc", ["config key 'optim.bs' expects int, got 'abc'", "--set optim.bs="]),
        ("bs=8", ["unknown config key 'bs'", "did you mean 'optim.bs'?"]),  # a flat key of earlier versions
        ("file", ["config.json: config key optim.lr = 'fast' is not a number", "--set optim.lr="]),
    ],
)
def test_pretrain_bad_config_stops_before_any_work(tmp_path, kv, frags):
    "A bad config value, key or type: one line, before the data is read (no notes about it), no run folder, no lock"
    out = tmp_path / "run"
    if kv == "file":
        cj = tmp_path / "config.json"
        get_config("tiny").save(cj)
        cj.write_text(cj.read_text().replace('"lr": 0.001', '"lr": "fast"'))
        args = ["--config", cj]
    else:
        args = ["--set", kv]
    assert_one_line_error(run_cli("pretrain", "--out", out, "--data", "samples", *args), *frags)
    assert not out.exists()


def test_open_training_data_reports():
    "One parser for 'synth:N' | 'samples' | folder: training reads diagnosis names as reports, evaluation (`reports=False`) does not"
    from ecg_scan.train import open_training_data
    from ecg_scan.evaluate import _eval_data

    tr, ev = open_training_data("samples"), open_training_data("samples", reports=False)
    assert tr.ids == ev.ids and any(r.strip() for r in tr.reports) and not any(r.strip() for r in ev.reports)
    assert _eval_data("samples").reports == ev.reports
    assert len(open_training_data("synth:4", reports=False)) == len(_eval_data("synth:4")) == 4
    with pytest.raises(ECGScanError, match="no such folder"):
        _eval_data("/no/such/folder")
    with pytest.raises(ECGScanError, match="synth:N"):
        open_training_data("synth:2")


def test_lr_schedule_is_the_hand_written_one():
    "`lr_at` (fastai's SchedLin + SchedCos) gives the learning rates of the earlier hand-written schedule, step by step"
    import math
    from ecg_scan.train import lr_at

    def hand(step, total, lr, warmup=0.1):
        w = max(1, int(round(warmup * total)))
        return (
            lr * (step + 1) / w
            if step < w
            else lr * 0.5 * (1 + math.cos(math.pi * min(1.0, (step - w) / max(1, total - w))))
        )

    for total, lr, wu in [(12, 1e-3, 0.1), (1500, 1e-3, 0.1), (20, 0.05, 0.2), (7, 1.0, 0.0)]:
        a = np.array([lr_at(s, total, lr, wu) for s in range(total + 3)])
        b = np.array([hand(s, total, lr, wu) for s in range(total + 3)])
        assert np.allclose(a, b, rtol=0, atol=1e-15 * lr) and (a.astype(np.float32) == b.astype(np.float32)).all()
        assert a[-1] == 0 and a.max() == lr
