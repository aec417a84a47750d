"""RNN and LSTM runs: train by truncated BPTT on any task, then score, tabulate and plot.

Tables: ``training`` (one row per logged step), ``gradients`` (long: step, t, lag, norms),
``spectrum`` (when = before/after training, block, real, imag, modulus); plots loss.png,
gradients.png, spectrum.png. Classification tasks add their theory levels to the metrics (and
the task's samples, e.g. chars' samples.txt); regression tasks add the ``series`` table and
prediction.png, like the ESN: teacher-forced over the test part from the state the training
part leaves, then a closed-loop free run from that state.

Text tasks sample during training too (``train.sample_every``), as min-char-rnn does: from the
state stream 0 carries into its next window, seeded with the character it reads next; the
sample at step s of a run with seed S draws from ``numpy.random.default_rng(sample_seed(S, s))``
(:func:`sample_seed`), so ``python -m rnnlab.sample RUN_DIR --state checkpoint --seed ...``
draws it again. With a run directory the run writes checkpoints (rnnlab.experiments.checkpoints)
every ``train.checkpoint_every`` steps and at its end; ``train.init_from=RUN_DIR`` continues from
another run's checkpoint, and a resumed run (``resume=true``) from its own.
"""

import dataclasses
import logging
import math

import numpy as np
import pandas as pd

from rnnlab import plots
from rnnlab.analyses.scoring import theory_metrics
from rnnlab.experiments import checkpoints
from rnnlab.experiments.outputs import (RunResult, plot_series, series_table, spectrum_rows,
                                        write_text)
from rnnlab.experiments.spec import Experiment, RunPlace
from rnnlab.models.recurrent import select_lanes
from rnnlab.resources import FLOAT, Need
from rnnlab.tasks.base import SeriesData, Task
from rnnlab.training import (GradientRecords, Probe, RecurrentSpectra, Stream, check_windows,
                             evaluate, next_targets, train)
from rnnlab.validation import ConfigError, require

log = logging.getLogger(__name__)
SAMPLE_SEED_STRIDE = 10 ** 9   # sample_seed(S, s) = S * stride + s for steps s < 10^9


def sample_seed(seed: int, step: int) -> int:
    """The seed of the sample drawn after update ``step`` of a run with seed ``seed``."""
    return seed * SAMPLE_SEED_STRIDE + step


def check(spec: Experiment) -> None:
    """Rules relating the training settings to the task's data: every stream fills a window
    (for text: the text is long enough), samples need a text task, and a checkpoint to start
    from fits the model and lies before ``train.steps``."""
    config, task = spec.train, spec.task
    needed = config.bptt * config.batch_size
    if hasattr(task, "check_training_length"):
        task.check_training_length(needed, f"train.bptt={config.bptt} x train.batch_size="
                                           f"{config.batch_size} = {needed} training steps")
    check_windows(config, task.train_length, task.episode_length)
    require(config.steps < SAMPLE_SEED_STRIDE,
            f"train.steps={config.steps} is out of range: allowed < {SAMPLE_SEED_STRIDE}")
    require(not config.sample_every or type(task).samples is not Task.samples,
            f"train.sample_every={config.sample_every} is not allowed for task={task.name}: "
            f"allowed 0 (only text tasks are sampled)")
    if config.init_from:
        _check_start(spec, checkpoints.load(config.init_from, "train.init_from"))


def _check_start(spec: Experiment, found) -> None:
    """The checkpoint of ``train.init_from`` fits this model and task, and lies before
    ``train.steps``."""
    where = f"train.init_from={spec.train.init_from!r}"
    model = found.config.get("model", {})
    require(model.get("name") == spec.model.name,
            f"model={spec.model.name} cannot start from {where}: its checkpoint is of "
            f"model={model.get('name')}")
    require(model.get("hidden_size") == spec.model.hidden_size,
            f"model.hidden_size={spec.model.hidden_size} does not match {where}: allowed "
            f"{model.get('hidden_size')}, the checkpoint's")
    outputs = spec.task.dimensions()[1]
    saved = found.shapes.get("W_hy", (None,))[0]
    require(saved == outputs, f"{where} has {saved} outputs: allowed the task's {outputs}")
    step = found.snapshot.step
    require(step < spec.train.steps,
            f"train.steps={spec.train.steps} is out of range: allowed > {step}, the step of the "
            f"checkpoint in {where} (training continues from there)")


