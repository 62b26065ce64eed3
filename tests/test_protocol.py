"Integration tests for issue 24: MERL's splits on a partial PTB-XL folder, every label level, zero-shot coverage, paper-shaped tables."

import json, re
import numpy as np, pandas as pd, pytest, torch
from conftest import run_cli, assert_one_line_error
from ecg_scan.data import CODE_CLASSES, make_ptbxl_example
from ecg_scan.evaluate import dataset_prompts, load_prompts
from ecg_scan.model import ECGScan, get_config
from ecg_scan.protocol import MERL_TABLES, merl_classes, merl_subset, merl_table


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("model") / "ck"
    torch.manual_seed(0)
    ECGScan(get_config("tiny")).save_pretrained(d)
    return d


@pytest.fixture(scope="module")
def merl_ptbxl(tmp_path_factory):
    "The PTB-XL example folder with its 11 records renamed to ecg_ids from MERL's files: 4 train (3 of them in MERL's 10 % subset), 3 val, 4 test"
    root = make_ptbxl_example(tmp_path_factory.mktemp("px") / "ptbxl")
    t = merl_table("ptbxl", "superclass")
    norm = t.labels.map(lambda ls: ls == ["NORM"])

    def pick(rows, k):  # alternately a normal record and one with another label, so every split has both
        a, b = rows[norm[rows.index]], rows[~norm[rows.index]]
        return [(a if j % 2 == 0 else b).id.iloc[j // 2] for j in range(k)]

    tr = t[t.split == "train"].reset_index()
    in10 = np.zeros(len(tr), bool)
    in10[merl_subset(np.arange(len(tr)), len(tr), 0.1)] = True
    ids = pick(t.loc[tr["index"][in10]], 3) + pick(t.loc[tr["index"][~in10]], 1)
    ids += pick(t[t.split == "val"], 3) + pick(t[t.split == "test"], 4)
    db = pd.read_csv(root / "ptbxl_database.csv")
    db["ecg_id"] = [int(i) for i in ids]
    db["strat_fold"] = [1] * 4 + [9] * 3 + [10] * 4
    db.to_csv(root / "ptbxl_database.csv", index=False)
    return root, ids


def test_scan_merl_split_of_a_partial_folder(merl_ptbxl, tmp_path):
    root, ids = merl_ptbxl
    out = tmp_path / "records.csv"
    r = run_cli("scan", root, "--splits", "merl", "--out", tmp_path)
    assert r.returncode == 0, r.stderr
    assert "11 of its 21388 records present, 21377 missing" in r.stdout
    rec = pd.read_csv(out, dtype=str, keep_default_na=False)
    t = merl_table("ptbxl", "superclass").set_index("id")
    assert sorted(rec.id) == sorted(ids)
    for x in rec.itertuples():
        assert x.split == t.split[x.id] and x.labels.split(";") == t.labels[x.id]
    # another level: MERL's form table lists fewer records; the rest are left out and counted
    r = run_cli("scan", root, "--splits", "merl", "--task", "form", "--out", tmp_path)
    assert r.returncode == 0, r.stderr
    form = merl_table("ptbxl", "form").set_index("id")
    rec = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert set(rec.id) == set(ids) & set(form.index)
    assert f"{11 - len(rec)} record(s) not in MERL's ptbxl form split left out" in r.stdout or len(rec) == 11
    r = run_cli("scan", root, "--splits", "random", "--seed", "1", "--out", tmp_path)
    assert r.returncode == 0 and "splits: random 70/10/20 (seed 1" in r.stdout
    assert_one_line_error(run_cli("scan", root, "--splits", "official"), "--splits must be merl or random")


def test_probe_merl_subsets_and_table(model_dir, merl_ptbxl, tmp_path):
    root, _ = merl_ptbxl
    r = run_cli(
        "probe", model_dir, "--data", root, "--fracs", "0.1,1", "--epochs", "2", "--features", "encoder",
        "--out", tmp_path / "tab", "--table",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "splits: MERL's" in r.stdout and "encoder features" in r.stdout
    p = pd.read_csv(tmp_path / "tab" / "probe.csv")
    assert p.note.str.contains("MERL's subset").all()
    assert p.note[p.fraction == 0.1].str.contains("n=3 ").all() and p.note[p.fraction == 1].str.contains("n=4 ").all()
    t = pd.read_csv(tmp_path / "tab" / "table2.csv")
    assert list(t.columns[1:3]) == ["PTBXL-Super 10%", "PTBXL-Super 100%"]
    assert t.method.tolist() == ["ECG-Scan", "ECG-Scan (paper)"]
    assert t.loc[1, "PTBXL-Super 10%"] == 88.40 and 0 <= t.loc[0, "PTBXL-Super 100%"] <= 100
    assert "| ECG-Scan (paper) |" in (tmp_path / "tab" / "table2.md").read_text()
    assert_one_line_error(
        run_cli("probe", model_dir, "--data", root, "--fracs", "0.01"), "no training record in the 0.01 label subset"
    )
    assert_one_line_error(run_cli("probe", model_dir, "--data", root, "--features", "pooled"), "--features must be")


def test_zeroshot_covers_every_class_of_every_level():
    levels = {(d, t): merl_classes(d, t) for d, t in MERL_TABLES} | {("code-test", None): list(CODE_CLASSES)}
    for (d, t), classes in levels.items():
        pr = dataset_prompts(load_prompts(), d)
        missing = [c for c in classes if c not in pr]
        assert not missing, f"{d} {t}: no prompts for {missing}"
    assert sum(len(c) for c in levels.values()) == 5 + 23 + 19 + 12 + 9 + 38 + 6
    assert dataset_prompts(load_prompts(), "csn")["AF"][0] == "atrial flutter"  # CSN: AF is flutter, AFIB fibrillation


def test_zeroshot_levels_ckepe_prompts_and_table(model_dir, merl_ptbxl, tmp_path):
    root, _ = merl_ptbxl
    r = run_cli("zeroshot", model_dir, "--data", root, "--task", "super,rhythm", "--out", tmp_path / "tab", "--table")
    assert r.returncode == 0, r.stderr
    assert "classes without prompts" not in r.stdout
    t = pd.read_csv(tmp_path / "tab" / "table3.csv")
    assert list(t.columns) == ["method", "PTBXL-Super", "PTBXL-Rhythm", "Average"]
    # MERL's CKEPE_prompt.json maps each class to one string: it loads as it is
    ck = tmp_path / "ckepe.json"
    ck.write_text(json.dumps({c: f"{c.lower()} on the electrocardiogram" for c in merl_classes("ptbxl", "superclass")}))
    r = run_cli("zeroshot", model_dir, "--data", root, "--prompts", ck, "--variant", "clean")
    assert r.returncode == 0, r.stderr
    assert "macro AUROC" in r.stdout and "classes without prompts" not in r.stdout


def test_ablate_help_shows_the_paper_base_and_seven_rows():
    from ecg_scan.evaluate import ABLATIONS

    r = run_cli("ablate", "--help")
    assert r.returncode == 0, r.stderr
    text = " ".join(re.sub(r"-\s+", "-", r.stdout).split())  # argparse may wrap a line after a hyphen
    assert "paper's objective: Gram volume, loss.w_ctr 0.1, loss.w_gram 0.05, loss.w_mse 1, loss.w_rule 0.1" in text
    assert len(ABLATIONS) == 7 and "without image-text contrastive" in ABLATIONS
    for row in ABLATIONS:
        assert row in text, row
