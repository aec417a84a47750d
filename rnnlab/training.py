"""Training by truncated backpropagation through time: one loop for every BPTT model and task.

The training part of a series is cut into ``batch_size`` contiguous streams (lanes) that advance
side by side in windows of ``bptt`` steps. The state at the end of a window is carried into the
next one, but gradients stop at the window's edge (truncated BPTT); a new pass over the data (an
epoch) starts again from the zero state.

    result = train(model, stream, TrainConfig(steps=2000, bptt=10), test=(start, stop))

A diverging run stops: a non-finite loss or gradient, or a loss above ``divergence_factor`` times
the first update's. The result records ``diverged``, the step and which rule fired -- a finding
about the configuration, not an error.

Measurements taken during training are probes (callbacks, in minGPT's trainer style): each
:class:`Probe` may add columns to every row of the training history and act after each update.
:class:`RecurrentSpectra` (the default) follows the recurrent matrices' spectral radius and
largest singular value; :class:`GradientRecords` records gradient norms across the timesteps of a
probe window (gradients.csv) a few times from initialisation to the end.

``loss_reduction="sum"`` trains on the window's summed loss, as min-char-rnn does: its gradient,
and so what an element-wise clip sees, is T B times the per-step mean's. Every row of the
history reads in both units: ``train_loss`` per step, ``window_loss`` summed over a window of one
stream, and ``smooth_loss``, min-char-rnn's running average of the window loss
(smooth <- 0.999 smooth + 0.001 loss, started at T ln V for V classes).

Checkpoints: ``train(..., checkpoint=save)`` calls ``save(snapshot)`` every ``checkpoint_every``
steps and at the end; :class:`Snapshot` holds the parameters, the optimiser's buffers, the
carried state, the step and the history so far, so ``train(..., start=snapshot)`` continues
exactly as if it had never stopped (the loop draws nothing at random).
"""

import json
import logging
import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from rnnlab import losses, spectral
from rnnlab.losses import REDUCTIONS
from rnnlab.optimisers import CLIPS, OPTIMISERS, clip_gradients
from rnnlab.tasks.base import SeriesData
from rnnlab.validation import OneOf, at_least, check_ranges, non_negative, positive, require

log = logging.getLogger(__name__)

SCHEDULES = ("constant", "cosine")
EVALUATION_LANES = 100     # the test part is scored as this many lanes advancing together
EVALUATION_BURN_IN = 100   # steps of true history each lane runs through before it is scored
MONITOR_STEPS = 20_000     # test steps scored for each row of training.csv
SMOOTHING = 0.999          # min-char-rnn's running average: smooth = 0.999 smooth + 0.001 loss


