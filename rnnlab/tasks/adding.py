"""The adding problem (Hochreiter & Schmidhuber 1997, in the form of Le et al. 2015).

Each sequence has T = ``length`` steps (L = T). Step t's input is (v_t, m_t):

    v_t ~ U(0, 1) independently,   m_t = 1 at exactly two steps i ~ U{0 .. h-1}, j ~ U{h .. T-1}
    (h = floor(T / 2): one marker in each half), m_t = 0 elsewhere;
    target y = v_i + v_j at the last step t = T - 1, NaN (not scored) at every other step.

So the model must find the two marked values, possibly T - 1 steps apart, hold them and add them.
D_in = 2, D_out = 1; the loss is the mean squared error over the scored (last) steps.

Theory (:meth:`AddingTask.theory`, MSE, worst first), with the values v ~ U(a, b), a = 0, b = 1,
Var(v) = (b - a)^2 / 12:

    predict_mean   2 Var(v) = (b - a)^2 / 6 = 0.1667    (no memory: predict E[y] = a + b = 1)
    one_value      Var(v) = (b - a)^2 / 12 = 0.0833     (knows one marked value v, predicts
                                                         v + E[v]: the other value's variance)
    exact          0

Extra metric (:meth:`AddingTask.sequence_scores`): ``test_fraction_within_0_04``, the share of
test sequences whose prediction is within 0.04 of the sum (|error| < 0.04, the "solved"
criterion used in the literature). Predicting the mean scores 1 - (1 - 0.04)^2 = 0.0784 (y - 1 is
triangular on [-1, 1]).
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rnnlab.tasks.base import SeriesData
from rnnlab.tasks.sequences import SequenceTask
from rnnlab.validation import Range, at_least

LOW, HIGH = 0.0, 1.0    # the values v ~ U(LOW, HIGH)
SOLVED_ERROR = 0.04     # |prediction - sum| below this counts as solved


@dataclass
class AddingTask(SequenceTask):
    length: int = 50    # T = L, steps per sequence (one marker in each half)

    name: ClassVar[str] = "adding"
    primary_metric: ClassVar[str] = "test_mse"
    is_classification: ClassVar[bool] = False
    headline: ClassVar[tuple] = ("test_mse",)
    length_key: ClassVar[str] = "length"
    rules: ClassVar[dict[str, Range]] = {**SequenceTask.rules, "length": at_least(4)}

    @property
    def episode_length(self) -> int:
        return self.length

    def dimensions(self) -> tuple[int, int]:
        return 2, 1

    def draw(self, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """inputs (count, T, 2) float: (value, marker); targets (count, T, 1): NaN but the last
        step, which holds the sum of the two marked values."""
        length, half = self.length, self.length // 2
        values = rng.uniform(LOW, HIGH, size=(count, length))                    # (count, T)
        rows = np.arange(count)
        first, second = rng.integers(0, half, count), rng.integers(half, length, count)
        inputs = np.zeros((count, length, 2))
        inputs[..., 0] = values
        inputs[rows, first, 1] = inputs[rows, second, 1] = 1.0
        targets = np.full((count, length, 1), np.nan)
        targets[:, -1, 0] = values[rows, first] + values[rows, second]
        return inputs, targets

    def theory(self, data: SeriesData | None = None) -> dict[str, float]:
        """MSE levels, worst first (module docstring): from Var(U(LOW, HIGH))."""
        variance = (HIGH - LOW) ** 2 / 12
        return {"predict_mean": 2 * variance, "one_value": variance, "exact": 0.0}

    def sequence_scores(self, data: SeriesData, outputs: np.ndarray) -> dict:
        """``test_fraction_within_0_04``: share of test sequences with |y_hat - y| < 0.04 at the
        last step (a NaN prediction counts as wrong)."""
        targets, outputs = self.test_episodes(data, outputs)
        error = np.abs(outputs[:, -1, 0] - targets[:, -1, 0])
        return {"test_fraction_within_0_04": float(np.mean(error < SOLVED_ERROR))}
