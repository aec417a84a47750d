"""Figures of a run. Uses matplotlib's object API (no pyplot state, no display needed)."""

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from rnnlab.tables import atomic_path


def save(figure: Figure, path: Path) -> Path:
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=120, bbox_inches="tight")
    return Path(path)


def plot_prediction(series: pd.DataFrame, path: Path, title: str, window: int = 800) -> Path:
    """Inputs (if any) above target vs teacher-forced and free-run predictions, first test steps."""
    shown = series.iloc[:window]
    input_columns = [c for c in series.columns if c.startswith("input")]
    rows = 3 if input_columns else 2
    figure = Figure(figsize=(10, 2.4 * rows))
    axes = figure.subplots(rows, 1, sharex=True)
    if input_columns:
        for column in input_columns:
            axes[0].plot(shown["t"], shown[column], color="tab:gray", label=column)
        axes[0].set_ylabel("input u(t)")
        axes[0].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    for axis, column, colour in zip(axes[-2:], ["teacher_forced", "free_run"],
                                    ["tab:blue", "tab:red"]):
        axis.plot(shown["t"], shown["target"], color="black", lw=1.5, label="target")
        axis.plot(shown["t"], shown[column], color=colour, lw=1, ls="--",
                  label=column.replace("_", "-") + " prediction")
        axis.set_ylabel("output y(t)")
        axis.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes[-1].set_xlabel(f"time step (first {len(shown)} steps of the test part)")
    axes[0].set_title(title)
    return save(figure, path)


def plot_spectrum(eigenvalues: np.ndarray, spectral_radius: float, path: Path, title: str,
                  leak_rate: float = 1.0, effective_spectral_radius: float | None = None) -> Path:
    """Eigenvalues in the complex plane with the unit circle and the rho circle.

    With a leak rate a < 1 the linearised update is a W + (1 - a) I, whose eigenvalues
    a lambda + (1 - a) are drawn too; the legend gives its measured spectral radius (the drawn
    eigenvalues may be only the leading ones of W, which need not include its maximiser).
    """
    figure = Figure(figsize=(6.5, 5.5))
    axis = figure.subplots()
    angle = np.linspace(0, 2 * np.pi, 400)
    axis.plot(np.cos(angle), np.sin(angle), color="black", lw=1, label="unit circle")
    axis.plot(spectral_radius * np.cos(angle), spectral_radius * np.sin(angle), color="tab:red",
              lw=1, ls="--", label=f"|λ| = ρ(W) = {spectral_radius:.3g}")
    axis.scatter(eigenvalues.real, eigenvalues.imag, s=6, alpha=0.6, label="eigenvalues λ of W")
    if leak_rate < 1.0:
        effective = leak_rate * eigenvalues + (1.0 - leak_rate)
        axis.scatter(effective.real, effective.imag, s=6, alpha=0.5, color="tab:orange",
                     label=f"a λ + (1 - a), a = {leak_rate:g}\n"
                           f"(ρ(aW + (1-a)I) = {effective_spectral_radius:.3g})")
    axis.set_aspect("equal")
    axis.set_xlabel("Re λ")
    axis.set_ylabel("Im λ")
    axis.set_title(title)
    axis.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    return save(figure, path)