@dataclass
class TrainConfig:
    steps: int = 3000              # parameter updates (one per window)
    bptt: int = 10                 # window length: gradients flow back at most this many steps
                                   # (0: whole sequences, for tasks of separate sequences)
    batch_size: int = 64           # B, parallel streams
    optimiser: str = "adam"        # sgd, momentum, adagrad, adam or rmsprop
    learning_rate: float = 0.01
    momentum: float = 0.9          # mu, for optimiser=momentum
    schedule: str = "cosine"       # learning rate: constant, or cosine decay to 0 over the steps
    clip: str = "value"            # value (each element), norm (global norm) or none
    clip_threshold: float = 5.0    # the classic +-5
    log_every: int = 0             # steps between rows of training.csv; 0 = about 100 rows
    gradient_records: int = 5      # gradients.csv is recorded this many times, init to end
    gradient_window: int = 50      # T of the gradient probe (test windows, zero initial state)
    divergence_factor: float = 1e3  # a loss above this many times the first update's has
                                    # diverged (0: only a non-finite loss or gradient counts)
    loss_reduction: str = "mean"   # the loss trained on (and clipped): "mean" per step, or "sum"
                                   # over the window's steps and streams (min-char-rnn's)
    recent_steps: int = 250        # recent_train_loss: the mean loss of the last this many updates
    sample_every: int = 0          # text tasks: steps between samples during training (0: none)
    checkpoint_every: int = 0      # steps between checkpoints in the run directory (0: at the end)
    init_from: str = ""            # a run directory: start from its last checkpoint (parameters,
                                   # optimiser state, carried state, step) and train to `steps`

    rules: ClassVar[dict] = {
        "steps": at_least(1),
        "bptt": at_least(0),
        "batch_size": at_least(1),
        "optimiser": OneOf(tuple(OPTIMISERS)),
        "learning_rate": positive(),
        "momentum": non_negative(),
        "schedule": OneOf(SCHEDULES),
        "clip": OneOf(CLIPS),
        "clip_threshold": positive(),
        "log_every": at_least(0),
        "gradient_records": at_least(2),
        "gradient_window": at_least(1),
        "divergence_factor": non_negative(),
        "loss_reduction": OneOf(REDUCTIONS),
        "recent_steps": at_least(1),
        "sample_every": at_least(0),
        "checkpoint_every": at_least(0),
    }

    def check(self, prefix: str = "train.") -> None:
        check_ranges(self, prefix)

    def learning_rate_at(self, step: int) -> float:
        """The learning rate for update ``step`` (1-based)."""
        if self.schedule == "cosine":
            return self.learning_rate * 0.5 * (1.0 + math.cos(math.pi * (step - 1) / self.steps))
        return self.learning_rate

    @property
    def rows_every(self) -> int:
        return self.log_every or max(1, self.steps // 100)


@dataclass(frozen=True)
class Stream:
    """A task's series as a BPTT model sees it.

    inputs (T, D) float, or (T,) int indices of one-hot vectors of size D; targets (T,) int class
    indices or (T, O) float. Regression tasks that need feedback see [u(t), y(t-1)] as input.
    """

    inputs: np.ndarray
    targets: np.ndarray
    input_size: int
    output_size: int
    train_length: int
    episode_length: int = 0    # L > 0: separate sequences of L steps (SeriesData.episode_length)

    @classmethod
    def from_data(cls, data: SeriesData, needs_feedback: bool) -> "Stream":
        inputs, targets, episodes = data.inputs, data.targets, data.episode_length
        if data.is_classification:
            input_size = ((data.input_classes or len(data.classes)) if inputs.ndim == 1
                          else inputs.shape[1])
            return cls(inputs, targets, input_size, len(data.classes), data.train_length,
                       episodes)
        if needs_feedback:
            previous = np.vstack([np.zeros((1, targets.shape[1])), targets[:-1]])
            inputs = np.hstack([inputs, previous])
        return cls(inputs, targets, inputs.shape[1], targets.shape[1], data.train_length,
                   episodes)

    def features(self, inputs: np.ndarray, dtype=np.float64) -> np.ndarray:
        """Inputs taken from this stream (any leading shape) as float feature vectors (..., D)."""
        if inputs.ndim >= 1 and np.issubdtype(inputs.dtype, np.integer):
            return np.eye(self.input_size, dtype=dtype)[inputs]
        return inputs.astype(dtype, copy=False)

    def lanes(self, start: int, stop: int, lanes: int, length: int, burn_in: int = 0):
        """Inputs (burn_in + length, lanes, D) and targets for ``lanes`` windows that split
        [start, stop) evenly, each preceded by up to ``burn_in`` steps of true history."""
        burn_in = min(burn_in, start)
        starts = start + np.arange(lanes) * ((stop - start) // lanes)
        index = starts[None, :] + np.arange(-burn_in, length)[:, None]
        return self.inputs[index], self.targets[index], burn_in


    def episodes(self, start: int, stop: int, count: int | None = None):
        """Inputs (L, n, ...) and targets of the first ``count`` (default: all) whole sequences
        in [start, stop), side by side as lanes."""
        L = self.episode_length
        n = (stop - start) // L if count is None else max(1, min(count, (stop - start) // L))
        index = start + np.arange(n)[None, :] * L + np.arange(L)[:, None]
        return self.inputs[index], self.targets[index]


def as_lanes(series: np.ndarray, lanes: int) -> np.ndarray:
    """(T, ...) -> (T // lanes, lanes, ...): lane b is the b-th contiguous chunk of the series."""
    length = len(series) // lanes
    return series[:length * lanes].reshape(lanes, length, *series.shape[1:]).swapaxes(0, 1)


def evaluate(model, stream: Stream, start: int, stop: int, lanes: int = EVALUATION_LANES,
             burn_in: int = EVALUATION_BURN_IN, max_steps: int | None = MONITOR_STEPS) -> float:
    """Mean loss per (scored) step over [start, stop) of the stream, as ``lanes`` windows scored
    together (for separate sequences: the sequences, each from the zero state).

    ``max_steps`` caps the steps scored (lanes spread over the whole range): each row of
    training.csv monitors the test loss on such a subset; the final metric uses max_steps=None.
    """
    if stream.episode_length:   # whole sequences from the zero state, all of them at the end
        x, y = stream.episodes(start, stop, None if max_steps is None
                               else max_steps // stream.episode_length)
        burn_in = 0
    else:
        lanes = max(1, min(lanes, (stop - start) // 10))
        length = (stop - start) // lanes
        if max_steps is not None:
            length = max(1, min(length, max_steps // lanes))
        x, y, burn_in = stream.lanes(start, stop, lanes, length, burn_in)
    with np.errstate(all="ignore"):
        outputs = model.predict(stream.features(x, model.float_type))
        return losses.loss_for(y)(outputs[burn_in:], y[burn_in:])[0]


@dataclass
class TrainingResult:
    history: list = field(default_factory=list)     # rows of training.csv
    diverged: bool = False
    diverged_step: int | None = None
    diverged_reason: str = ""                       # which rule fired
    steps_done: int = 0


def check_windows(config: TrainConfig, train_length: int, episode_length: int = 0) -> None:
    """The settings are in range and the training part fills at least one window per stream
    (for separate sequences: one sequence per lane of a batch)."""
    config.check("train.")
    if episode_length:
        sequences = train_length // episode_length
        require(sequences >= config.batch_size,
                f"train.batch_size={config.batch_size} is out of range: allowed <= {sequences} "
                f"(the task's training sequences)")
        return
    require(config.bptt >= 1, f"train.bptt={config.bptt} is out of range: allowed >= 1 (0, "
                              f"whole sequences, is for tasks of separate sequences)")
    per_lane = train_length // config.batch_size
    require(per_lane >= config.bptt,
            f"train.bptt={config.bptt} is out of range: allowed <= {per_lane} (the task's "
            f"{train_length} training steps split into train.batch_size={config.batch_size} "
            f"streams)")


class Windows:
    """What update ``step`` trains on: ``at(step)`` -> inputs (T, B, ...), targets, and whether
    the window starts from the zero state.

    One series: ``batch_size`` contiguous streams in windows of ``bptt`` steps, the state
    carried from one to the next, a new epoch (from zero) when the streams are used up.
    Separate sequences of L steps: batches of ``batch_size`` whole sequences, one after another,
    each read in windows of ``bptt`` steps (0 or >= L: all L at once), from zero at its start.
    """

    def __init__(self, stream: Stream, config: TrainConfig):
        B, L = config.batch_size, stream.episode_length
        train = slice(0, stream.train_length)
        if L:
            count = stream.train_length // L
            self.length = L if config.bptt == 0 else min(config.bptt, L)
            self.per_sequence, self.batches, self.batch_size = -(-L // self.length), count // B, B
            self.x = stream.inputs[:count * L].reshape(count, L, *stream.inputs.shape[1:])
            self.y = stream.targets[:count * L].reshape(count, L, *stream.targets.shape[1:])
            self.x, self.y = self.x.swapaxes(0, 1), self.y.swapaxes(0, 1)   # (L, count, ...)
        else:
            self.length, self.per_sequence = config.bptt, 0
            self.x, self.y = as_lanes(stream.inputs[train], B), as_lanes(stream.targets[train], B)

    def at(self, step: int):
        if not self.per_sequence:
            window = (step - 1) % (len(self.x) // self.length)
            span = slice(window * self.length, (window + 1) * self.length)
            return self.x[span], self.y[span], window == 0
        batch, window = divmod(step - 1, self.per_sequence)
        lanes = slice((batch % self.batches) * self.batch_size,
                      (batch % self.batches + 1) * self.batch_size)
        span = slice(window * self.length, (window + 1) * self.length)
        return self.x[span, lanes], self.y[span, lanes], window == 0


class Probe:
    """A measurement during training. Override what it needs; every hook is optional."""

    def columns(self, model) -> dict:
        """Extra columns of each row of the history (row 0: at initialisation)."""
        return {}

    def after_update(self, model, step: int) -> None:
        """Called after update ``step`` (and with step 0 before the first)."""

    def after_window(self, model, step: int, state, next_targets: np.ndarray) -> None:
        """Called after update ``step`` with the state carried into the next window and the
        targets of the window's last step (B, ...) -- for text, each stream's next character."""

    def on_divergence(self, model, step: int) -> None:
        """Called once when update ``step`` produced a non-finite loss or gradient."""

    def checkpoint(self):
        """What the probe has gathered, as JSON data (saved in a :class:`Snapshot`)."""
        return None

    def restore(self, saved) -> None:
        """Take back what :meth:`checkpoint` returned."""


class RecurrentSpectra(Probe):
    """Columns spectral_radius (the largest over the recurrent blocks), sigma_max and, for models
    with several blocks (the LSTM), spectral_radius_<block> for each."""

    def columns(self, model) -> dict:
        spectra = spectral.recurrent_spectra(model)
        radii = {block: float(np.abs(values[0])) for block, values in spectra.items()}
        row = {"spectral_radius": max(radii.values()),
               "sigma_max": max(spectral.largest_singular_value(matrix)
                                for matrix in model.recurrent_blocks().values())}
        if len(radii) > 1:
            row.update({f"spectral_radius_{block}": value for block, value in radii.items()})
        return row


class GradientRecords(Probe):
    """``rows`` of gradients.csv (:func:`gradient_rows`) at ``records`` steps spread evenly from
    initialisation to ``steps``, and at a divergence."""

    def __init__(self, stream: Stream, test: tuple[int, int], steps: int, records: int,
                 window: int):
        self.stream, self.test, self.window = stream, test, window
        self.record_at = set(np.linspace(0, steps, records).round().astype(int))
        self.rows: list[dict] = []

    def after_update(self, model, step: int) -> None:
        if step in self.record_at:
            self.rows += gradient_rows(model, self.stream, self.test, self.window, step)

    def on_divergence(self, model, step: int) -> None:
        self.rows += gradient_rows(model, self.stream, self.test, self.window, step)

    def checkpoint(self):
        return self.rows

    def restore(self, saved) -> None:
        self.rows = list(saved)


@dataclass
class Snapshot:
    """Training stopped after update ``step``, as arrays and JSON data (no pickled objects).

    ``params`` and ``optimiser_state`` (per parameter, per buffer) are the arrays;
    ``state`` the carried state's parts (RNN: [h]; LSTM: [h, c]; each (B, H)), None at an
    epoch's start; ``smooth_loss`` min-char-rnn's running average. ``record`` is the history
    and the probes' data, so that a resumed run writes the same tables; ``start=`` a snapshot
    whose record is None begins a new history at its step (continued training).
    """

    step: int
    params: dict
    optimiser: str
    optimiser_steps: int
    optimiser_state: dict
    state: list | None
    smooth_loss: float
    record: dict | None = None


@dataclass
class _Loop:
    """What the update loop carries from one step to the next."""

    step: int = 0
    state: object = None
    smooth_loss: float = math.nan
    first_loss: float = math.nan
    recent: list = field(default_factory=list)      # the last recent_steps per-step losses
    interval: dict = field(default_factory=lambda: {key: [] for key in INTERVAL})


INTERVAL = ("loss", "window_loss", "norm", "clipped")   # averaged over each row's interval


def train(model, stream: Stream, config: TrainConfig, test: tuple[int, int],
          description: str = "training", probes: tuple | list | None = None,
          start: Snapshot | None = None, checkpoint=None) -> TrainingResult:
    """Train ``model`` (built for the stream's sizes) in place on stream[:train_length].

    ``test`` = (start, stop): the steps of the stream scored as test loss on each history row.
    ``probes``: :class:`Probe` callbacks (default: :class:`RecurrentSpectra`).
    ``start``: a :class:`Snapshot` to continue from; ``checkpoint``: called with a Snapshot
    every ``config.checkpoint_every`` steps (if > 0) and once at the end.
    """
    _check_arguments(model, stream, config, test, start)
    check_windows(config, stream.train_length, stream.episode_length)
    probes = (RecurrentSpectra(),) if probes is None else tuple(probes)
    optimiser = OPTIMISERS[config.optimiser](momentum=config.momentum)
    result, loop, windows = TrainingResult(), _Loop(), Windows(stream, config)
    if start is not None:
        _restore(start, model, optimiser, loop, result, probes, config)
    if start is None or start.record is None:
        if start is None:
            loop.smooth_loss = _initial_smooth_loss(stream, windows.length)
        result.history.append(_row(model, stream, test, probes, loop, math.nan, config))
        for probe in probes:
            probe.after_update(model, loop.step)
    with logging_redirect_tqdm(), tqdm(total=config.steps, initial=loop.step, desc=description,
                                       unit="step", disable=None, leave=False) as progress:
        _loop(model, stream, config, test, description, probes, result, progress, optimiser,
              loop, windows, checkpoint)
    if result.diverged:
        for probe in probes:
            probe.on_divergence(model, result.diverged_step)
    if checkpoint is not None:
        checkpoint(_snapshot(model, optimiser, loop, result, probes))
    return result


def _initial_smooth_loss(stream: Stream, window_length: int) -> float:
    """min-char-rnn's start: the uniform loss of a window, T ln V (classification only)."""
    if np.issubdtype(stream.targets.dtype, np.integer):
        return window_length * math.log(stream.output_size)
    return math.nan   # regression: the first window's loss starts it


def _snapshot(model, optimiser, loop: _Loop, result: TrainingResult, probes) -> Snapshot:
    state = loop.state
    parts = None if state is None else [state] if isinstance(state, np.ndarray) else list(state)
    record = {"history": result.history, "first_loss": loop.first_loss, "recent": loop.recent,
              "interval": loop.interval, "probes": [probe.checkpoint() for probe in probes],
              "diverged": result.diverged, "diverged_step": result.diverged_step,
              "diverged_reason": result.diverged_reason}
    return Snapshot(loop.step, {name: value.copy() for name, value in model.params.items()},
                    type(optimiser).__name__.lower(), optimiser.steps,
                    {name: {key: value.copy() for key, value in buffers.items()}
                     for name, buffers in optimiser.state.items()},
                    None if parts is None else [part.copy() for part in parts],
                    loop.smooth_loss, json.loads(json.dumps(record)))


def _restore(start: Snapshot, model, optimiser, loop: _Loop, result: TrainingResult, probes,
             config: TrainConfig) -> None:
    """Put the snapshot's parameters, optimiser state, carried state (and record) in place."""
    for name, value in start.params.items():
        model.params[name][...] = value
    if start.optimiser == type(optimiser).__name__.lower():   # else the new optimiser starts
        optimiser.steps = start.optimiser_steps                 # from empty buffers
        optimiser.state = {name: {key: np.array(value, dtype=model.params[name].dtype)
                                  for key, value in buffers.items()}
                           for name, buffers in start.optimiser_state.items()}
    parts = [np.array(part, dtype=model.float_type) for part in start.state or []]
    loop.state = None if not parts else parts[0] if len(parts) == 1 else tuple(parts)
    loop.step, loop.smooth_loss = start.step, start.smooth_loss
    record = start.record
    if record is None:
        return
    result.history = [dict(row) for row in record["history"]]
    result.steps_done = start.step
    loop.first_loss, loop.recent = record["first_loss"], list(record["recent"])
    loop.interval = {key: list(record["interval"][key]) for key in INTERVAL}
    for probe, saved in zip(probes, record["probes"]):
        probe.restore(saved)


def _check_arguments(model, stream, config, test, start=None) -> None:
    """One ValueError (argument, value, what is allowed) for arguments train cannot use."""
    if not isinstance(stream, Stream):
        raise ValueError(f"stream={type(stream).__name__}: allowed a Stream "
                         f"(Stream.from_data(data, task.needs_feedback))")
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config={type(config).__name__}: allowed a TrainConfig")
    if getattr(model, "params", None) is None:
        raise ValueError(f"model={type(model).__name__} is not built: call "
                         f"model.build({stream.input_size}, {stream.output_size}) first")
    if (model.input_size, model.output_size) != (stream.input_size, stream.output_size):
        raise ValueError(f"model is built for {model.input_size} inputs and {model.output_size} "
                         f"outputs: allowed the stream's {stream.input_size} and "
                         f"{stream.output_size}")
    total = len(stream.targets)
    valid = (isinstance(test, (tuple, list)) and len(test) == 2
             and all(isinstance(v, (int, np.integer)) for v in test)
             and stream.train_length <= test[0] < test[1] <= total)
    if not valid:
        raise ValueError(f"test={test!r} is out of range: allowed (start, stop) integers with "
                         f"{stream.train_length} <= start < stop <= {total} (the test part)")
    if start is None:
        return
    if not isinstance(start, Snapshot):
        raise ValueError(f"start={type(start).__name__}: allowed a Snapshot or None")
    shapes = {name: np.shape(value) for name, value in start.params.items()}
    if shapes != {name: value.shape for name, value in model.params.items()}:
        raise ValueError(f"start holds parameters {shapes}: allowed the model's "
                         f"{ {name: value.shape for name, value in model.params.items()} }")
    if not 0 <= start.step <= config.steps:
        raise ValueError(f"start.step={start.step} is out of range: allowed 0..{config.steps} "
                         f"(config.steps)")


def _divergence(loss: float, norm: float, first_loss: float, factor: float) -> str:
    """Which divergence rule the update's loss and gradient norm break ("" if none)."""
    if not math.isfinite(loss):
        return f"non-finite loss ({loss})"
    if not math.isfinite(norm):
        return f"non-finite gradient norm ({norm})"
    if factor > 0 and math.isfinite(first_loss) and abs(loss) > factor * abs(first_loss):
        return f"loss {loss:.4g} > {factor:g} x the first update's {first_loss:.4g}"
    return ""


def _loop(model, stream, config, test, description, probes, result, progress, optimiser,
          loop: _Loop, windows: Windows, checkpoint) -> None:
    """The update loop of :func:`train` (fills ``result``, advances ``loop``)."""
    for step in range(loop.step + 1, config.steps + 1):
        x, y, fresh = windows.at(step)
        if fresh:
            loop.state = None                               # a new epoch (sequence) from zero
        with np.errstate(all="ignore"):                     # overflow is detected just below
            loss, grads, info = model.loss_and_grads(
                stream.features(x, model.float_type), y, loop.state, config.loss_reduction)
            norm, clipped = clip_gradients(grads, config.clip, config.clip_threshold)
        if math.isnan(loop.first_loss) and loss > 0:       # the first window with a scored step
            loop.first_loss = loss
        reason = _divergence(loss, norm, loop.first_loss, config.divergence_factor)
        if reason:
            result.diverged, result.diverged_step, result.diverged_reason = True, step, reason
            log.warning("%s diverged at step %d: %s", description, step, reason)
            return
        loop.state = info["state"]
        learning_rate = config.learning_rate_at(step)
        optimiser.step(model.params, grads, learning_rate)
        result.steps_done = loop.step = step
        per_step = loss / losses.scored_terms(y) if config.loss_reduction == "sum" else loss
        window_loss = per_step * windows.length             # summed over one stream's window
        loop.smooth_loss = (window_loss if math.isnan(loop.smooth_loss) else
                            SMOOTHING * loop.smooth_loss + (1 - SMOOTHING) * window_loss)
        loop.recent = (loop.recent + [per_step])[-config.recent_steps:]
        for key, value in zip(INTERVAL, (per_step, window_loss, norm, clipped)):
            loop.interval[key].append(value)
        if step % config.rows_every == 0 or step == config.steps:
            row = _row(model, stream, test, probes, loop, learning_rate, config)
            result.history.append(row)
            loop.interval = {key: [] for key in INTERVAL}
            progress.set_postfix(train=f"{row['train_loss']:.4f}", test=f"{row['test_loss']:.4f}")
            _log_row(row, config, len(result.history), description)
        for probe in probes:
            probe.after_update(model, step)
            probe.after_window(model, step, loop.state, y[-1])
        progress.update()
        if checkpoint is not None and config.checkpoint_every and \
                step % config.checkpoint_every == 0 and step < config.steps:
            checkpoint(_snapshot(model, optimiser, loop, result, probes))


def next_targets(stream: Stream, config: TrainConfig, step: int) -> np.ndarray:
    """The targets (B, ...) of the last step of update ``step``'s window: for text, the
    character each stream reads next (min-char-rnn seeds its samples with it)."""
    return Windows(stream, config).at(max(step, 1))[1][-1]


def _log_row(row: dict, config: TrainConfig, rows: int, description: str) -> None:
    """min-char-rnn's "iter N, loss X" (its smoothed window loss) at every row of a summed-loss
    run; about ten lines of per-step losses otherwise."""
    if config.loss_reduction == "sum":
        log.info("iter %d, loss %.6f (per character: train %.4f, test %.4f)", row["step"],
                 row["smooth_loss"], row["train_loss"], row["test_loss"])
    elif rows % 10 == 1 or row["step"] == config.steps:
        log.info("step %d/%d: train loss %.4f, test loss %.4f, gradient norm %.3g",
                 row["step"], config.steps, row["train_loss"], row["test_loss"], row["grad_norm"])


def _row(model, stream, test, probes, loop: _Loop, learning_rate: float,
         config: TrainConfig) -> dict:
    """One row of the history: the interval's means, the test loss now, the probes' columns."""
    means = {key: float(np.mean(values)) if values else math.nan
             for key, values in loop.interval.items()}
    row = {"step": loop.step, "train_loss": means["loss"],
           "test_loss": evaluate(model, stream, *test), "grad_norm": means["norm"],
           "fraction_clipped": means["clipped"], "learning_rate": learning_rate,
           "window_loss": means["window_loss"], "smooth_loss": loop.smooth_loss,
           "recent_train_loss": float(np.mean(loop.recent)) if loop.recent else math.nan}
    for probe in probes:
        row.update(probe.columns(model))
    return row


def gradient_rows(model, stream: Stream, test: tuple[int, int], window: int, step: int,
                  lanes: int = 32) -> list[dict]:
    """Rows of gradients.csv at one training step: per layer and position t of a probe window of
    T steps (``lanes`` test windows, zero initial state), lag = T-1-t and the norms of dL/dh_t (L
    the window's mean loss) and of dL_T/dh_t (the last step's loss alone), per sequence, averaged
    over the lanes."""
    start, stop = test
    if stream.episode_length:          # whole test sequences: the lag runs over all L steps
        x, y = stream.episodes(start, stop, lanes)
        window = stream.episode_length
    else:
        lanes = min(lanes, stop - start)
        window = min(window, (stop - start) // lanes)
        x, y, _ = stream.lanes(start, stop, lanes, window)
    with np.errstate(all="ignore"):
        dh_all, dh_last = model.hidden_gradients(stream.features(x, model.float_type), y)
        norm_all = np.linalg.norm(dh_all, axis=3).mean(axis=2)    # (L, T)
        norm_last = np.linalg.norm(dh_last, axis=3).mean(axis=2)
    return [{"step": step, "layer": layer, "t": t, "lag": window - 1 - t,
             "grad_norm": float(norm_all[layer, t]), "last_step_grad_norm": float(norm_last[layer, t])}
            for layer in range(len(norm_all)) for t in range(window)]
