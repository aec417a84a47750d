"""One experiment, start to finish, as a plain Python function (the CLI is a thin layer on it).

    metrics = run_experiment(ESN(units=300), SineTask(), seed=0, out_dir="outputs/mine")
    metrics = run_experiment(LSTM(hidden_size=16), EchoTask(), seed=0, out_dir="outputs/echo",
                             train=TrainConfig(bptt=10))

The runner for the (model, task) pair (``rnnlab.runners``) writes the run's tables and plots:
ESN runs write spectrum.csv/png (and series.csv, prediction.png on regression tasks); RNN and
LSTM runs write training.csv, gradients.csv, loss.png, gradients.png (and series.csv,
prediction.png on regression tasks, samples.txt on chars). metrics.csv -- one row: model, task,
seed, every scalar metric -- is written last, so its presence marks a finished run.
"""

import logging
import time
from pathlib import Path

import numpy as np

from rnnlab.models import MODELS
from rnnlab.runners import CHECKS, RUNNERS
from rnnlab.tables import write_table
from rnnlab.tasks import TASKS
from rnnlab.training import TrainConfig
from rnnlab.validation import require

log = logging.getLogger(__name__)


def check_experiment(model, task, seed: int = 0, train: TrainConfig | None = None) -> None:
    """Raise ConfigError (one line: key, value, what is allowed) before anything runs."""
    train = TrainConfig() if train is None else train
    require(isinstance(seed, int) and seed >= 0, f"seed={seed!r} is out of range: allowed >= 0")
    pairing = (model.name, task.name)
    require(pairing in RUNNERS,
            f"model={model.name} cannot run task={task.name}: allowed pairings are "
            + ", ".join(f"model={m} task={t}" for m, t in RUNNERS))
    model.check("model.")
    task.check("task.")
    CHECKS[model.name](model, task, train)


def run_experiment(model, task, seed: int, out_dir, train: TrainConfig | None = None) -> dict:
    """Check, run, write the run directory; return the metrics row as a dict.

    ``train`` configures the BPTT models' training loop (the ESN has none and ignores it).
    """
    train = TrainConfig() if train is None else train
    check_experiment(model, task, seed, train)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model_rng, data_rng, sampling_rng = np.random.default_rng(seed).spawn(3)
    started = time.perf_counter()
    metrics = RUNNERS[(model.name, task.name)](model.with_seed(model_rng), task,
                                              task.make_data(data_rng), train, sampling_rng,
                                              out_dir)
    metrics = {"model": model.name, "task": task.name, "seed": seed, **metrics,
               "wall_time_s": time.perf_counter() - started}
    write_table([metrics], out_dir / "metrics.csv")
    return metrics


def summary(metrics: dict, out_dir) -> str:
    """One line: what ran, its headline numbers, where the outputs are."""
    skip = {"model", "task", "seed"}
    numbers = " ".join(f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}"
                       for key, value in metrics.items() if key not in skip)
    return f"{metrics['model']} on {metrics['task']} (seed {metrics['seed']}): {numbers} -> {out_dir}"


def build(model_name: str, task_name: str, model_params: dict, task_params: dict):
    """Model and task objects from their names and keyword parameters."""
    for key, name, table in [("model", model_name, MODELS), ("task", task_name, TASKS)]:
        require(name in table, f"{key}={name} is unknown: allowed {', '.join(table)}")
    return MODELS[model_name](**model_params), TASKS[task_name](**task_params)
