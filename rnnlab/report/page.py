"""The sweep's report page: ``report/index.html``, self-contained (images embedded), with its PNGs.

Built from :func:`rnnlab.report.runs.collect`'s tables. It shows the settings that actually ran
-- the command, the resolved sweep folder, the launcher and its settings, the sweeper -- from
``sweep.json`` (``{"command", "sweep_dir", "jobs", "launcher": {"_target_", ...}, "sweeper":
{"_target_", "params", ...}, "started"}``), else from Hydra's ``multirun.yaml`` (leaving out
what it holds unresolved); the values each swept key had in the runs; the summary table (mean
+- std over seeds per combination of the other swept values, beside the theory levels where the
task has them); the runs that did not finish, with their ``status_reason``; and plots chosen by
what varied:

- the headline metric (each run's metrics.csv names it) against each swept numeric key, one
  line per value of the swept categorical keys, error bars = std over seeds;
- a heatmap of the metric when two numeric keys were swept;
- test loss over training, one line per run, with the theory levels;
- gradient norm against lag at the end of training, one line per run (log scale).

A few lines of script record, once the page has loaded, how many images decoded and how many
table rows rendered (``data-images-loaded``, ``data-table-rows`` on <body>); the browser test
reads them back.
"""

import base64
import contextlib
import html
import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from rnnlab.plots import Figure, colormap, save
from rnnlab.report.runs import (Collected, CorruptFile, ReportError, read_json, read_yaml,
                                summarise, write_report_tables)
from rnnlab.tables import atomic_path


def write_report(collected: Collected, path: Path, out_dir: Path) -> Path:
    """Tables and the HTML page (index.html with its PNGs) into ``out_dir``; returns the page.
    All or nothing: ReportError (one line) where ``out_dir`` cannot be written."""
    out_dir = Path(out_dir)
    with staged(out_dir) as stage:
        write_report_tables(collected, stage)
        write_html_report(collected, summarise(collected), stage,
                          *sweep_description(Path(path)))
    return out_dir / "index.html"


def existing_base(out_dir: Path) -> Path:
    """The nearest existing folder at or above ``out_dir`` (where the report is staged)."""
    if os.path.lexists(out_dir) and not os.path.isdir(out_dir):
        raise ReportError(f"{out_dir} exists and is not a directory")
    base = next(p for p in (out_dir.absolute(), *out_dir.absolute().parents)
                if os.path.exists(p))   # (os.path: False, not an error, where access is denied)
    if not os.path.isdir(base):
        raise ReportError(f"cannot create {out_dir}: {base} is not a directory")
    return base


@contextlib.contextmanager
def staged(out_dir: Path):
    """Yield an empty hidden folder in ``existing_base(out_dir)``; when the block succeeds,
    move its files into ``out_dir`` (created with its parents); always remove it. An OSError
    on the way is a ReportError naming ``out_dir``."""
    base = existing_base(out_dir)
    try:
        stage = Path(tempfile.mkdtemp(prefix=".report-", dir=base))
    except OSError as error:
        raise ReportError(f"cannot write into {out_dir}: cannot create a folder in {base} "
                          f"({error.strerror or error})") from None
    try:
        yield stage
        out_dir.mkdir(parents=True, exist_ok=True)
        for file in sorted(stage.iterdir()):
            os.replace(file, out_dir / file.name)
    except OSError as error:
        raise ReportError(f"cannot write the report into {out_dir}: "
                          f"{error.strerror or error}") from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def sweeper_settings(sweeper) -> dict:
    """The sweeper's settings but its ``params`` (a preset's defaults, not what ran)."""
    return {key: value for key, value in mapping(sweeper).items() if key != "params"}


def resolved(value):
    """A settings mapping without the values Hydra left unresolved (``${now:...}``)."""
    if isinstance(value, dict):
        return {key: resolved(v) for key, v in value.items()
                if not (isinstance(v, str) and "${" in v)}
    return value


def sweep_description(path: Path) -> tuple[str, str]:
    """(the command, the settings that ran as YAML text) from PATH/sweep.json, else
    PATH/multirun.yaml (``hydra.overrides.task``, ``hydra.launcher``, ``hydra.sweeper``; the
    sweep folder is PATH itself), else a note. The sweeper's ``params`` are left out: the
    page shows the values the runs had."""
    notes = {}
    for name, read, describe in [("sweep.json", read_json, recorded_sweep),
                                 ("multirun.yaml", read_yaml, saved_sweep)]:
        try:
            found = read(path / name)
        except CorruptFile as problem:
            notes[name] = f"unreadable: {problem}"
            continue
        if isinstance(found, dict):
            command, settings = describe(found, path)
            return command, yaml.safe_dump({**settings, **notes}, sort_keys=False)
    notes["note"] = "not a multirun directory: no sweep.json or multirun.yaml"
    return f"python -m rnnlab.report {path}", yaml.safe_dump(notes, sort_keys=False)


