"""RNN and LSTM runs: train by truncated BPTT on any task, then score, tabulate and plot.

Tables: ``training`` (one row per logged step), ``gradients`` (long: step, t, lag, norms),
``spectrum`` (when = before/after training, block, real, imag, modulus); plots loss.png,
gradients.png, spectrum.png. Classification tasks add their theory levels to the metrics (and
the task's samples, e.g. chars' samples.txt); regression tasks add the ``series`` table and
prediction.png, like the ESN: teacher-forced over the test part from the state the training
part leaves, then a closed-loop free run from that state.
"""

import math

import numpy as np
import pandas as pd

from rnnlab import plots
from rnnlab.analyses.scoring import theory_metrics
from rnnlab.experiments.outputs import RunResult, plot_series, series_table, spectrum_rows
from rnnlab.experiments.spec import Experiment
from rnnlab.resources import FLOAT, Need
from rnnlab.validation import require
from rnnlab.tasks.base import SeriesData
from rnnlab.training import (GradientRecords, RecurrentSpectra, Stream, check_windows, evaluate,
                             train)


PROBE_LANES = 32   # test windows of the gradient probe (rnnlab.training.gradient_rows)


def check(spec: Experiment) -> None:
    """Rules relating the training settings to the task's data: every stream fills a window,
    and the test part holds a step for each of the gradient probe's windows."""
    check_windows(spec.train, spec.task.train_length)
    task, key = spec.task, spec.task.split_keys[1]
    require(task.test_length >= PROBE_LANES,
            f"task.{key}={getattr(task, key)!r} leaves {task.test_length} test steps: allowed a "
            f"split that leaves at least {PROBE_LANES} (the gradient probe's windows)")


def memory_needs(spec: Experiment) -> list[Need]:
    """Weights with their gradients and optimiser state, one window's activations, the test part
    as one-hot (or float) inputs with its outputs, and for regression the forward pass over the
    whole series (prediction, then the free run)."""
    model, task, config = spec.model, spec.task, spec.train
    H, gates = model.hidden_size, len(model.recurrent_labels)
    inputs, outputs = task.dimensions()
    inputs += outputs if task.needs_feedback else 0
    train, test = task.split()
    weights = 4 * FLOAT * (gates * H * (H + inputs + 1) + outputs * (H + 1))
    window = 8 * FLOAT * config.bptt * config.batch_size * (gates + 3) * H
    needs = [Need("model.hidden_size", H, "the weights, gradients, optimiser state and one "
                  "window's activations", weights + window),
             Need(f"task.{task.split_keys[1]}", getattr(task, task.split_keys[1]),
                  f"the {test} test steps as inputs ({inputs} features) and outputs",
                  4 * FLOAT * test * (inputs + 2 * outputs))]
    if not task.is_classification:
        key = task.split_keys[0]
        needs.append(Need(f"task.{key}", getattr(task, key),
                          f"the forward pass of {H} units over all {train + test} steps",
                          FLOAT * (train + test) * (inputs + (gates + 3) * H)))
    return needs


def run(spec: Experiment, data: SeriesData, rng: np.random.Generator) -> RunResult:
    model, task, config = spec.model, spec.task, spec.train
    stream = Stream.from_data(data, task.needs_feedback)
    model.build(stream.input_size, stream.output_size)
    before = spectrum_rows(model, "before")
    test = (data.train_length, len(data.targets))
    gradients = GradientRecords(stream, test, config.steps, config.gradient_records,
                                config.gradient_window)
    result = train(model, stream, config, test, f"{model.name} on {task.name}",
                   probes=[RecurrentSpectra(), gradients])
    history = pd.DataFrame(result.history)
    tables = {"training": history, "gradients": pd.DataFrame(gradients.rows),
              "spectrum": pd.concat([before, spectrum_rows(model, "after")], ignore_index=True)}
    texts = {}

    final_test = math.nan if result.diverged else evaluate(model, stream, *test, max_steps=None)
    metrics = {"train_loss": history["train_loss"].iloc[-1], "test_loss": final_test,
               "initial_test_loss": history["test_loss"].iloc[0],
               "diverged": result.diverged, "diverged_step": result.diverged_step or math.nan,
               "diverged_reason": result.diverged_reason,
               "steps_done": result.steps_done,
               "spectral_radius": history["spectral_radius"].iloc[-1]}
    if task.is_classification:
        metrics.update({"test_cross_entropy": final_test,
                        **theory_metrics(task.theory(data), final_test)})
        text = None if result.diverged else task.samples(model, data, rng)
        if text is not None:
            texts["samples.txt"] = text + "\n"
    else:
        teacher_forced, free_run = _predict_series(model, task, data, stream)
        with np.errstate(all="ignore"):   # a diverged model's outputs are scored as NaN
            scores = task.score(data, teacher_forced, free_run)
        metrics.update({"test_mse": final_test, **scores, "nrmse_normalisation": "std"})
        tables["series"] = series_table(data, teacher_forced, free_run)
    return RunResult(metrics, tables, texts)


def _predict_series(model, task, data: SeriesData, stream: Stream):
    """One-step (teacher-forced) predictions over the test part, then a closed-loop free run from
    the state the training part leaves: (teacher_forced (T_test, O), free_run (S, O))."""
    features = stream.features(stream.inputs, model.float_type)[:, None, :]   # (T, 1, D)
    with np.errstate(all="ignore"):
        _, state = model.run(features[:data.train_length])
        teacher_forced, _ = model.run(features[data.train_length:], state)
        teacher_forced = teacher_forced[:, 0, :].astype(np.float64)
        if not task.needs_feedback:
            return teacher_forced, teacher_forced[:data.free_run_length]
        inputs, first = data.u_test[:data.free_run_length], data.y_train[-1]
        free_run, _ = model.generate(
            len(inputs), lambda t, y: np.concatenate([inputs[t], first if y is None else y]), state)
    return teacher_forced, free_run


def plot(spec: Experiment, result: RunResult, out_dir) -> None:
    model, task, config, metrics = spec.model, spec.task, spec.train, result.metrics
    title = f"{model.name} on {task.name} (H = {model.hidden_size}, bptt = {config.bptt})"
    if task.is_classification:
        levels = {key.removeprefix("theory_"): value for key, value in metrics.items()
                  if key.startswith("theory_")}
        loss_name = "cross-entropy (nats per step)"
    else:
        levels, loss_name = {}, "mean squared error"
        plot_series(model, task, result, out_dir)
    if metrics["diverged"]:
        title += f" -- diverged at step {metrics['diverged_step']}"
    plots.plot_loss(result.tables["training"], levels, out_dir / "loss.png", title, loss_name,
                    metrics["test_loss"])
    plots.plot_recurrent_spectra(result.tables["spectrum"], out_dir / "spectrum.png",
                                 f"{title}: recurrent eigenvalues before and after training")
    plots.plot_gradients(result.tables["gradients"], out_dir / "gradients.png",
                         f"{title}: gradient norms across a {config.gradient_window}-step "
                         f"probe window",
                         bptt=config.bptt)
