"""Issue 12: the bad-input suite. Every case of the issue (crash, silently wrong result, run folder, unclear message,
out-of-distribution output) is run and must end with the right exit code, one clear line on stderr and no traceback,
without dropping a good record or leaving half-written output. Plus fault injection for checkpoint saves.

Fast cases call `ecg_scan.cli.main` in this process (no interpreter start-up per case); the cases about processes
(a second `pretrain` on a locked run, a SIGKILL) use the installed `ecg-scan` script."""

import os, re, json, time, signal, shutil, subprocess, contextlib
from pathlib import Path
from unittest import mock
import numpy as np, pandas as pd, pytest, torch, cv2
from conftest import CLI
from ecg_scan.cli import main
from ecg_scan.signals import samples_path, load_ecg, read_wfdb, LEADS, recover_folder
from ecg_scan.data import write_wfdb
from ecg_scan.model import ECGScan, get_config
import ecg_scan.signals, ecg_scan.train
from ecg_scan.train import pretrain, load_state

GOOD = ["E07500", "E07501", "E07502", "E07503", "E07504", "HR06000", "HR06001", "HR06002", "HR06003", "HR06004"]
TINY = ["--data", "samples", "--set", "optim.bs=8"]


@pytest.fixture(scope="module")
def w(tmp_path_factory):
    "A shared workspace: a random `tiny` model, images (good, same name twice, a space, a non-UTF-8 name), record folders"
    d = tmp_path_factory.mktemp("bad")
    torch.manual_seed(0)
    ECGScan(get_config("tiny")).save_pretrained(d / "model")
    from ecg_scan.evaluate import eval_renders
    from ecg_scan.data import sample_dataset

    ims = eval_renders(sample_dataset(validate=True).subset(range(2)), progress=False)
    for sub, i in (("a", 0), ("b", 1)):
        (d / "imgs" / sub).mkdir(parents=True)
        cv2.imwrite(str(d / "imgs" / sub / "x.png"), ims[i][..., ::-1])
    cv2.imwrite(str(d / "imgs" / "my scan.png"), ims[1][..., ::-1])
    with open(os.fsencode(str(d / "imgs")) + b"/bad\xffname.png", "wb") as f:
        f.write((d / "imgs" / "a" / "x.png").read_bytes())
    recs = d / "recs"
    recs.mkdir()  # good records plus a NaN lead, a 2 s record and a truncated signal file
    for r in GOOD:
        for s in (".hea", ".mat"):
            shutil.copy(samples_path("cinc2021", r + s), recs)
    x = load_ecg(samples_path("cinc2021", "E07505"))
    x2 = x.copy()
    x2[3] = np.nan
    write_wfdb(recs / "nan_lead", x2, 500, LEADS, comments=["Dx: 426783006"])
    write_wfdb(recs / "short", x[:, :1000], 500, LEADS, comments=["Dx: 426783006"])
    shutil.copy(samples_path("cinc2021", "E07506.hea"), recs / "trunc.hea")
    (recs / "trunc.hea").write_text((recs / "trunc.hea").read_text().replace("E07506", "trunc"))
    (recs / "trunc.mat").write_bytes(samples_path("cinc2021", "E07506.mat").read_bytes()[:2488])
    nanrec = d / "allnan"
    nanrec.mkdir()
    x3 = x.copy()
    x3[:] = np.nan
    write_wfdb(nanrec / "all_nan", x3, 500, LEADS)
    junk = d / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("hello")
    (junk / "photo.png").write_bytes(b"png?")
    junkhea = d / "junkhea"
    junkhea.mkdir()
    (junkhea / "a.hea").write_text("not a header\n")
    (junkhea / "b.hea").write_text("b 2 500 10\n")
    nodx = d / "nodx"
    nodx.mkdir()
    for r in GOOD[:6]:
        (nodx / f"{r}.hea").write_text(
            "".join(l for l in samples_path("cinc2021", r + ".hea").read_text().splitlines(True) if "Dx" not in l)
        )
        shutil.copy(samples_path("cinc2021", r + ".mat"), nodx)
    badname = d / "badname"
    badname.mkdir()  # two good records and a copy whose name is not UTF-8
    for r in GOOD[:2]:
        for s in (".hea", ".mat"):
            shutil.copy(samples_path("cinc2021", r + s), badname)
    with open(os.fsencode(str(badname)) + b"/E\xff.hea", "wb") as f:
        f.write(samples_path("cinc2021", "E07500.hea").read_bytes())
    (d / "afile").write_text("x")
    return d


def run(capsys, *args):
    "`ecg-scan ARGS` in this process: (exit code, stdout, stderr)"
    code = main([str(a) for a in args])
    o = capsys.readouterr()
    return code, o.out, o.err


def one_line(err: str, *frags) -> str:
    "The single non-empty stderr line (no traceback), containing every fragment"
    assert "Traceback" not in err, err
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1, err
    for f in frags:
        assert f in lines[0], lines[0]
    return lines[0]


def readonly(w):
    "A folder this process cannot write in (as root, chmod does not stop writes: /sys is read-only to everyone)"
    if os.getuid() == 0:
        return Path("/sys/ecg_scan_out")
    p = w / "ro"
    p.mkdir(exist_ok=True)
    p.chmod(0o555)
    return p / "out"


