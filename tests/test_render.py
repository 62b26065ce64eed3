"Integration tests for issue 4: `ecg-scan render` on real bundled records, the saved metadata, bad input, augmentation seeds."

import json, shutil
import numpy as np, cv2
import pytest
from conftest import run_cli, assert_one_line_error
from ecg_scan.signals import samples_path, load_ecg, read_wfdb, LEADS
from ecg_scan.render import render_ecg, load_render, extraction_errors, RenderConfig
from ecg_scan.augment import ecg_image, default_augment


def _trace_from_json(img, d, panel):
    "Read one panel's trace back using nothing but the JSON numbers: per pixel column, the centroid of the dark pixels"
    x0, y0, pps, ppmv, fs = panel["x0"], panel["y0"], panel["px_per_s"], panel["px_per_mV"], d["fs"]
    n = panel["end"] - panel["start"]
    xs = np.arange(
        int(np.ceil(x0)) + 3, int(np.floor(x0 + (n - 1) / fs * pps)) - 3
    )  # the separator ticks sit at the ends
    if panel["label_bbox"]:
        xs = xs[(xs < panel["label_bbox"][0] - 2) | (xs > panel["label_bbox"][2] + 2)]  # the label's columns
    y1, y2 = int(np.ceil(panel["cell"][1])), int(np.floor(panel["cell"][3]))
    dark = np.clip(
        (200.0 - img[y1 : y2 + 1, xs].max(-1)) / 200.0, 0, 1
    )  # black ink: all channels low; red grid keeps R high
    ok = dark.sum(0) > 0.3
    yc = (dark * np.arange(y1, y2 + 1)[:, None]).sum(0) / np.maximum(dark.sum(0), 1e-9)
    t = panel["start"] / fs + (xs - x0) / pps
    return t[ok], (y0 - yc[ok]) / ppmv


def test_render_record_writes_png_json_wfdb_and_mapping_recovers_trace(tmp_path):
    src = samples_path("cinc2021", "E07500.hea")
    r = run_cli("render", src, "--out", tmp_path / "out", "--dpi", "150")
    assert r.returncode == 0, r.stderr
    assert "rendered 1 record(s)" in r.stdout
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["E07500.dat", "E07500.hea", "E07500.json", "E07500.png"]
    img = cv2.cvtColor(cv2.imread(str(out / "E07500.png")), cv2.COLOR_BGR2RGB)
    d = json.loads((out / "E07500.json").read_text())
    assert (d["height"], d["width"]) == img.shape[:2] == (1240, 1754)
    assert len(d["panels"]) == 13 and d["config"]["layout"] == "3x4+II"
    plotted, fs, names, _ = read_wfdb(out / "E07500")
    assert names == LEADS and fs == 500 and plotted.shape == (12, 5000)
    sig = load_ecg(src)
    for p in d["panels"]:
        i = LEADS.index(p["lead"])
        seg = plotted[i, p["start"] : p["end"]]
        assert (
            np.isfinite(seg).all() and np.abs(seg - sig[i, p["start"] : p["end"]]).max() < 1e-3
        )  # 1 uV WFDB resolution
    assert np.isnan(plotted[0, 1250:]).all()  # lead I is only shown for the first 2.5 s
    for p in d["panels"]:  # read every trace back from the PNG with the JSON mapping and compare with the WFDB samples
        t, mv = _trace_from_json(img, d, p)
        ref = np.interp(t, np.arange(5000) / fs, plotted[LEADS.index(p["lead"])])
        err_px = np.abs(mv - ref) * p["px_per_mV"]
        assert len(t) > 0.85 * (p["end"] - p["start"]) / fs * p["px_per_s"]
        assert np.median(err_px) < 0.5 and np.percentile(err_px, 95) < 2.5, (
            p["lead"],
            np.median(err_px),
        )  # QRS columns span many px
        assert np.corrcoef(mv, ref)[0, 1] > 0.95, p["lead"]


def test_metadata_roundtrip_and_resolution_bound(tmp_path):
    sig = load_ecg(samples_path("cinc2021", "HR06000"))
    for cfg in [RenderConfig(dpi=100), RenderConfig(size=224, line_mm=1.0)]:
        e = extraction_errors(sig, cfg)
        assert e["flat_max"] <= e["flat_bound"] and e["outside_range_max"] == 0, e
    r = run_cli(
        "render",
        samples_path("cinc2021", "HR06000.hea"),
        "--out",
        tmp_path,
        "--size",
        "224",
        "--fmt",
        "jpg",
        "--layout",
        "6x2",
    )
    assert r.returncode == 0, r.stderr
    img, meta, plotted = load_render(tmp_path / "HR06000")
    assert img.shape == (224, 224, 3) and meta.cfg.layout == "6x2" and len(meta.panels) == 12
    assert (meta.panel("I").start, meta.panel("I").end, meta.panel("V1").start, meta.panel("V1").end) == (
        0,
        2500,
        2500,
        5000,
    )


def test_folder_with_broken_record_renders_the_others(tmp_path):
    src = tmp_path / "recs"
    src.mkdir()
    for f in samples_path("cinc2021").glob("E0750[0-2].*"):
        shutil.copy(f, src)
    (src / "E07501.mat").unlink()  # signal file missing
    (src / "bad.hea").write_text("bad twelve 500\n")  # unreadable header
    r = run_cli("render", src, "--out", tmp_path / "out", "--size", "300x420", "--grid", "blue", "--grid-style", "dots")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == ["E07500.png", "E07502.png"]
    skipped = [l for l in r.stdout.splitlines() if l.startswith("skipped ")]
    assert len(skipped) == 2
    assert any("E07501.hea" in l and "E07501.mat" in l for l in skipped)
    assert any("bad.hea" in l and "not a valid WFDB header" in l for l in skipped)
    assert "rendered 2 record(s)" in r.stdout and "2 skipped" in r.stdout


