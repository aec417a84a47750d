"""Experiments: the only code that writes files. Each runs models on tasks through the analyses
and training loop below it, then writes tables (CSV), text and plots into a run directory.

    result = run_experiment(model, task, seed=0, out_dir=None | PATH, kind="train", ...)

One registry (``EXPERIMENTS``, :mod:`~rnnlab.experiments.registry`), one signature per
experiment: ``train`` (fit or train one model, by its family: train_reservoir.py,
train_recurrent.py), ``gradient_flow``, ``esn_sweep``. outputs.py holds what they share:
:class:`RunResult` and the writers.
"""

from rnnlab.experiments.outputs import RunResult
from rnnlab.experiments.registry import EXPERIMENTS
from rnnlab.experiments.run import check_experiment, run_experiment, shown_metrics, summary
from rnnlab.experiments.spec import Experiment, experiment

__all__ = ["EXPERIMENTS", "Experiment", "RunResult", "check_experiment", "experiment",
           "run_experiment", "shown_metrics", "summary"]
