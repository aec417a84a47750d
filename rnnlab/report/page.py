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
import dataclasses
import html
import math
import os
import posixpath
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from rnnlab.plots import Figure, colormap, mean_and_band, save
from rnnlab.report.runs import (Collected, CorruptFile, ReportError, read_json, read_yaml,
                                summarise, write_report_tables)
from rnnlab.tables import atomic_path


def write_report(collected: Collected, path: Path, out_dir: Path) -> Path:
    """Tables and the HTML page (index.html with its PNGs) into ``out_dir``; returns the page.
    All or nothing: ReportError (one line) where ``out_dir`` cannot be written."""
    out_dir = Path(out_dir)
    with staged(out_dir) as stage:
        write_report_tables(collected, stage)
        write_html_report(collected, stage, *sweep_description(Path(path)),
                          runs_path=Path(path),
                          runs_from_page=os.path.relpath(Path(path).absolute(),
                                                         out_dir.absolute()))
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


MANIFEST = ".rnnlab-report"   # in the report folder: the names of the files the report wrote


@contextlib.contextmanager
def staged(out_dir: Path):
    """Yield an empty hidden folder in ``existing_base(out_dir)``; when the block succeeds,
    move its files into ``out_dir`` (created with its parents) and remove the files an earlier
    report listed in ``out_dir/MANIFEST`` that this one did not write (a figure no longer
    drawn; other files in the folder are left alone); always remove the stage. An OSError on
    the way is a ReportError naming ``out_dir``."""
    base = existing_base(out_dir)
    try:
        stage = Path(tempfile.mkdtemp(prefix=".report-", dir=base))
    except OSError as error:
        raise ReportError(f"cannot write into {out_dir}: cannot create a folder in {base} "
                          f"({error.strerror or error})") from None
    try:
        yield stage
        written = sorted(file.name for file in stage.iterdir())
        (stage / MANIFEST).write_text("".join(f"{name}\n" for name in written))
        out_dir.mkdir(parents=True, exist_ok=True)
        earlier = out_dir / MANIFEST
        stale = set(earlier.read_text().split("\n")) - set(written) if earlier.is_file() else ()
        for file in sorted(stage.iterdir()):
            os.replace(file, out_dir / file.name)
        for name in sorted(stale):
            if name and "/" not in name and name != MANIFEST and (out_dir / name).is_file():
                (out_dir / name).unlink()
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
                         "values": [", ".join(map(shown_value, runs[key].dropna().unique()))
                                    for key in collected.swept]})


def shown_value(value) -> str:
    """A swept key's value as the command line wrote it: 50, not the 50.0 that a column with
    gaps (an NVAR has no model.units) makes of it; a gap is "-" (the run has no such key)."""
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.0f}" if value.is_integer() else f"{value:g}"
    return str(value)


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


def plot_metric_vs_key(runs, metric, key, categorical, others=()) -> "Figure":
    """Mean +- std over seeds of ``metric`` against ``key`` (numeric, or categories in order of
    appearance), one line per value of the ``categorical`` keys, with any theory levels. The
    ``others`` swept keys that vary at one point of a line are pooled there too, and the axis
    says so (r2rt: hidden size 4 holds bptt 1 and 5)."""
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
                      capsize=3, label=name or metric,
                      ls="-" if numeric else "none")   # categories are not on a line
    if not numeric:
        axis.set_xticks(list(order.values()), [str(v) for v in order])
    draw_theory_levels(axis, runs)
    draw_literature_levels(axis, runs, metric)
    axis.set_xlabel(key)
    points = runs.groupby([*categorical, key], dropna=False)
    pooled = [k for k in others if (points[k].nunique() > 1).any()]
    axis.set_ylabel(f"{metric}\n(mean ± std over seeds" +
                    (f" and {', '.join(pooled)})" if pooled else ")"))
    axis.set_title(f"{metric} against {key}")
    axis.legend(fontsize="small")
    return figure


def plot_heatmap(runs, metric, keys) -> "Figure":
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
    return figure


def draw_theory_levels(axis, runs: pd.DataFrame) -> None:
    """A dashed, labelled horizontal line at every theory level the runs report, its label
    just under the line (a level bounds the loss from below: the curves lie above it)."""
    for column in [c for c in runs.columns if c.startswith("theory_")]:
        for level in runs[column].dropna().unique():
            axis.axhline(level, color="gray", ls="--", lw=0.8)
            axis.annotate(f"{column.removeprefix('theory_').replace('_', ' ')} {level:.4f}",
                          (1.0, level), xycoords=("axes fraction", "data"), fontsize="small",
                          ha="right", va="top", color="dimgray")


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


