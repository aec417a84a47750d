"""Records you can trust: run identity and resume, stale outputs set aside, locked folders,
interrupts and kills, and the same bytes whether a run is alone or one job of a sweep."""

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from rnnlab.experiments import records
from rnnlab.report import collect

SMALL_ESN = ["task=mackey_glass", "task.length=600", "model.units=20", "model.washout=10"]
# an RNN job of about two seconds: long enough to be caught while it runs
SLOW_RNN = ["model=rnn", "task=echo", "task.train_steps=100000", "task.test_steps=5000"]


def start(args, cwd):
    """The command line as a child process that hears SIGINT even where this test process was
    started in the background (a shell's background jobs inherit SIGINT ignored)."""
    return subprocess.Popen([sys.executable, "-m", "rnnlab", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for(condition, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def status(run_dir: Path) -> str:
    return records.read_status(run_dir) or ""


def tables(run_dir: Path) -> dict[str, str]:
    """Every CSV of a run as text; metrics.csv without its wall time."""
    found = {}
    for path in sorted(run_dir.glob("*.csv")):
        text = path.read_text()
        if path.name == "metrics.csv":
            rows = list(csv.DictReader(text.splitlines()))
            text = repr([{k: v for k, v in row.items() if k != "wall_time_s"} for row in rows])
        found[path.name] = text
    return found


# ---------------------------------------------------------------------------- identity, resume
def test_every_run_records_its_identity_and_metrics_carry_the_fingerprint(cli, tmp_path):
    assert cli(*SMALL_ESN, "hydra.run.dir=run").returncode == 0
    identity = records.read_identity(tmp_path / "run")
    metrics = pd.read_csv(tmp_path / "run/metrics.csv").iloc[0]
    assert metrics["config_fingerprint"] == identity["fingerprint"] == records.fingerprint(
        identity["config"])
    assert identity["config"]["model"]["units"] == 20 and identity["config"]["blas_threads"] == 1
    assert identity["overrides"] == SMALL_ESN   # the task's overrides (Hydra's own are not)
    assert identity["provenance"]["numpy"] and identity["provenance"]["blas_threads"] == 1
    assert status(tmp_path / "run") == "finished"


def test_resume_reruns_the_jobs_whose_config_changed_and_skips_the_others(cli, tmp_path):
    sweep = ("-m", *SMALL_ESN, "model.leak_rate=0.5,1.0", "hydra.sweep.dir=sweep")
    assert cli(*sweep).returncode == 0
    first = {job: (tmp_path / f"sweep/{job}/metrics.csv").read_bytes() for job in "01"}
    changed = cli(*sweep, "model.ridge=1e-4", "resume=true")
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.count("holds a run of another config: running again") == 2
    for job in "01":
        folder = tmp_path / f"sweep/{job}"
        assert (folder / "metrics.csv").read_bytes() != first[job]
        assert records.read_identity(folder)["config"]["model"]["ridge"] == 1e-4
        assert records.finished_fingerprint(folder) == records.read_identity(folder)["fingerprint"]
        (old,) = (folder / ".superseded").glob("*/metrics.csv")   # set aside, not lost
        assert old.read_bytes() == first[job]
    again = {job: (tmp_path / f"sweep/{job}/metrics.csv").read_bytes() for job in "01"}
    same = cli(*sweep, "model.ridge=1e-4", "resume=true")
    assert same.stdout.count("finished with this config") == 2
    assert {job: (tmp_path / f"sweep/{job}/metrics.csv").read_bytes() for job in "01"} == again
    runs = pd.read_csv(tmp_path / "sweep/report/runs.csv")
    assert runs["status"].tolist() == ["finished", "finished"]
    assert runs["model.ridge"].tolist() == [1e-4, 1e-4]


def test_a_failed_job_that_succeeds_on_resume_is_finished(cli, tmp_path):
    folder = tmp_path / "sweep/0"
    folder.mkdir(parents=True)
    (folder / "status.txt").write_text("failed: ValueError: an earlier attempt\n")
    assert cli("-m", *SMALL_ESN, "seed=0", "hydra.sweep.dir=sweep", "resume=true").returncode == 0
    assert status(folder) == "finished"
    assert pd.read_csv(tmp_path / "sweep/report/runs.csv")["status"].tolist() == ["finished"]


def test_a_rerun_into_a_finished_folder_never_reports_stale_numbers(cli, tmp_path):
    assert cli(*SMALL_ESN, "hydra.run.dir=run").returncode == 0
    old = (tmp_path / "run/metrics.csv").read_bytes()
    killed = start([*SLOW_RNN, "hydra.run.dir=run"], tmp_path)
    wait_for(lambda: status(tmp_path / "run") == "running")
    killed.kill()
    killed.wait()
    assert not (tmp_path / "run/metrics.csv").exists()
    (moved,) = (tmp_path / "run/.superseded").glob("*/metrics.csv")
    assert moved.read_bytes() == old
    (run,) = collect(tmp_path / "run").runs.to_dict("records")
    assert run["status"] == "incomplete" and run["model"] == "rnn"
    # the dead run's lock is stale: the next run takes the folder over
    assert cli(*SMALL_ESN, "hydra.run.dir=run").returncode == 0
    assert status(tmp_path / "run") == "finished"


# ---------------------------------------------------------------------------- locks, signals
def test_a_second_sweep_into_a_folder_in_use_is_refused(cli, tmp_path):
    first = start(["-m", *SLOW_RNN, "seed=0,1", "hydra.sweep.dir=sweep"], tmp_path)
    wait_for(lambda: (tmp_path / "sweep" / records.LOCK).exists())
    second = cli("-m", *SMALL_ESN, "seed=0,1", "hydra.sweep.dir=sweep")
    assert second.returncode == 2
    (line,) = second.stderr.strip().splitlines()
    assert line.startswith("rnnlab: error: hydra.sweep.dir=") and "is in use by another rnnlab " \
        f"process (pid {first.pid}" in line
    assert first.wait(timeout=120) == 0
    runs = pd.read_csv(tmp_path / "sweep/report/runs.csv")
    assert runs["status"].tolist() == ["finished", "finished"] and set(runs["model"]) == {"rnn"}
    assert not (tmp_path / "sweep" / records.LOCK).exists()


@pytest.mark.parametrize("name, number", [("SIGINT", signal.SIGINT), ("SIGTERM", signal.SIGTERM)])
def test_an_interrupted_sweep_ends_in_one_line_with_its_report(tmp_path, name, number):
    sweep = start(["-m", *SLOW_RNN, "seed=0,1,2", "hydra.sweep.dir=sweep"], tmp_path)
    wait_for(lambda: status(tmp_path / "sweep/1") == "running")
    sweep.send_signal(number)
    out, err = sweep.communicate(timeout=120)
    assert sweep.returncode == 130
    (line,) = err.strip().splitlines()
    assert line.startswith(f"rnnlab: interrupted ({name}): the sweep stopped; report of what ran")
    assert "Traceback" not in out + err
    assert status(tmp_path / "sweep/1") == f"interrupted: {name}"
    runs = pd.read_csv(tmp_path / "sweep/report/runs.csv")
    assert runs["status"].tolist() == ["finished", "interrupted"]
    assert not (tmp_path / "sweep" / records.LOCK).exists()


def test_an_interrupted_single_run_is_marked_interrupted(tmp_path):
    run = start([*SLOW_RNN, "hydra.run.dir=run"], tmp_path)
    wait_for(lambda: status(tmp_path / "run") == "running")
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 130 and "Traceback" not in out + err
    assert err.strip() == "rnnlab: interrupted (SIGINT): the run is marked interrupted"
    assert status(tmp_path / "run") == "interrupted: SIGINT"
    assert not (tmp_path / "run/metrics.csv").exists()


def test_kill_9_then_resume_gives_the_bytes_of_an_uninterrupted_sweep(cli, tmp_path):
    jobs = ["-m", *SLOW_RNN, "train.steps=1500", "seed=0,1"]
    assert cli(*jobs, "hydra.sweep.dir=whole").returncode == 0
    killed = start([*jobs, "hydra.sweep.dir=broken"], tmp_path)
    wait_for(lambda: status(tmp_path / "broken/1") == "running")
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    assert not (tmp_path / "broken/1/metrics.csv").exists()
    done = (tmp_path / "broken/0/metrics.csv").read_bytes()
    resumed = cli(*jobs, "hydra.sweep.dir=broken", "resume=true")
    assert resumed.returncode == 0, resumed.stderr
    assert (tmp_path / "broken/0/metrics.csv").read_bytes() == done     # skipped
    for job in "01":
        assert tables(tmp_path / f"broken/{job}") == tables(tmp_path / f"whole/{job}")
        assert status(tmp_path / f"broken/{job}") == "finished"


# ------------------------------------------------------------------------------ determinism
def test_a_run_alone_and_as_a_basic_or_joblib_sweep_job_gives_the_same_bytes(cli, tmp_path):
    common = ["task=mackey_glass", "task.length=700", "train.steps=30", "train.batch_size=8"]
    families = {"esn": ["model.units=40", "model.washout=10"], "rnn,lstm": ["++model.hidden_size=8"]}
    for models, extra in families.items():
        for launcher in ("basic", "joblib"):
            chosen = [] if launcher == "basic" else ["hydra/launcher=joblib"]
            result = cli("-m", f"model={models}", *common, *extra, *chosen,
                         f"hydra.sweep.dir={launcher}/{models.replace(',', '_')}")
            assert result.returncode == 0, result.stderr
        for job, model in enumerate(models.split(",")):
            assert cli(f"model={model}", *common, *extra,
                       f"hydra.run.dir=alone/{model}").returncode == 0
            alone = tables(tmp_path / f"alone/{model}")
            for launcher in ("basic", "joblib"):
                found = tables(tmp_path / f"{launcher}/{models.replace(',', '_')}/{job}")
                assert found == alone, (model, launcher)
    assert {"series.csv", "training.csv", "gradients.csv"} <= set(tables(tmp_path / "alone/lstm"))
