"""Loss heads on a network's outputs, each with its gradient: cross-entropy and squared error.

``reduction="mean"`` (the default) averages over every timestep and sequence, so a loss reads
"per step" (nats per step for cross-entropy) whatever the window and batch. ``reduction="sum"``
adds the terms up instead: min-char-rnn's loss, summed over a window of W steps, is W times the
mean for one sequence, and so is its gradient -- which matters to an element-wise clip.

A step whose target is ``UNSCORED_CLASS`` (-1, class targets) or NaN (value targets) is not
scored: it adds nothing to the loss or its gradient, and the mean is over the scored terms.
"""

import numpy as np

REDUCTIONS = ("mean", "sum")
UNSCORED_CLASS = -1   # a class target that is not scored (a value target: NaN)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log p over the last axis, computed stably (the max is subtracted first)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    return np.exp(log_softmax(logits))


def cross_entropy(logits: np.ndarray, targets: np.ndarray,
                  reduction: str = "mean") -> tuple[float, np.ndarray]:
    """Mean (or sum) over (T, B) of -log softmax(logits)[target], and its gradient.

    logits (T, B, C), targets (T, B) int class indices.
    Returns (loss, d loss / d logits (T, B, C)) with d/dlogits = (p - onehot(target)) / (T B)
    for the mean, p - onehot(target) for the sum.
    """
    log_p = log_softmax(logits)
    counted = None if targets.size == 0 or targets.min() >= 0 else scored(targets)
    if counted is not None:
        targets = np.where(counted, targets, 0)
    picked = np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]   # (T, B)
    d_logits = np.exp(log_p)
    np.put_along_axis(d_logits, targets[..., None],
                      np.take_along_axis(d_logits, targets[..., None], axis=-1) - 1.0, axis=-1)
    if counted is not None:
        picked = picked * counted
        d_logits *= counted[..., None]
    terms = picked.size if counted is None else int(counted.sum())
    count = max(terms, 1) if reduction == "mean" else 1
    d_logits /= count
    return float(-picked.sum() / count), d_logits


def mean_squared_error(predictions: np.ndarray, targets: np.ndarray,
                       reduction: str = "mean") -> tuple[float, np.ndarray]:
    """Mean (or sum) over (T, B, D) of (prediction - target)^2, and its gradient
    2 (prediction - target) / size (2 (prediction - target) for the sum)."""
    error = predictions - targets
    unscored = ~scored(targets)
    if unscored.any():
        error = np.where(unscored, 0.0, error)
    terms = error.size - int(unscored.sum())
    count = max(terms, 1) if reduction == "mean" else 1
    return float(np.sum(error * error) / count), error * (2.0 / count)


def loss_for(targets: np.ndarray):
    """The head a target array asks for: class indices (integers) -> cross-entropy, floats -> MSE."""
    return cross_entropy if np.issubdtype(np.asarray(targets).dtype, np.integer) else mean_squared_error


def scored(targets: np.ndarray) -> np.ndarray:
    """Which terms a loss over ``targets`` counts (same shape): class targets other than
    UNSCORED_CLASS, value targets that are not NaN."""
    targets = np.asarray(targets)
    if np.issubdtype(targets.dtype, np.integer):
        return targets != UNSCORED_CLASS
    return ~np.isnan(targets)


def scored_terms(targets: np.ndarray) -> int:
    """How many terms a loss over ``targets`` adds up (at least 1)."""
    return max(1, int(np.count_nonzero(scored(targets))))
