"Integration tests for issue 2: the CLI over real bundled records, dataset fixtures, and bad input."

import shutil
from pathlib import Path
import numpy as np
import pytest
from conftest import run_cli, assert_one_line_error
from ecg_scan.signals import samples_path, load_ecg, RecordError
from ecg_scan.data import (
    make_ptbxl_example,
    make_mimic_example,
    make_code_test_example,
    open_dataset,
    physionet_dataset,
    sample_dataset,
    write_wfdb,
)


def test_help_lists_commands():
    r = run_cli("--help", fresh=True)  # the installed console script itself (other tests fork the test process)
    assert r.returncode == 0
    for c in ("snr", "scan", "bench", "demo"):
        assert f"\n  {c} " in r.stdout
    for c in ("snr", "scan"):
        h = run_cli(c, "--help")
        assert h.returncode == 0 and "usage: ecg-scan " + c in h.stdout


def test_unknown_command_suggests():
    assert_one_line_error(run_cli("snrr"), "unknown command 'snrr'", "did you mean 'snr'")
    assert_one_line_error(run_cli("scan", "/no/such/folder", fresh=True), "/no/such/folder")  # and a fresh process


def test_snr_on_bundled_records(tmp_path):
    csv = tmp_path / "snr.csv"
    r = run_cli("snr", samples_path(), "--out", tmp_path)
    assert r.returncode == 0, r.stderr
    assert "measured 52 record(s); 0 could not be read" in r.stdout
    rows = {l.split()[0]: l.split()[1:] for l in r.stdout.splitlines()[2:7]}
    assert set(rows) == {"III", "aVR", "aVL", "aVF", "overall"}
    for v in rows.values():
        assert 30 < float(v[0]) < 60 and 30 < float(v[1]) < 60  # mean, median dB
    assert csv.exists() and len(csv.read_text().splitlines()) == 53


def test_snr_keeps_going_and_lists_failures(tmp_path):
    for f in samples_path("cinc2021").glob("E0750[0-4].*"):
        shutil.copy(f, tmp_path)
    (tmp_path / "E07501.mat").unlink()  # signal file missing
    (tmp_path / "bad.hea").write_text("bad twelve 500\n")  # unreadable header
    sig = load_ecg(samples_path("cinc2021", "E07502"))
    write_wfdb(
        tmp_path / "eight", sig[[0, 1, 6, 7, 8, 9, 10, 11]], 500, ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"]
    )  # 8-lead record
    r = run_cli("snr", tmp_path)
    assert r.returncode == 0, r.stderr
    assert "measured 4 record(s); 3 could not be read" in r.stdout
    assert "E07501.hea: signal file E07501.mat named in the header is missing" in r.stdout
    assert "bad.hea: not a valid WFDB header" in r.stdout
    assert "eight.hea: missing lead(s) III, aVR, aVL, aVF" in r.stdout


def test_snr_missing_folder(tmp_path):
    assert_one_line_error(run_cli("snr", tmp_path / "nope"), "folder not found")


def test_scan_ptbxl_fixture(tmp_path):
    root = make_ptbxl_example(tmp_path / "ptbxl")
    r = run_cli("scan", root, "--task", "rhythm", "--validate")
    assert r.returncode == 0, r.stderr
    assert "layout: ptbxl" in r.stdout and "PTB-XL rhythm: 11 records from 11 patients" in r.stdout
    assert "SR 9" in r.stdout


def test_scan_reports_bad_records_and_strict(tmp_path):
    root = make_mimic_example(tmp_path / "mimic")
    r = run_cli("scan", root, "--validate")
    assert r.returncode == 0, r.stderr
    assert "layout: mimic" in r.stdout
    assert "header listed in record_list.csv is missing" in r.stdout
    assert (
        "aVF has 40 NaN/inf samples" in r.stdout
    )  # MIMIC stores aVF in row 5; the fixture put NaNs in row 3 of its order
    assert "1 record(s) with a report shorter than 2 words left out" in r.stdout
    assert_one_line_error(run_cli("scan", root, "--strict"), "header listed in record_list.csv is missing")


def test_scan_bad_inputs(tmp_path):
    assert_one_line_error(run_cli("scan", tmp_path / "nope"), "folder not found")
    (tmp_path / "empty").mkdir()
    assert_one_line_error(run_cli("scan", tmp_path / "empty"), "no ECG records recognised")
    assert_one_line_error(run_cli("scan", samples_path(), "--layout", "nonsense"), "unknown layout 'nonsense'")
    root = make_ptbxl_example(tmp_path / "ptbxl")
    assert_one_line_error(run_cli("scan", root, "--task", "diagnosis"), "unknown PTB-XL task 'diagnosis'")


def test_code_test_fixture_roundtrip(tmp_path):
    ds = open_dataset(make_code_test_example(tmp_path / "code", n=4))
    assert len(ds) == 4 and ds[0].sig.shape == (12, 5000) and ds[0].sig.dtype == np.float32
    x = load_ecg(samples_path("cinc2021", "E07500"))
    assert np.corrcoef(ds[0].sig[1], x[1])[0, 1] > 0.99


def test_sample_dataset_validate_reports_flat_leads():
    ds = sample_dataset(validate=True)
    assert len(ds) == 50
    assert sorted(Path(p).name for p, _ in ds.errors) == ["JS20004.hea", "JS20008.hea"]
    assert all("flat lead(s) V2, V4, V6" in r for _, r in ds.errors)


def test_physionet_strict_raises(tmp_path):
    for f in samples_path("cinc2021").glob("E0750[0-1].*"):
        shutil.copy(f, tmp_path)
    (tmp_path / "E07501.mat").unlink()
    with pytest.raises(RecordError, match="E07501.mat named in the header is missing"):
        physionet_dataset(tmp_path, strict=True)
    assert len(physionet_dataset(tmp_path).errors) == 1
