"""Figures of a run. Uses matplotlib's object API (no pyplot state, no display needed).

Each ``plot_*`` function returns its matplotlib Figure (a notebook shows it as it is); the
experiment layer writes it with :func:`save`.
"""

import re
from pathlib import Path

import numpy as np
import pandas as pd

from rnnlab.tables import atomic_path


SHOWN_DECADES = 12                       # gradient norms: the decades a log axis shows
SHOWN_DECADES_FLOOR = 10.0 ** -SHOWN_DECADES


def Figure(**settings):
    """A matplotlib Figure (object API). matplotlib is imported here, on the first figure, not
    when rnnlab is: that would add ~0.4 s to every start, refused command lines included."""
    from matplotlib.figure import Figure as MatplotlibFigure
    return MatplotlibFigure(**settings)


def colormap(name: str):
    """matplotlib's colormap ``name`` (imported on first use, like :func:`Figure`)."""
    import matplotlib
    return matplotlib.colormaps[name]


def save(figure: Figure, path: Path) -> Path:
    """Write ``figure`` as a PNG at ``path``, atomically."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=120, bbox_inches="tight")
    return Path(path)


def mean_and_band(values: pd.DataFrame, log_scale: bool = False):
    """(mean, low, high), row by row, over the columns of ``values`` (one column per draw: a
    seed, a reservoir): the mean +- one std (ddof 1; no width for one draw) of the draws whose
    value is not NaN. On a log axis, of log10 of the values (the geometric mean and its band),
    non-positive values left out."""
    if log_scale:
        values = np.log10(values.where(values > 0))
    mean, std = values.mean(axis=1), values.std(axis=1, ddof=1).fillna(0.0)
    low, high = mean - std, mean + std
    if log_scale:
        return 10 ** mean, 10 ** low, 10 ** high
    return mean, low, high


def plot_prediction(series: pd.DataFrame, title: str, window: int = 800) -> "Figure":
    """Inputs (if any) above target vs teacher-forced and free-run predictions, first test steps:
    for one output a row for each prediction; for several (target_j columns) a row per output
    with both predictions. A free run shorter than the window (Mackey-Glass: 84 steps) is drawn
    over its own steps, and a last row gives the absolute errors |prediction - target| on a log
    scale."""
    shown = series.iloc[:window]
    input_columns = [c for c in series.columns if c.startswith("input")]
    outputs = [c[len("target"):] for c in series.columns if c.startswith("target")]
    panels = ([("", ["teacher_forced"]), ("", ["free_run"])] if len(outputs) == 1
              else [(suffix, ["teacher_forced", "free_run"]) for suffix in outputs])
    rows = len(panels) + bool(input_columns) + 1
    figure = Figure(figsize=(10, 2.4 * rows), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, 1))
    if input_columns:
        for column in input_columns:
            axes[0].plot(shown["t"], shown[column], color="tab:gray", label=column)
        axes[0].set_ylabel("input u(t)")
        axes[0].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    colours = {"teacher_forced": "tab:blue", "free_run": "tab:red"}
    free_steps = [shown[column].notna().sum() for column in shown.columns
                  if column.startswith("free_run")]
    free_span = max(free_steps, default=0)
    for axis, (suffix, predictions) in zip(axes[rows - 1 - len(panels):rows - 1], panels):
        only_free = predictions == ["free_run"]
        rows_shown = shown.iloc[:free_span] if only_free and 0 < free_span < len(shown) else shown
        axis.plot(rows_shown["t"], rows_shown["target" + suffix], color="black", lw=1.5,
                  label="target")
        for column in predictions:
            axis.plot(rows_shown["t"], rows_shown[column + suffix], color=colours[column], lw=1,
                      ls="--", label=column.replace("_", "-") + " prediction")
        axis.set_ylabel(f"output y{suffix}(t)")
        if only_free and len(rows_shown) < len(shown):
            axis.set_title(f"the free run's {len(rows_shown)} steps", fontsize="small")
        axis.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    errors = axes[-1]
    for suffix in outputs:
        for column in ("teacher_forced", "free_run"):
            residual = (shown[column + suffix] - shown["target" + suffix]).abs()
            errors.plot(shown["t"], residual.where(residual > 0), color=colours[column], lw=0.8,
                        label=f"|{column.replace('_', '-')} - target|" if suffix == outputs[0]
                        else None)
    errors.set_yscale("log")
    errors.set_ylabel("absolute error")
    errors.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    errors.set_xlabel(f"time step (first {len(shown)} steps of the test part)")
    axes[0].set_title(title)
    return figure


def plot_memory_function(curve: pd.DataFrame, title: str,
                         units: int | None = None) -> "Figure":
    """The memory function r^2(k) against the delay k (left) and its running sum, the memory
    capacity up to k, with the bound MC <= N where the model has N units (right)."""
    figure = Figure(figsize=(12, 4.2), layout="constrained")
    curve_axis, sum_axis = figure.subplots(1, 2)
    curve_axis.plot(curve["delay"], curve["r2"], color="tab:blue", lw=1.5)
    curve_axis.set_ylim(-0.02, 1.02)
    curve_axis.set_xlabel("delay k (steps)")
    curve_axis.set_ylabel("r²(u(t-k), y_k(t)) on the test part")
    curve_axis.set_title("memory function", fontsize="medium")
    sum_axis.plot(curve["delay"], np.cumsum(curve["r2"]), color="tab:blue", lw=1.5,
                  label="MC up to delay k")
    if units is not None and curve["r2"].sum() > units / 3:
        sum_axis.axhline(units, color="black", ls="--", lw=1, label=f"bound MC <= N = {units}")
    elif units is not None:   # far below the bound: a line at N would flatten the curve
        sum_axis.plot([], [], ls="", label=f"(bound MC <= N = {units}, off the axis)")
    sum_axis.set_xlabel("delay k (steps)")
    sum_axis.set_ylabel("sum of r² over delays 1..k")
    sum_axis.set_title(f"memory capacity {curve['r2'].sum():.3g}", fontsize="medium")
    sum_axis.legend(fontsize="small")
    figure.suptitle(title)
    return figure


def plot_spectrum(eigenvalues: np.ndarray, spectral_radius: float, title: str,
                  leak_rate: float = 1.0,
                  effective_spectral_radius: float | None = None) -> "Figure":
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
    return figure


def plot_loss(history: pd.DataFrame, levels: dict[str, float], title: str,
              loss_name: str, final_test: float | None = None) -> "Figure":
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
    if len(finite) and finite.min() > 0 and finite.max() > 100 * finite.min():
        axis.set_yscale("log")       # a run that diverged spans many decades: show them all
    elif len(finite) and len(levels):  # keep the theory lines in view, not a huge initial loss
        low = min(finite.min(), min(levels.values()))
        high = max(max(levels.values()), np.percentile(finite, 95))
        axis.set_ylim(low - 0.05 * (high - low + 1e-9), high + 0.1 * (high - low + 1e-9))
    axis.set_xlabel("training step (parameter updates)")
    axis.set_ylabel(loss_name)
    axis.set_title(title)
    axis.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    return figure


def plot_training_dynamics(history: pd.DataFrame, title: str) -> "Figure":
    """What training does to the recurrent weights and the gradients, from training.csv: the
    spectral radius rho and largest singular value sigma_max of the recurrent matrix (and, for
    the LSTM, each gate block's rho), the gradient norm before clipping (log scale) and the
    fraction of updates clipped, against the training step."""
    figure = Figure(figsize=(12, 6.5), layout="constrained")
    (radius_axis, norm_axis), (clip_axis, rate_axis) = figure.subplots(2, 2, sharex=True)
    steps = history["step"]
    radius_axis.plot(steps, history["spectral_radius"], color="tab:blue", lw=1.5,
                     label="ρ, spectral radius (of the whole matrix)")
    radius_axis.plot(steps, history["sigma_max"], color="tab:orange", lw=1.5,
                     label="σ_max, largest singular value")
    for column in history.columns:
        if column.startswith("spectral_radius_"):
            radius_axis.plot(steps, history[column], lw=0.8, ls="--",
                             label="ρ(" + column[len("spectral_radius_"):] + ")")
    radius_axis.axhline(1.0, color="black", lw=0.8, ls=":")
    radius_axis.set_ylabel("recurrent matrix")
    radius_axis.legend(fontsize="small")
    norms = history["grad_norm"].where(history["grad_norm"] > 0)
    norm_axis.plot(steps, norms, color="tab:red", lw=1)
    if norms.notna().any():
        norm_axis.set_yscale("log")
    norm_axis.set_ylabel("gradient norm before clipping")
    clip_axis.plot(steps, history["fraction_clipped"], color="tab:purple", lw=1)
    clip_axis.set_ylim(-0.03, 1.03)
    clip_axis.set_ylabel("fraction of updates clipped")
    rate_axis.plot(steps, history["learning_rate"], color="tab:green", lw=1)
    rate_axis.set_ylabel("learning rate")
    for axis in (clip_axis, rate_axis):
        axis.set_xlabel("training step (parameter updates)")
    figure.suptitle(title)
    return figure


def plot_gradients(gradients: pd.DataFrame, title: str, bptt: int | None = None) -> "Figure":
    """Norm of dL/dh_t (left) and of the last step's dL_T/dh_t (middle) against the lag T-1-t,
    log scale, one line per recorded training step, with a vertical line where truncated BPTT
    stops; right, how that profile changes over training: log10 of ||dL_T/dh_t|| / ||dL_T/dh_T||
    as a heatmap of lag x training step -- each step against its own lag 0, so the colours show
    how far back the signal reaches, not how small the gradients were at initialisation. One row
    of panels per layer of a stacked model (its ``layer`` column), the top layer first."""
    layers = sorted(gradients["layer"].unique(), reverse=True) if "layer" in gradients else [None]
    figure = Figure(figsize=(16, 4.5 * len(layers)), layout="constrained")
    for axes, layer in zip(np.atleast_2d(figure.subplots(len(layers), 3)), layers):
        rows = gradients if layer is None else gradients[gradients["layer"] == layer]
        named = "" if len(layers) == 1 else f"layer {layer}: "
        _gradient_panels(axes, rows, named, bptt)
    figure.suptitle(title)
    return figure


def _gradient_panels(axes, gradients: pd.DataFrame, named: str, bptt: int | None) -> None:
    """One layer's three panels of :func:`plot_gradients`."""
    steps = sorted(gradients["step"].unique())
    colours = colormap("viridis")(np.linspace(0, 0.9, len(steps)))
    for step, colour in zip(steps, colours):
        rows = gradients[gradients["step"] == step].sort_values("lag")
        for axis, column in zip(axes, ["grad_norm", "last_step_grad_norm"]):
            values = rows[column].where(rows[column] > 0)  # a zero norm has no place on a log axis
            axis.plot(rows["lag"], values, color=colour, lw=1.2, label=f"step {step}")
    axes[0].set_ylabel("mean over sequences of ||dL/dh_t||")
    axes[1].set_ylabel("mean over sequences of ||dL_T/dh_t||")
    for axis, what, column in zip(axes, ["loss over the whole window", "last step's loss only"],
                                  ["grad_norm", "last_step_grad_norm"]):
        if bptt is not None and 0 < bptt <= gradients["lag"].max():
            axis.axvline(bptt - 0.5, color="tab:red", ls=":", lw=1,
                         label=f"training window edge (bptt = {bptt})")
        axis.set_yscale("log")
        shown = gradients[column][gradients[column] > 0]
        if len(shown) and shown.min() < shown.max() * SHOWN_DECADES_FLOOR:
            # a tiny initialisation's gradients can vanish to 1e-90 within the window: show the
            # decades that carry the picture, and say where the axis is cut
            axis.set_ylim(bottom=shown.max() * SHOWN_DECADES_FLOOR)
            what += f" (axis cut at {SHOWN_DECADES} decades below the largest)"
        axis.set_xlabel("lag T-1-t (steps back from the end of the window)")
        axis.set_title(named + what, fontsize="medium")
    axes[1].legend(fontsize="small", title="training step")
    table = gradients.pivot_table(index="step", columns="lag", values="last_step_grad_norm")
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.log10(table.to_numpy(float) / table[[0]].to_numpy(float))
    relative[~np.isfinite(relative)] = np.nan
    image = axes[2].imshow(relative, origin="lower", aspect="auto", cmap="magma",
                           vmin=max(-8.0, np.nanmin(relative)) if np.isfinite(relative).any()
                           else None, vmax=0.0,
                           extent=(table.columns.min() - 0.5, table.columns.max() + 0.5,
                                   -0.5, len(table.index) - 0.5))
    axes[2].set_yticks(range(len(table.index)), [str(step) for step in table.index])
    axes[2].set_xlabel("lag T-1-t")
    axes[2].set_ylabel("training step")
    axes[2].set_title(named + "last step's gradient relative to lag 0 (log10)", fontsize="medium")
    axes[2].figure.colorbar(image, ax=axes[2], label="log10 ||dL_T/dh_t|| / ||dL_T/dh_T||")


def plot_recurrent_spectra(spectrum: pd.DataFrame, title: str) -> "Figure":
    """Eigenvalues of each recurrent block before and after training, with the unit circle
    (one panel per block, same scale: W_hh for the RNN; W_hi, W_hf, W_ho, W_hg for the LSTM; a row
    per layer of a stacked model)."""
    blocks = list(dict.fromkeys(spectrum["block"]))
    per_layer = sum(1 for block in blocks if not re.search(r"_l\d+$", block))   # layer 0's
    rows = len(blocks) // per_layer                              # a row per layer when stacked
    limit = max(1.1, 1.1 * spectrum["modulus"].max())
    figure = Figure(figsize=(3.6 * per_layer + 2.5, 4.2 * rows))
    axes = np.atleast_1d(figure.subplots(rows, per_layer, sharex=True, sharey=True)).ravel()
    angle = np.linspace(0, 2 * np.pi, 400)
    for axis, block in zip(axes, blocks):
        axis.plot(np.cos(angle), np.sin(angle), color="black", lw=1, label="unit circle")
        radius = {}
        for when, colour in [("before", "tab:gray"), ("after", "tab:red")]:
            rows = spectrum[(spectrum["block"] == block) & (spectrum["when"] == when)]
            radius[when] = rows["modulus"].max()
            axis.scatter(rows["real"], rows["imag"], s=14, alpha=0.7, color=colour,
                         label=f"{when} training")
        axis.set_xlim(-limit, limit)
        axis.set_ylim(-limit, limit)
        axis.set_aspect("equal")
        axis.set_xlabel("Re λ")
        axis.set_title(f"{block}: ρ {radius['before']:.3g} → {radius['after']:.3g}",
                       fontsize="medium")
    for axis in axes[::per_layer]:
        axis.set_ylabel("Im λ")
    axes[per_layer - 1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    figure.suptitle(title)
    return figure


def plot_gradient_flow(flow: pd.DataFrame, rates: pd.DataFrame, title: str) -> "Figure":
    """Three panels: log10 ||dL_T/dh_{T-k}|| over lag k x rho (heatmap); the fitted per-step
    log-rate against ln(rho) with the identity line and Pascanu's bound; the norm against the
    lag for a few rho. Of a stacked model, the top layer (the one the loss reads)."""
    if "layer" in flow:
        flow = flow[flow["layer"] == flow["layer"].max()]
        rates = rates[rates["layer"] == rates["layer"].max()]
    radii = sorted(flow["spectral_radius"].unique())
    lags = sorted(flow["lag"].unique())
    grid = flow.pivot_table(index="spectral_radius", columns="lag", values="grad_norm")
    with np.errstate(divide="ignore"):
        log_norm = np.log10(grid.to_numpy(dtype=float))
    log_norm[~np.isfinite(log_norm)] = np.nan
    figure = Figure(figsize=(13, 4.8), layout="constrained")  # 10 pt text: legible on a slide
    heat, rate, lines = figure.subplots(1, 3)
    # cells on the radii's own scale (a grid need not be even): edges halfway between values
    rho = np.array(radii, dtype=float)
    inner = (rho[1:] + rho[:-1]) / 2 if len(rho) > 1 else np.array([])
    step = rho[1] - rho[0] if len(rho) > 1 else 0.1
    last = rho[-1] - rho[-2] if len(rho) > 1 else 0.1
    edges = np.concatenate([[rho[0] - step / 2], inner, [rho[-1] + last / 2]])
    lag_edges = np.concatenate([[lags[0] - 0.5], np.array(lags[1:], dtype=float) - 0.5,
                                [lags[-1] + 0.5]])
    scale = np.nanmax(np.abs(log_norm)) if np.isfinite(log_norm).any() else 1.0
    image = heat.pcolormesh(lag_edges, edges, log_norm, cmap="coolwarm", vmin=-scale,
                            vmax=scale, shading="flat")
    heat.set_yticks(rho, [f"{r:g}" for r in radii])
    heat.set_xlabel("lag k (steps back from the last step T)")
    models = set(flow["model"]) if "model" in flow else set()
    blocks = ("W_hh" if models <= {"rnn"} else
              "each gate block W_hk (LSTM)" if models <= {"lstm"} else
              "each recurrent block")
    heat.set_ylabel(f"spectral radius ρ of {blocks}")
    heat.set_title("log10 ||dL_T / dh_{T-k}||")
    figure.colorbar(image, ax=heat, label="log10 gradient norm")

    for model, group in rates.groupby("model"):
        rate.plot(group["ln_rho"], group["fitted_rate"], marker="o", label=f"fitted rate ({model})")
        if group["pascanu_bound"].notna().any():
            rate.plot(group["ln_rho"], group["pascanu_bound"], ls=":", marker=".",
                      label="Pascanu bound ln(γ σ_max)")
    span = np.array([rates["ln_rho"].min(), rates["ln_rho"].max()])
    rate.plot(span, span, color="black", lw=1, label="identity: rate = ln ρ")
    rate.axhline(0, color="gray", lw=0.8)
    rate.axvline(0, color="gray", lw=0.8, ls="--", label="ρ = 1")
    fit = rates.iloc[0]
    rate.set_xlabel("ln ρ")
    rate.set_ylabel(f"fitted log-rate per step (lags {fit['fit_lag_min']}-{fit['fit_lag_max']})")
    rate.set_title("growth rate of the gradient norm")
    rate.legend()

    shown = radii if len(radii) <= 5 else [radii[i] for i in
                                           np.linspace(0, len(radii) - 1, 5).round().astype(int)]
    colours = colormap("coolwarm")(np.linspace(0, 1, len(shown)))
    for rho, colour in zip(shown, colours):
        rows = flow[flow["spectral_radius"] == rho].sort_values("lag")
        lines.plot(rows["lag"], rows["grad_norm"].where(rows["grad_norm"] > 0), color=colour,
                   label=f"ρ = {rho:g}")
        if "jacobian_norm" in rows and rows["jacobian_norm"].notna().any():
            lines.plot(rows["lag"], rows["jacobian_norm"].where(rows["jacobian_norm"] > 0),
                       color=colour, ls="--", lw=0.9)
    if "jacobian_norm" in flow and flow["jacobian_norm"].notna().any():
        lines.plot([], [], color="gray", ls="--", label="||dh_T / dh_{T-k}||₂")
    lines.set_yscale("log")
    lines.set_xlabel("lag k")
    lines.set_ylabel("||dL_T / dh_{T-k}|| (solid), mean over sequences")
    lines.set_title("gradient norm against lag")
    lines.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), title="spectral radius")
    figure.suptitle(title, fontsize="large")
    return figure


