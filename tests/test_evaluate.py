"Integration tests for issue 7: probe, zero-shot, embed, reconstruct and the demo, end to end from the shell."

import json
import numpy as np, pytest, torch
from conftest import run_cli, assert_one_line_error
from ecg_scan.model import ECGScan, get_config, load_model
from ecg_scan.evaluate import eval_renders, load_prompts
from ecg_scan.data import sample_dataset
from ecg_scan.render import classic_digitize
import ecg_scan.evaluate as E


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("model") / "ck"
    torch.manual_seed(0)
    ECGScan(get_config("tiny")).save_pretrained(d)
    return d


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    d = tmp_path_factory.mktemp("imgs")
    import cv2

    ims = eval_renders(sample_dataset(validate=True).subset(range(3)), progress=False)
    for i, im in enumerate(ims):
        cv2.imwrite(str(d / f"ecg{i}.png"), im[..., ::-1])
    (d / "broken.jpg").write_bytes(b"not an image")
    return d


def test_probe_with_baselines(model_dir, tmp_path):
    r = run_cli(
        "probe",
        model_dir,
        "--data",
        "samples",
        "--baselines",
        "--fracs",
        "0.1,1",
        "--epochs",
        "5",
        "--out",
        tmp_path / "p",
    )
    assert r.returncode == 0, r.stderr
    for m in ("ECG-Scan", "random encoder", "classic digitiser + signal teacher", "CLIP without adaptation"):
        assert m in r.stdout
    assert "could not load pretrained weights" in r.stdout  # offline: reported, not silently dropped or replaced
    assert "MedSigLIP weights not found" in r.stdout  # likewise MedSigLIP without its weights in the cache
    assert (tmp_path / "p" / "probe.csv").exists()


def test_zeroshot_and_prompts(model_dir, tmp_path):
    r = run_cli("zeroshot", model_dir, "--data", "samples", "--split", "all")
    assert r.returncode == 0, r.stderr
    assert "macro AUROC" in r.stdout and "| STach |" in r.stdout
    bad = tmp_path / "p.json"
    bad.write_text('{"AF": []}')
    assert_one_line_error(
        run_cli("zeroshot", model_dir, "--data", "samples", "--prompts", bad), "class 'AF' must map to a non-empty list"
    )
    bad.write_text("{oops")
    assert_one_line_error(run_cli("zeroshot", model_dir, "--data", "samples", "--prompts", bad), "not valid JSON")
    assert_one_line_error(
        run_cli("zeroshot", model_dir, "--data", "samples", "--split", "holdout"), "has no 'holdout' split"
    )


def test_zeroshot_code_test_layout(model_dir, tmp_path):
    from ecg_scan.data import make_code_test_example

    root = make_code_test_example(tmp_path / "code", n=12)
    r = run_cli("zeroshot", model_dir, "--data", root, "--split", "all", "--variant", "clean")
    assert r.returncode == 0, r.stderr
    assert "zero-shot on CODE-test (12 records" in r.stdout
    for c in ("RBBB", "SB", "ST"):
        assert f"| {c} |" in r.stdout  # CODE-test's class names have prompts
    assert {"1dAVb", "LBBB", "AF"} <= set(load_prompts())


