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
import logging
import time
from pathlib import Path

import numpy as np

from threadpoolctl import threadpool_limits

from rnnlab.analyses.esn_sweep import ESNSweepConfig
from rnnlab.analyses.gradient_flow import GradientFlowConfig
from rnnlab.experiments import checkpoints, records
from rnnlab.experiments.outputs import RunResult, write_result
from rnnlab.experiments.registry import EXPERIMENTS
from rnnlab.experiments.spec import Experiment, RunPlace, experiment
from rnnlab.resources import check_needs
from rnnlab.tables import write_table
from rnnlab.training import TrainConfig
from rnnlab.validation import require

log = logging.getLogger(__name__)


def check_experiment(spec: Experiment) -> None:
    """Raise ConfigError (one line: key, value, what is allowed) before anything runs: every
    range rule, the kind's own rules, and the memory the run's big arrays would need."""
    seed, kind = spec.seed, spec.kind
    require(isinstance(seed, int) and seed >= 0, f"seed={seed!r} is out of range: allowed >= 0")
    require(kind in EXPERIMENTS,
            f"kind={kind!r} is not allowed: allowed one of {', '.join(EXPERIMENTS)}")
    require(isinstance(spec.blas_threads, int) and spec.blas_threads >= 0,
            f"blas_threads={spec.blas_threads!r} is out of range: allowed an integer >= 0 "
            f"(0: all cores)")
    spec.model.check("model.")
    spec.task.check("task.")
    EXPERIMENTS[kind].check(spec)
    check_memory(spec)


def check_memory(spec: Experiment) -> None:
    """Refuse (one line naming the key and the estimate) a run whose big arrays -- the task's
    data and what the experiment allocates -- would not fit in the memory available."""
    check_needs(spec.task.memory_needs() + EXPERIMENTS[spec.kind].memory_needs(spec))


def run_experiment(model, task, seed: int = 0, out_dir=None, kind: str = "train",
                   train: TrainConfig | None = None,
                   gradient_flow: GradientFlowConfig | None = None,
                   esn_sweep: ESNSweepConfig | None = None, blas_threads: int = 1,
                   context: dict | None = None, resume: bool = False) -> RunResult:
    """Check, run, and (with ``out_dir``) write the run directory; return the :class:`RunResult`
    (``metrics``: metrics.csv's row as a dict; ``tables``: name -> DataFrame; ``texts``).

    One ``numpy.random.default_rng(seed)`` per run; the model, the data and the experiment's own
    draws (e.g. sampling text) get independent children (``spawn``). The run uses
    ``blas_threads`` BLAS threads (1 by default: the same bytes whether it runs alone or as one
    of many jobs side by side).

    With ``out_dir``: an earlier run's outputs there are moved into ``.superseded/``; run.json
    records the run's identity (``context``, e.g. the command line's overrides, is added to it)
    and status.txt its status (``running``, then ``finished`` / ``diverged: ...``, or ``failed``
    / ``interrupted`` if it ends otherwise); metrics.csv, written last, carries the fingerprint.
    With ``resume``, a BPTT training run continues from the checkpoint ``out_dir`` holds, if
    that was written under exactly this config (else it starts afresh).
    """
    spec = experiment(model, task, seed, kind, train, gradient_flow, esn_sweep, blas_threads)
    check_experiment(spec)
    with threadpool_limits(limits=blas_threads or None, user_api="blas"):
        return _recorded(spec, Path(out_dir) if out_dir is not None else None, context, resume)


def _recorded(spec: Experiment, out_dir: Path | None, context: dict | None,
              resume: bool = False) -> RunResult:
    """:func:`_run` between the run's records: identity and ``running`` first, the status it
    ended with last (metrics.csv, with the fingerprint, just before a finished status)."""
    record = records.identity(spec)
    place = RunPlace(out_dir, record, records.fingerprint(record))
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        place.resume = checkpoints.matching(out_dir, place.fingerprint) if resume else None
        old = records.set_aside(out_dir)
        if place.resume is not None:   # the checkpoint stays in place until a newer one
            checkpoints.restore_files(old, out_dir)
            log.info("resume: %s continues from its checkpoint at step %d", out_dir,
                     place.resume.snapshot.step)
        records.write_identity(out_dir, record, context)
        records.write_status(out_dir, "running")
    try:
        result = _run(spec, place)
    except KeyboardInterrupt as stop:
        if out_dir is not None:
            records.write_status(out_dir, "interrupted", getattr(stop, "signal_name", "SIGINT"))
        raise
    except Exception as error:
        if out_dir is not None:
            records.write_status(out_dir, "failed", f"{type(error).__name__}: {error}")
        raise
    result.metrics["config_fingerprint"] = place.fingerprint
    if out_dir is not None:
        write_table([result.metrics], out_dir / "metrics.csv")
        reason = result.metrics.get("diverged_reason")
        records.write_status(out_dir, *(("diverged", reason) if result.metrics.get("diverged")
                                        else ("finished",)))
    return result


def _run(spec: Experiment, place: RunPlace) -> RunResult:
    """Make the data, run the experiment, write its tables, texts and plots (not metrics.csv)."""
    out_dir = place.out_dir
    chosen = EXPERIMENTS[spec.kind]
    model_rng, data_rng, run_rng = np.random.default_rng(spec.seed).spawn(3)
    started = time.perf_counter()
    data = spec.task.make_data(data_rng)
    seeded = dataclasses.replace(spec, model=spec.model.with_seed(model_rng))
    result = chosen.run(seeded, data, run_rng, place)
    result.metrics = {"kind": spec.kind, "model": spec.model.name, "task": spec.task.name,
                      "seed": spec.seed, "headline_metric": chosen.headline(seeded),
                      **result.metrics, "wall_time_s": time.perf_counter() - started}
    if out_dir is not None:
        write_result(result, out_dir)
        chosen.plot(seeded, result, out_dir)
    return result


def summary(metrics: dict, out_dir, shown=()) -> str:
    """One line: what ran, its headline numbers, where the outputs are. ``shown``: the metrics
    worth reading first (the task's; see :func:`shown_metrics`), in that order, each where the
    run has it -- the rest are in metrics.csv; empty: every metric."""
    skip = {"kind", "model", "task", "seed", "headline_metric", "config_fingerprint"}
    keys = [key for key in shown if key in metrics] or [key for key in metrics if key not in skip]
    if metrics.get("diverged") is True and "diverged_step" not in keys:
        known = metrics.get("diverged_step") == metrics.get("diverged_step")  # NaN: no step
        keys += ["diverged_step", "diverged_reason"] if known else ["diverged_reason"]
    if shown and "wall_time_s" in metrics:
        keys.append("wall_time_s")
    numbers = " ".join(f"{key}={metrics[key]:.4g}" if isinstance(metrics[key], float)
                       else f"{key}={metrics[key]}" for key in keys)
    what = f"{metrics['model']} on {metrics['task']} (seed {metrics['seed']})"
    rest = f" (all {len(metrics) - len(skip & metrics.keys())} in metrics.csv)" if shown else ""
    return f"{what}: {numbers}{rest} -> {out_dir}"


def shown_metrics(spec: Experiment, headline: str) -> tuple:
    """The metrics a run's summary line shows, where the run has them (:func:`summary` skips
    the others): its headline metric, the task's headline metrics and how near it came to the
    nearest theoretical loss."""
    return tuple(dict.fromkeys([headline, *spec.task.headline, "nearest_theory",
                                "gap_to_nearest_theory"]))