def test_dataset_folder_layout(tmp_path):
    from ecg_scan.data import make_ptbxl_example

    root = make_ptbxl_example(tmp_path / "ptbxl")
    r = run_cli("render", root, "--out", tmp_path / "out", "--size", "224", "--limit", "3")
    assert r.returncode == 0, r.stderr
    assert len(list((tmp_path / "out").glob("*.png"))) == 3


@pytest.mark.parametrize(
    "args,frag",
    [
        (["nowhere/X.hea", "--out", "out"], "not found"),
        (["nowhere_dir", "--out", "out"], "not found"),
        ([str(samples_path("cinc2021", "E07500.hea")), "--out", "out", "--layout", "4x3"], "unknown layout '4x3'"),
        ([str(samples_path("cinc2021", "E07500.hea")), "--out", "out", "--size", "big"], "size 'big' is invalid"),
        ([str(samples_path("cinc2021", "E07500.hea")), "--out", "out", "--grid", "purple"], "grid='purple' is invalid"),
        ([str(samples_path("cinc2021", "E07500.hea")), "--out", "out", "--fmt", "gif"], "unknown image format 'gif'"),
        ([str(samples_path("cinc2021", "E07500.hea")), "--out", "out", "--speed", "0"], "speed=0.0 is invalid"),
    ],
)
def test_bad_inputs_one_line_errors(tmp_path, args, frag):
    assert_one_line_error(run_cli("render", *args, cwd=tmp_path), frag)


def test_augmentation_is_deterministic_by_seed(tmp_path):
    src = samples_path("cinc2021", "E07503.hea")
    outs = []
    for k, seed in enumerate([3, 3, 4]):
        r = run_cli("render", src, "--out", tmp_path / f"o{k}", "--size", "224", "--augment", "--seed", seed)
        assert r.returncode == 0, r.stderr
        outs.append(cv2.imread(str(tmp_path / f"o{k}" / "E07503.png")))
    assert np.array_equal(outs[0], outs[1]) and not np.array_equal(outs[0], outs[2])
    d = json.loads((tmp_path / "o0" / "E07503.json").read_text())
    assert np.array(d["warp"]).shape == (3, 3)
    sig = load_ecg(src)
    aug = default_augment()
    img, _ = render_ecg(sig, size=224)
    for seed in range(10):
        assert np.array_equal(aug(img, np.random.default_rng(seed)), aug(img, np.random.default_rng(seed)))
        assert np.array_equal(ecg_image(sig, np.random.default_rng(seed)), ecg_image(sig, np.random.default_rng(seed)))
    assert not np.array_equal(ecg_image(sig, np.random.default_rng(0)), ecg_image(sig, np.random.default_rng(1)))


def test_pages_of_two_sizes_without_text_in_one_process():
    "Regression: pages without any text layer cached one text mask for every size, so a second size crashed in `_composite`"
    from dataclasses import replace

    sig = load_ecg(samples_path("cinc2021", "E07500"))
    c1 = RenderConfig(size=224, labels=False, header="", info=False)
    assert render_ecg(sig, c1)[0].shape == (224, 224, 3)
    assert render_ecg(sig, replace(c1, size=160))[0].shape == (160, 160, 3)
    assert render_ecg(sig, replace(c1, size=(160, 320), layout="6x2"))[0].shape == (160, 320, 3)


def test_render_vary_writes_varied_pages_with_masks_and_exact_geometry(tmp_path):
    "Issue 25: `render --vary` pages: every choice in the JSON, and the saved geometry maps the truth onto trace pixels"
    src = tmp_path / "recs"
    src.mkdir()
    for f in samples_path("cinc2021").glob("E0750[0-5].*"):
        shutil.copy(f, src)
    for k, seed in enumerate([5, 5]):
        r = run_cli("render", src, "--out", tmp_path / f"v{k}", "--size", "400x560", "--vary", "--seed", seed)
        assert r.returncode == 0, r.stderr
    names = sorted(p.stem for p in (tmp_path / "v0").glob("*.png") if not p.stem.endswith("_mask"))
    assert len(names) == 6
    layouts, fonts = set(), set()
    for n in names:
        img, meta, plotted = load_render(tmp_path / "v0" / n)
        again = cv2.imread(str(tmp_path / "v1" / f"{n}.png"))
        assert np.array_equal(cv2.cvtColor(img, cv2.COLOR_RGB2BGR), again)  # same seed, same page
        d = json.loads((tmp_path / "v0" / f"{n}.json").read_text())
        assert all({"aug", "strength", "seed"} <= set(o) for o in d["augment"])
        layouts.add(meta.cfg.layout)
        fonts.add(meta.cfg.font)
        mask = cv2.imread(str(tmp_path / "v0" / f"{n}_mask.png"), cv2.IMREAD_GRAYSCALE)
        assert mask.shape == img.shape[:2] == (400, 560)
        near = cv2.dilate(mask, np.ones((3, 3), np.uint8)) > 0
        hit = tot = 0
        sig = load_ecg(src / f"{n}.hea")
        for p in meta.panels:
            x, y = meta.to_image(*p.xy(sig))
            x, y = np.rint(x).astype(int), np.rint(y).astype(int)
            ok = (x >= 0) & (y >= 0) & (x < 560) & (y < 400)
            hit, tot = hit + near[y[ok], x[ok]].sum(), tot + ok.sum()
        assert tot > 1000 and hit / tot > 0.98, (n, hit / tot)
    assert len(layouts) + len(fonts) >= 4  # the pages differ
