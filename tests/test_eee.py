"Integration tests for issue 15 (model side): EEE pretrains on study dicts, saves a run folder, serves as ECG-Scan's signal teacher, and probes."

import json
import numpy as np, torch, pytest
from ecg_scan.signals import ECGScanError
from ecg_scan.eee import (
    EEEConfig,
    toy_studies,
    eee_pretrain,
    eee_pretrain_cmd,
    eee_probe_cmd,
    load_eee,
    load_eee_teacher,
    cir_labels,
)
from ecg_scan.model import ECGScan, get_config, signal_teacher
from ecg_scan.data import sample_dataset


@pytest.fixture(scope="module")
def studies():
    return toy_studies(16, size=32, seconds=3.0)


def test_pretrain_reduces_loss(studies):
    m, h = eee_pretrain(studies, EEEConfig(), steps=40, bs=8, lr=2e-3, progress=False)
    assert np.isfinite(h.total).all() and set(h.columns) == {"token", "sid", "pid", "align", "total"}
    assert h.total[-8:].mean() < h.total[:8].mean()
    assert not m.training


def test_pretrain_is_seeded(studies):
    a = eee_pretrain(studies, steps=3, bs=4, seed=1, progress=False)[1]
    b = eee_pretrain(studies, steps=3, bs=4, seed=1, progress=False)[1]
    np.testing.assert_allclose(a.values, b.values, rtol=1e-5)


def test_run_folder_teacher_and_probe(studies, tmp_path):
    run = eee_pretrain_cmd(studies, tmp_path / "eee", steps=6, bs=4, progress=False)
    base = eee_pretrain_cmd(studies, tmp_path / "ecg_only", echo=False, steps=6, bs=4, progress=False)
    assert json.loads((run / "config.json").read_text())["kind"] == "eee"
    assert load_eee(run).echo is not None and load_eee(base).echo is None
    # the EEE ECG encoder as ECG-Scan's signal teacher, on real 12-lead records (12, 5000) at 500 Hz
    sig = torch.tensor(np.stack([sample_dataset(validate=True).signal(i) for i in range(3)]))
    t = signal_teacher(get_config("tiny", model=dict(teacher="eee", teacher_path=str(run))))
    e = t(sig)
    assert e.shape == (3, t.d_out) and torch.isfinite(e).all() and e.std(0).mean() > 0
    torch.testing.assert_close(e, load_eee_teacher(run)(sig))
    m = ECGScan(get_config("tiny", model=dict(teacher="eee", teacher_path=str(run))), pretrained=None)
    assert m.signal_embed_raw(sig).shape == (3, t.d_out)
    # probing: AUROCs in [0, 1] for every encoder, mode and fraction
    tab = eee_probe_cmd(
        studies, dict(eee=run, ecg_only=base), tmp_path / "probe.csv", fracs=(0.5, 1.0), seeds=(0,), ft_epochs=2
    )
    assert set(tab.encoder) == {"eee", "ecg_only", "untrained"} and set(tab["mode"]) == {"linear", "finetune"}
    assert tab.micro_auroc.between(0, 1).all()
    mac = tab.macro_auroc.dropna()
    assert len(mac) and mac.between(0, 1).all()


def test_missing_teacher_run_is_a_clear_error(tmp_path):
    with pytest.raises(ECGScanError, match="teacher_path=RUN"):
        signal_teacher(get_config("tiny", model=dict(teacher="eee")))
    with pytest.raises(ECGScanError, match="no EEE run"):
        signal_teacher(get_config("tiny", model=dict(teacher="eee", teacher_path=str(tmp_path))))


def test_cir_labels_from_diagnoses_csv(tmp_path):
    p = tmp_path / "diagnoses_icd.csv"
    p.write_text(
        "subject_id,hadm_id,seq_num,icd_code,icd_version\n1,10,1,I5022,10\n1,10,2,I10,10\n2,20,1,4019,9\n3,30,1,I480,10\n"
    )
    import pandas as pd

    y = cir_labels(pd.read_csv(p))
    assert y.loc[1, "CIR022"] == 1 and y.loc[1].sum() == 1 and y.loc[2].sum() == 0 and y.loc[3, "CIR029"] == 1


def test_echo_cli_end_to_end(tmp_path, capsys):
    "echo synth -> echo pretrain -> echo probe -> the run as ECG-Scan's teacher, through the `ecg-scan` entry point"
    from ecg_scan.cli import main
    import pandas as pd

    echo, run = tmp_path / "echo", tmp_path / "run"

    def cli(*a):
        rc = main([str(x) for x in a])
        o = capsys.readouterr()
        return rc, o.out, o.err

    rc, out, err = cli(
        "echo", "synth", "--out", echo, "--n", 16, "--frames", 20, "--seed", 6
    )  # seed 6: both label values among the test patients; assert rc == 0, err
    rc, out, err = cli("echo", "pretrain", echo, "--out", run, "--steps", 6, "--bs", 4)
    assert rc == 0, err
    assert "saved EEE" in out and "saved the ECG-only baseline" in out and "pairs from" in out
    assert load_eee(run).echo is not None and load_eee(run / "ecg_only").echo is None  # RUN means RUN/eee
    rc, out, err = cli("echo", "probe", run, echo, "--fracs", "1", "--seeds", "0,1", "--ft-epochs", 1)
    assert rc == 0, err
    t = pd.read_csv(run / "probe.csv")
    assert (
        set(t.encoder) == {"EEE", "ECG-only", "untrained"} and set(t["mode"]) == {"linear", "finetune"} and len(t) == 12
    )
    assert {"auroc_lvh", "auroc_reduced_ef"} <= set(t.columns)
    a = t[["micro_auroc", "auroc_lvh", "auroc_reduced_ef"]].values
    assert (
        np.isfinite(a).any() and ((a[np.isfinite(a)] >= 0) & (a[np.isfinite(a)] <= 1)).all()
    )  # NaN: one label value in a tiny test set
    assert "macro_auroc" in out and "+-" in out and "EEE" in out
    # the EEE run as ECG-Scan's signal teacher: a short smoke run
    rc, out, err = cli(
        "pretrain",
        "--out",
        tmp_path / "scan",
        "--data",
        "samples",
        "--set",
        f"optim.bs=8 model.teacher=eee model.teacher_path={run}",
        "--steps",
        2,
        "--valid-every",
        2,
    )
    assert rc == 0, err
    assert json.loads((tmp_path / "scan" / "config.json").read_text())["model"]["teacher"] == "eee"
    # one-line errors: missing folder, a folder without pairs, a missing run
    (tmp_path / "empty").mkdir()
    for a, frag in [
        (("echo", "pretrain", tmp_path / "nope", "--out", tmp_path / "r2"), "no such folder"),
        (("echo", "pretrain", tmp_path / "empty", "--out", tmp_path / "r3"), "no ECG-echo pair found"),
        (("echo", "pretrain", echo), "--out RUN is required"),
        (("echo", "probe", tmp_path / "norun", echo), "no such run folder"),
        (("echo", "probe", run, echo, "--fracs", "x"), "--fracs takes"),
    ]:
        rc, out, err = cli(*a)
        assert rc == 2 and frag in err and len(err.strip().splitlines()) == 1, (a, err)