def memory_needs(spec: Experiment) -> list[Need]:
    """Weights with their gradients and optimiser state, one window's activations, the test part
    as one-hot (or float) inputs with its outputs, and for regression the forward pass over the
    whole series (prediction, then the free run)."""
    model, task, config = spec.model, spec.task, spec.train
    H, gates, L = model.hidden_size, len(model.recurrent_labels), model.num_layers
    inputs, outputs = task.dimensions()
    inputs += outputs if task.needs_feedback else 0
    train, test = task.split()
    weights = 4 * FLOAT * (gates * H * (L * (H + 1) + (inputs + (L - 1) * H)) + outputs * (H + 1))
    window = 8 * FLOAT * config.bptt * config.batch_size * (gates + 3) * H * L
    needs = [Need("model.hidden_size", H, "the weights, gradients, optimiser state and one "
                  "window's activations", weights + window),
             Need(f"task.{task.split_keys[1]}", getattr(task, task.split_keys[1]),
                  f"the {test} test steps as inputs ({inputs} features) and outputs",
                  4 * FLOAT * test * (inputs + 2 * outputs))]
    if not task.is_classification and not task.episode_length:
        key = task.split_keys[0]
        needs.append(Need(f"task.{key}", getattr(task, key),
                          f"the forward pass of {L} x {H} units over all {train + test} steps",
                          FLOAT * (train + test) * (inputs + (gates + 3) * H * L)))
    return needs


def run(spec: Experiment, data: SeriesData, rng: np.random.Generator,
        place: RunPlace | None = None) -> RunResult:
    model, task, config = spec.model, spec.task, spec.train
    place = place or RunPlace()
    stream = Stream.from_data(data, task.needs_feedback)
    model.build(stream.input_size, stream.output_size)
    start = place.resume.snapshot if place.resume is not None else _init_from(spec, data)
    if start is not None and start.record is None:      # continued training: its own "before"
        for name, value in start.params.items():
            model.params[name][...] = value
    before = spectrum_rows(model, "before")
    test = (data.train_length, len(data.targets))
    gradients = GradientRecords(stream, test, config.steps, config.gradient_records,
                                config.gradient_window)
    samples = Samples(task, data, config.sample_every, spec.seed)
    probes = [RecurrentSpectra(), gradients] + ([samples] if config.sample_every else [])
    save = None if place.out_dir is None else _saver(place, data, stream, config, samples)
    result = train(model, stream, config, test, f"{model.name} on {task.name}",
                   probes=probes, start=start, checkpoint=save)
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
    if task.episode_length:   # separate sequences: scored on the test sequences, no free run
        name = "test_cross_entropy" if task.is_classification else "test_mse"
        metrics.update({name: final_test, **theory_metrics(task.theory(data), final_test),
                        **({} if result.diverged else
                           task.sequence_scores(data, _test_outputs(model, stream, test)))})
    elif task.is_classification:
        metrics.update({"test_cross_entropy": final_test,
                        **theory_metrics(task.theory(data), final_test)})
        text = None if result.diverged else task.samples(model, data, rng)
        if text is not None or samples.entries:
            texts["samples.txt"] = samples.text(text)
    else:
        teacher_forced, free_run = _predict_series(model, task, data, stream)
        with np.errstate(all="ignore"):   # a diverged model's outputs are scored as NaN
            scores = task.score(data, teacher_forced, free_run)
        metrics.update({"test_mse": final_test, **scores, "nrmse_normalisation": "std"})
        tables["series"] = series_table(data, teacher_forced, free_run)
    return RunResult(metrics, tables, texts)


