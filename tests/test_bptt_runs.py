"""RNN and LSTM runs end to end (CLI and Python API), and the ESN on the classification tasks."""

import math

import numpy as np
import pandas as pd
import pytest

from rnnlab import LSTM, RNN, ESN, TrainConfig, run_experiment
from rnnlab.tasks import CharsTask, EchoTask, MackeyGlassTask

SMALL_ECHO = ("task=echo", "task.train_steps=20000", "task.test_steps=5000")
TRAINING_FILES = {"metrics.csv", "training.csv", "gradients.csv", "loss.png", "gradients.png",
                  "training.png"}


def test_rnn_on_echo_from_the_cli_writes_every_table_and_plot(cli, tmp_path):
    result = cli("model=rnn", *SMALL_ECHO, "train.steps=1000", "train.bptt=5", "model.hidden_size=8",
                 "hydra.run.dir=run")
    assert result.returncode == 0, result.stderr
    run_dir = tmp_path / "run"
    assert TRAINING_FILES <= {p.name for p in run_dir.iterdir()}
    metrics = pd.read_csv(run_dir / "metrics.csv").iloc[0]
    assert metrics["theory_no_lag"] == pytest.approx(0.661563, abs=1e-6)
    assert metrics["theory_lags_3_8"] == pytest.approx(0.454454, abs=1e-6)
    assert metrics["test_cross_entropy"] < metrics["theory_no_lag"] - 0.05   # it learned lag 3
    assert metrics["nearest_theory"] in {"lag_3", "lags_3_8"}
    assert not metrics["diverged"]
    training = pd.read_csv(run_dir / "training.csv")
    assert list(training.columns) == ["step", "train_loss", "test_loss", "grad_norm",
                                      "fraction_clipped", "learning_rate", "window_loss",
                                      "smooth_loss", "recent_train_loss", "spectral_radius",
                                      "sigma_max"]
    assert training["step"].iloc[-1] == 1000
    gradients = pd.read_csv(run_dir / "gradients.csv")
    assert list(gradients.columns) == ["step", "layer", "t", "lag", "grad_norm",
                                       "last_step_grad_norm"]
    assert sorted(gradients["step"].unique()) == [0, 250, 500, 750, 1000]
    assert (gradients["lag"] == 49 - gradients["t"]).all()
    spectrum = pd.read_csv(run_dir / "spectrum.csv")
    assert list(spectrum.columns) == ["when", "block", "real", "imag", "modulus"]
    assert (spectrum["when"].value_counts() == 8).all()     # H = 8 eigenvalues before and after
    after = spectrum.loc[spectrum["when"] == "after", "modulus"].max()
    assert after == pytest.approx(training["spectral_radius"].iloc[-1], rel=1e-9)


def test_a_diverging_run_is_a_result_exit_0_with_diverged_recorded(cli, tmp_path):
    result = cli("model=rnn", *SMALL_ECHO, "train.steps=100", "train.bptt=30",
                 "train.clip=none", "train.optimiser=sgd", "train.learning_rate=1e4",
                 "model.activation=linear", "model.spectral_radius=2.0", "hydra.run.dir=run")
    assert result.returncode == 0, result.stderr
    metrics = pd.read_csv(tmp_path / "run/metrics.csv").iloc[0]
    assert metrics["diverged"] and 1 <= metrics["diverged_step"] < 100
    assert math.isnan(metrics["test_cross_entropy"])
    assert (tmp_path / "run/loss.png").exists() and (tmp_path / "run/gradients.png").exists()


@pytest.mark.parametrize("override, message", [
    ("train.bptt=0", "train.bptt=0 is out of range: allowed >= 1 (0, whole sequences, is for "
                     "tasks of separate sequences)"),
    ("train.clip=sometimes", "train.clip='sometimes' is not allowed: allowed one of value, norm, none"),
    ("train.batch_size=100000", "train.bptt=10 is out of range: allowed <= 0 (the task's 20000 "
                                "training steps split into train.batch_size=100000 streams)"),
    ("model.activation=softplus",
     "model.activation='softplus' is not allowed: allowed one of tanh, relu, linear"),
])
def test_bad_training_config_is_one_line_exit_2(cli, tmp_path, override, message):
    result = cli("model=rnn", *SMALL_ECHO, override, "hydra.run.dir=run")
    assert result.returncode == 2
    assert result.stderr.strip() == f"rnnlab: error: {message}"
    assert not (tmp_path / "run").exists()