def plot_esn_sweep(table: pd.DataFrame, title: str, task_metrics,
                   units: int | None = None) -> "Figure":
    """An ESN sweep against the spectral radius rho: the task error (top; log scale when it spans
    more than a decade), the memory capacity with its bound N (if measured) and the largest
    Lyapunov exponent with its zero line (bottom). One line per (leak rate, input scaling) pair,
    the legend naming the swept ones; a vertical line at rho = 1 in every panel. With several
    reservoirs (column ``reservoir``), each line is their mean in a band of +- one std (on the
    log axis, of log10).

    table: one row per grid point and reservoir (sweep.csv); task_metrics: the columns to draw in
    the top panel, the first solid, a second one dashed.
    """
    swept = [column for column in ("leak_rate", "input_scaling") if table[column].nunique() > 1]
    names = {"leak_rate": "a", "input_scaling": "input scaling"}
    curves = list(table.groupby(swept, sort=True)) if swept else [((), table)]
    colours = colormap("viridis")(np.linspace(0, 0.85, max(1, len(curves))))
    with_capacity = "memory_capacity" in table and table["memory_capacity"].notna().any()
    reservoirs = table["reservoir"].nunique() if "reservoir" in table else 1
    panels = 3 if with_capacity else 2
    figure = Figure(figsize=(9, 3.2 * panels))
    axes = figure.subplots(panels, 1, sharex=True)
    error_axis, lyapunov_axis = axes[0], axes[-1]
    errors = table[list(task_metrics)].to_numpy(dtype=float)
    positive = errors[np.isfinite(errors) & (errors > 0)]
    log_errors = bool(len(positive) and positive.max() > 10 * positive.min())

    def label(key) -> str:
        key = key if isinstance(key, tuple) else (key,)
        return ", ".join(f"{names[column]} = {value:g}" for column, value in zip(swept, key))

    def draw(axis, curve, column, colour, name, style="-", log_scale=False) -> None:
        values = (curve.pivot(index="spectral_radius", columns="reservoir", values=column)
                  if "reservoir" in curve else curve.set_index("spectral_radius")[[column]])
        values = values.sort_index().astype(float)
        values = values.where(np.isfinite(values))                    # NaN/inf: a gap
        mean, low, high = mean_and_band(values, log_scale)
        axis.plot(mean.index, mean, ls=style, marker=".", color=colour, label=name)
        if reservoirs > 1:
            axis.fill_between(mean.index, low, high, color=colour, alpha=0.2, lw=0)

    for (key, curve), colour in zip(curves, colours):
        name = label(key)
        for metric, style in zip(task_metrics, ["-", "--"]):
            draw(error_axis, curve, metric, colour,
                 metric.replace("_", " ") + (f" ({name})" if name else ""), style, log_errors)
        if with_capacity:
            draw(axes[1], curve, "memory_capacity", colour, name or "memory capacity")
        draw(lyapunov_axis, curve, "lyapunov_exponent", colour,
             name or "largest Lyapunov exponent")

    if log_errors:
        error_axis.set_yscale("log")
    diverged = " (gaps: NaN/inf)" if not np.all(np.isfinite(errors)) else ""
    error_axis.set_ylabel("task error (dimensionless)" + diverged)
    if with_capacity:
        capacity = table["memory_capacity"].to_numpy(float)
        if units is not None and np.nanmax(capacity, initial=0.0) > units / 3:
            axes[1].axhline(units, color="black", ls=":", lw=1, label=f"bound MC ≤ N = {units}")
        elif units is not None:   # far below the bound: a line at N would flatten the curve
            axes[1].plot([], [], ls="", label=f"(bound MC ≤ N = {units}, off the axis)")
        axes[1].set_ylabel("memory capacity\nΣ_k r²(u(t-k), y_k(t))")
    lyapunov_axis.axhline(0.0, color="black", ls=":", lw=1, label="λ = 0")
    lyapunov_axis.set_ylabel("largest Lyapunov exponent\n(nats per time step)")
    lyapunov_axis.set_xlabel("spectral radius ρ(W) (dimensionless)")
    for axis in axes:
        axis.axvline(1.0, color="tab:red", ls="--", lw=1, label="ρ = 1")
        axis.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    spread = f"mean ± std over {reservoirs} reservoirs" + (", of log10 for the task error"
                                                           if log_errors else "")
    axes[0].set_title(title + (f"\n{spread}" if reservoirs > 1 else ""))
    return figure
