"""Binary addition, least significant bit first: one bit of memory (the carry) suffices.

With n = ``bits``, each sequence adds a, b ~ U{0 .. 2^n - 1} (independent) in L = n + 1 steps:

    input_t  = (a_t, b_t) for t < n, (0, 0) at t = n       (a_t: bit t of a; float 0/1, D_in = 2)
    target_t = bit t of a + b, t = 0 .. n                  (class "0" or "1", D_out = 2)

so target_t = a_t xor b_t xor c_t with the carry c_0 = 0, c_{t+1} = majority(a_t, b_t, c_t), and
the last target is the final carry c_n. Every step is scored (cross-entropy, nats per step).

Theory (:meth:`BinaryAdditionTask.theory`, nats per step averaged over the L steps, worst first).
The carry into bit t depends only on the lower bits, so it is independent of (a_t, b_t), and
P(c_{t+1} = 1) = P(a_t = b_t = 1) + P(a_t != b_t) P(c_t = 1), i.e. p_0 = 0, p_{t+1} = 1/4 + p_t / 2
(p_t = 1/2 - 2^-(t+1)). With H(q) = -q ln q - (1 - q) ln(1 - q):

    input_only  the best predictor of the current two inputs alone (it knows neither the step
                nor the carry; a network that keeps no state): sum over the 4 input pairs x of
                P(x) H(P(target = 1 | x)), both pooled over the L steps
                (0.6676 at n = 8)
    memoryless  knows the step t and the inputs but not the carry: target_t is a_t xor b_t
                flipped with probability p_t, so (1 / L) sum_{t=0..n} H(p_t)   (0.5969 at n = 8)
    exact       0 (knows the carry)

Extra metrics (:meth:`BinaryAdditionTask.sequence_scores`, test sequences): ``test_bit_accuracy``,
the share of steps whose argmax is the target bit, and ``test_sum_accuracy``, the share of
sequences with all n + 1 bits of the sum right.
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rnnlab.tasks.base import SeriesData
from rnnlab.tasks.information import entropy
from rnnlab.tasks.sequences import SequenceTask, predicted_classes
from rnnlab.validation import Range, at_least


def carry_probabilities(bits: int) -> np.ndarray:
    """p_t = P(carry into bit t = 1), t = 0 .. bits, for uniform independent input bits."""
    p = np.zeros(bits + 1)
    for t in range(bits):
        p[t + 1] = 0.25 + 0.5 * p[t]   # carry out if both bits are 1, or one is and a carry came in
    return p


def binary_entropy(q: float) -> float:
    return entropy([q, 1.0 - q])


@dataclass
class BinaryAdditionTask(SequenceTask):
    bits: int = 8    # n, bits of each addend (the sum has n + 1)

    name: ClassVar[str] = "binary_addition"
    primary_metric: ClassVar[str] = "test_cross_entropy"
    is_classification: ClassVar[bool] = True
    headline: ClassVar[tuple] = ("test_cross_entropy", "test_sum_accuracy")
    length_key: ClassVar[str] = "bits"
    rules: ClassVar[dict[str, Range]] = {**SequenceTask.rules, "bits": at_least(1)}

    @property
    def episode_length(self) -> int:
        return self.bits + 1

    def dimensions(self) -> tuple[int, int]:
        return 2, 2

    def labels(self) -> tuple:
        return ("0", "1")

    def draw(self, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """inputs (count, n + 1, 2) float 0/1, targets (count, n + 1) int: the bits of a + b.

        The carry out of bit t is a_j at the last j <= t with a_j = b_j (where both bits agree
        the carry out is theirs whatever came in; where they differ the carry passes on), or 0
        if there is none -- computed for all sequences and bits at once, for any n.
        """
        n = self.bits
        pairs = np.zeros((count, n + 1, 2), dtype=np.int8)    # (a_t, b_t), 0 0 at t = n
        pairs[:, :n] = rng.integers(0, 2, size=(count, n, 2), dtype=np.int8)
        a, b = pairs[..., 0], pairs[..., 1]
        # index j + 1 names step j, 0 names "no agreeing step yet" (carry 0): look up the carry
        # out of step t in [0, a_0, ..., a_n] at the last agreeing step's index
        steps = np.arange(1, n + 2, dtype=np.int32)
        last_agree = np.maximum.accumulate(np.where(a == b, steps, 0), axis=1)   # (count, n + 1)
        lookup = np.concatenate([np.zeros((count, 1), dtype=np.int8), a], axis=1)
        carry_in = np.zeros((count, n + 1), dtype=np.int8)     # c_0 = 0, c_t = carry out of t - 1
        carry_in[:, 1:] = np.take_along_axis(lookup, last_agree[:, :-1], axis=1)
        return pairs.astype(np.float64), (a ^ b ^ carry_in).astype(np.int64)

    def theory(self, data: SeriesData | None = None) -> dict[str, float]:
        """Cross-entropy levels, worst first (module docstring), by enumerating the steps and
        input pairs with the carry probabilities of :func:`carry_probabilities`."""
        p, length = carry_probabilities(self.bits), self.episode_length
        # pooled over the steps: P(pair) and P(pair, target = 1), each step weighing 1 / L
        weight, ones = {}, {}
        for t in range(length):
            pairs = [(0, 0), (0, 1), (1, 0), (1, 1)] if t < self.bits else [(0, 0)]
            for pair in pairs:
                share = 1 / (len(pairs) * length)
                flip = p[t] if pair[0] == pair[1] else 1 - p[t]   # P(target = 1 | pair, t)
                weight[pair] = weight.get(pair, 0.0) + share
                ones[pair] = ones.get(pair, 0.0) + share * flip
        input_only = sum(w * binary_entropy(ones[pair] / w) for pair, w in weight.items())
        memoryless = float(np.mean([binary_entropy(q) for q in p]))
        return {"input_only": input_only, "memoryless": memoryless, "exact": 0.0}

    def sequence_scores(self, data: SeriesData, outputs: np.ndarray) -> dict:
        """Bit accuracy over all test steps and the share of test sums with every bit right
        (argmax of the logits; non-finite logits count as wrong)."""
        targets, logits = self.test_episodes(data, outputs)
        right = predicted_classes(logits) == targets
        return {"test_bit_accuracy": float(right.mean()),
                "test_sum_accuracy": float(right.all(axis=1).mean())}
