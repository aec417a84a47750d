"""One experiment, start to finish, as a plain Python function (the CLI is a thin layer on it).

    metrics = run_experiment(ESN(units=300), SineTask(), seed=0, out_dir="outputs/mine")

writes into ``out_dir``:
    series.csv      t, input, target, teacher_forced, free_run (test part)
    spectrum.csv    eigenvalues of the recurrent matrix (all for N <= 2000, else the leading 200)
    prediction.png  target vs teacher-forced and free-run predictions, with the input
    spectrum.png    eigenvalues in the complex plane, unit circle and rho circle
    metrics.csv     one row: model, task, seed, every scalar metric; written last, so its presence
                    marks a finished run
"""

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from rnnlab import plots, spectral
from rnnlab.models import MODELS, ESN
from rnnlab.tables import write_table
from rnnlab.tasks import TASKS, SeriesData
from rnnlab.validation import ConfigError, require

log = logging.getLogger(__name__)

ALL_EIGENVALUES_UP_TO = 2000   # units; above this spectrum.csv keeps the leading eigenvalues
LEADING_EIGENVALUES = 200


def check_experiment(model, task, seed: int = 0) -> None:
    """Raise ConfigError (one line: key, value, what is allowed) before anything runs."""
    require(isinstance(seed, int) and seed >= 0, f"seed={seed!r} is out of range: allowed >= 0")
    pairing = (model.name, task.name)
    require(pairing in RUNNERS,
            f"model={model.name} cannot run task={task.name}: allowed pairings are "
            + ", ".join(f"model={m} task={t}" for m, t in RUNNERS))
    model.check("model.")
    task.check("task.")
    require(model.washout < task.train_length,
            f"model.washout={model.washout} is out of range: allowed < {task.train_length} "
            f"(the task's training steps)")
    if task.needs_feedback:
        require(model.feedback_scaling > 0,
                f"model.feedback_scaling={model.feedback_scaling} is out of range for "
                f"task={task.name}: allowed > 0 (the target reaches the model only as feedback)")


def run_experiment(model, task, seed: int, out_dir) -> dict:
    """Check, run, write the run directory; return the metrics row as a dict."""
    check_experiment(model, task, seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model_rng, data_rng = np.random.default_rng(seed).spawn(2)
    started = time.perf_counter()
    metrics = RUNNERS[(model.name, task.name)](model.with_seed(model_rng), task,
                                              task.make_data(data_rng), out_dir)
    metrics = {"model": model.name, "task": task.name, "seed": seed, **metrics,
               "wall_time_s": time.perf_counter() - started}
    write_table([metrics], out_dir / "metrics.csv")
    return metrics


def fit_reservoir_on_series(model: ESN, task, data: SeriesData, out_dir: Path) -> dict:
    """Fit with teacher forcing, predict the test part one step ahead, then let it run free."""
    log.info("fitting %s on %d steps (washout %d)", model, data.train_length, model.washout)
    model.fit(data.u_train, data.y_train)
    teacher_forced = model.predict(data.u_test, data.y_test)
    free_run = model.generate(data.u_test[:data.free_run_length], steps=data.free_run_length)
    metrics = {**task.score(data, teacher_forced, free_run),
               "nrmse_normalisation": "std",
               "spectral_radius": model.spectral_radius_,
               "largest_singular_value": model.largest_singular_value_,
               "effective_spectral_radius": model.effective_spectral_radius_}

    write_table(series_table(data, teacher_forced, free_run), out_dir / "series.csv")
    leading = None if model.units <= ALL_EIGENVALUES_UP_TO else LEADING_EIGENVALUES
    eigenvalues = spectral.eigenvalues(model.W_, leading=leading)
    write_table({"real": eigenvalues.real, "imag": eigenvalues.imag,
                 "modulus": np.abs(eigenvalues)}, out_dir / "spectrum.csv")
    title = f"{model.name} on {task.name}"
    headline = ", ".join(f"{key.replace('_', ' ')} {metrics[key]:.3g}" for key in task.headline)
    plots.plot_prediction(pd.read_csv(out_dir / "series.csv"), out_dir / "prediction.png",
                          f"{title}: {headline}")
    plots.plot_spectrum(eigenvalues, model.spectral_radius_, out_dir / "spectrum.png",
                        f"{title}: reservoir spectrum (N = {model.units})", model.leak_rate,
                        model.effective_spectral_radius_)
    return metrics


RUNNERS = {
    ("esn", "sine"): fit_reservoir_on_series,
    ("esn", "mackey_glass"): fit_reservoir_on_series,
}


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


def summary(metrics: dict, out_dir) -> str:
    """One line: what ran, its headline numbers, where the outputs are."""
    skip = {"model", "task", "seed", "nrmse_normalisation"}
    numbers = " ".join(f"{key}={value:.4g}" for key, value in metrics.items()
                       if key not in skip and isinstance(value, (int, float)))
    return f"{metrics['model']} on {metrics['task']} (seed {metrics['seed']}): {numbers} -> {out_dir}"


def build(model_name: str, task_name: str, model_params: dict, task_params: dict):
    """Model and task objects from their names and keyword parameters."""
    for key, name, table in [("model", model_name, MODELS), ("task", task_name, TASKS)]:
        require(name in table, f"{key}={name} is unknown: allowed {', '.join(table)}")
    return MODELS[model_name](**model_params), TASKS[task_name](**task_params)
