"""The command line: composition, validation messages, run directories, determinism."""

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from rnnlab.app.preflight import check_config
from rnnlab.app.schema import objects_from_config, register_configs
from rnnlab.experiments import run_experiment
from rnnlab.validation import ConfigError

ROOT = Path(__file__).resolve().parents[1]
RUN_FILES = {"metrics.csv", "series.csv", "spectrum.csv", "prediction.png", "spectrum.png"}


def test_default_run_meets_the_frequency_generator_targets(cli, tmp_path):
    result = cli("model=esn", "task=sine", "hydra.run.dir=run")
    assert result.returncode == 0, result.stderr
    run_dir = tmp_path / "run"
    assert RUN_FILES <= {p.name for p in run_dir.iterdir()}
    metrics = pd.read_csv(run_dir / "metrics.csv").iloc[0]
    assert metrics["teacher_forced_nrmse"] < 0.02
    assert metrics["free_run_frequency_error_median"] < 0.03
    assert metrics["spectral_radius"] == pytest.approx(0.8, rel=1e-6)
    assert metrics["largest_singular_value"] > metrics["spectral_radius"]
    series = pd.read_csv(run_dir / "series.csv")
    assert list(series.columns) == ["t", "input", "target", "teacher_forced", "free_run"]
    assert len(pd.read_csv(run_dir / "spectrum.csv")) == 300  # all eigenvalues for N <= 2000
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.startswith("esn on sine (seed 0): teacher_forced_nrmse=")
    # the free run is judged by its frequency and amplitude, not by its NRMSE
    assert "free_run_frequency_error_median=" in summary
    assert "free_run_amplitude_error_median=" in summary
    assert "free_run_nrmse" not in summary and "in metrics.csv" in summary
    assert "Generator(PCG64)" not in result.stdout + result.stderr   # the log names no address


def test_help_lists_every_model_task_and_preset_and_version_is_rnnlabs(cli):
    from rnnlab import __name__ as package
    from rnnlab.models import MODELS
    from rnnlab.tasks import TASKS
    shown = cli("--help")
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert text.startswith(f"{package} ") and "Hydra" not in text.splitlines()[0]
    presets = [path.stem for path in (ROOT / "conf" / "experiment").glob("*.yaml")]
    for name in [*MODELS, *TASKS, *presets]:
        assert f"\n  {name} " in text, name
    assert "_schema" not in text
    assert max(len(line) for line in text.splitlines()) <= 100
    version = cli("--version")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert version.returncode == 0 and version.stdout.strip() == f"rnnlab {project['version']}"


def test_outputs_go_under_outputs_of_the_working_directory(cli, tmp_path):
    result = cli("task=mackey_glass", "task.length=600", "model.units=50")
    assert result.returncode == 0, result.stderr
    (metrics,) = (tmp_path / "outputs").glob("*/*/metrics.csv")
    assert pd.read_csv(metrics).iloc[0]["task"] == "mackey_glass"


@pytest.mark.parametrize("override, message", [
    ("model.spectral_radius=-0.5", "model.spectral_radius=-0.5 is out of range: allowed > 0"),
    ("model.leak_rate=0", "model.leak_rate=0.0 is out of range: allowed in (0, 1]"),
    ("model.leak_rate=1.5", "model.leak_rate=1.5 is out of range: allowed in (0, 1]"),
    ("model.connectivity=0", "model.connectivity=0.0 is out of range: allowed in (0, 1]"),
    ("model.units=0", "model.units=0 is out of range: allowed >= 1"),
    ("model.ridge=-1e-3", "model.ridge=-0.001 is out of range: allowed >= 0"),
    ("model.washout=9000",
     "model.washout=9000 is out of range: allowed < 9000 (the task's training steps)"),
    ("model.feedback_scaling=0", "model.feedback_scaling=0.0 is out of range for task=sine: "
                                 "allowed > 0 (the target reaches the model only as feedback)"),
    ("seed=-1", "seed=-1 is out of range: allowed >= 0"),
])
def test_out_of_range_values_are_refused_with_key_value_and_allowed(compose, override, message):
    cfg = compose(override)
    with pytest.raises(ConfigError) as error:
        check_config(cfg)
    assert str(error.value) == message


