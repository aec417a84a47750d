"""Tasks made of separate sequences (episodes): N_train training and N_test test draws of L steps.

A subclass defines one draw of many sequences at once,

    draw(count, rng) -> inputs (count, L, D_in) float or (count, L) int (one-hot indices),
                        targets (count, L) int class indices or (count, L, D_out) float

and :meth:`SequenceTask.make_data` calls it once for the ``sequences`` training sequences and
then, from the same generator, once for the ``test_sequences`` test sequences, and lays them end
to end (``SeriesData.episode_length`` = L): sequence i is rows [i L, (i + 1) L) of

    inputs  (N L, D_in) or (N L,),   targets (N L,) or (N L, D_out),   N = N_train + N_test,

the training part the first N_train L rows. A step that is not scored has the target
``UNSCORED_CLASS`` (classes) or NaN (values). Because the training sequences are drawn first,
they do not depend on ``test_sequences``.
"""

import numbers
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rnnlab.resources import FLOAT, Need
from rnnlab.tasks.base import SeriesData, Task
from rnnlab.validation import Range, at_least, check_ranges, require


@dataclass
class SequenceTask(Task):
    sequences: int = 10_000        # N_train, training sequences
    test_sequences: int = 1_000    # N_test, test sequences (fresh draws after the training ones)

    split_keys: ClassVar[tuple] = ("sequences", "test_sequences")
    length_key: ClassVar[str] = ""   # the field that sets L (named by memory_needs)
    rules: ClassVar[dict[str, Range]] = {"sequences": at_least(1), "test_sequences": at_least(1)}

    def check(self, prefix: str = "task.") -> None:
        """Every ruled field is an integer (all of a sequence task's are), then in its range."""
        for name, allowed in type(self).rules.items():
            value = getattr(self, name)
            require(isinstance(value, numbers.Integral) and not isinstance(value, bool),
                    f"{prefix}{name}={value!r} is out of range: allowed an integer {allowed}")
        check_ranges(self, prefix)

    # ------------------------------------------------------------------ the layout
    @property
    def episode_length(self) -> int:
        """L, the steps of one sequence."""
        raise NotImplementedError

    def split(self) -> tuple[int, int]:
        """(N_train L, N_test L): whole sequences in each part."""
        return self.sequences * self.episode_length, self.test_sequences * self.episode_length

    def series_length(self) -> int:
        return sum(self.split())

    def labels(self) -> tuple | None:
        """The class labels (SeriesData.classes) of a classification task; None for values."""
        return None

    def draw(self, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``count`` independent sequences: inputs (count, L, D_in) or (count, L) int, targets
        (count, L) int or (count, L, D_out) float."""
        raise NotImplementedError

    def make_data(self, rng: np.random.Generator) -> SeriesData:
        """The training sequences, then the test sequences, end to end (module docstring)."""
        parts = [self.draw(self.sequences, rng), self.draw(self.test_sequences, rng)]
        inputs, targets = (np.concatenate(arrays) for arrays in zip(*parts))
        steps = self.series_length()
        return SeriesData(inputs=inputs.reshape(steps, *inputs.shape[2:]),
                          targets=targets.reshape(steps, *targets.shape[2:]),
                          train_length=self.train_length, classes=self.labels(),
                          episode_length=self.episode_length,
                          input_classes=self.dimensions()[0] if inputs.ndim == 2 else 0)

    def memory_needs(self) -> list[Need]:
        """Inputs and targets of each part, with the copies made while drawing and laying them
        out (as many as the default of :meth:`Task.memory_needs`)."""
        length, per_step = self.episode_length, 6 * FLOAT * (1 + sum(self.dimensions()))
        key = self.length_key
        sized = f"sequences of {length} steps (task.{key}={getattr(self, key)})"
        return [Need("task.sequences", self.sequences, f"the training {sized}",
                     per_step * self.sequences * length),
                Need("task.test_sequences", self.test_sequences, f"the test {sized}",
                     per_step * self.test_sequences * length)]

    # ------------------------------------------------------------------ scoring helpers
    def test_episodes(self, data: SeriesData, outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The test part's targets and a model's outputs, one row per sequence:
        (N_test, L) or (N_test, L, D_out), and outputs (N_test, L, O)."""
        outputs, targets = np.asarray(outputs), data.y_test
        if outputs.ndim != 2 or len(outputs) != len(targets):
            raise ValueError(f"outputs of shape {outputs.shape} do not fit the test part: allowed "
                             f"({len(targets)}, outputs per step)")
        count = len(targets) // data.episode_length
        return (targets.reshape(count, data.episode_length, *targets.shape[1:]),
                outputs.reshape(count, data.episode_length, outputs.shape[1]))


def predicted_classes(logits: np.ndarray) -> np.ndarray:
    """argmax over the last axis (a tie goes to the first class); a step whose logits are not
    all finite (a diverged model) predicts no class (-2, which matches no target)."""
    return np.where(np.isfinite(logits).all(axis=-1), logits.argmax(axis=-1), -2)
