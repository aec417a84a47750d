"""Read run directories into tidy tables (no Hydra needed: a run's files are plain CSV and YAML).

PATH is a multirun directory, a single run directory, or any folder holding many; run
directories (a folder with ``.hydra/overrides.yaml`` or ``metrics.csv``) are found recursively.

    collected = collect("outputs/multirun/2026-11-23/15-03-59")
    write_report_tables(collected, "outputs/multirun/2026-11-23/15-03-59/report")

Tables written (all through ``rnnlab.tables.write_table``, so atomically):

- ``runs.csv``: one row per run directory: ``run_dir`` (relative to PATH), ``status``, every
  override key (swept keys first), then every metrics.csv column. Runs without metrics keep
  their row with NaN metrics: no run is dropped.
- ``training.csv``, ``gradients.csv``: long, ``run_dir`` + swept keys + the run's own columns;
  runs without the file are skipped.
- ``summary.csv``: grouped by the swept keys other than ``seed``, over finished and diverged
  runs: ``n`` (runs), ``n_diverged``, and ``<metric>_mean``, ``<metric>_std`` (ddof=1, NaN for a
  single run) for every numeric metric. Means skip NaN, so the losses of diverged runs (NaN)
  do not enter them.

Status of a run: ``failed`` if ``status.txt`` says failed or ``error.txt`` is not empty, or if
there is no metrics.csv and ``rnnlab.log`` holds a Python traceback;
otherwise ``diverged`` / ``finished`` from metrics.csv's ``diverged`` column (absent: finished);
``incomplete`` when there is no metrics.csv.
"""

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from rnnlab.tables import write_table

log = logging.getLogger(__name__)

STATUSES = ("finished", "diverged", "failed", "incomplete")
GROUP_EXCLUDE = ("seed",)  # summary.csv averages over these swept keys


class ReportError(Exception):
    """A problem with the report's input, reported as one line on stderr."""


@dataclass
class Collected:
    """Everything read from the run directories under one PATH."""

    runs: pd.DataFrame                 # one row per run directory
    training: pd.DataFrame             # long: run_dir + swept keys + training.csv columns
    gradients: pd.DataFrame            # long: run_dir + swept keys + gradients.csv columns
    swept: list[str] = field(default_factory=list)   # override keys whose values differ
    overrides: list[str] = field(default_factory=list)  # every override key, swept first
    metrics: list[str] = field(default_factory=list)    # metrics.csv columns, first-seen order


# ---------------------------------------------------------------------------------------------
# Reading one run directory

def find_run_dirs(path: Path, exclude: Path | None = None) -> list[Path]:
    """Run directories at or under ``path``, in natural order (job 10 after job 9)."""
    path = Path(path)
    found = {marker.parent.parent for marker in path.rglob(".hydra/overrides.yaml")}
    found |= {marker.parent for marker in path.rglob("metrics.csv")}
    if exclude is not None:
        exclude = Path(exclude).resolve()
        found = {d for d in found
                 if d.resolve() != exclude and exclude not in d.resolve().parents}
    return sorted(found, key=lambda d: natural_key(d.relative_to(path).as_posix()))


