"""Order-k Markov chains over an alphabet: sampling, the stationary distribution, the entropy rate.

The character task's default source (``task=chars``): a random chain whose entropy rate is the
exact lowest loss a model can reach on its text.
"""

import array
import bisect
import string
from dataclasses import dataclass

import numpy as np
import scipy.special

DENSE_CONTEXTS = 1024    # up to this many contexts pi is a dense solve, above: power iteration


@dataclass(frozen=True, eq=False)
class MarkovChain:
    """An order-k Markov chain over ``alphabet``.

    ``transitions[s, c]`` = P(next character c | context s), shape (V^k, V). The context s of the
    k previous characters x_{t-k} ... x_{t-1} is their base-V number, oldest digit first:
    s = x_{t-k} V^(k-1) + ... + x_{t-1}; after emitting c the context becomes (s V) mod V^k + c.
    """

    alphabet: str
    order: int
    transitions: np.ndarray

    def __post_init__(self):
        size = len(self.alphabet)
        if self.transitions.shape != (size ** self.order, size):
            raise ValueError(f"transitions has shape {self.transitions.shape}: expected "
                             f"({size}**{self.order}, {size}) for alphabet {self.alphabet!r}")
        if not np.allclose(self.transitions.sum(axis=1), 1.0) or np.any(self.transitions < 0):
            raise ValueError("each row of transitions must be a probability distribution")

    @property
    def size(self) -> int:
        return len(self.alphabet)

    @property
    def contexts(self) -> int:
        return self.transitions.shape[0]

    def next_contexts(self) -> np.ndarray:
        """(V^k, V): the context after context s emits character c."""
        return ((np.arange(self.contexts) * self.size) % self.contexts)[:, None] + np.arange(self.size)

    def sample(self, length: int, rng: np.random.Generator, start: int | None = None) -> np.ndarray:
        """``length`` character indices (int64), from context ``start`` (uniform if None).

        Inverse-CDF sampling: all uniforms drawn at once, one bisection per character in a flat
        cumulative table (~0.1 s per 200k characters).
        """
        cumulative = np.cumsum(self.transitions, axis=1)
        cumulative /= cumulative[:, -1:]  # last entries exactly 1, so every u in [0, 1) lands
        table = array.array("d", cumulative.ravel())
        size, contexts = self.size, self.contexts
        context = int(rng.integers(contexts)) if start is None else int(start)
        out = [0] * length
        find = bisect.bisect_right
        for t, u in enumerate(rng.random(length).tolist()):
            low = context * size
            character = find(table, u, low, low + size) - low
            out[t] = character
            context = (context * size) % contexts + character
        return np.array(out, dtype=np.int64)

    def stationary_distribution(self) -> np.ndarray:
        """pi on the V^k contexts with pi P = pi, sum 1 (P: the chain on contexts).

        A dense solve of (P^T - I) pi = 0 with one equation replaced by sum(pi) = 1 up to
        DENSE_CONTEXTS contexts; above, power iteration (V^k x V work per step) until successive
        iterates differ by < 1e-15 in L1 (a few dozen steps for Dirichlet-drawn chains).
        """
        contexts, rows = self.contexts, np.repeat(np.arange(self.contexts), self.size)
        columns, weights = self.next_contexts().ravel(), self.transitions.ravel()
        if contexts <= DENSE_CONTEXTS:
            system = np.zeros((contexts, contexts))
            system[columns, rows] = weights  # P^T; a context's V successors are distinct
            system[np.diag_indices(contexts)] -= 1.0
            system[-1] = 1.0
            rhs = np.zeros(contexts)
            rhs[-1] = 1.0
            pi = np.linalg.solve(system, rhs)
        else:
            pi = np.full(contexts, 1.0 / contexts)
            for _ in range(100_000):
                new = np.bincount(columns, weights=(pi[:, None] * self.transitions).ravel(),
                                  minlength=contexts)
                change, pi = np.abs(new - pi).sum(), new
                if change < 1e-15:
                    break
            else:
                raise RuntimeError("the chain's distribution on contexts did not converge "
                                   "(periodic or reducible chain)")
        return pi / pi.sum()

    def entropy_rate(self) -> float:
        """h = sum_s pi(s) H(P(. | s)) in nats per character."""
        per_context = scipy.special.entr(self.transitions).sum(axis=1)
        return float(self.stationary_distribution() @ per_context)


def random_markov_chain(alphabet_size: int, order: int, concentration: float,
                        rng: np.random.Generator) -> MarkovChain:
    """An order-``order`` chain over the first ``alphabet_size`` lowercase letters, each context's
    next-character distribution drawn from a symmetric Dirichlet(``concentration``)."""
    transitions = rng.dirichlet(np.full(alphabet_size, float(concentration)),
                                size=alphabet_size ** order)
    return MarkovChain(string.ascii_lowercase[:alphabet_size], order, transitions)
