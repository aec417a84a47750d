"""Memory capacity as a task (Jaeger 2002): recall the input k steps back, for every k at once.

    u(t) ~ U(-1, 1) i.i.d.,    targets y_k(t) = u(t - k),  k = 1 .. max_delay

One readout per delay (all fitted together, one output each); on the test part each delay's
memory is the squared correlation between the target and the readout,

    r^2(k) = cov(u(t-k), y_k(t))^2 / (var(u(t-k)) var(y_k(t))),    MC = sum_k r^2(k).

For i.i.d. input a reservoir of N units has MC <= N (Jaeger 2002); a linear reservoir with a
generic (e.g. orthogonal) W and rho < 1 comes close to N. The input before the series begins is
drawn too, so every target is defined; a model should discard at least ``max_delay`` steps
(conf/model_task/esn_memory.yaml sets the ESN's washout to it). No output is fed back (it would
be the answer shifted by one step).
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rnnlab.tasks.base import SeriesData, Task, split_rules
from rnnlab.validation import Range, at_least


def squared_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Column-wise squared Pearson correlation of (T, K) arrays -> (K,); 0 where either column
    is constant."""
    a, b = a - a.mean(axis=0), b - b.mean(axis=0)
    covariance = np.einsum("tk,tk->k", a, b)
    variances = np.einsum("tk,tk->k", a, a) * np.einsum("tk,tk->k", b, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = covariance ** 2 / variances
    return np.where(variances > 0, r2, 0.0)


@dataclass
class MemoryTask(Task):
    length: int = 6000             # steps, train then test
    train_fraction: float = 0.5
    max_delay: int = 200           # k_max: delays 1..k_max (MC of a reservoir larger than
                                   # k_max is cut at k_max)

    name: ClassVar[str] = "memory"
    primary_metric: ClassVar[str] = "memory_capacity"
    headline: ClassVar[tuple] = ("memory_capacity",)
    feedback_allowed: ClassVar[bool] = False
    writes_series: ClassVar[bool] = False       # max_delay target columns: the curve instead
    rules: ClassVar[dict[str, Range]] = {**split_rules(), "max_delay": at_least(1)}

    def dimensions(self) -> tuple[int, int]:
        return 1, self.max_delay

    def make_data(self, rng: np.random.Generator) -> SeriesData:
        u = rng.uniform(-1.0, 1.0, self.length + self.max_delay)   # max_delay steps before t = 0
        lagged = np.lib.stride_tricks.sliding_window_view(u[:-1], self.max_delay)[:, ::-1]
        return SeriesData(inputs=u[self.max_delay:, None], targets=lagged.copy(),
                          train_length=self.train_length)   # row t: u(t-1), ..., u(t-k_max)

    def memory_function(self, data: SeriesData, teacher_forced: np.ndarray) -> np.ndarray:
        """r^2(k) for k = 1..max_delay on the test part, (max_delay,)."""
        return squared_correlation(data.y_test, teacher_forced)

    def score(self, data: SeriesData, teacher_forced: np.ndarray, free_run: np.ndarray) -> dict:
        r2 = self.memory_function(data, teacher_forced)
        return {"memory_capacity": float(r2.sum()), "memory_r2_delay_1": float(r2[0]),
                "memory_delays": self.max_delay}

    def curves(self, data: SeriesData, teacher_forced: np.ndarray) -> dict:
        return {"memory_function": {"delay": np.arange(1, self.max_delay + 1),
                                    "r2": self.memory_function(data, teacher_forced)}}