def natural_key(text: str) -> list:
    return [(0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", text) if part]


def parse_value(text: str):
    """An override's value as int, float, bool or None where it reads as one; else the string."""
    text = text.strip()
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none"):
        return None
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def read_overrides(run_dir: Path) -> dict:
    """``.hydra/overrides.yaml`` as {key: value}; ``+key=v`` / ``++key=v`` count as ``key``."""
    file = run_dir / ".hydra" / "overrides.yaml"
    if not file.is_file():
        return {}
    entries = yaml.safe_load(file.read_text()) or []
    overrides = {}
    for entry in entries:
        entry = str(entry)
        if "=" not in entry:  # "~key" deletions carry no value
            continue
        key, value = entry.split("=", 1)
        overrides[key.lstrip("+~").strip()] = parse_value(value)
    return overrides


def read_csv(file: Path) -> pd.DataFrame | None:
    """The table, or None where the file is missing or empty."""
    if not file.is_file():
        return None
    try:
        return pd.read_csv(file)
    except pd.errors.EmptyDataError:
        return None


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def is_true(value) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return isinstance(value, (int, float, np.number)) and not pd.isna(value) and value != 0


def said_failed(run_dir: Path) -> bool:
    """status.txt saying 'failed', or a non-empty error.txt."""
    status, error = run_dir / "status.txt", run_dir / "error.txt"
    if status.is_file() and "fail" in status.read_text(errors="replace").lower():
        return True
    return error.is_file() and error.read_text(errors="replace").strip() != ""


def log_shows_exception(run_dir: Path) -> bool:
    log = run_dir / "rnnlab.log"
    if not log.is_file():
        return False
    return "Traceback (most recent call last)" in log.read_text(errors="replace")


def run_status(run_dir: Path, metrics: pd.DataFrame | None) -> str:
    if said_failed(run_dir):
        return "failed"
    if metrics is not None and len(metrics):
        diverged = metrics["diverged"].iloc[0] if "diverged" in metrics else False
        return "diverged" if is_true(diverged) else "finished"
    return "failed" if log_shows_exception(run_dir) else "incomplete"


# ---------------------------------------------------------------------------------------------
# Collecting many

def swept_keys(overrides: list[dict]) -> list[str]:
    """Keys (first-seen order) whose values differ across runs; missing in some runs = differs."""
    keys = list(dict.fromkeys(key for row in overrides for key in row))
    missing = object()
    return [key for key in keys
            if len({repr(row.get(key, missing)) for row in overrides}) > 1]


def collect(path, exclude=None) -> Collected:
    """Read every run directory at or under ``path`` except under ``exclude`` (the report's
    own folder, default ``path/report``); see the module docstring."""
    path = Path(path)
    if not path.exists():
        raise ReportError(f"{path} does not exist")
    if not path.is_dir():
        raise ReportError(f"{path} is not a directory")
    run_dirs = find_run_dirs(path, exclude=path / "report" if exclude is None else exclude)
    if not run_dirs:
        raise ReportError(f"no run directories under {path} "
                          f"(looked for .hydra/overrides.yaml or metrics.csv)")

    names = [d.relative_to(path).as_posix() for d in run_dirs]
    overrides = [read_overrides(d) for d in run_dirs]
    metrics = [read_csv(d / "metrics.csv") for d in run_dirs]
    swept = swept_keys(overrides)
    keys = swept + [k for k in dict.fromkeys(k for row in overrides for k in row)
                    if k not in swept]
    metric_columns = list(dict.fromkeys(c for m in metrics if m is not None for c in m.columns))

    rows = []
    for name, run_dir, override, metric in zip(names, run_dirs, overrides, metrics):
        row = {"run_dir": name, "status": run_status(run_dir, metric)}
        row.update({key: override.get(key, np.nan) for key in keys})
        values = metric.iloc[0].to_dict() if metric is not None and len(metric) else {}
        for column in metric_columns:
            value = values.get(column, np.nan)
            if column in keys:  # e.g. seed, model: the override wins, metrics fill its gaps
                if is_missing(row[column]):
                    row[column] = value
            else:
                row[column] = value
        rows.append(row)
    columns = ["run_dir", "status", *keys, *[c for c in metric_columns if c not in keys]]
    runs = pd.DataFrame(rows, columns=columns)

    return Collected(runs=runs,
                     training=long_table(path, run_dirs, runs, swept, "training.csv"),
                     gradients=long_table(path, run_dirs, runs, swept, "gradients.csv"),
                     swept=swept, overrides=keys, metrics=metric_columns)


def long_table(path: Path, run_dirs: list[Path], runs: pd.DataFrame, swept: list[str],
               filename: str) -> pd.DataFrame:
    """Stack ``filename`` of every run that has it, led by run_dir and the swept keys."""
    frames = []
    for run_dir, (_, run) in zip(run_dirs, runs.iterrows()):
        table = read_csv(run_dir / filename)
        if table is None:
            continue
        lead = {"run_dir": run["run_dir"],
                **{key: run[key] for key in swept if key not in table.columns}}
        frames.append(pd.concat([pd.DataFrame(lead, index=table.index), table], axis=1))
    if not frames:
        return pd.DataFrame(columns=["run_dir", *swept])
    return pd.concat(frames, ignore_index=True)


def summarise(collected: Collected) -> pd.DataFrame:
    """Mean and std over seeds of every numeric metric, per setting of the other swept keys."""
    runs = collected.runs[collected.runs["status"].isin(["finished", "diverged"])]
    group = [key for key in collected.swept if key not in GROUP_EXCLUDE]
    skip = set(collected.overrides) | {"seed"}
    numeric = {}
    for column in collected.metrics:
        if column in skip or column not in runs:
            continue
        values = runs[column]
        is_bool = values.map(lambda v: isinstance(v, (bool, np.bool_)))
        if len(values) and (values.dtype == bool or is_bool.all()):
            numeric[column] = values.map(is_true).astype(float)
        elif pd.api.types.is_numeric_dtype(values):
            numeric[column] = values.astype(float)
    table = pd.DataFrame(numeric, index=runs.index)
    table["_diverged"] = (runs["status"] == "diverged").astype(int)
    keys = runs[group] if group else pd.Series("all", index=runs.index, name="_all")
    grouped = table.groupby([runs[k] for k in group] if group else keys, dropna=False,
                            sort=False)
    out = grouped.size().rename("n").to_frame()
    out["n_diverged"] = grouped["_diverged"].sum()
    for column in numeric:
        out[f"{column}_mean"] = grouped[column].mean()
        out[f"{column}_std"] = grouped[column].std(ddof=1)
    out = out.reset_index()
    if not group:
        out = out.drop(columns=out.columns[0])
    return out


def write_report_tables(collected: Collected, out_dir) -> list[Path]:
    """Write runs.csv, summary.csv and (where any run has them) training.csv, gradients.csv."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [write_table(collected.runs, out_dir / "runs.csv"),
               write_table(summarise(collected), out_dir / "summary.csv")]
    for name, table in [("training.csv", collected.training),
                        ("gradients.csv", collected.gradients)]:
        if len(table):
            written.append(write_table(table, out_dir / name))
    return written


def sweep_description(path: Path) -> tuple[str, str]:
    """(the command, the sweep's settings) from PATH/multirun.yaml where there is one."""
    file = Path(path) / "multirun.yaml"
    if not file.is_file():
        return f"python -m rnnlab.report {path}", "(not a multirun directory: no multirun.yaml)"
    config = yaml.safe_load(file.read_text()) or {}
    hydra_config = config.get("hydra", {})
    task_overrides = (hydra_config.get("overrides") or {}).get("task") or []
    settings = {"sweeper params": (hydra_config.get("sweeper") or {}).get("params"),
                "launcher": (hydra_config.get("launcher") or {}).get("_target_"),
                "sweep dir": (hydra_config.get("sweep") or {}).get("dir")}
    return ("python -m rnnlab -m " + " ".join(map(str, task_overrides)),
            yaml.safe_dump(settings, sort_keys=False))


def counts_line(collected: Collected) -> str:
    counts = collected.runs["status"].value_counts()
    parts = ", ".join(f"{counts.get(status, 0)} {status}" for status in STATUSES)
    swept = ", ".join(collected.swept) if collected.swept else "none"
    return f"{len(collected.runs)} runs found ({parts}); swept: {swept}"