class Samples(Probe):
    """Every ``every`` steps, ``task.sample_length`` characters from the model as min-char-rnn
    draws them: from the state stream 0 carries into its next window, seeded with the character
    it reads next; logged, and kept as ``entries`` (step, seed, text) for samples.txt."""

    def __init__(self, task, data: SeriesData, every: int, seed: int):
        self.task, self.data, self.every, self.seed = task, data, every, seed
        self.entries: list[dict] = []

    def after_window(self, model, step: int, state, next_targets: np.ndarray) -> None:
        if not self.every or step % self.every:
            return
        seed = sample_seed(self.seed, step)
        text = self.task.samples(model, self.data, np.random.default_rng(seed),
                                 state=select_lanes(state, slice(0, 1)),
                                 first=int(next_targets[0]), prime="")
        self.entries.append({"step": step, "seed": seed, "text": text})
        log.info("----- sample at iter %d -----\n%s\n-----", step, text)

    def checkpoint(self):
        return self.entries

    def restore(self, saved) -> None:
        self.entries = [dict(entry) for entry in saved]

    def text(self, final: str | None = None) -> str:
        """samples.txt: the text after training alone, or each sample under a header line."""
        if not self.entries:
            return "" if final is None else final + "\n"
        parts = [f"----- step {entry['step']} (seed {entry['seed']}) -----\n{entry['text']}\n"
                 for entry in self.entries]
        if final is not None:
            prime = f"primed with {self.task.prime!r}" if self.task.prime else \
                "seeded with the test part's first character"
            parts.append(f"----- after training: from the zero state, {prime} -----\n{final}\n")
        return "".join(parts)


def _init_from(spec: Experiment, data: SeriesData):
    """The snapshot of ``train.init_from`` (its record dropped: this run's history starts at
    its step), or None."""
    if not spec.train.init_from:
        return None
    found = checkpoints.load(spec.train.init_from, "train.init_from")
    _check_start(spec, found)
    if data.classes is not None and found.classes is not None and \
            list(found.classes) != list(data.classes):
        raise ConfigError(f"train.init_from={spec.train.init_from!r} was trained on another "
                          f"vocabulary ({''.join(found.classes)!r}): allowed a checkpoint of "
                          f"this task's ({''.join(data.classes)!r}; task.vocabulary sets it)")
    return dataclasses.replace(found.snapshot, record=None)


def _saver(place: RunPlace, data: SeriesData, stream: Stream, config, samples: Samples):
    """The training loop's checkpoint callback: checkpoint.npz/.json (with the characters that
    seed samples), and samples.txt as it stands."""
    def save(snapshot) -> None:
        seeds = {}
        if data.inputs.ndim == 1:                       # text: character indices
            seeds = {"test": int(data.inputs[data.train_length]),
                     "next": int(next_targets(stream, config, snapshot.step)[0])}
        checkpoints.save(place.out_dir, snapshot, place.identity, place.fingerprint,
                         None if data.classes is None else list(data.classes), seeds)
        if samples.entries:
            write_text(samples.text(), place.out_dir / "samples.txt")
    return save


def _test_outputs(model, stream: Stream, test: tuple[int, int]) -> np.ndarray:
    """The outputs (T_test, O) over the test part of a task of separate sequences, each read
    from the zero state, aligned with its targets."""
    x, _ = stream.episodes(*test)
    with np.errstate(all="ignore"):
        outputs = model.predict(stream.features(x, model.float_type))   # (L, n, O)
    return outputs.swapaxes(0, 1).reshape(-1, outputs.shape[2]).astype(np.float64)


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
    title = f"{model.description} on {task.name} (H = {model.hidden_size}, bptt = {config.bptt})"
    levels = {key.removeprefix("theory_"): value for key, value in metrics.items()
              if key.startswith("theory_")}
    loss_name = "cross-entropy (nats per step)" if task.is_classification else "mean squared error"
    if not task.is_classification and not task.episode_length:
        plot_series(model, task, result, out_dir)
    if metrics["diverged"]:
        title += f" -- diverged at step {metrics['diverged_step']}"
    plots.save(plots.plot_loss(result.tables["training"], levels, title, loss_name,
                               metrics["test_loss"]), out_dir / "loss.png")
    plots.save(plots.plot_training_dynamics(result.tables["training"],
                                            f"{title}: the recurrent weights and gradients "
                                            f"during training"), out_dir / "training.png")
    plots.save(plots.plot_recurrent_spectra(
        result.tables["spectrum"], f"{title}: recurrent eigenvalues before and after training"),
        out_dir / "spectrum.png")
    plots.save(plots.plot_gradients(
        result.tables["gradients"], f"{title}: gradient norms across a "
        f"{task.episode_length or config.gradient_window}-step probe window", bptt=config.bptt),
        out_dir / "gradients.png")
