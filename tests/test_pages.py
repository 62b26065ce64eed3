"Folders of pages drawn elsewhere (ecg-image-kit) as datasets, and ecg-image-kit as a rendering engine, through the CLI"

import os, json, shutil
from pathlib import Path
import cv2
import numpy as np
import pandas as pd
import pytest
from conftest import run_cli, assert_one_line_error
from ecg_scan.signals import samples_path

SHARED = Path(__file__).resolve().parents[2] / "shared"
FOREIGN = next((p for p in (SHARED / "foreign", Path("/work/shared/foreign")) if p.exists()), None)
EIK_DIR = next(
    (p for p in (SHARED / "tools/ecg-image-kit", Path("/work/shared/tools/ecg-image-kit")) if p.exists()), None
)
EIK_PY = os.environ.get("ECG_SCAN_EIK_PYTHON", "/tmp/eik/eikvenv/bin/python")


def _records(dest: Path, ids=("E07500", "E07501", "HR06000")) -> Path:
    dest.mkdir()
    for r in ids:
        for s in (".hea", ".mat"):
            shutil.copy(samples_path("cinc2021", r + s), dest)
    return dest


@pytest.mark.skipif(FOREIGN is None, reason="the shared ecg-image-kit pages (shared/foreign/eik-clean) are not here")
@pytest.mark.long
def test_eik_folder_pretrains_probes_and_embeds(tmp_path):
    "A folder of 50 ecg-image-kit pages beside their records: scanned, pretrained on (pages mixed with renders), probed, zero-shot, embedded"
    pages = tmp_path / "eik-clean"
    shutil.copytree(FOREIGN / "eik-clean", pages)
    assert len(list(pages.glob("*.jpg"))) == 50
    r = run_cli("scan", pages, "--validate")
    assert r.returncode == 0, r.stderr
    assert "layout: pages" in r.stdout and "48 records" in r.stdout and "JS20004.hea: flat lead(s)" in r.stdout

    run = tmp_path / "run"
    r = run_cli(
        "pretrain",
        "--config",
        "tiny",
        "--data",
        pages,
        "--steps",
        "3",
        "--set",
        "optim.bs=4 render.page_frac=0.75",
        "--out",
        run,
    )
    assert r.returncode == 0, r.stderr
    assert "come with their own page: 75% of their training images" in r.stdout, r.stdout
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["render"]["page_frac"] == 0.75

    r = run_cli("probe", run, "--data", pages, "--fracs", "1", "--epochs", "3", "--out", tmp_path / "p")
    assert r.returncode == 0, r.stderr
    assert "the folder's own pages" in r.stdout
    p = pd.read_csv(tmp_path / "p" / "probe.csv")
    assert p.auroc.between(0, 1).all() and len(p) == 1

    r = run_cli("zeroshot", run, "--data", pages, "--split", "all")
    assert r.returncode == 0, r.stderr
    assert "48 records, the folder's own pages" in r.stdout

    r = run_cli("embed", run, pages, "--out", tmp_path / "e")
    assert r.returncode == 0, r.stderr
    z = np.load(tmp_path / "e" / "embeddings.npz")
    assert z["embeddings"].shape[0] == 50 and np.isfinite(z["embeddings"]).all()
    assert len({Path(f).name for f in z["files"]}) == 50


def test_bad_pairs_follow_the_bad_record_policy(tmp_path):
    "A page that is not an image and a record without a page are left out with the reason; --strict stops at the first"
    d = _records(tmp_path / "pages")
    (d / "E07500.png").write_bytes(b"\x89PNG broken")
    cv2.imwrite(str(d / "E07501.png"), np.full((85, 110, 3), 255, np.uint8))
    (d / "E07501.png").rename(d / "E07501-0.png")
    r = run_cli("scan", d, "--layout", "pages")
    assert r.returncode == 0, r.stderr
    assert "1 records" in r.stdout and "E07500.png: not a readable image" in r.stdout
    assert "HR06000.hea: no page image beside it" in r.stdout
    assert_one_line_error(run_cli("scan", d, "--layout", "pages", "--strict"), "not a readable image")


def test_render_eik_needs_checkout_and_environment(tmp_path):
    "`render --engine ecg-image-kit` without a checkout or an environment: one line naming the options and the fix"
    src = _records(tmp_path / "src")
    r = run_cli("render", src, "--out", tmp_path / "o", "--engine", "ecg-image-kit")
    assert_one_line_error(r, "--eik-dir", "--eik-python", "README.ecg_scan.md")
    r = run_cli(
        "render", src, "--out", tmp_path / "o", "--engine", "ecg-image-kit", "--eik-dir", src, "--eik-python", "python"
    )
    assert_one_line_error(r, "no gen_ecg_images_from_data_batch.py")
    if EIK_DIR is not None:
        r = run_cli(
            "render",
            src,
            "--out",
            tmp_path / "o",
            "--engine",
            "ecg-image-kit",
            "--eik-dir",
            EIK_DIR,
            "--eik-python",
            "/no/python",
        )
        assert_one_line_error(r, "/no/python: no such Python")
    assert_one_line_error(run_cli("render", src, "--out", tmp_path / "o", "--engine", "inkscape"), "--engine must be")


@pytest.mark.skipif(
    EIK_DIR is None or not Path(EIK_PY).exists(),
    reason=f"no ecg-image-kit environment at {EIK_PY} (build it as shared/tools/ecg-image-kit/README.ecg_scan.md says, "
    "or set ECG_SCAN_EIK_PYTHON)",
)
@pytest.mark.long
def test_render_eik_engine_draws_and_caches(tmp_path):
    "ecg-image-kit draws the records (distorted, seeded) into a folder of pages that is a dataset; a second call draws nothing"
    src, out = _records(tmp_path / "src"), tmp_path / "eik"
    args = ("render", src, "--out", out, "--engine", "ecg-image-kit", "--eik-dir", EIK_DIR, "--eik-python", EIK_PY)
    r = run_cli(*args, "--dpi", "100", "--augment", "--seed", "1")
    assert r.returncode == 0, r.stderr
    assert "drew 3 page(s)" in r.stdout
    for n in ("E07500", "E07501", "HR06000"):
        assert all((out / f"{n}{s}").exists() for s in (".png", ".json", ".hea", ".dat"))
    js = json.loads((out / "E07500.json").read_text())
    assert js["resolution"] == 100 and len(js["leads"]) == 13
    assert json.loads((out / "eik_render.json").read_text())["options"] == "--wrinkles --augment --rotate 3"
    r = run_cli(*args, "--dpi", "100", "--augment", "--seed", "1")
    assert r.returncode == 0 and "drew 0 page(s)" in r.stdout and "3 were already there" in r.stdout
    assert_one_line_error(run_cli(*args, "--dpi", "100"), "pages drawn with other options")
    r = run_cli("scan", out)
    assert r.returncode == 0 and "layout: pages" in r.stdout and "3 records" in r.stdout, r.stdout
