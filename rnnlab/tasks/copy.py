"""The copy (delayed recall) task, in the form of Arjovsky, Shah & Bengio 2016.

With k = ``symbols``, T = ``delay`` and A = ``alphabet``, each sequence has L = T + 2k steps:

    step          0 .. k-1      k .. k+T-2     k+T-1     k+T .. k+T+k-1
    input         s_0 .. s_k-1  blank          cue       blank
    target        blank         blank          blank     s_0 .. s_k-1

with s_i ~ U{0 .. A-1} independently. So symbol s_i, read at step i, is due at step i + k + T:
the cue is the last of the T delay steps (T - 1 blanks, then the cue). Inputs are class indices
meaning one-hot vectors: symbols 0 .. A-1, blank A, cue A+1 (D_in = A + 2); targets are class
indices: symbols 0 .. A-1, blank A (D_out = A + 1). Every step is scored (cross-entropy in nats
per step, averaged over all L steps).

Theory (:meth:`CopyTask.theory`, nats per step, worst first):

    memoryless      k ln A / L = 5 ln 8 / 30 = 0.3466   (knows the step, hence predicts blank
                                                         with certainty wherever it is due, but
                                                         not the symbols: uniform over A at the
                                                         k recall steps, 0 at the others)
    perfect_recall  0

Extra metrics (:meth:`CopyTask.sequence_scores`, over the k recall steps of the test
sequences): ``test_recall_accuracy``, the share of recall steps whose argmax is the symbol due,
and ``test_sequence_accuracy``, the share of sequences with all k right.
"""

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rnnlab.tasks.base import SeriesData
from rnnlab.tasks.sequences import SequenceTask, predicted_classes
from rnnlab.validation import Range, at_least


@dataclass
class CopyTask(SequenceTask):
    symbols: int = 5     # k, symbols to remember (and recall, in order)
    delay: int = 20      # T, steps from the last symbol to the first recall (the last is the cue)
    alphabet: int = 8    # A, symbols to choose from

    name: ClassVar[str] = "copy"
    primary_metric: ClassVar[str] = "test_cross_entropy"
    is_classification: ClassVar[bool] = True
    headline: ClassVar[tuple] = ("test_cross_entropy", "test_recall_accuracy")
    length_key: ClassVar[str] = "delay"
    rules: ClassVar[dict[str, Range]] = {**SequenceTask.rules, "symbols": at_least(1),
                                         "delay": at_least(1), "alphabet": at_least(2)}

    @property
    def blank(self) -> int:
        return self.alphabet

    @property
    def cue(self) -> int:
        return self.alphabet + 1

    @property
    def episode_length(self) -> int:
        return self.delay + 2 * self.symbols

    def dimensions(self) -> tuple[int, int]:
        return self.alphabet + 2, self.alphabet + 1

    def labels(self) -> tuple:
        """Target classes: the symbols "0" .. "A-1", then "blank"."""
        return tuple(str(symbol) for symbol in range(self.alphabet)) + ("blank",)

    def draw(self, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """inputs (count, L) int and targets (count, L) int, laid out as in the module docstring."""
        k, recall = self.symbols, self.symbols + self.delay
        symbols = rng.integers(0, self.alphabet, size=(count, k))
        inputs = np.full((count, self.episode_length), self.blank, dtype=np.int64)
        inputs[:, :k] = symbols
        inputs[:, recall - 1] = self.cue
        targets = np.full((count, self.episode_length), self.blank, dtype=np.int64)
        targets[:, recall:] = symbols
        return inputs, targets

    def theory(self, data: SeriesData | None = None) -> dict[str, float]:
        """Cross-entropy levels, worst first (module docstring)."""
        return {"memoryless": self.symbols * math.log(self.alphabet) / self.episode_length,
                "perfect_recall": 0.0}

    def sequence_scores(self, data: SeriesData, outputs: np.ndarray) -> dict:
        """Recall accuracy per symbol and per sequence over the last k steps of each test
        sequence (argmax of the logits; non-finite logits count as wrong)."""
        targets, logits = self.test_episodes(data, outputs)
        right = predicted_classes(logits[:, -self.symbols:]) == targets[:, -self.symbols:]
        return {"test_recall_accuracy": float(right.mean()),
                "test_sequence_accuracy": float(right.all(axis=1).mean())}
