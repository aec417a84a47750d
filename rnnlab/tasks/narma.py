"""NARMA: a nonlinear autoregressive moving-average system driven by i.i.d. input.

    y(t+1) = 0.3 y(t) + 0.05 y(t) sum_{i=0}^{n-1} y(t-i) + 1.5 u(t-n+1) u(t) + 0.1,
    u(t) ~ U[0, 0.5] i.i.d.

n = ``order`` = 10 is the standard NARMA10 (Atiya & Parlos 2000). Other orders keep these
coefficients and change only the memory: the sum over the last n outputs and the input n-1 steps
back. (Some papers use other coefficients for n = 20, 30, with a tanh around the right-hand side
to keep it bounded; reservoirpy's ``narma()`` defaults to such a 30th-order variant -- so
numbers from it are not NARMA10 numbers.) y(t) = 0 for t < n; ``discard`` transient steps
are dropped; a series that diverges (rare at n = 10, more common for higher orders) is refused
with the seed to change.

The model reads u(t) and predicts y(t) (one step ahead of what it has seen of y: nothing, as no
output is fed back -- a feedback of the true y(t-1) would give most of the answer away).
Metric: test NRMSE (std-normalised). Typical values from the literature are recorded beside it
(``reference_*``): about 0.3 at N = 100 and 0.12 at N = 1000 reservoir units.
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rnnlab.tasks.base import SeriesData, Task, nrmse, split_rules
from rnnlab.validation import ConfigError, Range, at_least

LITERATURE = {"nrmse_n100": 0.3, "nrmse_n1000": 0.12}   # typical test NRMSE by reservoir size


def narma(u: np.ndarray, order: int = 10) -> np.ndarray:
    """y (T,) of the NARMA system of ``order`` n driven by u (T,) (see the module docstring)."""
    y = np.zeros(len(u))                        # y = 0 until u(t - n + 1) exists
    window = 0.0                                # sum_{i=0}^{n-1} y(t-i), kept as a running sum
    for t in range(order - 1, len(u) - 1):
        window += y[t] - (y[t - order] if t >= order else 0.0)
        y[t + 1] = 0.3 * y[t] + 0.05 * y[t] * window + 1.5 * u[t - order + 1] * u[t] + 0.1
    return y


@dataclass
class NarmaTask(Task):
    length: int = 10000            # steps, train then test
    train_fraction: float = 0.5
    order: int = 10                # n
    discard: int = 200             # transient steps dropped before the series starts

    name: ClassVar[str] = "narma"
    primary_metric: ClassVar[str] = "nrmse"
    headline: ClassVar[tuple] = ("nrmse",)
    feedback_allowed: ClassVar[bool] = False
    rules: ClassVar[dict[str, Range]] = {**split_rules(), "order": at_least(1),
                                         "discard": at_least(0)}

    def dimensions(self) -> tuple[int, int]:
        return 1, 1

    def make_data(self, rng: np.random.Generator) -> SeriesData:
        u = rng.uniform(0.0, 0.5, self.length + self.discard)
        with np.errstate(over="ignore", invalid="ignore"):
            y = narma(u, self.order)
        if not np.all(np.isfinite(y)):
            raise ConfigError(f"task.order={self.order}: this seed's NARMA series diverges "
                              f"(y grows without bound); allowed another seed or a lower order")
        return SeriesData(inputs=u[self.discard:, None], targets=y[self.discard:, None],
                          train_length=self.train_length)

    def score(self, data: SeriesData, teacher_forced: np.ndarray, free_run: np.ndarray) -> dict:
        return {"nrmse": nrmse(data.y_test, teacher_forced),
                **{f"reference_{key}": value for key, value in LITERATURE.items()}}