def recorded_sweep(sweep: dict, path: Path) -> tuple[str, dict]:
    """sweep.json, written by the app when the sweep started (resolved)."""
    settings = {"sweep dir": sweep.get("sweep_dir"), "jobs": sweep.get("jobs"),
                "launcher": sweep.get("launcher"),
                "sweeper": sweeper_settings(sweep.get("sweeper")), "started": sweep.get("started")}
    return str(sweep.get("command", "")), {k: v for k, v in settings.items() if v is not None}


def saved_sweep(config: dict, path: Path) -> tuple[str, dict]:
    """multirun.yaml, Hydra's copy of the sweep's config (unresolved)."""
    hydra_config = mapping(config.get("hydra"))
    task_overrides = mapping(hydra_config.get("overrides")).get("task")
    command = " ".join(map(str, task_overrides if isinstance(task_overrides, list) else []))
    return (f"python -m rnnlab -m {command}",
            {"sweep dir": str(path.resolve()),
             "launcher": resolved(mapping(hydra_config.get("launcher"))),
             "sweeper": resolved(sweeper_settings(hydra_config.get("sweeper")))})


def swept_values(collected: Collected) -> pd.DataFrame:
    """Per swept key, the values the runs had (runs.csv), in order of first appearance."""
    runs = collected.runs
    return pd.DataFrame({"key": collected.swept,
                         "values": [", ".join(map(str, runs[key].dropna().unique()))
                                    for key in collected.swept]})


def headline_metric(runs: pd.DataFrame) -> str | None:
    """The metric the runs name as their headline (metrics.csv's ``headline_metric``: the task's
    primary metric for training runs, the sweep's best error, ...), the most common one where
    runs differ; None if no run names one it reports."""
    if "headline_metric" not in runs:
        return None
    named = [m for m in runs["headline_metric"].dropna().value_counts().index
             if m in runs and pd.api.types.is_numeric_dtype(runs[m]) and runs[m].notna().any()]
    return named[0] if named else None


def numeric_keys(runs: pd.DataFrame, keys: list[str]) -> list[str]:
    return [k for k in keys if pd.api.types.is_numeric_dtype(runs[k])]


def plot_metric_vs_key(runs, metric, key, categorical, path) -> Path:
    """Mean +- std over seeds of ``metric`` against ``key`` (numeric, or categories in order of
    appearance), one line per value of the ``categorical`` keys, with any theory levels."""
    figure = Figure(figsize=(7.5, 4.2), layout="constrained")
    axis = figure.subplots()
    numeric = pd.api.types.is_numeric_dtype(runs[key])
    order = {value: i for i, value in enumerate(dict.fromkeys(runs[key]))}
    groups = runs.groupby(categorical, dropna=False, sort=False) if categorical else [("", runs)]
    for index, (label, group) in enumerate(groups):
        name = ", ".join(f"{k}={v}" for k, v in zip(categorical, np.atleast_1d(label)))
        colour = f"C{index % 10}"
        if group[key].isna().all():      # runs without the key (an NVAR in a sweep over N):
            values = group[metric].dropna()   # a level, its mean +- std as a band
            spread = values.std() if len(values) > 1 else 0.0
            if len(values):
                axis.axhline(values.mean(), color=colour, ls="-.", lw=1.2,
                             label=f"{name or metric} (no {key})")
                axis.axhspan(values.mean() - spread, values.mean() + spread, color=colour,
                             alpha=0.15)
            continue
        stats = group.groupby(key, sort=False)[metric].agg(["mean", "std"]).reset_index()
        x = stats[key] if numeric else stats[key].map(order)
        axis.errorbar(x, stats["mean"], yerr=stats["std"].fillna(0), marker="o", color=colour,
                      capsize=3, label=name or metric)
    if not numeric:
        axis.set_xticks(list(order.values()), [str(v) for v in order])
    draw_theory_levels(axis, runs)
    draw_literature_levels(axis, runs, metric)
    axis.set_xlabel(key)
    axis.set_ylabel(f"{metric} (mean ± std over seeds)")
    axis.set_title(f"{metric} against {key}")
    axis.legend(fontsize="small")
    return save(figure, path)