@pytest.mark.parametrize("override, needle", [
    ("model.leak_rate=2", "model.leak_rate=2.0 is out of range"),
    ("task.segment_min=900", "task.segment_min=900 must be <= task.segment_max=600"),
])
def test_cli_config_error_is_one_line_exit_2_and_leaves_no_run_dir(cli, tmp_path, override, needle):
    result = cli(override, "hydra.run.dir=run")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("rnnlab: error: ") and needle in line
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("override, message", [
    ("model.units=many",
     "model.units=many is not allowed: Value 'many' of type 'str' could not be converted to Integer"),
    ("model=transformer", "model=transformer is unknown: allowed esn, gru, lstm, nvar, rnn"),
    ("task=weather", "task=weather is unknown: allowed adding, binary_addition, chars, copy, "
                     "echo, lorenz, mackey_glass, memory, narma, sine"),
    ("model.nope=3", "model.nope is not a key of this config: allowed units, spectral_radius, "
                     "leak_rate, activation, topology, connectivity, input_scaling, "
                     "bias_scaling, feedback_scaling, readout, ridge, ridge_path, "
                     "validation_fraction, forgetting, rls_alpha, noise, washout, chunk_steps"),
    ("model.units=1=2", "model.units=1=2 cannot be parsed: mismatched input '=' expecting <EOF>"),
])
def test_cli_composition_errors_are_one_line_too(cli, tmp_path, override, message):
    result = cli(override, "hydra.run.dir=run")
    assert result.returncode == 2
    assert result.stderr.strip() == f"rnnlab: error: {message}"
    assert not (tmp_path / "run").exists()


def test_mackey_glass_gets_its_tuned_esn_settings_and_overrides_still_win(compose):
    cfg = compose("task=mackey_glass")
    assert (cfg.model.noise, cfg.model.spectral_radius, cfg.model.leak_rate) == (0.0, 1.0, 1.0)
    assert compose("task=mackey_glass", "model.noise=0.01").model.noise == 0.01
    assert compose().model.noise == 1e-3  # the sine task keeps the model's own defaults


def test_same_config_and_seed_give_identical_numbers(compose, tmp_path):
    cfg = compose("task=mackey_glass", "task.length=800", "model.units=60", "model.noise=0.01")
    runs = []
    for name in ("first", "second"):
        objects = objects_from_config(cfg)
        metrics = run_experiment(**objects, out_dir=tmp_path / name).metrics
        metrics.pop("wall_time_s")
        runs.append(metrics)
    assert runs[0] == runs[1]
    assert (tmp_path / "first/series.csv").read_bytes() == (tmp_path / "second/series.csv").read_bytes()
    other = run_experiment(**{**objects, "seed": cfg.seed + 1}, out_dir=tmp_path / "other").metrics
    assert other["one_step_nrmse"] != runs[0]["one_step_nrmse"]


def test_config_is_found_from_a_regular_non_editable_install(tmp_path):
    """Build the wheel, unpack it as an installer would, and run it from elsewhere."""
    wheel_dir, site = tmp_path / "wheel", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w",
                    str(wheel_dir), str(ROOT)], check=True, capture_output=True, timeout=300)
    (wheel,) = wheel_dir.glob("rnnlab-*.whl")
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    located = subprocess.run([sys.executable, "-c", "import rnnlab.conf; print(rnnlab.conf.__file__)"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert Path(located.stdout.strip()).is_relative_to(site)
    result = subprocess.run([sys.executable, "-m", "rnnlab", "task=mackey_glass", "--cfg", "job"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "name: mackey_glass" in result.stdout and "leak_rate: 1.0" in result.stdout


def test_a_task_added_to_the_registry_runs_by_name_without_a_config_file(compose, monkeypatch):
    from dataclasses import dataclass

    from rnnlab.tasks import TASKS, MackeyGlassTask

    @dataclass
    class ShortMackeyGlass(MackeyGlassTask):
        length: int = 700
        name = "mackey_glass_short"

    monkeypatch.setitem(TASKS, "mackey_glass_short", ShortMackeyGlass)
    register_configs()   # what the command line does at start
    cfg = compose("task=mackey_glass_short", "model.units=20", "model.washout=20")
    objects = objects_from_config(cfg)
    assert type(objects["task"]) is ShortMackeyGlass and objects["task"].length == 700
    assert run_experiment(**objects).metrics["task"] == "mackey_glass_short"


def test_tab_completion_offers_the_groups_and_no_internal_schema():
    def complete(line: str) -> list[str]:
        done = subprocess.run([sys.executable, "-m", "rnnlab", "-sc", "query=bash"],
                              env={**os.environ, "COMP_LINE": line}, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()
    top = complete("rnnlab ")
    assert {"model=", "task=", "experiment=", "seed="} <= set(top)
    assert complete("rnnlab model=") == ["model=esn", "model=gru", "model=lstm", "model=nvar",
                                         "model=rnn"]
    assert not any("schema" in word for word in top + complete("rnnlab model="))
