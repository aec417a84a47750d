"""Entropies in nats: the reference levels of the classification tasks are written with these."""

import numpy as np
import scipy.special


def entropy(counts) -> float:
    """-sum p ln p (nats) of the distribution proportional to ``counts``."""
    counts = np.asarray(counts, dtype=float)
    return float(scipy.special.entr(counts / counts.sum()).sum())


def conditional_entropy(indices, order: int, size: int) -> float:
    """Plug-in H(next | previous ``order`` symbols) in nats over all windows of ``indices``
    (integers in [0, size)): H(context, next) - H(context) from the window counts."""
    indices = np.asarray(indices, dtype=np.int64)
    windows = len(indices) - order
    if windows < 1:
        raise ValueError(f"{len(indices)} symbols hold no window of {order} + 1")
    context = np.zeros(windows, dtype=np.int64)
    for j in range(order):
        context = context * size + indices[j:j + windows]
    joint = context * size + indices[order:]
    return (entropy(np.unique(joint, return_counts=True)[1])
            - entropy(np.unique(context, return_counts=True)[1]))