def plot_heatmap(runs, metric, keys, path) -> Path:
    table = runs.pivot_table(index=keys[0], columns=keys[1], values=metric, aggfunc="mean")
    figure = Figure(figsize=(6.5, 4.8), layout="constrained")
    axis = figure.subplots()
    image = axis.imshow(table.to_numpy(dtype=float), origin="lower", aspect="auto",
                        cmap="viridis")
    axis.set_xticks(range(len(table.columns)), [f"{v:g}" for v in table.columns])
    axis.set_yticks(range(len(table.index)), [f"{v:g}" for v in table.index])
    axis.set_xlabel(keys[1])
    axis.set_ylabel(keys[0])
    axis.set_title(f"{metric}, mean over seeds")
    figure.colorbar(image, ax=axis, label=metric)
    return save(figure, path)


def draw_theory_levels(axis, runs: pd.DataFrame) -> None:
    """A dashed, labelled horizontal line at every theory level the runs report."""
    for column in [c for c in runs.columns if c.startswith("theory_")]:
        for level in runs[column].dropna().unique():
            axis.axhline(level, color="gray", ls="--", lw=0.8)
            axis.annotate(f"{column.removeprefix('theory_').replace('_', ' ')} {level:.4f}",
                          (1.0, level), xycoords=("axes fraction", "data"), fontsize="x-small",
                          ha="right", va="bottom")


def draw_literature_levels(axis, runs: pd.DataFrame, metric: str) -> None:
    """A dotted, labelled horizontal line at every published level of ``metric`` the runs
    report (metrics ``reference_<metric>...``, e.g. NARMA10's typical NRMSE at N = 100)."""
    for column in [c for c in runs.columns if c.startswith(f"reference_{metric}")]:
        for level in runs[column].dropna().unique():
            axis.axhline(level, color="tab:green", ls=":", lw=1.2)
            where = column.removeprefix(f"reference_{metric}").strip("_").replace("_", " ")
            axis.annotate(f"literature{' ' + where if where else ''}: {level:.3g}", (0.0, level),
                          xycoords=("axes fraction", "data"), fontsize="x-small", ha="left",
                          va="bottom", color="tab:green")


def plot_per_run(table: pd.DataFrame, curve, path: Path, title: str, labels: tuple[str, str],
                 log_scale: bool = False, runs: pd.DataFrame | None = None,
                 colour_by: pd.Series | None = None) -> Path:
    """One line per run: ``curve(rows) -> (x, y)`` on each run's rows of a long table, with the
    theory levels of ``runs``; ``colour_by`` (a key's value per run_dir, e.g. the model): one
    colour per value."""
    figure = Figure(figsize=(9, 4.5), layout="constrained")
    axis = figure.subplots()
    colours = colormap("tab10")
    order = [] if colour_by is None else list(dict.fromkeys(colour_by))
    for i, (run, rows) in enumerate(table.groupby("run_dir", sort=False)):
        if colour_by is not None:
            value = colour_by.get(run)
            index = order.index(value) if value in order else len(order)
            label = f"{colour_by.name}={value}"
            seen = label in axis.get_legend_handles_labels()[1]
            axis.plot(*curve(rows), lw=1, color=colours(index % 10), alpha=0.8,
                      label=None if seen else label)
        else:
            axis.plot(*curve(rows), lw=1, color=colours(i % 10), label=run)
    if runs is not None:
        draw_theory_levels(axis, runs)
    if log_scale:
        axis.set_yscale("log")
    axis.set_xlabel(labels[0])
    axis.set_ylabel(labels[1])
    axis.set_title(title)
    if colour_by is not None or table["run_dir"].nunique() <= 20:
        axis.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="x-small",
                    title="run" if colour_by is None else colour_by.name)
    return save(figure, path)


def last_step_norms(rows: pd.DataFrame):
    """The last step's gradient norm against the lag at the end of training (of a stacked
    model, its top layer)."""
    if "layer" in rows and rows["layer"].notna().any():
        rows = rows[rows["layer"] == rows["layer"].max()]
    last = rows[rows["step"] == rows["step"].max()].sort_values("lag")
    return last["lag"], last["last_step_grad_norm"].where(last["last_step_grad_norm"] > 0)


