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
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Optional

import numpy as np

from rnnlab.models import MODELS
from rnnlab.runners import CHECKS, EXPERIMENTS, RUNNERS
from rnnlab.tables import write_table
from rnnlab.tasks import TASKS
from rnnlab.training import TrainConfig
from rnnlab.validation import at_least, check_ranges, require

log = logging.getLogger(__name__)

KINDS = ("train", *EXPERIMENTS)


@dataclass
class SweepConfig:
    """Settings of the sweeping experiments (``kind=gradient_flow``, ``kind=esn_sweep``)."""

    spectral_radii: list[float] = field(
        default_factory=lambda: [0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.5, 2.0])
    leak_rates: Optional[list[float]] = None       # esn_sweep: also sweep these (None: the model's)
    input_scalings: Optional[list[float]] = None   # esn_sweep: also sweep these (None: the model's)
    memory_capacity: bool = True   # esn_sweep: measure MC (costs a second run per grid point)
    window: int = 50               # gradient_flow: T, steps of each input window
    sequences: int = 32            # gradient_flow: input windows averaged over
    fit_lag_min: int = 10          # gradient_flow: the log-rate is fitted over lags fit_lag_min..T-1
    no_input: bool = False         # gradient_flow: zero input, N(0,1) initial state, random gradient
    trained: bool = False          # gradient_flow: also measure after training at each rho

    rules: ClassVar[dict] = {"window": at_least(2), "sequences": at_least(1),
                             "fit_lag_min": at_least(0)}

    def check(self, prefix: str = "sweep.") -> None:
        check_ranges(self, prefix)
        for key in ("spectral_radii", "leak_rates", "input_scalings"):
            values = getattr(self, key)
            require(values is None or (len(values) > 0 and all(v > 0 for v in values)),
                    f"{prefix}{key}={values} is out of range: allowed a non-empty list of "
                    f"numbers > 0")


def check_experiment(model, task, seed: int = 0, train: TrainConfig | None = None,
                     kind: str = "train", sweep: SweepConfig | None = None) -> None:
    """Raise ConfigError (one line: key, value, what is allowed) before anything runs."""
    train = TrainConfig() if train is None else train
    sweep = SweepConfig() if sweep is None else sweep
    require(isinstance(seed, int) and seed >= 0, f"seed={seed!r} is out of range: allowed >= 0")
    require(kind in KINDS, f"kind={kind!r} is not allowed: allowed one of {', '.join(KINDS)}")
    pairing = (model.name, task.name)
    require(pairing in RUNNERS,
            f"model={model.name} cannot run task={task.name}: allowed pairings are "
            + ", ".join(f"model={m} task={t}" for m, t in RUNNERS))
    model.check("model.")
    task.check("task.")
    if kind == "train":
        CHECKS[model.name](model, task, train)
    else:
        sweep.check("sweep.")
        EXPERIMENTS[kind].check(model, task, train, sweep)


def run_experiment(model, task, seed: int, out_dir, train: TrainConfig | None = None,
                   kind: str = "train", sweep: SweepConfig | None = None) -> dict:
    """Check, run, write the run directory; return the metrics row as a dict.

    ``kind``: "train" (fit or train the model on the task), "gradient_flow" or "esn_sweep" (a
    grid of spectral radii in one process, set by ``sweep``). ``train`` configures the BPTT
    models' training loop (the ESN has none and ignores it).
    """
    train = TrainConfig() if train is None else train
    sweep = SweepConfig() if sweep is None else sweep
    check_experiment(model, task, seed, train, kind, sweep)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model_rng, data_rng, sampling_rng = np.random.default_rng(seed).spawn(3)
    started = time.perf_counter()
    data = task.make_data(data_rng)
    if kind == "train":
        metrics = RUNNERS[(model.name, task.name)](model.with_seed(model_rng), task, data, train,
                                                  sampling_rng, out_dir)
    else:
        metrics = EXPERIMENTS[kind].run(model.with_seed(model_rng), task, data, train, sweep,
                                        sampling_rng, out_dir)
    metrics = {"kind": kind, "model": model.name, "task": task.name, "seed": seed, **metrics,
               "wall_time_s": time.perf_counter() - started}
    write_table([metrics], out_dir / "metrics.csv")
    return metrics


def summary(metrics: dict, out_dir) -> str:
    """One line: what ran, its headline numbers, where the outputs are."""
    skip = {"kind", "model", "task", "seed"}
    numbers = " ".join(f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}"
                       for key, value in metrics.items() if key not in skip)
    return f"{metrics['model']} on {metrics['task']} (seed {metrics['seed']}): {numbers} -> {out_dir}"


def build(model_name: str, task_name: str, model_params: dict, task_params: dict):
    """Model and task objects from their names and keyword parameters."""
    for key, name, table in [("model", model_name, MODELS), ("task", task_name, TASKS)]:
        require(name in table, f"{key}={name} is unknown: allowed {', '.join(table)}")
    return MODELS[model_name](**model_params), TASKS[task_name](**task_params)
