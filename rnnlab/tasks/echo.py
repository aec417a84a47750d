"""The binary "echo" task: predict a coin whose bias depends on inputs seen some steps ago.

    X_t ~ Bernoulli(0.5),    P(Y_t = 1) = clip(base + sum_j effect_j [X_{t - lag_j} = 1], 0, 1)

With the defaults (base 0.5, lags 3 and 8, effects +0.5 and -0.25) a model that learns nothing
scores 0.6616 nats, one that learns the lag-3 dependency 0.5192, one that learns both 0.4545 --
so the measured cross-entropy shows which dependencies backpropagation through time could reach.

Theory: the best predictor that knows X at the first k lags predicts
q = E[P(Y=1 | all lagged X) | the k known ones]; its expected cross-entropy is E[H(q)],
H(q) = -q ln q - (1-q) ln(1-q). :func:`theoretical_cross_entropy` computes it exactly by
enumerating the 2^n values of the lagged inputs.
"""

import itertools
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from rnnlab.resources import FLOAT, Need
from rnnlab.tasks.base import SeriesData, Task
from rnnlab.tasks.information import entropy
from rnnlab.validation import Range, at_least, require


def theoretical_cross_entropy(base: float, effects: list[float], known: int) -> float:
    """Expected cross-entropy (nats per step) of the best predictor knowing the first ``known``
    of the lagged inputs, by exact enumeration over all 2^n equally likely lagged inputs."""
    def p_one(bits):
        return min(1.0, max(0.0, base + sum(e * b for e, b in zip(effects, bits))))

    n = len(effects)
    total = 0.0
    for known_bits in itertools.product((0, 1), repeat=known):
        unknown = list(itertools.product((0, 1), repeat=n - known))
        q = sum(p_one(known_bits + rest) for rest in unknown) / len(unknown)
        total += entropy([q, 1.0 - q])   # H(q) = -q ln q - (1-q) ln(1-q)
    return total / 2 ** known


@dataclass
class EchoTask(Task):
    base: float = 0.5                     # P(Y=1) when no lagged input is 1
    lags: list[int] = field(default_factory=lambda: [3, 8])          # j-th dependency: X_{t - lag_j}
    effects: list[float] = field(default_factory=lambda: [0.5, -0.25])  # added to P(Y=1) if it is 1
    train_steps: int = 1_000_000          # length of the training stream
    test_steps: int = 100_000             # length of the test stream (fresh draws)

    name: ClassVar[str] = "echo"
    primary_metric: ClassVar[str] = "test_cross_entropy"
    is_classification: ClassVar[bool] = True
    headline: ClassVar[tuple] = ("test_cross_entropy",)
    rules: ClassVar[dict[str, Range]] = {
        "base": Range(0, 1),
        "train_steps": at_least(100),
        "test_steps": at_least(100),
    }

    def check(self, prefix: str = "task.") -> None:
        super().check(prefix)
        require(len(self.lags) == len(self.effects),
                f"{prefix}lags={list(self.lags)} and {prefix}effects={list(self.effects)} must have "
                f"the same length (one effect per lag)")
        require(len(self.lags) <= 12,
                f"{prefix}lags={list(self.lags)} is out of range: allowed at most 12 lags")
        require(all(lag >= 1 for lag in self.lags) and len(set(self.lags)) == len(self.lags),
                f"{prefix}lags={list(self.lags)} is out of range: allowed distinct lags >= 1")
        require(all(np.isfinite(effect) for effect in self.effects),
                f"{prefix}effects={list(self.effects)} is out of range: allowed finite numbers")

    split_keys: ClassVar[tuple] = ("train_steps", "test_steps")

    def dimensions(self) -> tuple[int, int]:
        return 1, 2

    def memory_needs(self) -> list[Need]:
        steps = self.train_steps + self.test_steps
        return [Need("task.train_steps", self.train_steps, "the input and target streams",
                     6 * FLOAT * steps),
                Need("task.lags", list(self.lags), "the input history before the first step",
                     FLOAT * max(self.lags, default=0))]

    def split(self) -> tuple[int, int]:
        """A training stream and a fresh test stream of fixed lengths."""
        return self.train_steps, self.test_steps

    def make_data(self, rng: np.random.Generator) -> SeriesData:
        """inputs X (T, 1) float 0/1, targets Y (T,) int; T = train_steps + test_steps."""
        length = self.train_steps + self.test_steps
        history = max(self.lags, default=0)
        x = rng.integers(0, 2, size=history + length)
        p_one = np.full(length, self.base)
        for lag, effect in zip(self.lags, self.effects):
            p_one += effect * x[history - lag:history - lag + length]
        y = (rng.random(length) < np.clip(p_one, 0.0, 1.0)).astype(np.int64)
        return SeriesData(inputs=x[history:, None].astype(np.float64), targets=y,
                          train_length=self.train_length, classes=("0", "1"))

    def theory(self, data: SeriesData | None = None) -> dict[str, float]:
        """Cross-entropy levels, worst first: knowing no lag, the first lag, the first two, ..."""
        levels = {}
        for known in range(len(self.lags) + 1):
            label = ("no_lag" if known == 0 else
                     ("lag_" if known == 1 else "lags_") + "_".join(map(str, self.lags[:known])))
            levels[label] = theoretical_cross_entropy(self.base, list(self.effects), known)
        return levels
