"""Reservoir runs (ESN, NVAR): a fitted readout on a series (regression) or on class labels.

Regression (sine, Mackey-Glass): fit with teacher forcing, predict the test part one step ahead,
run free from where fitting ended; tables ``series`` and ``spectrum``, plots prediction.png and
spectrum.png. Classification (echo, chars): a ridge readout onto one-hot labels (inputs one-hot
for characters), read as probabilities -- clipped to [eps, 1], then normalised -- and scored by
cross-entropy against the task's theory.
"""

import dataclasses
import logging
import math

import numpy as np
import pandas as pd

from rnnlab import plots
from rnnlab.analyses.scoring import PROBABILITY_FLOOR, readout_cross_entropy, theory_metrics
from rnnlab.experiments.outputs import RunResult, plot_series, series_table, spectrum_rows
from rnnlab.experiments.spec import Experiment
from rnnlab.models import choices
from rnnlab.resources import FLOAT, Need
from rnnlab.ridge import DivergedFeatures
from rnnlab.tasks.base import SeriesData
from rnnlab.validation import require

log = logging.getLogger(__name__)


def check(spec: Experiment) -> None:
    """Rules relating a reservoir model to a task (it has no training loop: ``train.*`` is
    unused): one continuous series, a washout inside the training part, output feedback where
    the task needs it and none where it would give the answer away."""
    model, task = spec.model, spec.task
    require(not task.episode_length,
            f"model={model.name} cannot run task={task.name}: it is made of separate sequences, "
            f"and a reservoir reads one continuous series; allowed {choices('recurrent')}")
    require(model.washout < task.train_length,
            f"model.washout={model.washout} is out of range: allowed < {task.train_length} "
            f"(the task's training steps)")
    key, value = model.feedback_key, getattr(model, model.feedback_key)
    if task.needs_feedback:
        require(model.feeds_back, f"model.{key}={value} is out of range for task={task.name}: "
                f"allowed {'> 0' if key == 'feedback_scaling' else 'true'} (the target reaches "
                f"the model only as feedback)")
    if not task.feedback_allowed:
        require(not model.feeds_back, f"model.{key}={value} is not allowed for task={task.name}: "
                f"feeding back the previous target would give the answer away; allowed "
                f"{'0' if key == 'feedback_scaling' else 'false'}")


def memory_needs(spec: Experiment) -> list[Need]:
    """The model's own arrays (an ESN's reservoir, Gram matrix and states; an NVAR's features),
    the series' ones keyed by the task's length key, and the one-hot inputs and labels of a
    classification task."""
    model, task = spec.model, spec.task
    (inputs, outputs), (train, test) = task.dimensions(), task.split()
    key = task.split_keys[0]
    needs = []
    for need in model.memory_needs(inputs, outputs, train, test):
        if need.key == "series":                  # sized by the series: the task's key says so
            need = dataclasses.replace(need, key=f"task.{key}", value=getattr(task, key))
        needs.append(need)
    if task.is_classification:
        needs.append(Need(f"task.{key}", getattr(task, key), "the one-hot inputs and labels",
                          2 * FLOAT * (train + test) * (inputs + outputs)))
    return needs


def hyperparameters(model) -> str:
    """"ESN(units=300, spectral_radius=0.8, ...)": the model's settings, without its random
    stream (a numpy Generator spawned from the run's seed, whose repr is only an address)."""
    values = ", ".join(f"{field.name}={getattr(model, field.name)!r}"
                       for field in dataclasses.fields(model) if field.name != "seed")
    return f"{type(model).__name__}({values})"