# ---- refused before any work: (case, args, fragments of the one error line). {w} is the workspace, {o} a fresh output path
REFUSED = [
    (
        "pretrain --workers -1",
        ["pretrain", "--out", "{o}", *TINY, "--workers", "-1"],
        ["--workers -1 is out of range", "integer >= 0"],
    ),
    (
        "pretrain bs=0",
        ["pretrain", "--out", "{o}", "--data", "samples", "--set", "optim.bs=0"],
        ["bs 0 is out of range", ">= 1"],
    ),
    ("pretrain --accum 0", ["pretrain", "--out", "{o}", *TINY, "--accum", "0"], ["--accum 0 is out of range"]),
    (
        "pretrain image_size=0",
        ["pretrain", "--out", "{o}", *TINY, "--set", "model.image_size=0"],
        ["image_size 0 is out of range", ">= 32"],
    ),
    ("pretrain --steps 0", ["pretrain", "--out", "{o}", *TINY, "--steps", "0"], ["steps 0 is out of range"]),
    (
        "pretrain lr=-1",
        ["pretrain", "--out", "{o}", *TINY, "--set", "optim.lr=-1"],
        ["lr -1.0 is out of range", "number > 0"],
    ),
    ("pretrain --clip -1", ["pretrain", "--out", "{o}", *TINY, "--clip", "-1"], ["--clip -1.0 is out of range"]),
    (
        "pretrain augment_p=2",
        ["pretrain", "--out", "{o}", *TINY, "--set", "render.augment_p=2"],
        ["augment_p 2.0 is out of range", "[0, 1]"],
    ),
    (
        "pretrain warmup=-1",
        ["pretrain", "--out", "{o}", *TINY, "--set", "optim.warmup=-1"],
        ["warmup -1.0 is out of range"],
    ),
    (
        "pretrain layout=5x5",
        ["pretrain", "--out", "{o}", *TINY, "--set", "render.layout=5x5"],
        ["layout: unknown layout '5x5'"],
    ),
    (
        "pretrain --seed x",
        ["pretrain", "--out", "{o}", *TINY, "--seed", "x"],
        ["argument --seed: invalid int value: 'x'", "--help"],
    ),
    (
        "pretrain --valid-every 0",
        ["pretrain", "--out", "{o}", *TINY, "--valid-every", "0"],
        ["--valid-every 0 is out of range"],
    ),
    ("pretrain --out is a file", ["pretrain", "--out", "{w}/afile", *TINY], ["afile is a file; pass a folder"]),
    ("pretrain --out read-only", ["pretrain", "--out", "{ro}", *TINY], ["cannot", "choose a writable location"]),
    (
        "pretrain --resume --overwrite",
        ["pretrain", "--out", "{o}", *TINY, "--resume", "--overwrite"],
        ["pass one of them"],
    ),
    ("teacher --lr -1", ["teacher", "--out", "{o}", "--lr", "-1"], ["--lr -1.0 is out of range"]),
    ("teacher --steps 0", ["teacher", "--out", "{o}", "--steps", "0"], ["--steps 0 is out of range"]),
    ("embed --bs 0", ["embed", "{w}/model", "{w}/imgs/a", "--bs", "0", "--out", "{o}"], ["--bs 0 is out of range"]),
    ("embed --out is a file", ["embed", "{w}/model", "{w}/imgs/a", "--out", "{w}/afile"], ["afile is a file"]),
    ("embed --out read-only", ["embed", "{w}/model", "{w}/imgs/a", "--out", "{ro}"], ["cannot"]),
    (
        "embed --fmt",
        ["embed", "{w}/model", "{w}/imgs/a", "--out", "{o}", "--fmt", "h5"],
        ["--fmt must be 'npz' or 'csv'"],
    ),
    (
        "reconstruct --bs 0",
        ["reconstruct", "{w}/model", "{w}/imgs/a", "--bs", "0", "--out", "{o}"],
        ["--bs 0 is out of range"],
    ),
    ("reconstruct --out file", ["reconstruct", "{w}/model", "{w}/imgs/a", "--out", "{w}/afile"], ["afile is a file"]),
    (
        "probe --fracs abc",
        ["probe", "{w}/model", "--data", "samples", "--fracs", "abc"],
        ["--fracs 'abc': expected comma-separated numbers"],
    ),
    (
        "probe --fracs 2",
        ["probe", "{w}/model", "--data", "samples", "--fracs", "2"],
        ["--fracs 2.0 is out of range", "(0, 1]"],
    ),
    (
        "probe --seeds x",
        ["probe", "{w}/model", "--data", "samples", "--seeds", "x"],
        ["--seeds 'x': expected comma-separated integers"],
    ),
    ("probe --epochs 0", ["probe", "{w}/model", "--data", "samples", "--epochs", "0"], ["--epochs 0 is out of range"]),
    ("probe --out read-only", ["probe", "{w}/model", "--data", "samples", "--out", "{ro}"], ["cannot"]),
    ("probe --table without --out", ["probe", "{w}/model", "--data", "samples", "--table"], ["pass --out FOLDER too"]),
    (
        "zeroshot --out is a file",
        ["zeroshot", "{w}/model", "--data", "samples", "--out", "{w}/afile"],
        ["afile is a file"],
    ),
    ("ablate --epochs 0", ["ablate", "--out", "{o}", "--epochs", "0"], ["--epochs 0 is out of range"]),
    ("demo --steps 0", ["demo", "--out", "{o}", "--steps", "0"], ["--steps 0 is out of range"]),
    (
        "probe --seeds 0,0",
        ["probe", "{w}/model", "--data", "samples", "--seeds", "0,0"],
        ["--seeds '0,0' gives 0 twice"],
    ),
    ("ablate --seeds 0,0", ["ablate", "--out", "{o}", "--seeds", "0,0"], ["--seeds '0,0' gives 0 twice", "distinct"]),
    ("synth --noise -1", ["synth", "--out", "{o}", "--noise", "-1"], ["--noise -1.0 is out of range", "number >= 0"]),
    ("synth --out is a file", ["synth", "--out", "{w}/afile"], ["afile: exists and is not a folder"]),
    ("synth without --out", ["synth", "--n", "3"], ["--out is required"]),
    (
        "render --dpi 0",
        ["render", "{w}/recs", "--out", "{o}", "--dpi", "0"],
        ["render setting dpi=0.0 is invalid", "positive"],
    ),
    ("render --out is a file", ["render", "{w}/recs", "--out", "{w}/afile"], ["afile is a file"]),
    ("render without --out", ["render", "{w}/recs"], ["--out is required"]),
    ("render all-NaN record", ["render", "{w}/allnan", "--out", "{o}"], ["no record could be rendered (1 skipped"]),
    ("render --strict", ["render", "{w}/recs", "--out", "{o}", "--strict"], ["short.hea: record is 2.0 s long"]),
    ("snr --out read-only", ["snr", "{w}/recs", "--out", "{ro}"], ["cannot"]),
    (
        "snr no readable record",
        ["snr", "{w}/junkhea"],
        ["none of the 2 record(s) could be measured", "not a valid WFDB header"],
    ),
    ("scan non-ECG files", ["scan", "{w}/junk"], ["no ECG records recognised"]),
    ("scan no usable record", ["scan", "{w}/junkhea"], ["no usable ECG record (2 left out"]),
    ("scan --strict", ["scan", "{w}/recs", "--validate", "--strict"], ["short.hea: record is 2.0 s long"]),
    (
        "pretrain --strict",
        ["pretrain", "--out", "{o}", "--data", "{w}/recs", "--set", "optim.bs=4", "--strict"],
        ["short.hea: record is 2.0 s long"],
    ),
    ("probe --strict", ["probe", "{w}/model", "--data", "{w}/recs", "--strict"], ["short.hea: record is 2.0 s long"]),
    (
        "zeroshot --strict",
        ["zeroshot", "{w}/model", "--data", "{w}/recs", "--strict"],
        ["short.hea: record is 2.0 s long"],
    ),
    (
        "pretrain no report text",
        ["pretrain", "--out", "{o}", "--data", "{w}/nodx", "--set", "optim.bs=2"],
        ["no record has a report", "'# Dx:' line"],
    ),
]


