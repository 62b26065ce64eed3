"Integration tests for issue 13: `ecg-scan bench gpu` (its --dry-run on this CPU, and the one-line error without a GPU)."

import json
import pytest
from conftest import run_cli, assert_one_line_error


@pytest.mark.long
def test_bench_gpu_dry_run_writes_report(tmp_path):
    out = tmp_path / "bench"
    r = run_cli("bench", "gpu", "--dry-run", "--out", out, "--minutes", "5")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    md, res = (out / "bench_gpu.md").read_text(), json.loads((out / "bench_gpu.json").read_text())
    assert md.strip() in r.stdout  # the printed report is the one written
    for s in (
        "| precision |",
        "| loader workers |",
        "| check |",
        "resume exact to 1e-4 relative (fp32)",
        "50k-step pretraining",
    ):
        assert s in md, s
    assert res["dry_run"] and res["failed"] == {}, res["failed"]
    fp32 = res["precision"]["fp32"]
    assert fp32["steps"] >= 2 and fp32["nonfinite"] == [] and fp32["s_per_step"] > 0 and res["flops_per_step"] > 0
    assert {"speed bf16", "speed fp16", "resume bf16"} <= set(
        res["skipped"]
    )  # CPU: fp32 only, the others marked skipped
    assert set(res["loader"]) == {"0", "2"} and res["resume"]["ok"] and res["accelerate"]["1"]["ok"]
    assert res["advice"]["hours_50k"] > 0 and res["total_seconds"] > 0


def test_budget_skips_what_does_not_fit():
    "The time budget without a timed test: a part estimated above what is left is skipped and recorded, one that fits runs"
    from ecg_scan.bench import _Budget, _part

    res = dict(skipped={}, failed={}, seconds={})
    b = _Budget(minutes=1, reserve=10)  # 60 s, 10 s of them kept for the report
    assert _part(res, b, "too big", 120, lambda: "ran") is None and "too big" in res["skipped"]
    assert _part(res, b, "fits", 1, lambda: "ran") == "ran" and "fits" not in res["skipped"]
    assert _part(res, b, "breaks", 1, lambda: 1 / 0) is None and "ZeroDivisionError" in res["failed"]["breaks"]


def test_bench_gpu_without_gpu_is_one_line_error(tmp_path):
    r = run_cli("bench", "gpu", "--out", tmp_path / "b", env={"CUDA_VISIBLE_DEVICES": ""})
    assert r.returncode == 2
    assert_one_line_error(r, "needs a CUDA GPU, and there is none here", "--dry-run")
    assert not (tmp_path / "b").exists()


def test_bench_options_only_where_taken():
    r = run_cli("bench", "list")
    assert r.returncode == 0 and "gpu" in r.stdout
    r = run_cli("bench", "train", "--minutes", "1")
    assert r.returncode == 2
    assert_one_line_error(r, "takes no --minutes")