def make_plots(collected, out_dir: Path) -> list[tuple[str, Path]]:
    """(caption, png) for every plot that what varied calls for."""
    runs, plots = collected.runs, []
    done = runs[runs["status"].isin(["finished", "diverged"])]
    metric = headline_metric(done)
    varied = [k for k in collected.swept if k != "seed" and done[k].nunique() > 1]
    numeric = numeric_keys(done, varied)
    categorical = [k for k in varied if k not in numeric]
    if metric:
        if not numeric and categorical:   # e.g. model x setting: the key with most values on x
            x_key = max(categorical, key=lambda k: done[k].nunique())
            lines = [k for k in categorical if k != x_key]
            plots.append((f"{metric} against {x_key}", plot_metric_vs_key(
                done, metric, x_key, lines, out_dir / f"{metric}_vs_{x_key}.png")))
        for key in numeric:
            plots.append((f"{metric} against {key}", plot_metric_vs_key(
                done, metric, key, categorical, out_dir / f"{metric}_vs_{key}.png")))
        if len(numeric) == 2:
            plots.append((f"{metric} over {numeric[0]} x {numeric[1]}",
                          plot_heatmap(done, metric, numeric, out_dir / "heatmap.png")))
    colour_by = done.set_index("run_dir")["model"] if "model" in varied else None
    if len(collected.training):
        plots.append(("test loss during training", plot_per_run(
            collected.training, lambda rows: (rows["step"], rows["test_loss"]),
            out_dir / "training.png", "test loss during training (dashed: theoretical levels)",
            ("training step", "test loss"), runs=done, colour_by=colour_by)))
    if len(collected.gradients):
        plots.append(("gradient norm against lag", plot_per_run(
            collected.gradients, last_step_norms, out_dir / "gradients.png",
            "gradient norm against lag at the end of training",
            ("lag T-1-t", "||dL_T/dh_t||, mean over sequences"), log_scale=True,
            colour_by=colour_by)))
    return plots


def summary_table(summary: pd.DataFrame, swept: list[str], metric: str | None) -> pd.DataFrame:
    """Swept values, n, the metric as mean ± std, the theory levels."""
    keys = [k for k in swept if k != "seed" and k in summary]
    table = summary[keys + ["n"]].copy()
    if "n_diverged" in summary and summary["n_diverged"].any():
        table["diverged"] = summary["n_diverged"]
    if metric and f"{metric}_mean" in summary:
        table[metric] = [_plus_minus(m, s) for m, s in
                         zip(summary[f"{metric}_mean"], summary[f"{metric}_std"])]
    for column in [c for c in summary if c.startswith("theory_") and c.endswith("_mean")]:
        table[column.removesuffix("_mean")] = summary[column].map(lambda v: f"{v:.4f}")
    return table


def _plus_minus(mean: float, std: float) -> str:
    if not math.isfinite(mean):
        return "nan"
    return f"{mean:.4f}" if not math.isfinite(std) else f"{mean:.4f} ± {std:.4f}"


def write_html_report(collected, summary: pd.DataFrame, out_dir, command: str,
                      settings: str) -> Path:
    """Write the plots and index.html into ``out_dir``; returns the page's path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = collected.runs
    metric = headline_metric(runs[runs["status"].isin(["finished", "diverged"])])
    plots = make_plots(collected, out_dir)
    not_finished = runs[runs["status"] != "finished"][["run_dir", "status", "status_reason"]]
    counts = runs["status"].value_counts().to_dict()
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>rnnlab sweep report</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px}"
        "th{background:#eee}pre{background:#f6f6f6;padding:1em;overflow:auto}"
        "img{max-width:100%;display:block;margin:1em 0}</style></head><body>",
        "<h1>rnnlab sweep report</h1>",
        f"<p>{len(runs)} runs: " + ", ".join(f"{n} {s}" for s, n in counts.items()) + "</p>",
        f"<h2>Command</h2><pre>{html.escape(command)}</pre>",
        f"<h2>Sweep settings</h2><pre>{html.escape(settings)}</pre>",
    ]
    if collected.swept:
        parts += ["<h2>Swept keys (the values the runs had)</h2>",
                  swept_values(collected).to_html(index=False, border=0)]
    parts += [f"<h2>Summary{' of ' + html.escape(metric) if metric else ''} "
              "(mean ± std over seeds)</h2>",
              summary_table(summary, collected.swept, metric).to_html(index=False, border=0)]
    if len(not_finished):
        parts += ["<h2>Runs that did not finish</h2>",
                  not_finished.to_html(index=False, border=0)]
    for caption, png in plots:
        encoded = base64.b64encode(png.read_bytes()).decode("ascii")
        parts.append(f"<h2>{html.escape(caption)}</h2>"
                     f"<img alt='{html.escape(caption)}' src='data:image/png;base64,{encoded}'>")
    parts += ["<script>window.addEventListener('load', function () {",
              "  var images = Array.from(document.images);",
              "  document.body.dataset.imagesTotal = images.length;",
              "  document.body.dataset.imagesLoaded = images.filter(",
              "    function (i) { return i.complete && i.naturalWidth > 0; }).length;",
              "  document.body.dataset.tableRows = document.querySelectorAll('tbody tr').length;",
              "});</script></body></html>"]
    page = out_dir / "index.html"
    with atomic_path(page) as temporary:
        temporary.write_text("\n".join(parts), encoding="utf-8")
    return page