def run(spec: Experiment, data: SeriesData, rng: np.random.Generator,
        place=None) -> RunResult:
    model, task = spec.model, spec.task
    log.info("fitting %s on %d steps (washout %d), weights from run seed %d",
             hyperparameters(model), data.train_length, model.washout, spec.seed)
    try:
        result = (_fit_classifier(model, task, data) if task.is_classification
                  else _fit_series(model, task, data))
    except DivergedFeatures as error:            # a result, recorded: no readout, NaN metrics
        log.warning("the reservoir diverged: %s", error)
        result = RunResult({task.primary_metric: math.nan, "diverged": True,
                            "diverged_step": math.nan, "diverged_reason": str(error)})
    if model.recurrent_blocks():                  # an ESN; an NVAR has no recurrent matrix
        result.tables["spectrum"] = spectrum_rows(model)
        result.metrics.update({"spectral_radius": model.spectral_radius_,
                               "largest_singular_value": model.largest_singular_value_,
                               "effective_spectral_radius": model.effective_spectral_radius_})
    return result


def _fit_series(model, task, data: SeriesData) -> RunResult:
    """Fit, predict the test part one step ahead, run free from where fitting ended, and run
    the task's independent trials (each from the zero state: a teacher-forced lead-in, then a
    free run)."""
    model.fit(data.u_train, data.y_train)
    teacher_forced = model.predict(data.u_test, data.y_test if model.feeds_back else None)
    free_run = model.generate(data.u_test[:data.free_run_length], steps=data.free_run_length)
    metrics = {**task.score(data, teacher_forced, free_run), "nrmse_normalisation": "std"}
    windows = task.trial_windows(data)
    if windows:
        log.info("%d free-run trials, each after a lead-in of %d steps", len(windows),
                 windows[0][1] - windows[0][0])
        runs = []
        for lead, start, stop in windows:
            model.lead_in(data.u_test[lead:start], data.y_test[lead:start])
            runs.append(model.generate(data.u_test[start:stop], steps=stop - start))
        metrics.update(task.score_trials(data, np.stack(runs)))
    tables = {"series": series_table(data, teacher_forced, free_run)} if task.writes_series else {}
    chosen, chosen_tables = model.fit_record()           # e.g. the ridge path's choice
    metrics.update(chosen)
    for name, columns in {**chosen_tables, **task.curves(data, teacher_forced)}.items():
        tables[name] = pd.DataFrame(columns)
    return RunResult(metrics, tables)


def _fit_classifier(model, task, data: SeriesData) -> RunResult:
    classes = len(data.classes)
    inputs = np.eye(classes)[data.inputs] if data.inputs.ndim == 1 else data.inputs
    labels = np.eye(classes)[data.targets]
    t, washout = data.train_length, model.washout
    model.fit(inputs[:t], labels[:t])
    train_readout = model.predict(inputs[washout:t], labels[washout:t])
    test_readout = model.predict(inputs[t:], labels[t:])
    metrics = {"train_cross_entropy": readout_cross_entropy(train_readout, data.targets[washout:t]),
               "test_cross_entropy": readout_cross_entropy(test_readout, data.targets[t:]),
               "probability_floor": PROBABILITY_FLOOR}
    metrics.update(theory_metrics(task.theory(data), metrics["test_cross_entropy"]))
    return RunResult(metrics)


def plot(spec: Experiment, result: RunResult, out_dir) -> None:
    model, task = spec.model, spec.task
    if "series" in result.tables:
        plot_series(model, task, result, out_dir)
    if "memory_function" in result.tables:
        plots.save(plots.plot_memory_function(result.tables["memory_function"],
                                              f"{model.name} on {task.name}",
                                              getattr(model, "units", None)),
                   out_dir / "memory_function.png")
    if "spectrum" not in result.tables:
        return
    spectrum = result.tables["spectrum"]
    plots.save(plots.plot_spectrum(
        spectrum["real"].to_numpy() + 1j * spectrum["imag"].to_numpy(),
        result.metrics["spectral_radius"],
        f"{model.name} on {task.name}: reservoir spectrum (N = {model.units})",
        model.leak_rate, result.metrics["effective_spectral_radius"]), out_dir / "spectrum.png")
