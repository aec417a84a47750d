"""One experiment, start to finish, as a plain Python function (the command line is a thin layer).

    result = run_experiment(ESN(units=300), SineTask(), seed=0)            # nothing written
    result.metrics["teacher_forced_nrmse"], result.tables["series"]
    run_experiment(LSTM(hidden_size=16), EchoTask(), seed=0, out_dir="outputs/echo",
                   train=TrainConfig(bptt=10))                            # tables and plots too

``kind`` chooses the experiment (``rnnlab.experiments.EXPERIMENTS``): ``train`` (fit or train
the model on the task), ``gradient_flow`` or ``esn_sweep``, each configured by its own settings
(``train``, ``gradient_flow``, ``esn_sweep``). With ``out_dir`` the run directory receives every
table as NAME.csv, the text files and the plots, and metrics.csv -- one row: kind, model, task,
seed, headline_metric, every scalar metric, wall_time_s -- last, so that its presence marks a
finished run.
"""

import dataclasses
import time
from pathlib import Path

import numpy as np

from rnnlab.analyses.esn_sweep import ESNSweepConfig
from rnnlab.analyses.gradient_flow import GradientFlowConfig
from rnnlab.experiments.outputs import RunResult, write_result
from rnnlab.experiments.registry import EXPERIMENTS
from rnnlab.experiments.spec import Experiment, experiment
from rnnlab.tables import write_table
from rnnlab.training import TrainConfig
from rnnlab.validation import require


def check_experiment(spec: Experiment) -> None:
    """Raise ConfigError (one line: key, value, what is allowed) before anything runs."""
    seed, kind = spec.seed, spec.kind
    require(isinstance(seed, int) and seed >= 0, f"seed={seed!r} is out of range: allowed >= 0")
    require(kind in EXPERIMENTS,
            f"kind={kind!r} is not allowed: allowed one of {', '.join(EXPERIMENTS)}")
    spec.model.check("model.")
    spec.task.check("task.")
    EXPERIMENTS[kind].check(spec)


def run_experiment(model, task, seed: int = 0, out_dir=None, kind: str = "train",
                   train: TrainConfig | None = None,
                   gradient_flow: GradientFlowConfig | None = None,
                   esn_sweep: ESNSweepConfig | None = None) -> RunResult:
    """Check, run, and (with ``out_dir``) write the run directory; return the :class:`RunResult`
    (``metrics``: metrics.csv's row as a dict; ``tables``: name -> DataFrame; ``texts``).

    One ``numpy.random.default_rng(seed)`` per run; the model, the data and the experiment's own
    draws (e.g. sampling text) get independent children (``spawn``)."""
    spec = experiment(model, task, seed, kind, train, gradient_flow, esn_sweep)
    check_experiment(spec)
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
    model_rng, data_rng, run_rng = np.random.default_rng(seed).spawn(3)
    started = time.perf_counter()
    data = task.make_data(data_rng)
    spec = dataclasses.replace(spec, model=model.with_seed(model_rng))
    chosen = EXPERIMENTS[kind]
    result = chosen.run(spec, data, run_rng)
    result.metrics = {"kind": kind, "model": model.name, "task": task.name, "seed": seed,
                      "headline_metric": chosen.headline(spec), **result.metrics,
                      "wall_time_s": time.perf_counter() - started}
    if out_dir is not None:
        write_result(result, out_dir)
        chosen.plot(spec, result, out_dir)
        write_table([result.metrics], out_dir / "metrics.csv")
    return result


def summary(metrics: dict, out_dir) -> str:
    """One line: what ran, its headline numbers, where the outputs are."""
    skip = {"kind", "model", "task", "seed", "headline_metric"}
    numbers = " ".join(f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}"
                       for key, value in metrics.items() if key not in skip)
    what = f"{metrics['model']} on {metrics['task']} (seed {metrics['seed']})"
    return f"{what}: {numbers} -> {out_dir}"
