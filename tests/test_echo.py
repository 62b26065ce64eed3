"Integration tests for issue 15 (data side): `ecg-scan echo synth` -> `ecg-scan echo scan` end to end, bad files each reported with the reason."

from pathlib import Path
import numpy as np, pandas as pd
import wfdb
from conftest import run_cli, assert_one_line_error
from ecg_scan.echo import (
    RECORD_CSV,
    STUDY_CSV,
    SCAN_CSV,
    ECG_FS,
    SECONDARY_CAPTURE,
    echo_path,
    write_dicom,
    echo_pairs,
    trace_agreement,
    read_frames,
)


def _synth(tmp_path, n=10):
    root = tmp_path / "echo"
    r = run_cli("echo", "synth", "--out", root, "--n", n, "--start", 40)
    assert r.returncode == 0, r.stderr
    assert f"wrote {n} simulated echo studies" in r.stdout
    return root


def test_synth_scan_end_to_end(tmp_path):
    root = _synth(tmp_path)
    recs = pd.read_csv(root / RECORD_CSV)
    assert len(pd.read_csv(root / STUDY_CSV)) == 10 and len(recs) >= 10
    # three bad files in the layout: corrupt DICOM (truncated), not DICOM at all, another SOP class
    good = root / recs.dicom_filepath[0]
    corrupt = root / echo_path(10999999, 99999991, 1)
    corrupt.parent.mkdir(parents=True)
    corrupt.write_bytes(good.read_bytes()[:3000])
    junk = root / echo_path(10999999, 99999992, 1)
    junk.parent.mkdir(parents=True)
    junk.write_text("lorem ipsum")
    sc = root / echo_path(10999999, 99999993, 1)
    write_dicom(sc, read_frames(good, 0), SECONDARY_CAPTURE, 10999999, 99999993, 1)
    out = tmp_path / "traces"
    r = run_cli("echo", "scan", root, "--out", out)
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(out / SCAN_CSV).set_index("path")
    assert len(table) == len(recs) + 3  # every file has a row: none lost silently
    reason = lambda p: table.loc[p.relative_to(root).as_posix(), "reason"]
    assert reason(corrupt).startswith(("unreadable", "not DICOM", "truncated"))
    assert reason(junk).startswith("not DICOM")
    assert reason(sc).startswith("other SOP class: Secondary Capture")
    pairs = table[table.status == "pair"]
    assert len(pairs) >= 4 and (table[table.status != "pair"].reason.str.len() > 0).all()
    # each simulated nuisance is caught by its own check (clean loops may still be cut off by a tall R wave)
    want = dict(
        clipped="trace amplitude",
        dropout="trace continuity",
        outliers="trace HSV outliers",
        short="trace coverage",
        long="over 120 frames",
        still="other SOP class",
        **{"other-sop": "other SOP class"},
        none="trace amplitude",
    )
    for _, rec in recs.iterrows():
        row = table.loc[rec.dicom_filepath]
        assert row.status == "pair" and rec.sim_nuisance == "none" or row.reason.startswith(want[rec.sim_nuisance]), (
            rec.sim_nuisance,
            row.reason,
        )
    assert f"{len(pairs)} pairs" in r.stdout and "other SOP class" in r.stdout
    for p in pairs.index:  # one readable one-lead WFDB record per pair
        rec = wfdb.rdrecord(str(out / Path(p).stem))
        assert rec.fs == ECG_FS and rec.sig_name == ["II"] and rec.p_signal.shape == (400, 1)
        assert np.isfinite(rec.p_signal).all() and rec.p_signal.std() > 0.02
    # the traces are the patients' lead II
    ag = trace_agreement(root, echo_pairs(root))
    assert ag.r.median() >= 0.95, ag


def test_scan_errors_are_one_line(tmp_path):
    assert_one_line_error(run_cli("echo", "scan", tmp_path / "missing"), "not a folder")
    (tmp_path / "empty").mkdir()
    assert_one_line_error(run_cli("echo", "scan", tmp_path / "empty"), "no usable ECG-echo pair")
    assert_one_line_error(run_cli("echo", "synth", "--out", tmp_path / "x", "--n", 0), "--n must be at least 1")
    assert_one_line_error(run_cli("echo", "synth", "--out", tmp_path / "x", "--frames", 500), "--frames")
    assert_one_line_error(run_cli("echo"), "choose one of: synth, scan")


def test_strict_stops_at_first_bad_file(tmp_path):
    root = _synth(tmp_path, 3)
    bad = root / echo_path(10000000, 80000000, 1)
    bad.parent.mkdir(parents=True)
    bad.write_text("x")  # sorts first
    assert_one_line_error(run_cli("echo", "scan", root, "--strict"), "not DICOM")


def test_jpeg_folder_end_to_end(tmp_path):
    "MIMIC-IV-Echo stores JPEG-compressed DICOMs: written with --jpeg, scanned, traces still the patients' lead II"
    import pydicom

    root = tmp_path / "echo"
    r = run_cli("echo", "synth", "--out", root, "--n", 8, "--start", 40, "--jpeg", 90)
    assert r.returncode == 0, r.stderr
    assert "JPEG quality 90" in r.stdout
    recs = pd.read_csv(root / RECORD_CSV)
    assert (
        pydicom.dcmread(root / recs.dicom_filepath[0], stop_before_pixels=True).file_meta.TransferSyntaxUID
        == pydicom.uid.JPEGBaseline8Bit
    )
    out = tmp_path / "traces"
    r = run_cli("echo", "scan", root, "--out", out)
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(out / SCAN_CSV)
    assert len(table) == len(recs) and (table.status == "pair").sum() >= 4
    ag = trace_agreement(root, echo_pairs(root))
    assert ag.r.median() >= 0.95, ag
    assert_one_line_error(run_cli("echo", "synth", "--out", tmp_path / "y", "--jpeg", 0), "--jpeg")