def test_embed_and_reconstruct_redraw_read_pages_and_skip_blank_ones(model_dir, tmp_path):
    import cv2
    from ecg_scan.render import RenderConfig, render_ecg
    from ecg_scan.canonical import redraw_page

    d = tmp_path / "pages"
    d.mkdir()
    page = render_ecg(sample_dataset().signal(0), RenderConfig())[0][..., ::-1]  # A4 at 200 dpi, BGR
    cv2.imwrite(str(d / "page.png"), page)
    cv2.imwrite(str(d / "blank.png"), np.full_like(page, 255))
    r = run_cli("embed", model_dir, d, "--out", tmp_path / "e", "--redraw")
    assert r.returncode == 0, r.stderr
    assert "blank.png: --redraw: no ECG trace rows found on the page" in r.stderr
    assert "1 image(s)" in r.stdout and "1 skipped" in r.stdout
    got = np.load(tmp_path / "e" / "embeddings.npz")
    assert [f.endswith("page.png") for f in got["files"]] == [True]
    r = run_cli("embed", model_dir, d / "page.png", "--out", tmp_path / "c")
    assert r.returncode == 0, r.stderr
    plain = np.load(tmp_path / "c" / "embeddings.npz")["embeddings"]
    assert not np.allclose(got["embeddings"], plain, atol=1e-3)  # the redrawn page, not the page as it is
    m = load_model(model_dir)
    x = E.image_features(m, redraw_page(page, m.cfg.model.image_hw)[None])
    np.testing.assert_allclose(got["embeddings"], x, atol=1e-4)
    r = run_cli("reconstruct", model_dir, d, "--out", tmp_path / "rec", "--redraw", "--no-plot")
    assert r.returncode == 0, r.stderr
    assert "blank.png: --redraw: no ECG trace rows found on the page" in r.stderr
    assert sorted(p.name for p in (tmp_path / "rec").iterdir()) == ["page.dat", "page.hea"]


def test_embed_and_reconstruct(model_dir, images, tmp_path):
    r = run_cli("embed", model_dir, images, "--out", tmp_path / "e")
    assert r.returncode == 0, r.stderr
    assert "broken.jpg: not a readable image" in r.stderr
    d = np.load(tmp_path / "e" / "embeddings.npz")
    assert d["embeddings"].shape == (3, 768) and len(d["files"]) == 3
    assert np.allclose(np.linalg.norm(d["embeddings"], axis=1), 1, atol=1e-4)
    r = run_cli("reconstruct", model_dir, images / "ecg0.png", "--out", tmp_path / "rec")
    assert r.returncode == 0, r.stderr
    from ecg_scan.signals import load_ecg

    assert load_ecg(tmp_path / "rec" / "ecg0.hea", check=False).shape == (12, 5000)
    assert (tmp_path / "rec" / "ecg0.png").exists()
    assert_one_line_error(run_cli("embed", tmp_path / "nomodel", images), "config.json: not found")
    assert_one_line_error(run_cli("embed", model_dir, tmp_path / "noimages"), "no such file or folder")
    assert_one_line_error(
        run_cli("probe", model_dir, "--data", "samples", "--variant", "blurry"), "--variant must be clean or augmented"
    )


def test_digitiser_baseline_uses_the_reader_that_finds_the_page(monkeypatch):
    "The digitiser + teacher baseline reads each page with `digitise.digitise` at DIGITISER_SIZE, not a fixed geometry"
    seen, read = [], E.digitise
    monkeypatch.setattr(E, "digitise", lambda img, *a, **k: seen.append(img.shape) or read(img, *a, **k))
    ds = sample_dataset(validate=True).subset([0, 1])
    suite = {E.DIGITISER: ("digitiser", torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12 * 5000, 4)))}
    E.suite_features(suite, ds, "clean", E.FeatureCache(), "two", progress=False)
    assert seen == [(*E.DIGITISER_SIZE, 3)] * 2  # every page went through the new reader, at the page size
    true = np.stack([ds.signal(i) for i in range(2)])
    page = E.eval_renders(ds, size=E.DIGITISER_SIZE, progress=False)
    # the same page with a margin on top and left (a scan placed off-centre): the reader finds the panels again,
    # a digitiser that assumes the printout's own panel positions reads the wrong place
    h, w = E.DIGITISER_SIZE
    moved = np.full_like(page, 255)
    moved[:, 40:, 60:] = page[:, : h - 40, : w - 60]
    new, refused = E.digitise_pages(moved, progress=False)
    old = np.stack([classic_digitize(im) for im in moved])
    shown = E.shown_samples()
    r_new = E.recon_metrics(true, new, shown).loc["all", "pearson_r"]
    r_old = E.recon_metrics(true, old, shown).loc["all", "pearson_r"]
    assert not refused and r_new > 0.5 and r_new > r_old + 0.3, (r_new, r_old)