def test_missing_text_file_is_one_line_exit_2(cli, tmp_path):
    result = cli("model=lstm", "task=chars", "task.source=file", "task.path=missing.txt",
                 "hydra.run.dir=run")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "task.path='missing.txt'" in result.stderr
    assert not (tmp_path / "run").exists()


def test_lstm_on_mackey_glass_predicts_and_runs_free(tmp_path):
    metrics = run_experiment(LSTM(hidden_size=16), MackeyGlassTask(length=1500), seed=0,
                             out_dir=tmp_path, train=TrainConfig(steps=1000, bptt=20, batch_size=16)).metrics
    assert metrics["one_step_nrmse"] < 0.3          # far better than predicting the mean (1.0)
    assert np.isfinite(metrics["free_run_nrmse"])
    series = pd.read_csv(tmp_path / "series.csv")
    assert list(series.columns) == ["t", "target", "teacher_forced", "free_run"]
    assert series["free_run"].notna().sum() == 84
    assert (tmp_path / "prediction.png").exists()


def test_chars_loss_at_initialisation_is_ln_v_and_samples_use_the_vocabulary(tmp_path):
    task = CharsTask(length=20_000, sample_length=50)
    metrics = run_experiment(RNN(hidden_size=8), task, seed=0, out_dir=tmp_path,
                             train=TrainConfig(steps=20, bptt=10, batch_size=8)).metrics
    assert metrics["initial_test_loss"] == pytest.approx(math.log(8), rel=0.01)
    assert metrics["theory_uniform"] == pytest.approx(math.log(8))
    assert metrics["theory_entropy_rate"] < metrics["theory_unigram"] < metrics["theory_uniform"]
    sample = (tmp_path / "samples.txt").read_text().strip()
    assert len(sample) == 1 + 50 and set(sample) <= set("abcdefgh")   # seed + 50 drawn


def test_esn_on_echo_scores_its_clipped_readout_against_theory(tmp_path):
    metrics = run_experiment(ESN(units=100, feedback_scaling=0.0, leak_rate=1.0), EchoTask(
        train_steps=20_000, test_steps=5_000), seed=0, out_dir=tmp_path).metrics
    assert metrics["test_cross_entropy"] < metrics["theory_no_lag"] - 0.05
    assert metrics["test_cross_entropy"] > metrics["theory_lags_3_8"] - 0.02
    assert (tmp_path / "spectrum.png").exists()


def test_same_seed_same_training_numbers(tmp_path):
    runs = []
    for name in ("a", "b"):
        metrics = run_experiment(RNN(hidden_size=4), EchoTask(train_steps=5000, test_steps=1000),
                                 seed=3, out_dir=tmp_path / name, train=TrainConfig(steps=30)).metrics
        metrics.pop("wall_time_s")
        runs.append(metrics)
    assert runs[0] == runs[1]
    assert ((tmp_path / "a/training.csv").read_bytes() == (tmp_path / "b/training.csv").read_bytes())


def test_plots_return_figures_and_a_diverged_loss_is_drawn_on_a_log_axis():
    from matplotlib.figure import Figure

    from rnnlab import plots
    history = pd.DataFrame({"step": [0, 10, 20, 30], "train_loss": [np.nan, 2.0, 1e40, 1e136],
                            "test_loss": [2.1, 1.9, 1e50, np.inf], "grad_norm": [np.nan, 1, 1e9, 0],
                            "fraction_clipped": [np.nan, 0, 1, 1], "learning_rate": [0.1] * 4,
                            "spectral_radius": [0.9, 1.0, 3.0, 9.0],
                            "sigma_max": [1.0, 1.2, 4.0, 12.0]})
    loss = plots.plot_loss(history, {"uniform": 2.08}, "diverged", "cross-entropy (nats)")
    assert isinstance(loss, Figure) and loss.axes[0].get_yscale() == "log"
    dynamics = plots.plot_training_dynamics(history, "diverged")
    assert isinstance(dynamics, Figure) and len(dynamics.axes) == 4
    assert dynamics.axes[1].get_yscale() == "log"           # the gradient norm
