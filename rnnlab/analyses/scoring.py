"""Measured values beside reference levels: theory levels, and where a swept curve crosses zero."""

import math

import numpy as np


def theory_metrics(levels: dict[str, float], measured: float) -> dict:
    """``theory_<label>`` for each level, the label of the level nearest the measured value and
    the gap measured - nearest (negative: below that level)."""
    metrics = {f"theory_{label}": level for label, level in levels.items()}
    if levels and math.isfinite(measured):
        nearest = min(levels, key=lambda label: abs(measured - levels[label]))
        metrics.update(nearest_theory=nearest, gap_to_nearest_theory=measured - levels[nearest])
    else:
        metrics.update(nearest_theory="none", gap_to_nearest_theory=math.nan)
    return metrics


def first_zero_crossing(x, y) -> float:
    """x where y first changes sign along increasing x, linearly interpolated (non-finite y
    skipped; an exact zero counts); NaN if y never changes sign."""
    order = np.argsort(np.asarray(x, float), kind="stable")
    x, y = np.asarray(x, float)[order], np.asarray(y, float)[order]
    keep = np.isfinite(y)
    x, y = x[keep], y[keep]
    for i in range(len(x)):
        if y[i] == 0.0:
            return float(x[i])
        if i + 1 < len(x) and (y[i] < 0) != (y[i + 1] < 0):
            return float(x[i] + (0.0 - y[i]) * (x[i + 1] - x[i]) / (y[i + 1] - y[i]))
    return math.nan


PROBABILITY_FLOOR = 1e-3   # eps: a readout at or below 0 still gets a finite cross-entropy


def readout_cross_entropy(readout: np.ndarray, targets: np.ndarray) -> float:
    """Mean -ln p[target] of a linear readout onto one-hot labels, read as probabilities
    p = max(readout, eps) / sum (rows of the (T, C) readout; targets (T,) class indices)."""
    probabilities = np.clip(readout, PROBABILITY_FLOOR, None)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(probabilities[np.arange(len(targets)), targets])))
