"""Measured cross-entropy beside the task's theoretical levels."""

import math


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