@pytest.mark.long
def test_demo_small(tmp_path):
    r = run_cli("demo", "--out", tmp_path / "demo", "--n", "120", "--steps", "6", "--epochs", "3", timeout=1200)
    assert r.returncode == 0, r.stderr
    rep = tmp_path / "demo" / "report.html"
    assert f"report: {rep}" in r.stdout and rep.exists()
    md = (tmp_path / "demo" / "report.md").read_text()
    for sec in (
        "## Linear probing",
        "## Transfer to real ECGs",
        "## Zero-shot",
        "## Reconstruction",
        "## Pages drawn elsewhere",
        "6 steps of batch 16",
    ):
        assert sec in md
    res = json.loads((tmp_path / "demo" / "results.json").read_text())
    assert {"probe", "transfer", "zeroshot", "reconstruction", "minutes"} <= set(res)
    for f in ("loss_curves", "tsne", "zeroshot_roc", "reconstruction_real", "examples"):
        assert (tmp_path / "demo" / "figures" / f"{f}.png").exists()
    # the numbers, not only the headings
    assert set(res) == {
        "version",
        "seed",
        "pretrain_minutes",
        "best_step",
        "best_valid",
        "probe",
        "transfer",
        "zeroshot",
        "foreign",
        "reconstruction",
        "minutes",
        "peak_gib",
    }
    assert res["best_step"] <= 6 and all(np.isfinite(v) for v in res["best_valid"].values())
    probe = [(r["method"], r["renders"], r["fraction"], r["auroc"], r["auroc_best_test"]) for r in res["probe"]]
    assert {m for m, *_ in probe} == {
        "ECG-Scan",
        "random encoder",
        "classic digitiser + signal teacher",
        "reference: signal teacher on the true signal",
    }
    aucs = np.array(
        [a for *_, a, b in probe]
        + [b for *_, a, b in probe]
        + [r["macro_auroc"] for r in res["transfer"] + res["zeroshot"]],
        float,
    )
    assert np.isfinite(aucs).mean() > 0.9 and ((aucs[np.isfinite(aucs)] >= 0) & (aucs[np.isfinite(aucs)] <= 1)).all()
    assert all(np.isfinite(a) and b >= a for *_, a, b in probe)  # best test epoch never below the selected one
    sel = {(m, v, f): a for m, v, f, a, _ in probe}
    assert max(sel["ECG-Scan", v, 1.0] for v in ("clean", "augmented")) > 0.5  # the trained model's probe beats chance
    assert sel["reference: signal teacher on the true signal", "-", 1.0] > 0.6
    rec = {(r["data"], r["renders"], r["method"]): r["pearson_r"] for r in res["reconstruction"]}
    dig = "classic digitiser (samples shown on the page)"
    assert (
        rec["SynthECG test", "clean", dig] > 0.3 and rec["real records", "clean", dig] > 0.3
    )  # clearly positive on clean renders
    assert (
        rec["SynthECG test", "clean", dig]
        > rec["SynthECG test", "clean", "ECG-Scan decoder (samples shown on the page)"]
    )  # 6 steps: below the digitiser
    # every number printed in report.md is the one in results.json (md_table: 3 decimals, '–' for NaN)
    lines, f3 = set(md.splitlines()), lambda x: f"{x:.3f}" if np.isfinite(x) else "–"
    for r in res["reconstruction"]:
        assert f"| {r['data']} | {r['renders']} | {r['method']} | {f3(r['snr_db'])} | {f3(r['pearson_r'])} |" in lines
    for r in res["zeroshot"]:
        assert f"| {r['data']} | {r['renders']} | {f3(r['macro_auroc'])} | {r['n_classes']} |" in md
    for r in res["transfer"]:
        assert f"| {r['method']} | {r['renders']} | {f3(r['macro_auroc'])} |" in md
    for m, v in {(m, v) for m, v, *_ in probe}:
        assert f"| {m} | {v} | " + " | ".join(f3(sel[m, v, f]) for f in (0.01, 0.1, 1.0)) + " |" in lines
    assert (
        f"at step {res['best_step']} (CLIP {res['best_valid']['ctr']:.3f}" in md
        and "frozen features, 3 epochs, test score" in md
    )
    html = rep.read_text()
    assert html.count("<table>") == 6 and all(
        f'src="figures/{f}.png"' in html
        for f in ("loss_curves", "tsne", "zeroshot_roc", "reconstruction_real", "examples")
    )


