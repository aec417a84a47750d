"""RNN and LSTM runs: train by truncated BPTT on any task, then score, tabulate and plot.

Writes training.csv (one row per logged step), gradients.csv (long: step, t, lag, norms),
spectrum.csv (when = before/after training, block, real, imag, modulus) and spectrum.png,
loss.png, gradients.png; classification tasks add their theory levels to the metrics (and chars
writes samples.txt); regression tasks add series.csv and prediction.png, like the ESN.
"""

import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from rnnlab import plots
from rnnlab.losses import softmax
from rnnlab.runners.reservoir import write_series
from rnnlab.runners.scoring import theory_metrics
from rnnlab.tables import write_table
from rnnlab.tasks import SeriesData
from rnnlab.training import Stream, TrainConfig, check_windows, evaluate, train

log = logging.getLogger(__name__)


def check(model, task, config: TrainConfig) -> None:
    """Rules relating the training settings to the task's data."""
    check_windows(config, task.train_length)


@threadpool_limits.wrap(limits=1, user_api="blas")   # B x H matrices: threads cost more than they save
def train_on_task(model, task, data: SeriesData, config: TrainConfig, rng, out_dir: Path) -> dict:
    stream = Stream.from_data(data, task.needs_feedback)
    model.build(stream.input_size, stream.output_size)
    before = eigenvalue_rows(model, "before")
    test = (data.train_length, len(data.targets))
    result = train(model, stream, config, test, description=f"{model.name} on {task.name}")
    history = pd.DataFrame(result.history)
    write_table(history, out_dir / "training.csv")
    write_table(result.gradients, out_dir / "gradients.csv")
    spectrum = pd.DataFrame(before + eigenvalue_rows(model, "after"))
    write_table(spectrum, out_dir / "spectrum.csv")

    final_test = math.nan if result.diverged else evaluate(model, stream, *test, max_steps=None)
    metrics = {"train_loss": history["train_loss"].iloc[-1], "test_loss": final_test,
               "initial_test_loss": history["test_loss"].iloc[0],
               "diverged": result.diverged, "diverged_step": result.diverged_step or math.nan,
               "steps_done": result.steps_done,
               "spectral_radius": history["spectral_radius"].iloc[-1]}
    title = f"{model.name} on {task.name} (H = {model.hidden_size}, bptt = {config.bptt})"
    if data.is_classification:
        levels = task.theory(data)
        metrics.update({"test_cross_entropy": final_test, **theory_metrics(levels, final_test)})
        loss_name = "cross-entropy (nats per step)"
        if hasattr(task, "sample_length") and not result.diverged:
            (out_dir / "samples.txt").write_text(
                sample_text(model, stream, data, task.sample_length, task.temperature, rng) + "\n",
                encoding="utf-8")
    else:
        levels = {}
        loss_name = "mean squared error"
        metrics.update({"test_mse": final_test, **score_regression(model, task, data, stream,
                                                                   out_dir, title)})
    if result.diverged:
        title += f" -- diverged at step {result.diverged_step}"
    plots.plot_loss(history, levels, out_dir / "loss.png", title, loss_name, final_test)
    plots.plot_recurrent_spectra(spectrum, out_dir / "spectrum.png",
                                 f"{title}: recurrent eigenvalues before and after training")
    plots.plot_gradients(pd.DataFrame(result.gradients), out_dir / "gradients.png",
                         f"{title}: gradient norms across a {config.gradient_window}-step probe window",
                         bptt=config.bptt)
    return metrics


def eigenvalue_rows(model, when: str) -> list[dict]:
    """Rows of spectrum.csv: every eigenvalue of every recurrent block, tagged ``when``."""
    rows = []
    for block, matrix in model.recurrent_blocks().items():
        eigenvalues = np.linalg.eigvals(matrix.astype(np.float64))
        rows += [{"when": when, "block": block, "real": value.real, "imag": value.imag,
                  "modulus": abs(value)} for value in eigenvalues]
    return rows


def score_regression(model, task, data: SeriesData, stream: Stream, out_dir, title) -> dict:
    """One-step (teacher-forced) predictions over the test part, then a closed-loop free run from
    the state the training part leaves; the task scores both."""
    features = stream.features(stream.inputs, model.float_type)[:, None, :]   # (T, 1, D)
    with np.errstate(all="ignore"):
        _, state = model.predict(features[:data.train_length])
        teacher_forced, _ = model.predict(features[data.train_length:], state)
        teacher_forced = teacher_forced[:, 0, :].astype(np.float64)
        if task.needs_feedback:
            free_run = closed_loop(model, data.u_test[:data.free_run_length], state,
                                   data.y_train[-1])
        else:
            free_run = teacher_forced[:data.free_run_length]
        metrics = task.score(data, teacher_forced, free_run)
    write_series(data, teacher_forced, free_run, out_dir, task, model, metrics)
    return {**metrics, "nrmse_normalisation": "std"}


def closed_loop(model, inputs: np.ndarray, state, previous_output: np.ndarray) -> np.ndarray:
    """Run free for len(inputs) steps, feeding each output back as the next step's y(t-1).

    inputs (S, D_u) -> outputs (S, O)."""
    outputs = np.empty((len(inputs), len(previous_output)))
    for t in range(len(inputs)):
        x = np.concatenate([inputs[t], previous_output])[None, None, :]
        y, state = model.predict(x, state)
        outputs[t] = previous_output = y[0, 0]
    return outputs


def sample_text(model, stream: Stream, data: SeriesData, length: int, temperature: float,
                rng: np.random.Generator) -> str:
    """Sample ``length`` characters: p = softmax(logits / temperature), each draw fed back as the
    next input; starts from the zero state with the first character of the test part."""
    index = int(data.inputs[data.train_length])
    state, drawn = None, [index]
    for _ in range(length - 1):
        logits, state = model.predict(stream.features(np.array([[index]]), model.float_type), state)
        index = int(rng.choice(len(data.classes), p=softmax(logits[0, 0] / temperature)))
        drawn.append(index)
    return "".join(data.classes[i] for i in drawn)
