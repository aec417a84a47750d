"""Echo state network runs: a ridge readout on a series (regression) or on class labels.

Regression (sine, Mackey-Glass): fit with teacher forcing, predict the test part one step ahead,
run free from where fitting ended; tables ``series`` and ``spectrum``, plots prediction.png and
spectrum.png. Classification (echo, chars): a ridge readout onto one-hot labels (inputs one-hot
for characters), read as probabilities -- clipped to [eps, 1], then normalised -- and scored by
cross-entropy against the task's theory.
"""

import logging

import numpy as np

from rnnlab import plots
from rnnlab.analyses.scoring import PROBABILITY_FLOOR, readout_cross_entropy, theory_metrics
from rnnlab.experiments.outputs import RunResult, plot_series, series_table, spectrum_rows
from rnnlab.experiments.spec import Experiment
from rnnlab.models import choices
from rnnlab.resources import FLOAT, Need
from rnnlab.tasks.base import SeriesData
from rnnlab.validation import require

log = logging.getLogger(__name__)


def check(spec: Experiment) -> None:
    """Rules relating an ESN to a task (the ESN has no training loop: ``train.*`` is unused)."""
    model, task = spec.model, spec.task
    require(not task.episode_length,
            f"model={model.name} cannot run task={task.name}: it is made of separate sequences, "
            f"and the ESN reads one continuous series; allowed {choices('recurrent')}")
    require(model.washout < task.train_length,
            f"model.washout={model.washout} is out of range: allowed < {task.train_length} "
            f"(the task's training steps)")
    if task.needs_feedback:
        require(model.feedback_scaling > 0,
                f"model.feedback_scaling={model.feedback_scaling} is out of range for "
                f"task={task.name}: allowed > 0 (the target reaches the model only as feedback)")


def memory_needs(spec: Experiment) -> list[Need]:
    """The reservoir's sparse W and the Gram matrix (sized by N); the (T, D + N) states of the
    training part with their noise and of the test part, and the one-hot inputs and labels of a
    classification task (sized by the series)."""
    model, task = spec.model, spec.task
    N, (inputs, outputs) = model.units, task.dimensions()
    train, test = task.split()
    entries = max(1, round(model.connectivity * N * N))
    weights = 32 * entries + (FLOAT * N * N if entries > N * N / 50 else 0)   # drawing positions
    states = 2 * FLOAT * (inputs + N) * (train + test)
    one_hot = 2 * FLOAT * (train + test) * (inputs + outputs) if task.is_classification else 0
    key = task.split_keys[0]
    return [Need("model.units", N, f"the reservoir ({entries} weights) and its Gram matrix",
                 weights + 2 * FLOAT * (inputs + N) ** 2),
            Need(f"task.{key}", getattr(task, key), f"the states of {N} units over {train} "
                 f"training and {test} test steps", states + one_hot)]


def run(spec: Experiment, data: SeriesData, rng: np.random.Generator,
        place=None) -> RunResult:
    model, task = spec.model, spec.task
    log.info("fitting %s on %d steps (washout %d)", model, data.train_length, model.washout)
    result = (_fit_classifier(model, task, data) if task.is_classification
              else _fit_series(model, task, data))
    result.tables["spectrum"] = spectrum_rows(model)
    result.metrics.update({"spectral_radius": model.spectral_radius_,
                           "largest_singular_value": model.largest_singular_value_,
                           "effective_spectral_radius": model.effective_spectral_radius_})
    return result


def _fit_series(model, task, data: SeriesData) -> RunResult:
    model.fit(data.u_train, data.y_train)
    teacher_forced = model.predict(data.u_test, data.y_test)
    free_run = model.generate(data.u_test[:data.free_run_length], steps=data.free_run_length)
    metrics = {**task.score(data, teacher_forced, free_run), "nrmse_normalisation": "std"}
    return RunResult(metrics, {"series": series_table(data, teacher_forced, free_run)})


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
    spectrum = result.tables["spectrum"]
    plots.plot_spectrum(spectrum["real"].to_numpy() + 1j * spectrum["imag"].to_numpy(),
                        result.metrics["spectral_radius"], out_dir / "spectrum.png",
                        f"{model.name} on {task.name}: reservoir spectrum (N = {model.units})",
                        model.leak_rate, result.metrics["effective_spectral_radius"])
