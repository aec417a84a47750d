"""rnnlab.report on the run-folder format of run.json / status.txt, and on bad inputs.

Every bad run folder is one ``corrupt`` row with its reason while the other runs are reported
as usual; every bad command line is one line on stderr, exit status 2, nothing written.
Synthetic run folders: hand-written files, no training.
"""

import errno
import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import rnnlab.report.runs as runs_module
from rnnlab.report import collect, write_report
from rnnlab.report.__main__ import main

DIRECTORY = object()   # in a files dict: make a folder of that name


def fingerprint(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def job_config(model="rnn", bptt=5, hidden_size=4, seed=0) -> dict:
    return {"seed": seed, "kind": "train",
            "model": {"name": model, "hidden_size": hidden_size, "init_scale": 0.01},
            "task": {"name": "echo", "lags": [3, 8]},
            "train": {"bptt": bptt, "steps": 50, "learning_rate": 0.01},
            "blas_threads": 1}


def write_files(run_dir, files: dict) -> None:
    """{relative path: text, bytes, DIRECTORY, or None to delete}."""
    for name, content in files.items():
        file = run_dir / name
        file.parent.mkdir(parents=True, exist_ok=True)
        if file.is_file() and not isinstance(content, (str, bytes)):
            file.unlink()
        if content is DIRECTORY:
            file.mkdir()
        elif isinstance(content, bytes):
            file.write_bytes(content)
        elif isinstance(content, str):
            file.write_text(content)


def metrics_csv(config: dict, test_loss: float, diverged=False, print_of=None) -> str:
    row = {"kind": "train", "model": config["model"]["name"], "task": "echo",
           "seed": config["seed"], "config_fingerprint": print_of or fingerprint(config),
           "headline_metric": "test_loss", "test_loss": test_loss, "diverged": diverged}
    return pd.DataFrame([row]).to_csv(index=False)


def make_run(run_dir, config: dict, overrides: list[str], status="finished", test_loss=0.5,
             diverged=False, files=None) -> None:
    """A run folder of the new format: run.json, .hydra/overrides.yaml, status.txt, metrics.csv
    (None: no metrics.csv), training.csv; then ``files`` on top."""
    record = {"fingerprint": fingerprint(config), "config": config, "overrides": overrides,
              "provenance": {"rnnlab": "0.1.0", "git_commit": "0" * 40},
              "started": "2026-12-01T20:00:00Z"}
    base = {"run.json": json.dumps(record), "status.txt": f"{status}\n",
            ".hydra/overrides.yaml": "".join(f"- {o}\n" for o in overrides),
            "training.csv": f"step,train_loss,test_loss\n0,,0.69\n1,0.6,{test_loss}\n"}
    if test_loss is not None:
        base["metrics.csv"] = metrics_csv(config, test_loss, diverged)
    write_files(run_dir, {**base, **(files or {})})


@pytest.fixture
def sweep(tmp_path):
    """Three finished runs over seed (jobs 0, 1, 2); tests add a job ``bad``."""
    root = tmp_path / "sweep"
    for seed in range(3):
        make_run(root / str(seed), job_config(seed=seed), ["model=rnn", f"seed={seed}"],
                 test_loss=0.5 + seed / 10)
    return root


def tree(folder) -> set[str]:
    return {os.path.relpath(os.path.join(d, f), folder)
            for d, subfolders, files in os.walk(folder) for f in files + subfolders}


# --------------------------------------------------------------- bad run folders: corrupt rows
HEADER = "kind,seed,test_loss"
BAD_FOLDERS = {
    "metrics-binary": ({"metrics.csv": b"\x89PNG\r\n\x1a\n\x00\xff\xfe"},
                       "metrics.csv is not UTF-8 text"),
    "metrics-empty": ({"metrics.csv": ""}, "metrics.csv is not a CSV table: it is empty"),
    "metrics-half-row": ({"metrics.csv": f"{HEADER}\ntrain,3,0."},
                         "metrics.csv is not a CSV table: its last line is cut short"),
    "metrics-more-fields-than-header": ({"metrics.csv": f"{HEADER}\ntrain,3,0.5,7\n"},
                                        "metrics.csv is not a CSV table: row 2 has 4 fields, "
                                        "the header 3"),
    "metrics-fewer-fields-than-header": ({"metrics.csv": f"{HEADER}\ntrain,3\n"},
                                         "row 2 has 2 fields, the header 3"),
    "metrics-header-only": ({"metrics.csv": f"{HEADER}\n"}, "metrics.csv has 0 rows, not one"),
    "metrics-two-rows": ({"metrics.csv": f"{HEADER}\ntrain,3,0.5\ntrain,3,0.6\n"},
                         "metrics.csv has 2 rows, not one"),
    "metrics-nul-bytes": ({"metrics.csv": f"{HEADER}\ntrain,3,\0\0\n"},
                          "metrics.csv is not a CSV table: it holds NUL bytes"),
    "metrics-is-a-folder": ({"metrics.csv": DIRECTORY}, "metrics.csv cannot be read"),
    "overrides-not-yaml": ({".hydra/overrides.yaml": "- model=rnn\n- [seed=3\n"},
                           ".hydra/overrides.yaml is not YAML"),
    "overrides-not-a-list": ({".hydra/overrides.yaml": "model: rnn\n"},
                             ".hydra/overrides.yaml is not a list of overrides"),
    "run-json-truncated": ({"run.json": '{"fingerprint": "ab'}, "run.json is not JSON"),
    "run-json-not-an-object": ({"run.json": "[1, 2]"},
                               'run.json is not an object with a "config" object'),
    "status-not-utf8": ({"status.txt": b"failed: \xff\xfe\n"}, "status.txt is not UTF-8 text"),
    "status-unknown-word": ({"status.txt": "banana split\n"},
                            "status.txt does not start with a status"),
    "status-empty": ({"status.txt": ""}, "status.txt does not start with a status"),
    "training-truncated": ({"training.csv": "step,train_loss,test_loss\n0,,0.69\n1,0.6"},
                           "training.csv is not a CSV table: its last line is cut short"),
    "training-without-test-loss": ({"training.csv": "step,loss\n0,0.7\n"},
                                   "training.csv lacks the numeric columns step, test_loss"),
    "gradients-binary": ({"gradients.csv": b"\x00\x01\x02\xff"},
                         "gradients.csv is not UTF-8 text"),
    "stale-metrics": ({"metrics.csv": metrics_csv(job_config(seed=3), 0.1, print_of="f" * 64)},
                      "metrics.csv belongs to another configuration (fingerprint ffffffffffff "
                      f"vs run.json's {fingerprint(job_config(seed=3))[:12]})"),
    "old-folder-truncated-metrics": ({"run.json": None, "status.txt": None,
                                      "metrics.csv": f"{HEADER}\ntrain,3"},
                                     "metrics.csv is not a CSV table"),
}


def add_bad_run(root, name, files) -> None:
    make_run(root / name, job_config(seed=3), ["model=rnn", "seed=3"], files=files)


@pytest.mark.parametrize("case", BAD_FOLDERS)
def test_a_bad_run_folder_is_one_corrupt_row_with_its_reason(sweep, case):
    files, reason = BAD_FOLDERS[case]
    add_bad_run(sweep, "bad", files)
    runs = collect(sweep).runs.set_index("run_dir")
    assert runs["status"].to_dict() == {"0": "finished", "1": "finished", "2": "finished",
                                        "bad": "corrupt"}
    assert reason in runs.loc["bad", "status_reason"]
    assert (runs.loc[["0", "1", "2"], "status_reason"] == "").all()
    assert runs.loc["bad", "seed"] == 3                  # its configuration is still shown
    assert np.isnan(runs.loc["bad", "test_loss"])         # its metrics are not trusted
    assert runs.loc[["0", "1", "2"], "test_loss"].tolist() == pytest.approx([0.5, 0.6, 0.7])


def test_every_kind_of_bad_folder_together_still_gives_the_whole_report(sweep):
    for case, (files, _) in BAD_FOLDERS.items():
        add_bad_run(sweep, case, files)
    collected = collect(sweep)
    page = write_report(collected, sweep, sweep / "report").read_text()
    runs = pd.read_csv(sweep / "report/runs.csv").set_index("run_dir")
    assert (runs.loc[list(BAD_FOLDERS), "status"] == "corrupt").all()
    assert (runs.loc[["0", "1", "2"], "status"] == "finished").all()
    assert set(collected.training["run_dir"]) == {"0", "1", "2"}
    assert "Runs that did not finish" in page and "belongs to another configuration" in page
    summary = pd.read_csv(sweep / "report/summary.csv")
    assert summary["n"].tolist() == [3]


# ------------------------------------------------------------- bad command lines: exit 2, one line
def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "rnnlab.report", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def assert_one_line_error(result, *named) -> None:
    assert result.returncode == 2
    assert result.stdout == "" and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("rnnlab.report: error: "), result.stderr
    assert all(str(name) in lines[0] for name in named), lines[0]


def bad_command(tmp, sweep, case):
    """(arguments, the paths and words the error line must name) of each bad command line."""
    (tmp / "file.txt").write_text("not a folder\n")
    if case == "report-is-a-file":
        (sweep / "report").write_text("a file where the report folder goes\n")
    (tmp / "only-hidden" / ".superseded" / "2026-12-01").mkdir(parents=True)
    (tmp / "only-hidden" / ".superseded" / "2026-12-01" / "metrics.csv").write_text("a\n1\n")
    return {
        "out-under-a-regular-file": ([sweep, "--out", tmp / "file.txt" / "report"],
                                     [tmp / "file.txt", "is not a directory"]),
        "out-is-a-regular-file": ([sweep, "--out", tmp / "file.txt"],
                                  [tmp / "file.txt", "exists and is not a directory"]),
        "out-in-proc": ([sweep, "--out", "/proc/rnnlab-report/x"], ["/proc/rnnlab-report/x"]),
        "report-is-a-file": ([sweep], [sweep / "report", "exists and is not a directory"]),
        "path-missing": ([tmp / "nowhere"], [tmp / "nowhere", "does not exist"]),
        "path-is-a-file": ([tmp / "file.txt"], [tmp / "file.txt", "is not a directory"]),
        "path-holds-only-hidden-runs": ([tmp / "only-hidden"], ["no run directories"]),
    }[case]


@pytest.mark.parametrize("case", ["out-under-a-regular-file", "out-is-a-regular-file",
                                  "out-in-proc", "report-is-a-file", "path-missing",
                                  "path-is-a-file", "path-holds-only-hidden-runs"])
def test_a_bad_command_line_is_one_line_exit_2_and_writes_nothing(tmp_path, sweep, case):
    args, named = bad_command(tmp_path, sweep, case)
    before = tree(tmp_path)
    assert_one_line_error(run_cli(*args), *named)
    assert tree(tmp_path) == before
    assert not os.path.lexists("/proc/rnnlab-report")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder")
def test_an_unwritable_out_folder_is_one_line_exit_2(tmp_path, sweep):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    before = tree(tmp_path)
    assert_one_line_error(run_cli(sweep, "--out", locked / "report"), locked / "report")
    assert tree(tmp_path) == before


def test_a_write_failing_midway_is_one_line_exit_2_and_leaves_nothing(sweep, monkeypatch,
                                                                      capsys):
    real, calls = runs_module.write_table, []

    def full_disk_after_one_table(table, path):
        calls.append(path.name)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(table, path)

    monkeypatch.setattr(runs_module, "write_table", full_disk_after_one_table)
    before = tree(sweep)
    with pytest.raises(SystemExit) as exit_status:
        main([str(sweep)])
    assert exit_status.value.code == 2 and calls == ["runs.csv", "summary.csv"]
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == (
        f"rnnlab.report: error: cannot write the report into {sweep / 'report'}: "
        "No space left on device\n")
    assert tree(sweep) == before        # no report folder, no staging folder left


def test_a_second_report_removes_the_figures_it_no_longer_draws_and_nothing_else(tmp_path):
    from rnnlab.report.page import staged
    out = tmp_path / "report"
    with staged(out) as stage:
        for name in ("index.html", "loss.png", "old_name.png"):
            (stage / name).write_text(name)
    (out / "notes.txt").write_text("the user's own")
    with staged(out) as stage:
        for name in ("index.html", "loss.png", "new_name.png"):
            (stage / name).write_text("again")
    assert sorted(p.name for p in out.iterdir()) == [
        ".rnnlab-report", "index.html", "loss.png", "new_name.png", "notes.txt"]
    assert (out / "loss.png").read_text() == "again"


# ------------------------------------------------------------------- statuses and their reasons
@pytest.mark.parametrize("status, metrics, legacy, expected", [
    ("failed: ValueError: boom", None, {}, ("failed", "ValueError: boom")),
    ("failed: ConfigError: model.leak_rate=1.2 is out of range: allowed in (0, 1]", None, {},
     ("failed", "ConfigError: model.leak_rate=1.2 is out of range: allowed in (0, 1]")),
    ("interrupted: SIGTERM", "finished", {}, ("interrupted", "SIGTERM")),
    ("interrupted: SIGINT", None, {}, ("interrupted", "SIGINT")),
    ("diverged: loss is not finite", "diverged", {}, ("diverged", "loss is not finite")),
    ("finished", "finished", {}, ("finished", "")),
    ("finished", "diverged", {}, ("diverged", "")),
    ("running", "finished", {}, ("finished", "")),      # killed after metrics.csv was written
    ("running", None, {}, ("incomplete", "status.txt says running and there is no metrics.csv")),
    (None, None, {}, ("incomplete", "no status.txt and no metrics.csv")),
    (None, "finished", {}, ("finished", "")),
    (None, None, {"error.txt": "KeyError: 'x'\n"}, ("failed", "KeyError: 'x'")),
    (None, "finished", {"error.txt": "KeyError: 'x'\n"}, ("failed", "KeyError: 'x'")),
    (None, None, {"rnnlab.log": "[INFO] start\nTraceback (most recent call last):\n"
                                '  File "x.py", line 1\nValueError: boom\n'},
     ("failed", "ValueError: boom")),
    ("failed: ValueError: boom", "corrupt", {},
     ("corrupt", "metrics.csv is not a CSV table: its last line is cut short (no line end)")),
])
def test_status_precedence_and_reason(tmp_path, status, metrics, legacy, expected):
    config = job_config()
    files = {"status.txt": status, "metrics.csv": {
        None: None, "finished": metrics_csv(config, 0.5), "corrupt": "kind\ntra",
        "diverged": metrics_csv(config, float("nan"), diverged=True)}[metrics], **legacy}
    make_run(tmp_path / "run", config, ["model=rnn"], files=files)
    runs = collect(tmp_path).runs
    assert list(runs.columns[:3]) == ["run_dir", "status", "status_reason"]
    assert runs.loc[0, "status"] == expected[0]
    assert runs.loc[0, "status_reason"] == expected[1]


# ------------------------------------------------------------------------------ discovery
def test_hidden_folders_are_not_searched_but_dot_hydra_still_marks_a_run(tmp_path):
    root = tmp_path / "sweep"
    make_run(root / "0", job_config(), ["model=rnn"], status="running", test_loss=None)
    old = root / "0" / ".superseded" / "2026-12-01T19-00-00"
    write_files(old, {"metrics.csv": metrics_csv(job_config(), 0.1), "run.json": "{}"})
    write_files(root / ".submitit" / "1234", {"metrics.csv": "a\n1\n", "run.json": "{}"})
    write_files(root / "1", {".hydra/overrides.yaml": "- seed=1\n"})   # only the marker
    runs = collect(root).runs.set_index("run_dir")
    assert runs.index.tolist() == ["0", "1"]
    assert runs["status"].tolist() == ["incomplete", "incomplete"]
    assert "test_loss" not in runs   # the superseded metrics.csv (0.1) is not read


# ------------------------------------------------------------------ columns from the config
R2RT = {"bptt1": (1, 4), "bptt5": (5, 4), "bptt10": (10, 16)}   # choice -> bptt, state size


@pytest.fixture
def preset_sweep(tmp_path):
    """``python -m rnnlab -m experiment=r2rt`` with 2 seeds: 12 runs; the overrides name the
    preset's choice r2rt=..., only the resolved config says train.bptt and model.hidden_size."""
    root = tmp_path / "r2rt"
    jobs = [(m, c, s) for m in ("rnn", "lstm") for c in R2RT for s in (0, 1)]
    for job, (model, choice, seed) in enumerate(jobs):
        bptt, hidden = R2RT[choice]
        make_run(root / str(job), job_config(model, bptt, hidden, seed),
                 ["experiment=r2rt", f"model={model}", f"r2rt={choice}", f"seed={seed}"],
                 test_loss=0.4 + bptt / 100 + seed / 1000)
    write_files(root, {
        "sweep.json": json.dumps({
            "command": "python -m rnnlab -m experiment=r2rt seed=0,1",
            "sweep_dir": "/data/sweeps/r2rt-resolved",
            "launcher": {"_target_": "hydra_plugins.hydra_submitit_launcher.submitit_launcher"
                                     ".SlurmLauncher", "partition": "cpu", "timeout_min": 30},
            "sweeper": {"_target_": "hydra._internal.core_plugins.basic_sweeper.BasicSweeper",
                        "params": {"model": "rnn,lstm", "r2rt": "bptt1,bptt5,bptt10",
                                   "seed": "0,1,2"}},
            "started": "2026-12-01T20:00:00Z"}),
        "multirun.yaml": "hydra:\n  sweep:\n    dir: multirun/${now:%Y-%m-%d}/${now:%H-%M-%S}\n"})
    return root


def test_swept_keys_come_from_the_resolved_configs_of_a_preset_sweep(preset_sweep):
    collected = collect(preset_sweep)
    assert collected.swept == ["model", "seed", "model.hidden_size", "train.bptt"]
    columns = collected.runs.columns.tolist()
    assert columns[:7] == ["run_dir", "status", "status_reason", "model", "seed",
                           "model.hidden_size", "train.bptt"]
    assert columns.index("train.steps") < columns.index("test_loss")   # config, then metrics
    assert collected.runs["task.lags"].iloc[0] == "[3, 8]"              # lists as JSON text
    assert "r2rt" not in columns and "experiment" not in columns        # no config keys
    summary = runs_module.summarise(collected)
    assert len(summary) == 6 and (summary["n"] == 2).all()
    row = summary.set_index(["model", "train.bptt"]).loc[("lstm", 10)]
    assert row["model.hidden_size"] == 16
    assert row["test_loss_mean"] == pytest.approx(np.mean([0.5, 0.501]), rel=1e-12)


def test_the_page_shows_the_settings_that_ran_and_the_values_the_runs_had(preset_sweep):
    page = write_report(collect(preset_sweep), preset_sweep,
                        preset_sweep / "report").read_text()
    assert "python -m rnnlab -m experiment=r2rt seed=0,1" in page
    assert "/data/sweeps/r2rt-resolved" in page and "partition: cpu" in page
    assert "SlurmLauncher" in page and "timeout_min: 30" in page
    assert "<td>train.bptt</td>" in page and "<td>1, 5, 10</td>" in page
    assert "<td>seed</td>" in page and "<td>0, 1</td>" in page
    assert "0,1,2" not in page and "${now" not in page   # not the preset's params, all resolved


def test_without_sweep_json_the_page_reads_multirun_yaml_leaving_out_the_unresolved(
        preset_sweep):
    (preset_sweep / "sweep.json").unlink()
    (preset_sweep / "multirun.yaml").write_text(
        "hydra:\n  sweep:\n    dir: multirun/${now:%Y-%m-%d}\n"
        "  launcher:\n    _target_: BasicLauncher\n    folder: ${hydra.sweep.dir}/.submitit\n"
        "  sweeper:\n    _target_: BasicSweeper\n    params:\n      seed: 0,1,2\n"
        "  overrides:\n    task:\n    - experiment=r2rt\n    - seed=0,1\n")
    page = write_report(collect(preset_sweep), preset_sweep,
                        preset_sweep / "report").read_text()
    assert "python -m rnnlab -m experiment=r2rt seed=0,1" in page
    assert str(preset_sweep.resolve()) in page and "BasicLauncher" in page
    assert "${" not in page and "0,1,2" not in page


def test_a_corrupt_sweep_json_is_a_note_on_the_page(preset_sweep):
    (preset_sweep / "sweep.json").write_text('{"command": ')
    page = write_report(collect(preset_sweep), preset_sweep,
                        preset_sweep / "report").read_text()
    assert "unreadable: sweep.json is not JSON" in page


def test_stale_metrics_of_another_configuration_are_reported_corrupt(tmp_path):
    config, other = job_config(bptt=5), job_config(bptt=10)
    make_run(tmp_path / "fresh", config, ["train.bptt=5"])
    make_run(tmp_path / "stale", config, ["train.bptt=5"],
             files={"metrics.csv": metrics_csv(other, 0.3)})
    runs = collect(tmp_path).runs.set_index("run_dir")
    assert runs.loc["fresh", "status"] == "finished"
    assert runs.loc["stale", "status"] == "corrupt"
    assert runs.loc["stale", "status_reason"] == (
        f"metrics.csv belongs to another configuration (fingerprint {fingerprint(other)[:12]} "
        f"vs run.json's {fingerprint(config)[:12]})")