@pytest.mark.long
def test_ablate_table_and_resume(tmp_path):
    "`ecg-scan ablate`: every row and both references, mean ± sd over seeds, a verdict per row; a second call reuses the finished runs"
    out = tmp_path / "abl"
    args = (
        "ablate",
        "--config",
        "tiny",
        "--data",
        "synth:160",
        "--seeds",
        "0,1",
        "--steps",
        "2",
        "--epochs",
        "3",
        "--out",
        out,
        "--only",
        "full objective,reconstruction (MSE) only",
        "--extra",
        "token decoder: model.dec_memory=true; layout readout: model.dec_memory=true model.dec_readout=layout",
    )
    r = run_cli(*args, timeout=1200)  # the digitiser reads every page of the three splits
    assert r.returncode == 0, r.stderr
    import pandas as pd

    df = pd.read_csv(out / "ablation.csv")
    methods = [
        "full objective",
        "reconstruction (MSE) only",
        "token decoder",
        "layout readout",
        "random encoder",
        "classic digitiser + signal teacher",
    ]
    assert sorted(df.method.unique()) == sorted(methods) and sorted(df.seed.unique()) == [0, 1]
    probe = df[[c for c in df if c.startswith("probe")]].to_numpy()
    assert np.isfinite(probe).all() and (probe >= 0).all() and (probe <= 1).all()
    assert df.loc[df.method == "random encoder", "decoder r clean"].isna().all()  # no decoder: no reconstruction score
    assert df.loc[df.method.isin(["token decoder", "layout readout"]), "decoder r clean"].notna().all()
    md = (out / "ablation.md").read_text()
    for m in methods:
        assert f"| {m} |" in md
    assert (
        " ± " in md
        and "full objective vs reconstruction (MSE) only" in md
        and (out / "ablation.png").stat().st_size > 1000
    )
    first = {p: p.stat().st_mtime for p in out.glob("runs/*/scores.json")}
    assert len(first) == 8
    r2 = run_cli(*args)
    assert r2.returncode == 0, r2.stderr
    assert {p: p.stat().st_mtime for p in out.glob("runs/*/scores.json")} == first  # nothing retrained
    assert_one_line_error(
        run_cli("ablate", "--only", "no such row", "--out", tmp_path / "x"), "--only 'no such row': not a row"
    )
    assert_one_line_error(run_cli("ablate", "--seeds", "x", "--out", tmp_path / "x"), "--seeds 'x'")


def test_bench_digitise_scores_a_models_decoder(model_dir, capsys):
    from ecg_scan.bench import bench_digitise

    bench_digitise(n=2, foreign="", real="", varied=0, model=str(model_dir))
    rows = [[c.strip() for c in line.split("|")[1:-1]] for line in capsys.readouterr().out.splitlines()]
    dec = [r for r in rows if len(r) > 4 and r[1].startswith("ECG-Scan decoder")]
    assert [(r[0], r[1]) for r in dec] == [
        ("own clean", "ECG-Scan decoder"),
        ("own clean", "ECG-Scan decoder, redrawn"),
        ("own augmented", "ECG-Scan decoder"),
        ("own augmented", "ECG-Scan decoder, redrawn"),
    ]
    assert all(r[2] == "2" and np.isfinite(float(r[3])) for r in dec)  # two pages each, an SNR read
