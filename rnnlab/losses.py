"""Loss heads on a network's outputs, each with its gradient: mean cross-entropy and mean squared error.

Both average over every timestep and sequence, so a loss reads "per step" (nats per step for
cross-entropy) whatever the window and batch; the classic min-char-rnn loss summed over a window of
W steps is W times this.
"""

import numpy as np


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log p over the last axis, computed stably (the max is subtracted first)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    return np.exp(log_softmax(logits))


def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean over (T, B) of -log softmax(logits)[target], and its gradient.

    logits (T, B, C), targets (T, B) int class indices.
    Returns (loss, d loss / d logits (T, B, C)) with d/dlogits = (p - onehot(target)) / (T B).
    """
    log_p = log_softmax(logits)
    picked = np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]   # (T, B)
    count = picked.size
    d_logits = np.exp(log_p)
    np.put_along_axis(d_logits, targets[..., None],
                      np.take_along_axis(d_logits, targets[..., None], axis=-1) - 1.0, axis=-1)
    d_logits /= count
    return float(-picked.sum() / count), d_logits


def mean_squared_error(predictions: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean over (T, B, D) of (prediction - target)^2, and its gradient 2 (prediction - target) / size."""
    error = predictions - targets
    return float(np.mean(error * error)), error * (2.0 / error.size)


def loss_for(targets: np.ndarray):
    """The head a target array asks for: class indices (integers) -> cross-entropy, floats -> MSE."""
    return cross_entropy if np.issubdtype(np.asarray(targets).dtype, np.integer) else mean_squared_error
