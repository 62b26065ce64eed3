"Integration tests for issue 7: probe, zero-shot, embed, reconstruct and the demo, end to end from the shell."
import json
from pathlib import Path
import numpy as np, pytest, torch
from conftest import run_cli, assert_one_line_error
from ecg_scan.model import ECGScan, get_config
from ecg_scan.evaluate import eval_renders, load_prompts, classic_digitize
from ecg_scan.data import sample_dataset
from ecg_scan.signals import ECGScanError

@pytest.fixture(scope='module')
def model_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp('model')/'ck'
    torch.manual_seed(0)
    ECGScan(get_config('tiny')).save_pretrained(d)
    return d

@pytest.fixture(scope='module')
def images(tmp_path_factory):
    d = tmp_path_factory.mktemp('imgs')
    import cv2
    ims = eval_renders(sample_dataset(validate=True).subset(range(3)), progress=False)
    for i, im in enumerate(ims): cv2.imwrite(str(d/f'ecg{i}.png'), im[..., ::-1])
    (d/'broken.jpg').write_bytes(b'not an image')
    return d

def test_probe_with_baselines(model_dir, tmp_path):
    r = run_cli('probe', model_dir, '--data', 'samples', '--baselines', '--fracs', '0.1,1', '--epochs', '5', '--out', tmp_path/'p.csv')
    assert r.returncode == 0, r.stderr
    for m in ('ECG-Scan', 'random encoder', 'classic digitiser + signal teacher', 'CLIP without adaptation'): assert m in r.stdout
    assert 'could not load pretrained weights' in r.stdout       # offline: reported, not silently dropped or replaced
    assert (tmp_path/'p.csv').exists()

def test_zeroshot_and_prompts(model_dir, tmp_path):
    r = run_cli('zeroshot', model_dir, '--data', 'samples', '--split', 'all')
    assert r.returncode == 0, r.stderr
    assert 'macro AUROC' in r.stdout and '| STach |' in r.stdout
    bad = tmp_path/'p.json'; bad.write_text('{"AF": "not a list"}')
    assert_one_line_error(run_cli('zeroshot', model_dir, '--data', 'samples', '--prompts', bad), "class 'AF' must map to a non-empty list")
    bad.write_text('{oops')
    assert_one_line_error(run_cli('zeroshot', model_dir, '--data', 'samples', '--prompts', bad), 'not valid JSON')
    assert_one_line_error(run_cli('zeroshot', model_dir, '--data', 'samples', '--split', 'holdout'), "has no 'holdout' split")

def test_zeroshot_code_test_layout(model_dir, tmp_path):
    from ecg_scan.data import make_code_test_example
    root = make_code_test_example(tmp_path/'code', n=12)
    r = run_cli('zeroshot', model_dir, '--data', root, '--split', 'all', '--variant', 'clean')
    assert r.returncode == 0, r.stderr
    assert 'zero-shot on CODE-test (12 records' in r.stdout
    for c in ('RBBB', 'SB', 'ST'): assert f'| {c} |' in r.stdout   # CODE-test's class names have prompts
    assert {'1dAVb', 'LBBB', 'AF'} <= set(load_prompts())

def test_embed_and_reconstruct(model_dir, images, tmp_path):
    r = run_cli('embed', model_dir, images, '--out', tmp_path/'e.npz')
    assert r.returncode == 0, r.stderr
    assert 'broken.jpg: not a readable image' in r.stderr
    d = np.load(tmp_path/'e.npz')
    assert d['embeddings'].shape == (3, 768) and len(d['files']) == 3
    assert np.allclose(np.linalg.norm(d['embeddings'], axis=1), 1, atol=1e-4)
    r = run_cli('reconstruct', model_dir, images/'ecg0.png', '--out', tmp_path/'rec')
    assert r.returncode == 0, r.stderr
    from ecg_scan.signals import load_ecg
    assert load_ecg(tmp_path/'rec'/'ecg0.hea', check=False).shape == (12, 5000)
    assert (tmp_path/'rec'/'ecg0.png').exists()
    assert_one_line_error(run_cli('embed', tmp_path/'nomodel', images), 'config.json: not found')
    assert_one_line_error(run_cli('embed', model_dir, tmp_path/'noimages'), 'no such file or folder')
    assert_one_line_error(run_cli('probe', model_dir, '--data', 'samples', '--variant', 'blurry'), '--variant must be clean or augmented')

