"""What every task is: a series split in time, a way to score predictions of it, reference levels.

A task is a dataclass of hyperparameters (its config keys) that subclasses :class:`Task`:

    data = task.make_data(rng)                          # SeriesData: the whole series, split once
    task.score(data, teacher_forced, free_run) -> dict  # regression tasks: metrics of predictions
    task.theory(data) -> {label: level}                 # classification: reference losses (nats)

and declares, as class attributes, its ``name`` (``task=NAME``), ``primary_metric`` (the metric
a sweep reports and a sweeper optimises), ``is_classification``, ``needs_feedback`` (the target
reaches the model only as its previous output), ``feedback_allowed`` (False where the previous
target would give the answer away), ``headline`` (metrics shown in plot titles) and ``rules``
(allowed ranges, checked by :meth:`Task.check`). The split is written once, here:
``train_length`` / ``test_length`` from the series length and ``train_fraction``, unless a task
fixes both lengths itself (:meth:`Task.split`).
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rnnlab.losses import UNSCORED_CLASS  # noqa: F401 (a class target no loss counts; values: NaN)
from rnnlab.resources import FLOAT, Need
from rnnlab.validation import Range, at_least, check_ranges


@dataclass(frozen=True)
class SeriesData:
    """The first ``train_length`` steps train, the rest test.

    Regression: inputs (T, D_in) float (D_in may be 0), targets (T, D_out) float.
    Classification: targets (T,) int class indices into ``classes`` (the class labels); inputs are
    (T, D_in) float, or (T,) int indices meaning one-hot vectors of ``input_classes`` (default:
    one per class, e.g. characters).
    ``free_run_length``: how many test steps a closed-loop (free-running) model is asked to produce.
    ``episode_length`` L > 0: the series is separate sequences of L steps one after another
    (sequence i: steps i L ... (i + 1) L - 1), each read from the zero state; both parts hold
    whole sequences. A step whose target is ``UNSCORED_CLASS`` (classes) or NaN (values) is not
    scored: losses average over the scored steps only.
    """

    inputs: np.ndarray
    targets: np.ndarray
    train_length: int
    free_run_length: int = 0
    classes: tuple | None = None
    episode_length: int = 0
    input_classes: int = 0     # int inputs: the one-hot width (0: len(classes), e.g. characters)

    @property
    def is_classification(self) -> bool:
        return self.classes is not None

    @property
    def u_train(self) -> np.ndarray:
        return self.inputs[:self.train_length]

    @property
    def y_train(self) -> np.ndarray:
        return self.targets[:self.train_length]

    @property
    def u_test(self) -> np.ndarray:
        return self.inputs[self.train_length:]

    @property
    def y_test(self) -> np.ndarray:
        return self.targets[self.train_length:]


def split_rules(min_length: int = 100) -> dict[str, Range]:
    """The range rules of ``length`` and ``train_fraction`` (both parts non-empty)."""
    return {"length": at_least(min_length), "train_fraction": Range(0, 1, False, False)}


class Task:
    """The contract of a task (subclasses are dataclasses; see the module docstring)."""

    name: ClassVar[str] = ""
    primary_metric: ClassVar[str] = ""
    is_classification: ClassVar[bool] = False
    needs_feedback: ClassVar[bool] = False
    headline: ClassVar[tuple] = ()
    feedback_allowed: ClassVar[bool] = True   # False: the previous target would give the answer
                                              # away, so a model must not be fed it back
    writes_series: ClassVar[bool] = True      # series.csv of the test part (False: too wide)
    rules: ClassVar[dict] = {}
    split_keys: ClassVar[tuple] = ("length", "train_fraction")   # the keys that size the series
                                                                 # and its test part

    def check(self, prefix: str = "task.") -> None:
        """Raise ConfigError (one line: key, value, what is allowed) for a bad hyperparameter."""
        check_ranges(self, prefix)

    # ------------------------------------------------------------------ the split, once
    def series_length(self) -> int:
        """T, the steps of the whole series (training then test)."""
        return self.length

    def split(self) -> tuple[int, int]:
        """(training steps, test steps): round(train_fraction * T) and the rest."""
        total = self.series_length()
        train = int(round(self.train_fraction * total))
        return train, total - train

    @property
    def train_length(self) -> int:
        return self.split()[0]

    @property
    def test_length(self) -> int:
        return self.split()[1]

    # ------------------------------------------------------------------ what a task provides
    def make_data(self, rng: np.random.Generator) -> SeriesData:
        raise NotImplementedError

    def score(self, data: SeriesData, teacher_forced: np.ndarray, free_run: np.ndarray) -> dict:
        """Metrics of a regression task's predictions over the test part: one step ahead
        (teacher_forced, (T_test, D_out)) and closed loop (free_run, (free_run_length, D_out))."""
        raise NotImplementedError(f"task={self.name} is scored by cross-entropy, not score()")

    def curves(self, data: SeriesData, teacher_forced: np.ndarray) -> dict[str, dict]:
        """Tables a regression task computes from the one-step predictions, by name: {name:
        {column: (K,) array}} (e.g. the memory function r^2 against the delay); {} for none."""
        return {}

    def trial_windows(self, data: SeriesData) -> list[tuple[int, int, int]]:
        """Independent free-run trials in the test part, each (lead-in start, free-run start,
        stop) as test-part indices: a model starts from the zero state, is driven teacher-forced
        from the first to the second, then runs free to the third ([] for none)."""
        return []

    def score_trials(self, data: SeriesData, runs: np.ndarray) -> dict:
        """Metrics of the trials' free runs, runs (trials, steps, D_out) ({} without trials)."""
        return {}

    def theory(self, data: SeriesData) -> dict[str, float]:
        """Reference levels of the loss, worst first ({} where the task has none)."""
        return {}

    def dimensions(self) -> tuple[int, int]:
        """(input features D_in, outputs D_out) of the data, known before it is made (for a
        classification task: one-hot inputs of its vocabulary and one output per class)."""
        raise NotImplementedError

    def memory_needs(self) -> list[Need]:
        """The big arrays of make_data: by default a few float arrays of the series' length."""
        key = self.split_keys[0]
        return [Need(f"task.{key}", getattr(self, key), "the series",
                     6 * FLOAT * self.series_length() * (1 + sum(self.dimensions())))]

    def source_digest(self) -> str | None:
        """SHA-256 of the data file the task reads (None: the task generates its data), so that a
        run's identity changes when the file does."""
        return None

    def samples(self, model, data: SeriesData, rng: np.random.Generator) -> str | None:
        """Text generated by a trained model, written as samples.txt (None: the task has none)."""
        return None

    @property
    def episode_length(self) -> int:
        """L > 0 for a task of separate sequences of L steps (SeriesData.episode_length), known
        before the data is made; 0 for one continuous series."""
        return 0

    def sequence_scores(self, data: SeriesData, outputs: np.ndarray) -> dict:
        """Task-specific metrics of a model's outputs (logits or values, (T_test, O), aligned
        with the test part's targets), e.g. a recall accuracy ({} where there are none)."""
        return {}


def nrmse(target: np.ndarray, prediction: np.ndarray, scale: float | None = None) -> float:
    """Std-normalised RMSE: sqrt(mean((y - y_hat)^2)) / std(y); 1.0 = predicting the mean. For
    (T, D) targets std(y)^2 is the mean of the D features' variances, so the error is
    sqrt(mean_t ||y - y_hat||^2 / sum_j var(y_j)).

    ``scale`` replaces std(y), e.g. the std of the whole test series when scoring a short piece.
    """
    target, prediction = np.asarray(target), np.asarray(prediction)
    scale = np.sqrt(np.mean(np.var(target, axis=0))) if scale is None else scale
    return float(np.sqrt(np.mean((target - prediction) ** 2)) / scale)
