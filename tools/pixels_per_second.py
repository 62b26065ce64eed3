"""How much of the signal a printout's pixels carry, against pixels per second: the figure and table of the section
"What the pixels allow" in nbs/08_decoder.ipynb.

    python tools/pixels_per_second.py [--n 100] [--runs DIR ...] [--png nbs/images/pixels_per_second.png]

For 100 held-out SynthECG records (`synth:1000`, test split, the records of `ecg-scan ablate --data synth:1000`) drawn
as clean standard printouts at 160, 224, 320, 448 and 672 px:
  column oracle   the true trace quantised to the page's pixel grid: each pixel column becomes the midpoint of the rows
                  the drawn line covers, rounded to a whole pixel; no noise, exact geometry. It is the best a reader that
                  takes one value per column can do, and an upper bound for readers without a prior on ECG shape.
  digitiser       the classic digitiser (grid removal, per-panel trace extraction; it knows the format);
  digitiser, HP   the same after a 0.7 Hz high-pass of truth and reading (is r carried by baseline wander?).
r is the median Pearson r over records and leads on the samples the page shows (as everywhere in ecg_scan).
`--runs` adds the ECG-Scan points of `ecg-scan ablate` folders pretrained at other sizes (`--set model.image_size=S`).
About a minute on an idle core (without --runs)."""

import argparse, json, numpy as np, pandas as pd, scipy.signal as ss
from pathlib import Path
from ecg_scan.evaluate import _eval_data, recon_metrics
from ecg_scan.metrics import md_table
from ecg_scan.render import digitize_all, standard_config, render_ecg
from ecg_scan.decoder import column_oracle

SIZES = (160, 224, 320, 448, 672)


def r_all(true, rec):
    m = np.isfinite(rec)
    return recon_metrics(true, rec, m).loc["all", "pearson_r"]


def pixel_table(n: int = 100) -> pd.DataFrame:
    ds = _eval_data("synth:1000").by_split("test").materialize(progress=False)
    true = np.stack([ds.signal(i) for i in range(min(n, len(ds)))]).astype(np.float64)
    b, a = ss.butter(2, 0.7, "highpass", fs=500)
    hp = lambda x: ss.filtfilt(b, a, np.nan_to_num(x), axis=-1)
    rows = []
    for size in SIZES:
        cfg = standard_config(size)
        meta = render_ecg(np.zeros((12, 5000), np.float32), cfg)[1]
        dig = digitize_all(np.stack([render_ecg(s, cfg)[0] for s in true.astype(np.float32)]), progress=False)
        rows.append(
            {
                "px": size,
                "px/s": meta.panels[0].px_per_s,
                "px/mV": meta.panels[0].px_per_mV,
                "column oracle r": r_all(true, column_oracle(true, meta)),
                "digitiser r": r_all(true, dig),
                "digitiser r, 0.7 Hz high-pass": r_all(hp(true), np.where(np.isfinite(dig), hp(dig), np.nan)),
            }
        )
    return pd.DataFrame(rows)


def run_points(dirs) -> pd.DataFrame:
    "ECG-Scan and digitiser scores of `ecg-scan ablate` folders, one row per folder (its image size from the run config)"
    rows = []
    for d in map(Path, dirs):
        df = pd.read_csv(d / "ablation.csv")
        cfg = json.loads(next((d / "runs").glob("full_objective-seed*/config.json")).read_text())
        size = cfg.get("model", cfg)["image_size"]
        mu = df.groupby("method", sort=False).mean(numeric_only=True)
        for meth in mu.index:
            rows.append({"px": size, "method": meth, **mu.loc[meth].to_dict()})
    return pd.DataFrame(rows)


def plot(tab, pts=None, png=None):
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(
        1, 2 if pts is not None and len(pts) else 1, figsize=(10 if pts is not None else 5.5, 3.4), squeeze=False
    )
    ax = axs[0, 0]
    for k, st in (("column oracle r", "k-o"), ("digitiser r", "C0-s"), ("digitiser r, 0.7 Hz high-pass", "C0:s")):
        ax.plot(tab["px/s"], tab[k], st, label=k)
    if pts is not None and len(pts):
        f = pts[pts.method == "full objective"].sort_values("px")
        pxs = dict(zip(tab.px, tab["px/s"]))
        ax.plot([pxs[p] for p in f.px], f["decoder r clean"], "C3-^", label="ECG-Scan small, token decoder")
        ax2 = axs[0, 1]
        for meth, st in (("full objective", "C3-^"), ("classic digitiser + signal teacher", "C0-s")):
            f = pts[pts.method == meth].sort_values("px")
            lab = {"full objective": "ECG-Scan small", "classic digitiser + signal teacher": "digitiser + teacher"}[
                meth
            ]
            ax2.plot([pxs[p] for p in f.px], f["probe 1 clean"], st, label=f"{lab}: probe 100 %")
            ax2.plot([pxs[p] for p in f.px], f["probe 0.1 clean"], st.replace("-", ":", 1), label=f"{lab}: probe 10 %")
        ax2.set_xlabel("pixels per second")
        ax2.set_ylabel("macro AUROC (clean)")
        ax2.legend(fontsize=7)
        ax2.grid(alpha=0.3)
    ax.axhline(0.8, color="grey", lw=0.6, ls="--")
    ax.set_xlabel("pixels per second (standard printout, 10 s strip)")
    ax.set_ylabel("median r on shown samples")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    plt.tight_layout()
    if png:
        plt.savefig(png, dpi=90)
    return fig


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--runs", nargs="*", default=[])
    ap.add_argument("--png")
    a = ap.parse_args()
    tab = pixel_table(a.n)
    print(md_table(tab))
    pts = run_points(a.runs) if a.runs else None
    if pts is not None:
        print(md_table(pts[["px", "method", "probe 0.1 clean", "probe 1 clean", "zero-shot clean", "decoder r clean"]]))
    if a.png:
        plot(tab, pts, a.png)
        print("written", a.png)
