"""Why the paper's decoder outputs the mean at CPU scale: the diagnostic table of nbs/08_decoder.ipynb.

    python tools/decoder_diagnostics.py [ROW ...] [--steps N]

Rows (all: MSE only, batch 16, AdamW 1e-3 with warmup + cosine, on 400 SynthECG records (seed 5) rendered once as
clean standard printouts at 224 px; 336 train, 64 held out (`--n N`: N - 64 train); r = median Pearson r on the samples the page shows):
  global        `small` (paper decoder: pooled latent, shared readout), tower trained with it
  oracle        the paper decoder given the true signal at 25 Hz, linearly projected to 64 d (600 steps)
  token         `small` with the token-reading decoder, shared readout
  token_pq      `small` with the token-reading decoder, per-query readout
--set "k=v ..." changes the config of the model rows (e.g. "model.dec_d=256").
  global_pq     `small` with the paper's pooled latent and a per-query readout
  token_layout  `small` with the token-reading decoder and the layout readout (one map shared by all page columns)
  ridge         ridge regression from each page column's raw pixels to its samples
  digitiser     the classic digitiser
Default: every row (about 15 minutes on 2 cores).
"""

import sys, time, argparse, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from ecg_scan.synth import synth_dataset
from ecg_scan.render import digitize_all
from ecg_scan.evaluate import eval_renders, recon_metrics
from ecg_scan.model import ECGScan, get_config
from ecg_scan.decoder import SignalDecoder
from ecg_scan.encoders import image_tensor

ROWS = dict(
    global_=dict(dec_memory=False, dec_readout="shared"),
    token=dict(dec_memory=True, dec_readout="shared"),
    token_pq=dict(dec_memory=True, dec_readout="per_query"),
    global_pq=dict(dec_memory=False, dec_readout="per_query"),
    token_layout=dict(dec_memory=True, dec_readout="layout"),
)


def data(n=400, ntest=64):
    ds = synth_dataset(n, seed=5).materialize(progress=False)
    sig = np.stack([ds.signal(i) for i in range(len(ds))]).astype(np.float32)
    imgs = eval_renders(ds, progress=False)
    return sig, imgs, np.isfinite(digitize_all(imgs[-ntest:], progress=False)), n - ntest


def fit(params, f, sig, ntr, steps, lr=1e-3, bs=16):
    "AdamW with 10 % warmup and cosine decay on the MSE of `f(idx)` against the signals"
    opt, rng, S = torch.optim.AdamW(params, lr=lr, weight_decay=0.05), np.random.default_rng(0), torch.from_numpy(sig)
    for s in range(steps):
        idx = rng.choice(ntr, bs, replace=False)
        for g in opt.param_groups:
            g["lr"] = lr * min(1, (s + 1) / (0.1 * steps)) * 0.5 * (1 + np.cos(np.pi * s / steps))
        loss = F.mse_loss(f(idx), S[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()


def r_of(rec, sig, mask):
    return recon_metrics(sig, rec, mask).loc["all", "pearson_r"]


def model_row(ov, sig, imgs, mask, ntr, steps, extra=None):
    torch.manual_seed(0)
    cfg = get_config("small", **{**ov, **(extra or {})})
    m = ECGScan(cfg, teachers=False).train()
    I = torch.from_numpy(imgs)

    def f(idx):
        _, z, tok = m.image(image_tensor(I[idx], cfg.model.image_hw))
        return m.decoder(z, tok if cfg.model.dec_memory else None)

    fit([p for p in m.parameters() if p.requires_grad], f, sig, ntr, steps)
    m.eval()
    with torch.no_grad():
        rec = lambda sl: torch.cat(
            [m.reconstruct(image_tensor(I[sl][i : i + 32], cfg.model.image_hw)) for i in range(0, len(I[sl]), 32)]
        ).numpy()
    return r_of(rec(slice(ntr, None)), sig[ntr:], mask), r_of(
        rec(slice(0, len(sig) - ntr)), sig[: len(sig) - ntr], mask
    )


def oracle_row(sig, mask, ntr, steps):
    torch.manual_seed(0)
    enc, dec = nn.Linear(12 * 250, 64), SignalDecoder(64, 2, 4, 5000, 25, 12, 0.25)
    f = lambda x: dec(enc(F.avg_pool1d(x, 20).flatten(1)))
    S = torch.from_numpy(sig)
    fit(list(enc.parameters()) + list(dec.parameters()), lambda idx: f(S[idx]), sig, ntr, steps)
    dec.eval()
    with torch.no_grad():
        return r_of(f(S[ntr:]).numpy(), sig[ntr:], mask), None


def ridge_row(sig, imgs, mask, ntr, lam=10.0):
    g = imgs.mean(-1) / 255.0
    n = len(g)
    rec = np.zeros((n - ntr, 12, 5000), np.float32)
    e = np.linspace(0, 5000, 15).astype(int)
    for j in range(14):
        X = g[:, :, j * 16 : (j + 1) * 16].reshape(n, -1)
        X = X - X[:ntr].mean(0)
        Y = sig[:, :, e[j] : e[j + 1]].reshape(n, -1)
        mu = Y[:ntr].mean(0)
        W = X[:ntr].T @ np.linalg.solve(X[:ntr] @ X[:ntr].T + lam * np.eye(ntr), Y[:ntr] - mu)
        rec[:, :, e[j] : e[j + 1]] = (X[ntr:] @ W + mu).reshape(n - ntr, 12, -1)
    return r_of(rec, sig[ntr:], mask), None


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "rows",
        nargs="*",
        default=["global", "oracle", "token", "token_pq", "global_pq", "token_layout", "ridge", "digitiser"],
    )
    ap.add_argument("--steps", type=int, default=800)
    ap.add_argument("--n", type=int, default=400, help="SynthECG records (64 held out)")
    ap.add_argument(
        "--set", default="", help='config overrides for the model rows, e.g. "model.dec_d=256 model.dec_layers=4"'
    )
    a = ap.parse_args()
    from ecg_scan.model import parse_set

    extra = parse_set(a.set)
    sig, imgs, mask, ntr = data(a.n)
    for row in a.rows:
        t = time.time()
        if row in ("global", "token", "token_pq", "global_pq", "token_layout"):
            te, tr = model_row(ROWS["global_" if row == "global" else row], sig, imgs, mask, ntr, a.steps, extra)
        elif row == "oracle":
            te, tr = oracle_row(sig, mask, ntr, min(a.steps, 600))
        elif row == "ridge":
            te, tr = ridge_row(sig, imgs, mask, ntr)
        elif row == "digitiser":
            te, tr = r_of(digitize_all(imgs[ntr:], progress=False), sig[ntr:], mask), None
        else:
            sys.exit(f"unknown row {row!r}; rows: global oracle token token_pq global_pq token_layout ridge digitiser")
        print(
            f"{row:<10} held-out r {te:.3f}"
            + (f"  training renders r {tr:.3f}" if tr is not None else "")
            + f"  ({time.time() - t:.0f} s)",
            flush=True,
        )
