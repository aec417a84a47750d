"""Multirun sweeps: every job is checked before any starts; a failing job does not stop the rest."""

import hydra
import pandas as pd
from hydra import initialize_config_module

from rnnlab.app.preflight import grid_jobs
from rnnlab.app.schema import register_configs


def test_r2rt_preset_expands_to_its_eighteen_jobs_and_the_command_line_wins():
    register_configs()
    with initialize_config_module(version_base="1.3", config_module="rnnlab.conf"):
        params = hydra.compose("config", overrides=["experiment=r2rt"],
                               return_hydra_config=True).hydra.sweeper.params
    jobs = grid_jobs(["experiment=r2rt"], params)
    assert len(jobs) == 18
    combos = {tuple(sorted(o for o in job if not o.startswith("experiment="))) for job in jobs}
    assert ("model=lstm", "r2rt=bptt10", "seed=2") in combos and len(combos) == 18
    assert len(grid_jobs(["experiment=r2rt", "seed=0", "model=lstm"], params)) == 3
    assert grid_jobs(["seed=range(2)", "model=rnn,lstm"], None) == [
        ["seed=0", "model=rnn"], ["seed=0", "model=lstm"], ["seed=1", "model=rnn"],
        ["seed=1", "model=lstm"]]


def test_a_bad_value_in_any_job_stops_the_sweep_before_it_starts(cli, tmp_path):
    result = cli("-m", "model=rnn,lstm", "task=echo", "train.bptt=1,0")
    assert result.returncode == 2
    assert result.stderr.strip() == ("rnnlab: error: train.bptt=0 is out of range: allowed >= 1 "
                                     "(0, whole sequences, is for tasks of separate sequences)")
    assert not (tmp_path / "outputs").exists()


def test_a_failing_job_is_recorded_and_the_others_finish(cli, tmp_path):
    """10 units at density 0.01 is a single connection: seed 0 puts it off the diagonal, a
    nilpotent matrix that cannot be rescaled to rho = 1 -- the job fails at run time."""
    result = cli("-m", "model.units=10", "model.connectivity=0.01,1.0", "model.washout=10",
                 "task=mackey_glass", "task.length=600")
    assert result.returncode == 0, result.stderr
    (sweep,) = (tmp_path / "outputs/multirun").glob("*/*")
    assert (sweep / "0/status.txt").read_text().startswith(
        "failed: ConfigError: connectivity=0.01 with units=10 drew a reservoir with spectral "
        "radius 0")
    assert not (sweep / "0/metrics.csv").exists()
    assert (sweep / "1/status.txt").read_text() == "finished\n"
    assert pd.read_csv(sweep / "1/metrics.csv").iloc[0]["one_step_nrmse"] < 0.1
    runs = pd.read_csv(sweep / "report/runs.csv")
    assert runs["status"].tolist() == ["failed", "finished"]


def test_a_single_run_refused_at_run_time_is_one_line_and_leaves_nothing(cli, tmp_path):
    result = cli("model.units=10", "model.connectivity=0.01", "model.washout=10",
                 "task=mackey_glass", "task.length=600", "hydra.run.dir=run")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("rnnlab: error: connectivity=0.01 with units=10 drew a reservoir")
    assert not (tmp_path / "run").exists()


def test_sweep_ends_with_a_report_and_resume_reruns_only_unfinished_jobs(cli, tmp_path):
    sweep = ("-m", "task=mackey_glass", "task.length=600", "model.units=20",
             "model.washout=10", "seed=0,1", "hydra.sweep.dir=sweep")
    assert cli(*sweep).returncode == 0
    runs = pd.read_csv(tmp_path / "sweep/report/runs.csv")
    assert runs["status"].tolist() == ["finished", "finished"] and runs["seed"].tolist() == [0, 1]
    first = (tmp_path / "sweep/0/metrics.csv").read_bytes()   # carries its own wall time
    (tmp_path / "sweep/1/metrics.csv").unlink()                # as if job 1 had been killed
    result = cli(*sweep, "resume=true")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "sweep/0/metrics.csv").read_bytes() == first        # skipped
    assert (tmp_path / "sweep/1/metrics.csv").exists()                     # run again
    assert pd.read_csv(tmp_path / "sweep/report/runs.csv")["status"].tolist() == ["finished"] * 2


