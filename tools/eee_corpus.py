"""The table of nbs/results/eee_corpus.md from the `probe.csv` files that `ecg-scan echo probe` wrote into the runs of
the `#| eval: false` cell of nbs/10_eee.ipynb (ROOT/r600_s{0,1,2}: EEE and ECG-only; ROOT/nm600_s{0,1,2}: EEE without
mining; ROOT/kh600_s{0,1,2}: EEE with hard negatives kept, linear only). Each cell is the mean +- sd over every fit
of that encoder, mode and label fraction (3 pretraining seeds x 5 probe seeds); the untrained encoder is the same
model in every run folder, so it is read from the first. A group whose run folders are missing is left out.

    python tools/eee_corpus.py ROOT
"""

import sys
from pathlib import Path
import pandas as pd
from ecg_scan.metrics import md_table

root = Path(sys.argv[1])
COLS = [
    ("linear", 0.1, "macro"),
    ("linear", 0.1, "micro"),
    ("linear", 1.0, "macro"),
    ("linear", 1.0, "micro"),
    ("finetune", 0.1, "macro"),
    ("finetune", 1.0, "macro"),
]
HEAD = {"linear": "linear", "finetune": "fine-tune"}


def read(group: str) -> pd.DataFrame:
    fs = sorted(root.glob(f"{group}_s*/probe.csv"))
    return pd.concat([pd.read_csv(f).assign(run=f.parent.name) for f in fs]) if fs else pd.DataFrame()


def cell(t: pd.DataFrame, mode: str, frac: float, kind: str) -> str:
    v = t[(t["mode"] == mode) & (t.frac == frac)][f"{kind}_auroc"].dropna()
    return f"{v.mean():.3f} +- {v.std():.3f}" if len(v) > 1 else (f"{v.mean():.3f}" if len(v) else "-")


r600, nm, kh = read("r600"), read("nm600"), read("kh600")
rows = {}
if len(r600):
    rows["EEE"] = r600[r600.encoder == "EEE"]
    rows["ECG-only"] = r600[r600.encoder == "ECG-only"]
    rows["untrained"] = r600[(r600.encoder == "untrained") & (r600.run == r600.run.iloc[0])]
if len(nm):
    rows["EEE, no mining (`--no-mining`)"] = nm[nm.encoder == "EEE"]
if len(kh):
    rows["EEE, hard negatives kept (`--keep-hard`)"] = kh[kh.encoder == "EEE"]
tab = pd.DataFrame(
    [[name] + [cell(t, *c) for c in COLS] for name, t in rows.items()],
    columns=["ECG encoder"] + [f"{HEAD[m]} {f * 100:g} % {k}" for m, f, k in COLS],
)
print(md_table(tab))
print()
lin = {k: t[(t["mode"] == "linear") & (t.frac == 1.0)] for k, t in rows.items() if k in ("EEE", "ECG-only")}
labels = [c[len("auroc_") :] for c in r600.columns if c.startswith("auroc_")] if len(r600) else []
print(
    "(Per label, linear at 100 %: "
    + "; ".join(
        f"{k} " + ", ".join(f"{lab} {t[f'auroc_{lab}'].mean():.3f} +- {t[f'auroc_{lab}'].std():.3f}" for lab in labels)
        for k, t in lin.items()
    )
    + ".)"
)