@pytest.mark.parametrize("case,args,frags", REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_with_one_line(w, tmp_path, capsys, case, args, frags):
    o = tmp_path / "out"
    args = [a.format(w=w, o=o, ro=readonly(w)) for a in args]
    code, out, err = run(capsys, *args)
    assert code == 2, (out, err)
    line = one_line(err, *frags)
    assert "unexpected" not in line and "dx_report" not in line
    assert not o.exists() or not any(
        f.name in ("log.csv", "last", "best", "model.safetensors") or f.suffix in (".png", ".npz", ".hea")
        for f in o.rglob("*")
    ), sorted(o.rglob("*"))  # nothing half written


# ---- silently wrong before, right now
def test_images_bad_name_duplicates_and_spaces(w, tmp_path, capsys):
    "A non-UTF-8 name is skipped (no SIGSEGV); two x.png do not overwrite each other; 'my scan' gives a readable WFDB record"
    code, out, err = run(capsys, "embed", w / "model", w / "imgs", "--out", tmp_path / "sub")  # missing parent: created
    assert code == 0, err
    one_line(err, "bad\ufffdname.png: the file name is not valid UTF-8")
    d = np.load(tmp_path / "sub" / "embeddings.npz")
    assert len(d["files"]) == 3 and d["embeddings"].shape == (3, 768)
    code, out, err = run(capsys, "reconstruct", w / "model", w / "imgs", "--out", tmp_path / "rec")
    assert code == 0, err
    assert "3 record(s) written" in out and "1 skipped" in out and "2 renamed" in out
    names = sorted(p.stem for p in (tmp_path / "rec").glob("*.hea"))
    assert names == ["my_scan", "x", "x-2"]
    for n in names:
        sig, fs, leads, h = read_wfdb(tmp_path / "rec" / n)
        assert sig.shape == (12, 5000) and (tmp_path / "rec" / f"{n}.png").exists()
    assert not np.allclose(
        read_wfdb(tmp_path / "rec" / "x")[0], read_wfdb(tmp_path / "rec" / "x-2")[0]
    )  # two images, two records


def test_reconstruct_warns_per_output_and_no_plot(w, tmp_path, capsys):
    "Each reconstruction that breaks Einthoven/Goldberger gets one warning line and a note in its header; --no-plot writes none"
    code, out, err = run(capsys, "reconstruct", w / "model", w / "imgs" / "a", "--out", tmp_path / "rec", "--no-plot")
    assert code == 0, err
    one_line(err, "warning:", "x.png: limb leads break Einthoven/Goldberger", "recorded ECGs: 30-50 dB")
    assert not list((tmp_path / "rec").glob("*.png"))
    assert "warning: limb leads break" in (tmp_path / "rec" / "x.hea").read_text()
    code, out, err = run(capsys, "reconstruct", "--help")
    assert "do not write the PNG plot" in out


def test_scan_reports_every_bad_record_with_a_reason(w, capsys):
    code, out, err = run(capsys, "scan", w / "recs", "--validate")
    assert code == 0 and err == "", err
    assert f"{len(GOOD)} records" in out  # no good record dropped
    assert "trunc.hea: signal file trunc.mat ends after 2,488 of 120,024 bytes" in out
    assert "nan_lead.hea: aVR has 5000 NaN/inf samples" in out
    assert "short.hea: record is 2.0 s long" in out and "--pad" in out
    code, out, err = run(capsys, "scan", w / "recs", "--validate", "--pad")
    assert code == 0 and f"{len(GOOD) + 1} records" in out and "1 record(s) shorter than 10 s zero-padded" in out


def test_record_name_not_utf8_is_reported_not_fatal(w, capsys):
    code, out, err = run(capsys, "scan", w / "badname", "--validate")
    assert code == 0 and err == "", err
    assert "ecg_scan" not in err and "2 records" in out and "E\ufffd.hea: the file name is not valid UTF-8" in out
    code, out, err = run(capsys, "snr", w / "badname")
    assert code == 0 and "measured 2 record(s); 1 could not be read" in out


def test_render_skips_bad_records_keeps_good(w, tmp_path, capsys):
    code, out, err = run(capsys, "render", w / "recs", "--out", tmp_path / "r", "--size", "64")
    assert code == 0, err
    assert sorted(p.stem for p in (tmp_path / "r").glob("*.png")) == sorted(GOOD)
    assert f"rendered {len(GOOD)} record(s)" in out and "3 skipped" in out and "all samples" not in out


def test_pretrain_leaves_out_nan_record_and_says_so(w, tmp_path, capsys):
    "A NaN record in a user's folder is left out (with its name in a note), instead of stopping training at step 0"
    code, out, err = run(
        capsys,
        "pretrain",
        "--out",
        tmp_path / "run",
        "--data",
        w / "recs",
        "--set",
        "optim.bs=4",
        "--steps",
        "2",
        "--valid-every",
        "2",
    )
    assert code == 0, err
    assert "3 record(s) of recs could not be used and are left out" in out and "trained to step 2 of 2" in out
    assert (tmp_path / "run" / "best" / "model.safetensors").exists()


# ---- run folders
def test_run_folder_refuses_overwrite_extends_and_overwrites(tmp_path, capsys):
    o = tmp_path / "run"
    code, out, err = run(capsys, "pretrain", "--out", o, *TINY, "--steps", "2", "--valid-every", "1")
    assert code == 0, err
    before = (o / "last" / "model.safetensors").read_bytes(), (o / "log.csv").read_text()
    code, out, err = run(capsys, "pretrain", "--out", o, *TINY, "--steps", "2")
    assert code == 2
    one_line(err, "already holds a run", "pass --resume to continue it, --overwrite")
    assert (
        (o / "last" / "model.safetensors").read_bytes(),
        (o / "log.csv").read_text(),
    ) == before  # the finished run is intact
    code, out, err = run(capsys, "pretrain", "--out", o, *TINY, "--steps", "3", "--resume")
    assert code == 0, err
    assert (
        "note: extending the run from 2 to 3 steps: the warmup-cosine schedule is recomputed" in out
        and "trained to step 3 of 3" in out
    )
    log = pd.read_csv(o / "log.csv")
    assert log[log.phase == "train"].step.tolist() == [0, 1, 2]
    code, out, err = run(capsys, "pretrain", "--out", o, *TINY, "--steps", "1", "--overwrite")
    assert code == 0, err
    log = pd.read_csv(o / "log.csv")
    assert log[log.phase == "train"].step.tolist() == [0]


@pytest.mark.long
def test_second_process_stops_at_once_and_stale_lock_is_no_obstacle(tmp_path):
    o = tmp_path / "run"
    a = subprocess.Popen(
        [CLI, "pretrain", "--out", str(o), *TINY, "--steps", "400", "--valid-every", "1000", "--ckpt-every", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        t0 = time.time()
        while time.time() - t0 < 240 and not (o / "last" / "training_state.json").exists():
            time.sleep(0.3)
        assert (o / "last" / "training_state.json").exists()
        b = subprocess.run(
            [CLI, "pretrain", "--out", str(o), *TINY, "--steps", "400", "--resume"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (
            b.returncode == 2 and a.poll() is None
        )  # refused while the first run is still training: it did not wait for the lock
        one_line(b.stderr, "is in use by ecg-scan pid", str(a.pid), "wait for it to finish, or pass another --out")
    finally:
        a.send_signal(signal.SIGKILL)
        a.wait()
    assert str(a.pid) in (o / ".lock").read_text()  # the dead process's lock file is still there ...
    step = load_state(o / "last")["step"]
    c = subprocess.run(
        [
            CLI,
            "pretrain",
            "--out",
            str(o),
            *TINY,
            "--steps",
            "400",
            "--valid-every",
            "1000",
            "--ckpt-every",
            "2",
            "--resume",
            "--until",
            str(step + 1),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert c.returncode == 0, c.stderr  # ... and no obstacle
    log = pd.read_csv(o / "log.csv")
    assert log[log.phase == "train"].step.tolist() == list(range(step + 1))


# ---- fault injection: a kill at each point of a checkpoint save
class Killed(BaseException):
    "stands for SIGKILL: nothing catches it, nothing cleans up"


def _killing(which: str, nth: int, point: str):
    "An `atomic_folder` that dies at `point` of the `nth` save of folder `which`"
    real, seen = ecg_scan.signals.atomic_folder, {"n": 0}

    @contextlib.contextmanager
    def fake(dest):
        if Path(dest).name == which:
            seen["n"] += 1
        if Path(dest).name != which or seen["n"] != nth:
            with real(dest) as t:
                yield t
            return
        calls, rename = [], Path.rename

        def dying_rename(self, target):
            calls.append(1)
            if point == f"rename{len(calls)}":
                raise Killed()
            return rename(self, target)

        def dying_rmtree(*a, **k):
            raise Killed()

        with (
            mock.patch.object(Path, "rename", dying_rename),
            mock.patch("shutil.rmtree", dying_rmtree if point == "cleanup" else shutil.rmtree),
        ):
            with real(dest) as t:
                yield t
                if point == "writing":
                    f = t / "model.safetensors"
                    f.write_bytes(f.read_bytes()[:100])
                    raise Killed()

    return fake


KW = dict(valid_every=2, ckpt_every=2, progress=False)
KILLS = [
    ("last", "writing", 2),
    ("last", "rename1", 4),
    ("last", "rename2", 4),
    ("last", "cleanup", 4),
    ("best", "writing", None),
    ("best", "rename1", 4),
]


@pytest.mark.parametrize("which,point,newest", KILLS, ids=[f"{a}-{b}" for a, b, _ in KILLS])
def test_kill_inside_a_save_then_resume(tmp_path, which, point, newest):
    "The second save of last/ (step 4) or the first of best/ (step 4, after last/ at step 2) dies at `point`; --resume continues from the newest complete one"
    o, cfg = tmp_path / "run", get_config("tiny", optim=dict(bs=8, steps=4))
    kw = dict(KW, valid_every=2 if which == "last" else 4)
    with mock.patch.object(ecg_scan.train, "atomic_folder", _killing(which, 2 if which == "last" else 1, point)):
        with pytest.raises(Killed):
            pretrain(cfg, "samples", o, **kw)
    for d in ("last", "best"):
        recover_folder(o / d)  # what --resume does first
    assert not [p.name for p in o.iterdir() if p.suffix in (".new", ".old")]  # no half-written copy left over
    if which == "last":
        assert load_state(o / "last")["step"] == newest
    else:
        assert (o / "best").exists() == (newest is not None)
        if newest:
            assert f'"step": {newest}' in (o / "best" / "best.json").read_text()
    learn = pretrain(cfg, "samples", o, resume=True, **kw)
    assert learn.scan_step == 4
    log = pd.read_csv(o / "log.csv")
    assert log[log.phase == "train"].step.tolist() == [0, 1, 2, 3]
    ECGScan.from_pretrained(o / "last")
    ECGScan.from_pretrained(o / "best")  # both complete and loadable


# ---- issue 22: nothing executes on load
class _Evil:
    "A pickle payload: loading it with pickle would create the marker file"

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_training_state_runs_no_code_on_resume(tmp_path, capsys):
    "An old-format (pickle) last/training_state.pt that would run code: --resume refuses it in one line, nothing runs"
    o, marker = tmp_path / "run", tmp_path / "pwned"
    code, out, err = run(capsys, "pretrain", "--out", o, *TINY, "--steps", "1")
    assert code == 0, err
    assert sorted(p.name for p in (o / "last").glob("training_state*")) == [
        "training_state.json",
        "training_state.safetensors",
    ]
    for f in (o / "last").glob("training_state*"):
        f.unlink()
    torch.save({"step": 1, "opt": _Evil(marker)}, o / "last" / "training_state.pt")
    code, out, err = run(capsys, "pretrain", "--out", o, *TINY, "--steps", "2", "--resume")
    assert code == 2
    one_line(err, "training_state.pt: a training state in the old pickle format", "not read", "--overwrite")
    assert not marker.exists()


def test_malicious_dbeta_teacher_runs_no_code(tmp_path, capsys):
    "A D-BETA checkpoint that would run code on load: refused by name (the pickle global it needs), nothing runs"
    evil, marker = tmp_path / "dbeta.pt", tmp_path / "pwned"
    torch.save({"model": {"w": torch.zeros(1)}, "args": _Evil(marker)}, evil)
    code, out, err = run(
        capsys,
        "pretrain",
        "--out",
        tmp_path / "run",
        *TINY,
        "--steps",
        "1",
        "--set",
        "model.teacher=dbeta",
        "--teacher-path",
        evil,
    )
    assert code == 2
    one_line(err, "dbeta.pt: refused", "needs pickle to build", "system", "which can run code")
    assert not marker.exists() and not (tmp_path / "run" / "last").exists()


def test_malicious_text_cache_runs_no_code(tmp_path):
    "The text-feature cache is a torch file too: read with weights_only, a payload is refused"
    from ecg_scan.encoders import TextEncoder
    from ecg_scan.signals import ECGScanError

    evil, marker = tmp_path / "cache.pt", tmp_path / "pwned"
    torch.save({"model": "minilm", "texts": ["a"], "feats": _Evil(marker)}, evil)
    with pytest.raises(ECGScanError, match="needs pickle to build"):
        TextEncoder().load_cache(evil)
    assert not marker.exists()


def test_no_pickle_load_anywhere_in_the_package():
    "Every torch.load in the package reads with weights_only=True (via load_torch_file); no pickle module is used"
    import ecg_scan, re

    for f in Path(ecg_scan.__file__).parent.glob("*.py"):
        src = f.read_text()
        assert "weights_only=False" not in src, f
        assert not re.search(r"\bpickle\.loads?\(|allow_pickle=True|read_pickle|import joblib", src), f
        for m in re.finditer(r"torch\.load\(([^)]*)\)", src):
            assert "weights_only=True" in m.group(1), (f, m.group(0))


# ---- issue 22: damaged or mismatched model folders are refused in one line naming the file, before any work
def _damage(folder: Path, how: str):
    "Damage the model folder `folder` (config.json + model.safetensors) in the way `how` names"
    cj, wf = folder / "config.json", folder / "model.safetensors"
    if how == "config truncated":
        cj.write_text(cj.read_text()[:40])
    elif how == "config {}":
        cj.write_text("{}")
    elif how == "config of another preset":
        meta = json.loads(cj.read_text())
        meta["model"] = get_config("small").to_dict()
        cj.write_text(json.dumps(meta))
    elif how == "config edited":
        meta = json.loads(cj.read_text())
        meta["model"]["model"]["proj_dim"] = 64
        cj.write_text(json.dumps(meta))
    elif how == "weights random":
        wf.write_bytes(np.random.default_rng(0).bytes(4096))
    elif how == "weights truncated":
        wf.write_bytes(wf.read_bytes()[: wf.stat().st_size // 2])
    elif how == "weights missing":
        wf.unlink()


MODEL_DAMAGE = [
    ("config truncated", "config.json: damaged, not valid JSON"),
    ("config {}", "config.json: not an ECG-Scan model config"),
    ("config of another preset", "model.safetensors: "),
    ("config edited", "of another shape than the config needs"),
    ("weights random", "model.safetensors: damaged, not a safetensors file"),
    ("weights truncated", "model.safetensors: truncated: its tensors need"),
    ("weights missing", "model.safetensors: not found beside its config.json"),
]


@pytest.mark.parametrize("how,frag", MODEL_DAMAGE, ids=[c[0] for c in MODEL_DAMAGE])
def test_damaged_model_folder_embed_and_reconstruct(w, tmp_path, capsys, how, frag):
    m = tmp_path / "model"
    shutil.copytree(w / "model", m)
    _damage(m, how)
    code, out, err = run(capsys, "embed", m, w / "imgs" / "a", "--out", tmp_path / "emb")
    assert code == 2, err
    one_line(err, frag)
    assert not (tmp_path / "emb" / "embeddings.npz").exists()
    code, out, err = run(capsys, "reconstruct", m, w / "imgs" / "a", "--out", tmp_path / "rec")
    assert code == 2, err
    one_line(err, frag)
    assert not list(tmp_path.glob("rec/*.hea"))


def test_edited_last_config_refused_on_resume(tmp_path, capsys):
    o = tmp_path / "run"
    code, out, err = run(capsys, "pretrain", "--out", o, *TINY, "--steps", "1")
    assert code == 0, err
    before = (o / "last" / "model.safetensors").read_bytes()
    _damage(o / "last", "config edited")
    code, out, err = run(capsys, "pretrain", "--out", o, *TINY, "--steps", "2", "--resume")
    assert code == 2
    one_line(err, "last/model.safetensors: ", "of another shape than the config needs", "proj")
    assert (o / "last" / "model.safetensors").read_bytes() == before


@pytest.mark.parametrize("how", ["config truncated", "weights truncated", "weights random", "config {}"])
def test_damaged_teacher_folder_probe(tmp_path, capsys, how):
    "probe teacher:DIR on a damaged CLEAR teacher folder: one line naming the file"
    t = tmp_path / "teacher"
    shutil.copytree(Path(ecg_scan.signals.__file__).parent / "assets" / "clear_teacher", t)
    _damage(t, how)
    code, out, err = run(capsys, "probe", f"teacher:{t}", "--data", "samples", "--head", "hug")
    assert code == 2, err
    one_line(err, str(t), "config.json" if "config" in how else "model.safetensors")


@pytest.mark.parametrize("how", ["config truncated", "weights truncated", "config {}", "shape"])
def test_damaged_eee_run_echo_probe(tmp_path, capsys, how):
    "echo probe RUN on a damaged EEE run: one line naming the file, before any data is read"
    from ecg_scan.eee import EEE, EEEConfig, save_eee

    r = tmp_path / "run"
    save_eee(EEE(EEEConfig(), echo=True), r)
    if how == "shape":
        meta = json.loads((r / "config.json").read_text())
        meta["cfg"]["d"] = 16
        (r / "config.json").write_text(json.dumps(meta))
    else:
        _damage(r, how)
    code, out, err = run(capsys, "echo", "probe", r, tmp_path)
    assert code == 2, err
    one_line(err, str(r / ("model.safetensors" if how in ("weights truncated", "shape") else "config.json")))


# ---- issue 22: a full disk says so, with the path, and loses no earlier output
@contextlib.contextmanager
def tiny_disk(tmp_path, kb: int):
    "A tmpfs of `kb` KiB (needs root, as on the project machines and in CI containers; else the case is skipped)"
    d = tmp_path / "disk"
    d.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kb}k", "tmpfs", str(d)], capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()}); test_full_disk_simulated covers the logic")
    try:
        yield d
    finally:
        subprocess.run(["umount", "-l", str(d)], capture_output=True)


def fill(d: Path, leave: int = 0):
    "Fill the file system of `d` up to `leave` free bytes"
    st = os.statvfs(d)
    free = st.f_bavail * st.f_frsize
    with open(d / "filler", "wb") as f:
        with contextlib.suppress(OSError):
            f.write(b"\0" * max(0, free - leave))


def no_partial_files(d: Path):
    "No temporary or 0-byte output left in `d` (the filler aside)"
    bad = [
        p.name
        for p in d.rglob("*")
        if p.is_file() and p.name != "filler" and (".tmp" in p.name or p.stat().st_size == 0)
    ]
    bad += [p.name for p in d.rglob("*") if p.is_dir() and p.name.startswith(".")]
    assert not bad, bad


def test_full_disk_embed_keeps_earlier_output(w, tmp_path, capsys):
    with tiny_disk(tmp_path, 256) as d:
        code, out, err = run(capsys, "embed", w / "model", w / "imgs" / "a", "--out", d)
        assert code == 0, err
        before = (d / "embeddings.npz").read_bytes()
        fill(d, 2048)
        code, out, err = run(capsys, "embed", w / "model", w / "imgs" / "b", "--out", d)
        assert code == 2
        one_line(err, "embeddings.npz: cannot be written: no space left on the disk", "free some space")
        assert (d / "embeddings.npz").read_bytes() == before
        no_partial_files(d)


def test_full_disk_reconstruct_leaves_no_empty_records(w, tmp_path, capsys):
    with tiny_disk(tmp_path, 512) as d:
        code, out, err = run(capsys, "reconstruct", w / "model", w / "imgs" / "a", "--out", d / "rec", "--no-plot")
        assert code == 0, err
        before = {p.name: p.read_bytes() for p in (d / "rec").iterdir()}
        fill(d, 4096)
        code, out, err = run(capsys, "reconstruct", w / "model", w / "imgs" / "b", "--out", d / "rec")
        assert code == 2
        assert "Traceback" not in err and "cannot be written: no space left on the disk" in err.strip().splitlines()[-1]
        assert {p.name: p.read_bytes() for p in (d / "rec").iterdir() if p.name in before} == before
        no_partial_files(d)
        for h in (d / "rec").glob("*.hea"):  # every record left is complete
            assert read_wfdb(d / "rec" / h.stem)[0].shape == (12, 5000)


def test_full_disk_render(w, tmp_path, capsys):
    with tiny_disk(tmp_path, 512) as d:
        fill(d, 8192)
        code, out, err = run(capsys, "render", w / "recs", "--out", d / "r", "--size", "64")
        assert code == 2, err
        one_line(err, "cannot be written: no space left on the disk")
        no_partial_files(d)


def test_full_disk_pretrain_checkpoint(tmp_path, capsys):
    "The disk fills during the first checkpoint: one line, no half-written last/ (nor last.new) left"
    with tiny_disk(tmp_path, 2048) as d:
        code, out, err = run(capsys, "pretrain", "--out", d / "run", *TINY, "--steps", "1")
        assert code == 2, err
        one_line(err, "cannot be written: no space left on the disk")
        assert not (d / "run" / "last").exists() and not (d / "run" / "last.new").exists()


def test_full_disk_simulated(w, tmp_path, capsys):
    "Without a tmpfs: np.savez dies halfway with ENOSPC; the earlier file stays, no temporary file is left"
    o = tmp_path / "embeddings.npz"
    o.write_bytes(b"earlier")

    def half(f, **kw):
        Path(f).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    with mock.patch("numpy.savez", half):
        code, out, err = run(capsys, "embed", w / "model", w / "imgs" / "a", "--out", tmp_path)
    assert code == 2
    one_line(err, "embeddings.npz: cannot be written: no space left on the disk")
    assert o.read_bytes() == b"earlier" and sorted(p.name for p in tmp_path.iterdir()) == ["embeddings.npz"]


# ---- issue 22: header values that would read a record wrongly are reported per record (bad-record policy)
def test_gain_zero_negative_and_no_samples_reported_per_record(tmp_path, capsys):
    d = tmp_path / "recs"
    d.mkdir()
    for r in GOOD[:3]:
        for s in (".hea", ".mat"):
            shutil.copy(samples_path("cinc2021", r + s), d)
    src = samples_path("cinc2021", "E07503.hea").read_text().splitlines()

    def variant(name, edit):
        lines = [edit(i, l) for i, l in enumerate(src)]
        (d / f"{name}.hea").write_text("\n".join(lines).replace("E07503", name) + "\n")
        (d / f"{name}.mat").write_bytes(samples_path("cinc2021", "E07503.mat").read_bytes())

    variant("gain0", lambda i, l: re.sub(r" [\d.]+(\(0\))?/mV", r" 0\1/mV", l) if i == 3 else l)
    variant("gainneg", lambda i, l: re.sub(r" ([\d.]+)(\(0\))?/mV", r" -\1\2/mV", l) if 0 < i <= 12 else l)
    variant("nosamples", lambda i, l: re.sub(r"^(\S+ 12 500) \d+", r"\1 0", l) if i == 0 else l)
    variant("empty", lambda i, l: l)
    (d / "empty.mat").write_bytes(b"")
    code, out, err = run(capsys, "scan", d, "--validate")
    assert code == 0 and err == "", err
    assert "3 records" in out  # the good ones stay
    assert "gain0.hea: lead III has ADC gain 0, WFDB's 'uncalibrated'" in out
    assert "gainneg.hea: lead I has a negative ADC gain" in out
    assert "nosamples.hea: the header gives 0 samples" in out
    assert "empty.hea: signal file empty.mat is empty" in out or "empty.mat ends after 0" in out
    code, out, err = run(capsys, "scan", d, "--validate", "--strict")
    assert code == 2
    one_line(err, ".hea: ")


# ---- issue 22: honest settings
def test_resume_with_changed_settings_applies_or_refuses(tmp_path, capsys):
    o = tmp_path / "run"
    code, out, err = run(capsys, "pretrain", "--out", o, *TINY, "--steps", "1")
    assert code == 0, err
    lr0 = json.loads((o / "config.json").read_text())["optim"]["lr"]
    code, out, err = run(
        capsys,
        "pretrain",
        "--out",
        o,
        "--data",
        "samples",
        "--set",
        "optim.bs=8 optim.lr=0.01",
        "--steps",
        "2",
        "--resume",
    )
    assert code == 0, err
    assert f"note: --resume applies optim.lr = 0.01 from step 1 (the run had {lr0!r})" in out
    assert json.loads((o / "config.json").read_text())["optim"]["lr"] == 0.01  # recorded as run
    code, out, err = run(
        capsys,
        "pretrain",
        "--out",
        o,
        "--data",
        "samples",
        "--set",
        "optim.bs=8 model.proj_dim=64",
        "--steps",
        "3",
        "--resume",
    )
    assert code == 2
    one_line(err, "--resume cannot change model.proj_dim", "in the run, 64 asked", "--overwrite")
    cfg = json.loads((o / "config.json").read_text())  # an edited run config is a request too
    cfg["loss"]["w_mse"] = 3.0
    (o / "config.json").write_text(json.dumps(cfg))
    code, out, err = run(capsys, "pretrain", "--out", o, *TINY, "--steps", "3", "--resume")
    assert code == 0, err
    assert "note: --resume applies loss.w_mse = 3.0" in out
    cfg["model"]["dec_layers"] = 7
    (o / "config.json").write_text(json.dumps(cfg))
    code, out, err = run(capsys, "pretrain", "--out", o, *TINY, "--steps", "4", "--resume")
    assert code == 2
    one_line(err, "--resume cannot change model.dec_layers")


def test_teacher_batch_larger_than_data_refused_and_steps_recorded_as_run(tmp_path, capsys):
    code, out, err = run(capsys, "teacher", "--out", tmp_path / "t", "--n", "0", "--bs", "5000", "--steps", "1")
    assert code == 2
    one_line(err, "training records for batch size 5000: not one step would be taken", "pass --bs")
    assert not (tmp_path / "t" / "model.safetensors").exists()
    code, out, err = run(capsys, "teacher", "--out", tmp_path / "t", "--n", "0", "--bs", "16", "--steps", "1")
    assert code == 0, err
    cfg = json.loads((tmp_path / "t" / "config.json").read_text())
    assert cfg["info"]["steps_asked"] == 1 and cfg["info"]["steps"] > 1  # whole epochs, recorded as run
    assert f"note: --steps 1 rounded up to {cfg['info']['steps']} steps" in out


# ---- issue 22: echo
@pytest.fixture(scope="module")
def echo_dir(tmp_path_factory):
    "16 simulated studies (seed 6: both label values among the test patients)"
    d = tmp_path_factory.mktemp("echo") / "echo"
    assert main(["echo", "synth", "--out", str(d), "--n", "16", "--frames", "20", "--seed", "6"]) == 0
    return d


def test_echo_scan_refuses_dicom_truncated_after_frame_one(echo_dir, tmp_path, capsys):
    from ecg_scan.echo import echo_path, RECORD_CSV, SCAN_CSV

    root = tmp_path / "echo"
    shutil.copytree(echo_dir, root)
    good = root / pd.read_csv(root / RECORD_CSV).dicom_filepath[0]
    import pydicom

    ds = pydicom.dcmread(good)
    per = len(ds.PixelData) // int(ds.NumberOfFrames)
    cut = root / echo_path(10999999, 99999991, 1)
    cut.parent.mkdir(parents=True)
    b = good.read_bytes()
    cut.write_bytes(b[: len(b) - len(ds.PixelData) + per + 100])  # header and frame 1 complete, the rest gone
    code, out, err = run(capsys, "echo", "scan", root, "--out", tmp_path / "traces")
    assert code == 0, err
    t = pd.read_csv(tmp_path / "traces" / SCAN_CSV).set_index("path")
    assert t.loc[cut.relative_to(root).as_posix(), "reason"].startswith("truncated: its pixel data holds 1 of")
    assert t.loc[good.relative_to(root).as_posix(), "status"] == "pair"
    code, out, err = run(
        capsys, "echo", "pretrain", root, "--out", tmp_path / "run", "--steps", "2", "--bs", "4", "--baseline", "none"
    )
    assert code == 0, err  # trains on the good pairs, the truncated file left out


def test_echo_run_folder_lock_and_overwrite_guard(echo_dir, tmp_path, capsys):
    from ecg_scan.signals import RunLock

    r = tmp_path / "run"
    args = ["echo", "pretrain", echo_dir, "--out", r, "--steps", "2", "--bs", "4", "--baseline", "none"]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    (r / "probe.csv").write_text("old results\n")
    before = (r / "eee" / "model.safetensors").read_bytes()
    code, out, err = run(capsys, *args)
    assert code == 2
    one_line(err, "already holds an echo run", "--overwrite")
    assert (r / "eee" / "model.safetensors").read_bytes() == before
    with RunLock(r):  # another process at work in the run folder
        code, out, err = run(capsys, *args, "--overwrite")
        assert code == 2
        one_line(err, "is in use by ecg-scan pid", "wait for it to finish")
    code, out, err = run(capsys, *args, "--overwrite")
    assert code == 0, err
    assert not (r / "probe.csv").exists()  # no stale probe results beside the new weights


# ---- issue 22: tables never show NaN without a reason
def test_probe_on_a_tiny_corpus_says_the_test_split_is_small(w, capsys):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no numpy all-NaN warning
        code, out, err = run(capsys, "probe", w / "model", "--data", w / "recs", "--epochs", "2", "--fracs", "1")
    assert code == 0, err
    assert "note: the test split of recs holds" in out and "rest on very few cases" in out
    assert "nan" not in out.lower().replace("nan_lead", "")


def test_echo_probe_on_six_studies_marks_undefined_auroc(tmp_path, capsys):
    e, r = tmp_path / "echo", tmp_path / "run"
    assert run(capsys, "echo", "synth", "--out", e, "--n", "6", "--frames", "20")[0] == 0
    assert run(capsys, "echo", "pretrain", e, "--out", r, "--steps", "2", "--bs", "2", "--baseline", "none")[0] == 0
    code, out, err = run(capsys, "echo", "probe", r, e, "--fracs", "1", "--seeds", "0,1", "--modes", "linear")
    assert code == 0, err
    assert "nan" not in out.lower()  # was "nan ± 0.000"
    assert "n/a (test split: one label value)" in out and "note: n/a marks an AUROC that cannot be computed" in out
    code, out, err = run(capsys, "echo", "probe", r, e, "--seeds", "1,1")
    assert code == 2
    one_line(err, "--seeds '1,1' gives 1 twice")


def test_hug_tokeniser_puts_no_beat_on_the_padding_edge():
    "--pad: a short record with a baseline offset, zero-padded; the step into the padding is not an R peak"
    from ecg_scan.encoders import beat_tokens

    x = np.zeros((12, 5000), np.float32)
    x[:, :3000] = load_ecg(samples_path("cinc2021", "E07503"))[:, :3000] + 0.4
    b = beat_tokens(x)
    assert len(b.peaks) >= 9 and b.peaks.max() < 3000 - 75, b.peaks
    assert "1 peak(s) on the edge of the zero padding left out" in b.issues
    assert not beat_tokens(load_ecg(samples_path("cinc2021", "HR06000"))).issues  # no padding: nothing left out


# ---- issue 22: the smaller items
def test_tiny_gif_pdf_and_comma_names(w, tmp_path, capsys):
    d = tmp_path / "imgs"
    d.mkdir()
    shutil.copy(w / "imgs" / "a" / "x.png", d / "scan, page 1.png")
    cv2.imwrite(str(d / "dot.png"), np.zeros((1, 1, 3), np.uint8))
    (d / "fax.gif").write_bytes(b"GIF89a")
    (d / "report.pdf").write_bytes(b"%PDF-1.4")
    code, out, err = run(capsys, "embed", w / "model", d, "--out", tmp_path / "e")
    assert code == 0, err
    assert "dot.png: image is only 1x1 px: too small to hold an ECG" in err
    assert "fax.gif: GIF is not an image format ecg-scan reads: convert it to PNG" in err
    assert "report.pdf: PDF is not an image format" in err and "3 skipped" in out
    assert list(np.load(tmp_path / "e" / "embeddings.npz")["files"]) == [str(d / "scan, page 1.png")]
    code, out, err = run(capsys, "embed", w / "model", d / "scan, page 1.png", "--out", tmp_path / "c")
    assert code == 0, err  # a name with a comma is taken whole when it exists
    assert len(np.load(tmp_path / "c" / "embeddings.npz")["files"]) == 1


def test_resume_on_a_finished_run_does_not_claim_training(tmp_path, capsys):
    o = tmp_path / "run"
    assert run(capsys, "pretrain", "--out", o, *TINY, "--steps", "1")[0] == 0
    code, out, err = run(capsys, "pretrain", "--out", o, *TINY, "--steps", "1", "--resume")
    assert code == 0, err
    assert "already trained for 1 of 1 steps" in out and "trained to step" not in out


def test_bench_gpu_negative_minutes_and_help_texts(tmp_path, capsys):
    code, out, err = run(capsys, "bench", "gpu", "--dry-run", "--minutes", "-1", "--out", tmp_path / "b")
    assert code == 2
    one_line(err, "--minutes -1.0 is out of range")
    for cmd in ("probe", "zeroshot"):
        code, out, err = run(capsys, cmd, "--help")
        assert "zero-pad records shorter than 10 s (default: leave them out)" in " ".join(out.split()), out