def test_digitizer_reads_clean_render():
    ds = sample_dataset(validate=True).subset([0])
    img = eval_renders(ds, progress=False)[0]
    x = classic_digitize(img)
    k = np.isfinite(x[1])
    assert k.mean() > 0.9 and np.corrcoef(x[1, k], ds.signal(0)[1, k])[0, 1] > 0.5

def test_demo_small(tmp_path):
    r = run_cli('demo', '--out', tmp_path/'demo', '--n-synth', '120', '--steps', '6', '--probe-epochs', '3', timeout=1200)
    assert r.returncode == 0, r.stderr
    rep = tmp_path/'demo'/'report.html'
    assert f'report: {rep}' in r.stdout and rep.exists()
    md = (tmp_path/'demo'/'report.md').read_text()
    for sec in ('## Linear probing', '## Transfer to real ECGs', '## Zero-shot', '## Reconstruction', '6 steps of batch 16'): assert sec in md
    res = json.loads((tmp_path/'demo'/'results.json').read_text())
    assert {'probe', 'transfer', 'zeroshot', 'reconstruction', 'minutes'} <= set(res)
    for f in ('loss_curves', 'tsne', 'zeroshot_roc', 'reconstruction_real', 'examples'): assert (tmp_path/'demo'/'figures'/f'{f}.png').exists()

def test_ablate_table_and_resume(tmp_path):
    "`ecg-scan ablate`: every row and both references, mean ± sd over seeds, a verdict per row; a second call reuses the finished runs"
    out = tmp_path/'abl'
    args = ('ablate', '--config', 'tiny', '--data', 'synth:160', '--seeds', '0,1', '--steps', '2', '--epochs', '3', '--out', out,
            '--only', 'full objective,reconstruction (MSE) only', '--extra', 'token decoder: dec_memory=true')
    r = run_cli(*args)
    assert r.returncode == 0, r.stderr
    import pandas as pd
    df = pd.read_csv(out/'ablation.csv')
    methods = ['full objective', 'reconstruction (MSE) only', 'token decoder', 'random encoder', 'classic digitiser + signal teacher']
    assert sorted(df.method.unique()) == sorted(methods) and sorted(df.seed.unique()) == [0, 1]
    probe = df[[c for c in df if c.startswith('probe')]].to_numpy()
    assert np.isfinite(probe).all() and (probe >= 0).all() and (probe <= 1).all()
    assert df.loc[df.method=='random encoder', 'decoder r clean'].isna().all()      # no decoder: no reconstruction score
    assert df.loc[df.method=='token decoder', 'decoder r clean'].notna().all()
    md = (out/'ablation.md').read_text()
    for m in methods: assert f'| {m} |' in md
    assert ' ± ' in md and 'full objective vs reconstruction (MSE) only' in md and (out/'ablation.png').stat().st_size > 1000
    first = {p: p.stat().st_mtime for p in out.glob('runs/*/scores.json')}
    assert len(first) == 6
    r2 = run_cli(*args)
    assert r2.returncode == 0, r2.stderr
    assert {p: p.stat().st_mtime for p in out.glob('runs/*/scores.json')} == first    # nothing retrained
    assert_one_line_error(run_cli('ablate', '--only', 'no such row', '--out', tmp_path/'x'), "--only 'no such row': not a row")
    assert_one_line_error(run_cli('ablate', '--seeds', 'x', '--out', tmp_path/'x'), "--seeds 'x'")