def finish_curves(axis, title: str, labels: tuple[str, str], log_scale: bool,
                  runs: pd.DataFrame | None) -> None:
    """What every curve figure of the report has: the runs' theory levels, the axis scale,
    the labels and the title."""
    if runs is not None:
        draw_theory_levels(axis, runs)
    if log_scale:
        axis.set_yscale("log")
    axis.set_xlabel(labels[0])
    axis.set_ylabel(labels[1])
    axis.set_title(title)


def plot_per_run(table: pd.DataFrame, curve, title: str, labels: tuple[str, str],
                 log_scale: bool = False, runs: pd.DataFrame | None = None,
                 colour_by: pd.Series | None = None,
                 names: dict | None = None) -> "Figure":
    """One line per run: ``curve(rows) -> (x, y)`` on each run's rows of a long table, with the
    theory levels of ``runs``; ``colour_by`` (a key's value per run_dir, e.g. the model): one
    colour per value; else each run its own colour and line style (20 colours, then dashed,
    dotted, ...), labelled by ``names`` (run_dir -> its swept values) or its folder."""
    figure = Figure(figsize=(9, 4.5), layout="constrained")
    axis = figure.subplots()
    colours, many = colormap("tab10"), colormap("tab20")
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
            label = f"{run}: {names[run]}" if names and names.get(run) else run
            axis.plot(*curve(rows), lw=1, color=many(i % 20), ls=STYLES[i // 20 % len(STYLES)],
                      label=label)
    finish_curves(axis, title, labels, log_scale, runs)
    if colour_by is not None or table["run_dir"].nunique() <= 40:
        legend_below(figure, axis, "run" if colour_by is None else colour_by.name)
    return figure


def legend_below(figure, axis, title: str) -> None:
    """The curves' legend under the axes, in as many columns as its labels allow (the axes
    keep the figure's full width, and its text stays readable at the page's half width); the
    figure grows by the legend's rows."""
    handles, labels = axis.get_legend_handles_labels()
    if not labels:
        return
    width = figure.get_size_inches()[0]
    characters = int(15 * width)                    # small text: ~15 characters per inch
    columns = max(1, min(4, characters // (max(map(len, labels)) + 8)))
    rows = -(-len(labels) // columns)
    figure.set_size_inches(width, 4.2 + 0.2 * (rows + 1))
    figure.legend(handles, labels, loc="outside lower center", ncol=columns, fontsize="small",
                  title=title, title_fontsize="small")


def plot_seed_bands(table: pd.DataFrame, curve, title: str, labels: tuple[str, str],
                    settings: dict, log_scale: bool = False,
                    runs: pd.DataFrame | None = None) -> "Figure":
    """One line per setting (``settings``: run_dir -> the swept values but the seed), the mean
    over its seeds of ``curve(rows) -> (x, y)`` at each x, in a band of +- one std over seeds
    (on a log axis, of log10 y: the band of the geometric mean); with the theory levels."""
    figure = Figure(figsize=(9, 4.5), layout="constrained")
    axis = figure.subplots()
    colours = colormap("tab10" if len(set(settings.values())) <= 10 else "tab20")
    groups: dict[str, list] = {}
    for run, rows in table.groupby("run_dir", sort=False):
        if run in settings:
            x, y = curve(rows)
            groups.setdefault(settings[run], []).append(
                pd.Series(np.asarray(y, dtype=float), index=np.asarray(x)))
    for index, (setting, curves) in enumerate(groups.items()):
        values = pd.concat(curves, axis=1)
        mean, low, high = mean_and_band(values, log_scale)
        colour = colours(index % colours.N)
        axis.plot(mean.index, mean, lw=1.3, color=colour,
                  label=f"{setting} (n = {values.shape[1]})")
        axis.fill_between(mean.index, low, high, color=colour, alpha=0.2, lw=0)
    finish_curves(axis, title, labels, log_scale, runs)
    legend_below(figure, axis, "setting: mean ± std over seeds")
    return figure


def last_step_norms(rows: pd.DataFrame):
    """The last step's gradient norm against the lag at the end of training (of a stacked
    model, its top layer)."""
    if "layer" in rows and rows["layer"].notna().any():
        rows = rows[rows["layer"] == rows["layer"].max()]
    last = rows[rows["step"] == rows["step"].max()].sort_values("lag")
    return last["lag"], last["last_step_grad_norm"].where(last["last_step_grad_norm"] > 0)


def run_labels(runs: pd.DataFrame, keys: list[str]) -> dict[str, str]:
    """run_dir -> "bptt=5, seed=1": each run's values of ``keys`` (their last dotted part);
    "all" where no key is left."""
    return {run["run_dir"]: ", ".join(f"{k.split('.')[-1]}={_cell(run[k])}"
                                      for k in keys if k in run) or "all"
            for _, run in runs.iterrows()}


def make_plots(collected, out_dir: Path, prefix: str = "") -> list[tuple[str, Path]]:
    """(caption, png) for every plot that what varied calls for; the files' names start with
    ``prefix`` (a task's name, where a sweep mixes tasks)."""
    runs, plots = collected.runs, []
    done = runs[runs["status"].isin(["finished", "diverged"])]
    metric = headline_metric(done)
    varied = [k for k in collected.swept if k != "seed" and done[k].nunique() > 1]
    numeric = numeric_keys(done, varied)
    categorical = [k for k in varied if k not in numeric]

    def add(caption: str, figure, name: str) -> None:
        plots.append((caption, save(figure, out_dir / f"{prefix}{name}.png")))

    if metric:
        if not numeric and categorical:   # e.g. model x setting: the key with most values on x
            x_key = max(categorical, key=lambda k: done[k].nunique())
            lines = [k for k in categorical if k != x_key]
            add(f"{metric} against {x_key}", plot_metric_vs_key(done, metric, x_key, lines),
                f"{metric}_vs_{x_key}")
        for key in numeric:
            others = [k for k in numeric if k != key]
            add(f"{metric} against {key}",
                plot_metric_vs_key(done, metric, key, categorical, others), f"{metric}_vs_{key}")
        if len(numeric) == 2:
            add(f"{metric} over {numeric[0]} x {numeric[1]}",
                plot_heatmap(done, metric, numeric), "heatmap")
    colour_by = done.set_index("run_dir")["model"] if "model" in varied else None
    names = run_labels(done, collected.swept)                      # each run
    settings = run_labels(done, [k for k in collected.swept if k != "seed"])   # its setting
    banded = ("seed" in collected.swept and len(done) > len(set(settings.values())))
    curves = [("test loss during training", collected.training,
               lambda rows: (rows["step"], rows["test_loss"]),
               ("training step", "test loss"), False, "training"),
              ("gradient norm against lag", collected.gradients, last_step_norms,
               ("lag T-1-t", "||dL_T/dh_t||, mean over sequences"), True, "gradients")]
    for caption, table, curve, labels, log_scale, name in curves:
        if not len(table):
            continue
        title = (f"{caption} (dashed: theoretical levels)" if name == "training"
                 else f"{caption} at the end of training")
        if banded:   # seeds repeat each setting: its mean over seeds in a band of +- one std
            figure = plot_seed_bands(table, curve, title, labels, settings, log_scale,
                                     runs=done if name == "training" else None)
        else:
            figure = plot_per_run(table, curve, title, labels, log_scale,
                                  runs=done if name == "training" else None,
                                  colour_by=colour_by, names=names)
        add(caption, figure, name)
    return plots


def summary_table(summary: pd.DataFrame, swept: list[str], metric: str | None) -> pd.DataFrame:
    """Swept values, n, the metric as mean ± std, the theory levels."""
    keys = [k for k in swept if k != "seed" and k in summary]
    table = summary[keys + ["n"]].copy()
    for key in keys:
        table[key] = table[key].map(shown_value)
    if "n_diverged" in summary and summary["n_diverged"].any():
        table["diverged"] = summary["n_diverged"]
    if metric and f"{metric}_mean" in summary:
        table[metric] = [_plus_minus(m, s) for m, s in
                         zip(summary[f"{metric}_mean"], summary[f"{metric}_std"])]
    for column in varying_theory(summary):
        table[column.removesuffix("_mean")] = summary[column].map(lambda v: f"{v:.4g}")
    return table


def theory_columns(summary: pd.DataFrame) -> list[str]:
    return [c for c in summary if c.startswith("theory_") and c.endswith("_mean")]


def varying_theory(summary: pd.DataFrame) -> list[str]:
    """The theory levels that differ between rows (the others are shown once, above)."""
    return [c for c in theory_columns(summary) if summary[c].nunique(dropna=False) > 1]


def constant_theory(summary: pd.DataFrame) -> str:
    """"theory levels (the same for every row): no lag 0.6616, ...", or ""."""
    same = [(c.removeprefix("theory_").removesuffix("_mean").replace("_", " "), summary[c].iloc[0])
            for c in theory_columns(summary) if summary[c].nunique(dropna=False) == 1]
    return ("Theory levels, the same for every row: "
            + ", ".join(f"{name} {value:.4g}" for name, value in same)) if same else ""


def _plus_minus(mean: float, std: float) -> str:
    """mean ± std with the std to two significant digits and the mean to the same place
    (0.000912 ± 0.000034, 9.12e-06 ± 3.4e-07); a mean alone to four significant digits."""
    if not math.isfinite(mean):
        return "nan"
    if not math.isfinite(std) or std <= 0:
        return f"{mean:.4g}"
    std = float(f"{std:.1e}")                              # two significant digits, and
    std_place = math.floor(math.log10(std))                # the place of the first of them
    if mean == 0 or 1e-3 <= abs(mean) < 1e5:
        decimals = max(0, 1 - std_place)
        return f"{mean:.{decimals}f} ± {std:.{decimals}f}"
    mantissa = max(1, math.floor(math.log10(abs(mean))) - std_place + 1)
    return f"{mean:.{mantissa}e} ± {std:.1e}"


def task_sections(collected: Collected) -> list[tuple[str | None, Collected]]:
    """(task, its runs) for each task where the runs' tasks differ -- each has its own headline
    metric, summary and plots -- else [(None, everything)]."""
    runs = collected.runs
    if "task" not in runs or runs["task"].nunique() < 2:
        return [(None, collected)]
    sections = []
    for task in dict.fromkeys(runs["task"].dropna()):
        part = runs[runs["task"] == task]
        names = set(part["run_dir"])
        swept = [k for k in collected.swept
                 if k != "task" and (k == "seed" or part[k].nunique(dropna=False) > 1)]
        tables = {name: table[table["run_dir"].isin(names)] if "run_dir" in table else table
                  for name, table in (("training", collected.training),
                                      ("gradients", collected.gradients))}
        sections.append((task, dataclasses.replace(collected, runs=part, swept=swept, **tables)))
    return sections


STYLES = ("-", "--", ":", "-.")   # runs beyond 20 colours change line style
RUN_FILES = (".png", ".csv", ".txt", ".json")   # what the run table links, besides the folder


def runs_table(collected: Collected, runs_path: Path | None, runs_from_page: str) -> str:
    """Every run, one row: its folder (a link), status, swept values, its headline metric and
    links to its figures and tables; the header sorts (the page's script)."""
    runs = collected.runs
    keys = [k for k in collected.swept if k in runs]
    headlines = list(dict.fromkeys(runs["headline_metric"].dropna())) if (
        "headline_metric" in runs) else []
    head = ["run", "status", *keys, *headlines, "files"]
    rows = []
    for _, run in runs.iterrows():
        folder = posixpath.normpath(posixpath.join(Path(runs_from_page).as_posix(),
                                                   str(run["run_dir"])))
        files = sorted(p.name for p in (runs_path / str(run["run_dir"])).iterdir()
                       if p.suffix in RUN_FILES) if runs_path is not None and (
            runs_path / str(run["run_dir"])).is_dir() else []
        cells = [f"<a href='{html.escape(folder)}/'>{html.escape(str(run['run_dir']))}</a>",
                 html.escape(str(run["status"]))]
        cells += [html.escape(_cell(run[k])) for k in keys]
        cells += [html.escape(_cell(run[m])) if m in run and run.get("headline_metric") == m
                  else "" for m in headlines]
        cells.append(" ".join(f"<a href='{html.escape(folder)}/{html.escape(name)}'>"
                              f"{html.escape(name)}</a>" for name in files))
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    header = "".join(f"<th title='click to sort'>{html.escape(name)}</th>" for name in head)
    return (f"<table class='runs sortable'><thead><tr>{header}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _cell(value) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4g}"
    return "" if value is None else str(value)


STYLE = ("body{font-family:system-ui,sans-serif;margin:1.5em 2em;line-height:1.35}"
         "table{border-collapse:collapse;margin:0.8em 0}"
         "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
         "th{background:#eee}th[title]{cursor:pointer}tbody tr:nth-child(even){background:#fafafa}"
         "pre{background:#f6f6f6;padding:1em;overflow:auto}"
         ".figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(640px,1fr));gap:1em}"
         "figure{margin:0}figcaption{font-weight:bold;margin:0.5em 0}"
         "img{max-width:100%;display:block}.runs td{font-size:0.9em}")

SCRIPT = """<script>
window.addEventListener('load', function () {
  var images = Array.from(document.images);
  document.body.dataset.imagesTotal = images.length;
  document.body.dataset.imagesLoaded = images.filter(
    function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.dataset.tableRows = document.querySelectorAll('tbody tr').length;
  document.body.dataset.runRows = document.querySelectorAll('table.runs tbody tr').length;
  document.body.dataset.headlines = Array.from(document.querySelectorAll('[data-headline]'))
    .map(function (e) { return e.dataset.headline; }).join(' ');
});
document.querySelectorAll('table.sortable th').forEach(function (th, column) {
  th.addEventListener('click', function () {
    var body = th.closest('table').tBodies[0], rows = Array.from(body.rows);
    var up = th.dataset.order !== 'up'; th.dataset.order = up ? 'up' : 'down';
    var key = function (r) { var t = r.cells[column].textContent, n = parseFloat(t);
                             return isNaN(n) ? t : n; };
    rows.sort(function (a, b) { var x = key(a), y = key(b);
      return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1); });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
</script>"""


def section_html(collected: Collected, out_dir: Path, task: str | None) -> list[str]:
    """A task's (or the whole sweep's) summary table and figures."""
    runs = collected.runs
    metric = headline_metric(runs[runs["status"].isin(["finished", "diverged"])])
    summary = summarise(collected)
    named = f"{task}: " if task else ""
    parts = [f"<h2 data-headline='{html.escape((task or 'all') + ':' + (metric or ''))}'>"
             f"{html.escape(named)}summary{' of ' + html.escape(metric) if metric else ''} "
             "(mean ± std over seeds)</h2>"]
    levels = constant_theory(summary)
    if levels:
        parts.append(f"<p>{html.escape(levels)}</p>")
    parts.append(summary_table(summary, collected.swept, metric).to_html(index=False, border=0))
    figures = make_plots(collected, out_dir, prefix=f"{task}_" if task else "")
    if figures:
        parts.append("<div class='figures'>")
        for caption, png in figures:
            encoded = base64.b64encode(png.read_bytes()).decode("ascii")
            parts.append(f"<figure><figcaption>{html.escape(named + caption)}</figcaption>"
                         f"<img alt='{html.escape(caption)}' "
                         f"src='data:image/png;base64,{encoded}'></figure>")
        parts.append("</div>")
    return parts


def write_html_report(collected, out_dir, command: str, settings: str, runs_path: Path | None = None,
                      runs_from_page: str = "..") -> Path:
    """Write the plots and index.html into ``out_dir``; returns the page's path. The run table
    links each run folder as ``runs_from_page``/RUN (the sweep folder seen from the page) and
    its files, listed from ``runs_path``/RUN."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = collected.runs
    not_finished = runs[runs["status"] != "finished"][["run_dir", "status", "status_reason"]]
    counts = runs["status"].value_counts().to_dict()
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>rnnlab sweep report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>rnnlab sweep report</h1>",
        f"<p>{len(runs)} runs: " + ", ".join(f"{n} {s}" for s, n in counts.items()) + "</p>",
        f"<h2>Command</h2><pre>{html.escape(command)}</pre>",
        f"<h2>Sweep settings</h2><pre>{html.escape(settings)}</pre>",
    ]
    if collected.swept:
        parts += ["<h2>Swept keys (the values the runs had)</h2>",
                  swept_values(collected).to_html(index=False, border=0)]
    if len(not_finished):
        parts += ["<h2>Runs that did not finish</h2>",
                  not_finished.to_html(index=False, border=0)]
    for task, part in task_sections(collected):
        parts += section_html(part, out_dir, task)
    parts += ["<h2>Every run (click a column to sort)</h2>",
              runs_table(collected, runs_path, runs_from_page), SCRIPT, "</body></html>"]
    page = out_dir / "index.html"
    with atomic_path(page) as temporary:
        temporary.write_text("\n".join(parts), encoding="utf-8")
    return page
