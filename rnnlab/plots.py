"""Figures of a run. Uses matplotlib's object API (no pyplot state, no display needed)."""

from pathlib import Path

import numpy as np
import pandas as pd
import matplotlib
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


def plot_loss(history: pd.DataFrame, levels: dict[str, float], path: Path, title: str,
              loss_name: str, final_test: float | None = None) -> Path:
    """Train and test loss over training steps, with a labelled horizontal line per theory level
    and, at the last step, the final test loss over the whole test part."""
    figure = Figure(figsize=(9, 4.5))
    axis = figure.subplots()
    axis.plot(history["step"], history["train_loss"], color="tab:blue", lw=1,
              label="train (mean over the steps since the previous row)")
    axis.plot(history["step"], history["test_loss"], color="tab:red", lw=1.5, marker=".",
              label="test (up to 20k steps spread over the test part)")
    if final_test is not None and np.isfinite(final_test):
        axis.plot(history["step"].iloc[-1], final_test, color="black", marker="*", ms=12, ls="",
                  label=f"final test, whole test part: {final_test:.4f}")
    colours = ["tab:gray", "tab:olive", "tab:green", "tab:purple", "tab:brown"]
    for (label, level), colour in zip(levels.items(), colours * 3):
        axis.axhline(level, color=colour, ls="--", lw=1,
                     label=f"theory, {label.replace('_', ' ')}: {level:.4f}")
    finite = history[["train_loss", "test_loss"]].to_numpy()
    finite = finite[np.isfinite(finite)]
    if len(finite) and len(levels):  # keep the theory lines in view, but not a huge initial loss
        low = min(finite.min(), min(levels.values()))
        high = max(max(levels.values()), np.percentile(finite, 95))
        axis.set_ylim(low - 0.05 * (high - low + 1e-9), high + 0.1 * (high - low + 1e-9))
    axis.set_xlabel("training step (parameter updates)")
    axis.set_ylabel(loss_name)
    axis.set_title(title)
    axis.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    return save(figure, path)


def plot_gradients(gradients: pd.DataFrame, path: Path, title: str, bptt: int | None = None) -> Path:
    """Norm of dL/dh_t (left) and of the last step's dL_T/dh_t (right) against the lag T-1-t,
    log scale, one line per recorded training step; a vertical line where truncated BPTT stops."""
    figure = Figure(figsize=(11, 4.5))
    axes = figure.subplots(1, 2, sharex=True)
    steps = sorted(gradients["step"].unique())
    colours = matplotlib.colormaps["viridis"](np.linspace(0, 0.9, len(steps)))
    for step, colour in zip(steps, colours):
        rows = gradients[gradients["step"] == step].sort_values("lag")
        for axis, column in zip(axes, ["grad_norm", "last_step_grad_norm"]):
            values = rows[column].where(rows[column] > 0)  # a zero norm has no place on a log axis
            axis.plot(rows["lag"], values, color=colour, lw=1.2, label=f"step {step}")
    axes[0].set_ylabel("mean over sequences of ||dL/dh_t||")
    axes[1].set_ylabel("mean over sequences of ||dL_T/dh_t||")
    for axis, what in zip(axes, ["loss over the whole window", "last step's loss only"]):
        if bptt is not None and bptt <= gradients["lag"].max():
            axis.axvline(bptt - 0.5, color="tab:red", ls=":", lw=1,
                         label=f"training window edge (bptt = {bptt})")
        axis.set_yscale("log")
        axis.set_xlabel("lag T-1-t (steps back from the end of the window)")
        axis.set_title(what, fontsize="medium")
    axes[1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small",
                   title="training step")
    figure.suptitle(title)
    return save(figure, path)
