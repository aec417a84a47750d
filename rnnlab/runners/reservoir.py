"""Echo state network runs: ridge readout on a series (regression) or on class labels.

Regression (sine, Mackey-Glass) writes series.csv, prediction.png; classification (echo, chars)
scores the cross-entropy of the readout turned into probabilities (clipped to [eps, 1], then
normalised) against the task's theory. Both write spectrum.csv and spectrum.png.
"""

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from rnnlab import plots, spectral
from rnnlab.models import ESN
from rnnlab.runners.scoring import theory_metrics
from rnnlab.tables import write_table
from rnnlab.tasks import SeriesData
from rnnlab.validation import require

log = logging.getLogger(__name__)

ALL_EIGENVALUES_UP_TO = 2000   # units; above this spectrum.csv keeps the leading eigenvalues
LEADING_EIGENVALUES = 200
PROBABILITY_FLOOR = 1e-3       # eps: a readout at or below 0 still gets a finite cross-entropy


def check(model: ESN, task, train) -> None:
    """Rules relating an ESN to a task (the ESN has no training loop: ``train`` is unused)."""
    require(model.washout < task.train_length,
            f"model.washout={model.washout} is out of range: allowed < {task.train_length} "
            f"(the task's training steps)")
    if task.needs_feedback:
        require(model.feedback_scaling > 0,
                f"model.feedback_scaling={model.feedback_scaling} is out of range for "
                f"task={task.name}: allowed > 0 (the target reaches the model only as feedback)")


def fit_on_series(model: ESN, task, data: SeriesData, train, rng, out_dir: Path) -> dict:
    """Fit with teacher forcing, predict the test part one step ahead, then let it run free."""
    log.info("fitting %s on %d steps (washout %d)", model, data.train_length, model.washout)
    model.fit(data.u_train, data.y_train)
    teacher_forced = model.predict(data.u_test, data.y_test)
    free_run = model.generate(data.u_test[:data.free_run_length], steps=data.free_run_length)
    metrics = {**task.score(data, teacher_forced, free_run), "nrmse_normalisation": "std"}
    write_series(data, teacher_forced, free_run, out_dir, task, model, metrics)
    return {**metrics, **write_spectrum(model, task, out_dir)}


def fit_classifier(model: ESN, task, data: SeriesData, train, rng, out_dir: Path) -> dict:
    """Ridge readout onto one-hot labels; probabilities = readout clipped to [eps, 1], normalised."""
    classes = len(data.classes)
    inputs = np.eye(classes)[data.inputs] if data.inputs.ndim == 1 else data.inputs
    labels = np.eye(classes)[data.targets]
    t = data.train_length
    log.info("fitting %s on %d steps (washout %d)", model, t, model.washout)
    model.fit(inputs[:t], labels[:t])
    train_readout = model.predict(inputs[model.washout:t], labels[model.washout:t])
    test_readout = model.predict(inputs[t:], labels[t:])
    metrics = {"train_cross_entropy": readout_cross_entropy(train_readout, data.targets[model.washout:t]),
               "test_cross_entropy": readout_cross_entropy(test_readout, data.targets[t:]),
               "probability_floor": PROBABILITY_FLOOR}
    metrics.update(theory_metrics(task.theory(data), metrics["test_cross_entropy"]))
    return {**metrics, **write_spectrum(model, task, out_dir)}


def readout_cross_entropy(readout: np.ndarray, targets: np.ndarray) -> float:
    """Mean -ln p[target] with p = max(readout, eps) / sum (rows of the (T, C) readout)."""
    probabilities = np.clip(readout, PROBABILITY_FLOOR, None)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(probabilities[np.arange(len(targets)), targets])))


def write_series(data, teacher_forced, free_run, out_dir, task, model, metrics) -> None:
    """series.csv and prediction.png (shared with the BPTT models' regression runs)."""
    write_table(series_table(data, teacher_forced, free_run), out_dir / "series.csv")
    headline = ", ".join(f"{key.replace('_', ' ')} {metrics[key]:.3g}" for key in task.headline)
    plots.plot_prediction(pd.read_csv(out_dir / "series.csv"), out_dir / "prediction.png",
                          f"{model.name} on {task.name}: {headline}")


def write_spectrum(model: ESN, task, out_dir: Path) -> dict:
    """spectrum.csv and spectrum.png; returns the measured spectral diagnostics."""
    leading = None if model.units <= ALL_EIGENVALUES_UP_TO else LEADING_EIGENVALUES
    eigenvalues = spectral.eigenvalues(model.W_, leading=leading)
    write_table({"real": eigenvalues.real, "imag": eigenvalues.imag,
                 "modulus": np.abs(eigenvalues)}, out_dir / "spectrum.csv")
    plots.plot_spectrum(eigenvalues, model.spectral_radius_, out_dir / "spectrum.png",
                        f"{model.name} on {task.name}: reservoir spectrum (N = {model.units})",
                        model.leak_rate, model.effective_spectral_radius_)
    return {"spectral_radius": model.spectral_radius_,
            "largest_singular_value": model.largest_singular_value_,
            "effective_spectral_radius": model.effective_spectral_radius_}


def series_table(data: SeriesData, teacher_forced: np.ndarray, free_run: np.ndarray) -> dict:
    """Columns of series.csv; a free run shorter than the test part is padded with NaN."""
    test_length = len(data.y_test)
    padded = np.full((test_length, free_run.shape[1]), np.nan)
    padded[:len(free_run)] = free_run
    columns = {"t": np.arange(data.train_length, data.train_length + test_length)}
    for name, values in [("input", data.u_test), ("target", data.y_test),
                         ("teacher_forced", teacher_forced), ("free_run", padded)]:
        for j in range(values.shape[1]):
            columns[name if values.shape[1] == 1 else f"{name}_{j}"] = values[:, j]
    return columns