def test_submitit_local_launcher_runs_the_sweep_and_reports_it(cli, tmp_path):
    result = cli("-m", "hydra/launcher=submitit_local", "task=mackey_glass", "task.length=600",
                 "model.units=20", "model.washout=10", "seed=0,1", "hydra.sweep.dir=sweep")
    assert result.returncode == 0, result.stderr
    runs = pd.read_csv(tmp_path / "sweep/report/runs.csv")
    assert runs["status"].tolist() == ["finished", "finished"]
    assert (runs["one_step_nrmse"] < 0.2).all()


def test_a_sweep_with_a_diverging_run_completes_and_its_report_shows_it(cli, tmp_path):
    result = cli("-m", "model=rnn", "task=echo", "task.train_steps=4000", "task.test_steps=1000",
                 "train.steps=100", "train.clip=none", "train.optimiser=sgd",
                 "model.activation=linear", "model.spectral_radius=0.9",
                 "train.learning_rate=0.01,10000", "hydra.sweep.dir=sweep")
    assert result.returncode == 0, result.stderr
    runs = pd.read_csv(tmp_path / "sweep/report/runs.csv")
    assert runs["status"].tolist() == ["finished", "diverged"]
    assert runs["train.learning_rate"].tolist() == [0.01, 10000]
    page = (tmp_path / "sweep/report/index.html").read_text()
    assert "Runs that did not finish" in page and "<td>diverged</td>" in page


def test_an_optuna_search_samples_intervals_refuses_bad_trials_cleanly_and_ends_with_a_report(
        cli, tmp_path):
    """The preset's leak-rate interval is widened past 1 here: the sampler's seed-0 draws put
    two of the first three trials there, which are refused one by one while the search goes on."""
    result = cli("-m", "hydra/sweeper=optuna", "experiment=esn_search", "hydra.sweeper.n_trials=3",
                 "model.units=40", "task.length=1500", "model.leak_rate=interval(0.5,1.5)",
                 "hydra.sweep.dir=search")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    runs = pd.read_csv(tmp_path / "search/report/runs.csv")
    assert len(runs) == 3 and runs["model.leak_rate"].between(0.5, 1.5).all()
    refused = runs[runs["model.leak_rate"] > 1]
    assert len(refused) >= 1 and (refused["status"] == "failed").all()
    assert (runs.loc[runs["model.leak_rate"] <= 1, "status"] == "finished").all()
    status = (tmp_path / "search" / str(refused["run_dir"].iloc[0]) / "status.txt").read_text()
    assert status.startswith("failed: ConfigError: model.leak_rate=")
    assert status.rstrip().endswith("is out of range: allowed in (0, 1]")
    assert (tmp_path / "search/report/index.html").exists()


def test_an_unknown_launcher_is_one_line_naming_the_launchers_that_exist(cli, tmp_path):
    result = cli("-m", "hydra/launcher=nonexistent", "seed=0,1")
    assert result.returncode == 2
    assert result.stderr == ("rnnlab: error: hydra/launcher=nonexistent is unknown: allowed "
                             "basic, joblib, submitit_local, submitit_slurm\n")
    assert not (tmp_path / "outputs").exists()


def test_an_interval_needs_a_sampling_sweeper_and_says_so(cli, tmp_path):
    result = cli("-m", "model.spectral_radius=interval(0.5,1.5)")
    assert result.returncode == 2
    assert result.stderr == ("rnnlab: error: model.spectral_radius=interval(0.5,1.5) needs a "
                             "sweeper that samples intervals: allowed with hydra/sweeper=optuna "
                             "(the basic sweeper takes lists, range() and choice())\n")
    assert not (tmp_path / "outputs").exists()
