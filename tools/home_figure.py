"""Draw the home page's figure, nbs/images/printout_reconstruction.png: a real bundled record rendered as a standard
printout, and the signal read back from that image by the classic digitiser (grid removal and trace extraction,
`ecg_scan.render.extract_trace` with the page geometry) against the true trace. Deterministic; about 5 s on one core.
Usage: python tools/home_figure.py [--out PATH]"""

import sys, io
from pathlib import Path
import numpy as np
from PIL import Image
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from ecg_scan.signals import load_ecg, samples_path, LEADS, FS
from ecg_scan.render import render_ecg, standard_config, extract_trace, header_text

root = Path(__file__).resolve().parent.parent
RECORD = "HR06000"  # PTB-XL via the PhysioNet/CinC Challenge 2021, sinus rhythm


def pearson(a, b):
    "Pearson r over the samples where both are finite"
    k = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(a[k], b[k])[0, 1])


def figure(record: str = RECORD, size=(560, 792)):
    "`(fig, sig, rec, rs)`: the figure, the true and the digitised signal (12, 5000) and the Pearson r of each lead"
    sig = load_ecg(samples_path("cinc2021", record)).astype(np.float32)
    cfg = standard_config(size)
    img, meta = render_ecg(sig, cfg, header=header_text(id=record, date="2020-01-01"))
    rec = extract_trace(img, meta)[:, : sig.shape[1]]
    rs = [pearson(sig[l], rec[l]) for l in range(12)]
    fig = plt.figure(figsize=(10, 9))
    gs = fig.add_gridspec(2, 1, height_ratios=[7, 1.6], hspace=0.12)
    ax = fig.add_subplot(gs[0])
    ax.imshow(img, interpolation="lanczos")
    ax.axis("off")
    ax.set_title(
        f"{record} (a real 12-lead record) rendered as a standard 3x4 + II printout, {size[1]} x {size[0]} px",
        fontsize=10,
    )
    t, l = np.arange(sig.shape[1]) / FS, LEADS.index("II")
    a = fig.add_subplot(gs[1])
    a.plot(t, rec[l], color="tab:red", lw=2.2, alpha=0.6, label="read back from the image by the classic digitiser")
    a.plot(t, sig[l], "k", lw=0.7, label="true signal")
    a.set_xlim(0, 10)
    a.set_ylabel("II (mV)")
    a.set_xlabel("s")
    a.legend(fontsize=8, loc="upper right", ncol=2)
    a.set_title(
        f"the rhythm strip, lead II: Pearson r {rs[l]:.2f} (median over the 12 leads {np.median(rs):.2f})", fontsize=9
    )
    return fig, sig, rec, rs


if __name__ == "__main__":
    out = (
        Path(sys.argv[sys.argv.index("--out") + 1])
        if "--out" in sys.argv
        else root / "nbs" / "images" / "printout_reconstruction.png"
    )
    fig, sig, rec, rs = figure()
    buf = io.BytesIO()
    fig.savefig(buf, dpi=100, bbox_inches="tight")
    Image.open(buf).convert("RGB").quantize(colors=96).save(out, optimize=True)  # a palette PNG: a third of the size
    print(
        f"wrote {out} ({out.stat().st_size / 1024:.0f} KB); Pearson r of lead II {rs[1]:.3f}, median over the 12 leads {np.median(rs):.3f}"
    )
