"""Read run directories into tidy tables (no Hydra needed: a run's files are plain CSV, JSON, YAML).

PATH is a multirun directory, a single run directory, or any folder holding many. A run
directory is a folder with ``.hydra/overrides.yaml``, ``metrics.csv`` or ``run.json``; they are
found recursively, except in hidden folders (a name starting with "."): ``.superseded/`` (older
outputs the app moved aside), ``.submitit/`` and the like hold no runs.

    collected = collect("outputs/multirun/2026-11-23/15-03-59")
    write_report_tables(collected, "outputs/multirun/2026-11-23/15-03-59/report")

What a run directory holds (every file optional):

- ``run.json``: ``{"fingerprint": sha256 hex of the resolved config, "config": {nested: the
  resolved job config}, "overrides": ["model=rnn", "train.bptt=5", ...], "provenance": {...},
  "started": "..."}``; without it the config is read from ``.hydra/overrides.yaml`` (a YAML
  list of ``key=value`` strings; ``+key`` / ``++key`` count as ``key``, ``~key`` is skipped).
- ``status.txt``: one line, a status word and optionally ``: reason`` -- ``running``,
  ``finished``, ``diverged: RULE``, ``failed: TYPE: MESSAGE``, ``interrupted: SIGINT``.
- ``metrics.csv``: a header and one row (``config_fingerprint``, ``headline_metric``,
  ``diverged``, the metrics); ``training.csv``, ``gradients.csv``: long tables.

Status of a run (runs.csv's ``status``, with ``status_reason`` beside it):

1. ``corrupt``: a file does not read as its format (not UTF-8, not JSON/YAML/a CSV table of
   equal-width rows ended by a newline, metrics.csv without exactly one row, a long table
   without its numeric columns), or metrics.csv's ``config_fingerprint`` differs from
   run.json's ``fingerprint`` (left over from another configuration). Its metrics and long
   tables are not used; the reason names every problem found.
2. ``failed`` / ``interrupted`` / ``diverged``: what status.txt says, with its reason.
3. ``diverged`` / ``finished``: metrics.csv is there (its ``diverged`` column decides).
4. ``incomplete``: status.txt says ``running`` (the run was killed), or nothing says anything.

Run folders without status.txt (older rnnlab) are ``failed`` where ``error.txt`` is not empty,
or where there is no metrics.csv and ``rnnlab.log`` holds a Python traceback.

Tables written (all through ``rnnlab.tables.write_table``, so atomically):

- ``runs.csv``: one row per run directory: ``run_dir`` (relative to PATH), ``status``,
  ``status_reason``, the swept config keys, every other config key, then every metrics.csv
  column. Config keys are run.json's config flattened to dotted keys (``train.bptt``;
  ``model.name`` and ``task.name`` shown as ``model`` and ``task``), else the overrides. A key is
  *swept* where every run has it and its values differ; keys the overrides name come first.
  Runs without metrics keep their row with NaN metrics: no run is dropped.
- ``training.csv``, ``gradients.csv``: long, ``run_dir`` + swept keys + the run's own columns.
- ``summary.csv``: grouped by the swept keys other than ``seed``, over finished and diverged
  runs: ``n`` (runs), ``n_diverged``, and ``<metric>_mean``, ``<metric>_std`` (ddof=1, NaN for a
  single run) for every numeric metric. Means skip NaN, so the losses of diverged runs (NaN)
  do not enter them.
"""

import csv
import io
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from rnnlab.tables import STATUS_WORDS, parse_status, write_table

log = logging.getLogger(__name__)

STATUSES = ("finished", "diverged", "failed", "interrupted", "incomplete", "corrupt")
RUN_MARKERS = {"metrics.csv", "run.json"}          # besides .hydra/overrides.yaml
LONG_TABLES = {"training.csv": ("step", "test_loss"),   # file -> the numeric columns it needs
               "gradients.csv": ("step", "lag", "last_step_grad_norm")}
RENAMED = {"model.name": "model", "task.name": "task"}   # config key -> column
GROUP_EXCLUDE = ("seed",)  # summary.csv averages over these swept keys


class ReportError(Exception):
    """A problem with the report's input or output folder, reported as one line on stderr."""


class CorruptFile(Exception):
    """A run's file that does not read as its format; the message says which and why."""


@dataclass
class Collected:
    """Everything read from the run directories under one PATH."""

    runs: pd.DataFrame                 # one row per run directory
    training: pd.DataFrame             # long: run_dir + swept keys + training.csv columns
    gradients: pd.DataFrame            # long: run_dir + swept keys + gradients.csv columns
    swept: list[str] = field(default_factory=list)   # config keys whose values differ
    overrides: list[str] = field(default_factory=list)  # every config key shown, swept first
    metrics: list[str] = field(default_factory=list)    # the other metrics.csv columns


@dataclass
class Run:
    """One run directory as read."""

    name: str                          # relative to PATH
    status: str
    reason: str
    config: dict                       # dotted key -> value
    override_keys: list[str]           # the keys its overrides name, in their order
    metrics: dict                      # metrics.csv's row; {} where none or not trusted
    tables: dict                       # long-table file name -> DataFrame


# ---------------------------------------------------------------------------------------------
# Finding run directories

def find_run_dirs(path: Path, exclude: Path | None = None) -> list[Path]:
    """Run directories at or under ``path``, in natural order (job 10 after job 9); hidden
    folders and ``exclude`` (the report's own folder) are not searched."""
    path = Path(path)
    exclude = Path(exclude).resolve() if exclude is not None else None
    found = []
    for folder, subfolders, files in os.walk(path):
        if exclude is not None and Path(folder).resolve() == exclude:
            subfolders.clear()
            continue
        if RUN_MARKERS & set(files) or os.path.isfile(os.path.join(folder, ".hydra",
                                                                   "overrides.yaml")):
            found.append(Path(folder))
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
    return sorted(found, key=lambda d: natural_key(d.relative_to(path).as_posix()))


def natural_key(text: str) -> list:
    return [(0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", text) if part]


# ---------------------------------------------------------------------------------------------
# Reading one file (CorruptFile where it does not read; None where it is absent)

def one_line(text: str) -> str:
    return " ".join(str(text).split())


def label(file: Path) -> str:
    """How a reason names a run's file: "metrics.csv", ".hydra/overrides.yaml"."""
    return f"{file.parent.name}/{file.name}" if file.parent.name == ".hydra" else file.name


def read_text(file: Path) -> str | None:
    """The file's text (UTF-8)."""
    if not os.path.lexists(file):
        return None
    try:
        return Path(file).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CorruptFile(f"{label(file)} is not UTF-8 text") from None
    except OSError as error:
        raise CorruptFile(f"{label(file)} cannot be read: {error.strerror or error}") from None


def read_lenient(file: Path) -> str:
    """A log's text, undecodable bytes replaced; "" where it is absent or unreadable."""
    try:
        return Path(file).read_text(errors="replace")
    except OSError:
        return ""


def read_json(file: Path):
    text = read_text(file)
    try:
        return None if text is None else json.loads(text)
    except ValueError as error:
        raise CorruptFile(f"{label(file)} is not JSON: {error}") from None


def read_yaml(file: Path):
    text = read_text(file)
    try:
        return None if text is None else yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CorruptFile(f"{label(file)} is not YAML: {one_line(error)}") from None


def read_table(file: Path) -> pd.DataFrame | None:
    """A CSV table as pandas writes it: a header, rows of as many fields (blank lines aside),
    every line ended by a newline."""
    text = read_text(file)
    if text is None:
        return None
    problem = table_problem(text)
    if problem is None:
        try:
            return pd.read_csv(io.StringIO(text), dtype={"config_fingerprint": str})
        except (ValueError, pd.errors.ParserError) as error:
            problem = one_line(error)
    raise CorruptFile(f"{label(file)} is not a CSV table: {problem}")


def table_problem(text: str) -> str | None:
    """What keeps ``text`` from being a complete CSV table, or None."""
    if not text.strip():
        return "it is empty"
    if "\0" in text:
        return "it holds NUL bytes"
    if not text.endswith("\n"):
        return "its last line is cut short (no line end)"
    try:
        rows = [row for row in csv.reader(io.StringIO(text)) if row]
    except csv.Error as error:
        return str(error)
    bad = next((n for n, row in enumerate(rows[1:], 2) if len(row) != len(rows[0])), None)
    return None if bad is None else (f"row {bad} has {len(rows[bad - 1])} fields, "
                                     f"the header {len(rows[0])}")


# ---------------------------------------------------------------------------------------------
# Reading one run directory's files

def read_run_json(run_dir: Path) -> dict | None:
    """run.json: an object with a "config" object (and an "overrides" list where present)."""
    record = read_json(run_dir / "run.json")
    if record is None:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("config"), dict):
        raise CorruptFile('run.json is not an object with a "config" object')
    if not isinstance(record.get("overrides", []), list):
        raise CorruptFile('run.json\'s "overrides" is not a list')
    return record


def read_overrides(run_dir: Path) -> list[str] | None:
    """.hydra/overrides.yaml: a YAML list of override strings (an empty file: none)."""
    entries = read_yaml(run_dir / ".hydra" / "overrides.yaml")
    if entries is not None and not isinstance(entries, list):
        raise CorruptFile(".hydra/overrides.yaml is not a list of overrides")
    return None if entries is None else [str(entry) for entry in entries]


def read_status(run_dir: Path) -> tuple[str, str] | None:
    """status.txt as (word, reason): "failed: KeyError: 'x'" -> ("failed", "KeyError: 'x'")."""
    text = read_text(run_dir / "status.txt")
    if text is None:
        return None
    said = parse_status(text)
    if said is None:
        raise CorruptFile(f"status.txt does not start with a status ({', '.join(STATUS_WORDS)}): "
                          f"{one_line(text)[:80]!r}")
    return said


def read_metrics(run_dir: Path) -> dict | None:
    """metrics.csv's one row as {column: value}."""
    table = read_table(run_dir / "metrics.csv")
    if table is not None and len(table) != 1:
        raise CorruptFile(f"metrics.csv has {len(table)} rows, not one")
    return None if table is None else table.iloc[0].to_dict()


def read_long_table(file: Path) -> pd.DataFrame | None:
    """training.csv / gradients.csv, with the numeric columns the report plots."""
    table = read_table(file)
    needed = LONG_TABLES[file.name]
    if table is not None and not all(c in table and pd.api.types.is_numeric_dtype(table[c])
                                     for c in needed):
        raise CorruptFile(f"{file.name} lacks the numeric columns {', '.join(needed)}")
    return table


def check_fingerprint(record: dict, metrics: dict) -> None:
    """metrics.csv's config_fingerprint must be run.json's fingerprint (else it is stale)."""
    theirs, ours = metrics.get("config_fingerprint"), record.get("fingerprint")
    if isinstance(theirs, str) and isinstance(ours, str) and theirs != ours:
        raise CorruptFile(f"metrics.csv belongs to another configuration (fingerprint "
                          f"{theirs[:12]} vs run.json's {ours[:12]})")


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


def parse_overrides(entries: list[str]) -> dict:
    """["+model.units=20", "seed=1"] -> {"model.units": 20, "seed": 1}; "~key" deletions skipped."""
    pairs = (entry.split("=", 1) for entry in map(str, entries) if "=" in entry)
    return {key.lstrip("+~").strip(): parse_value(value) for key, value in pairs}


def flatten(config: dict, prefix: str = "") -> dict:
    """{"model": {"name": "rnn", "hidden_size": 4}} -> {"model": "rnn", "model.hidden_size": 4}:
    dotted keys (``RENAMED``), lists as JSON text."""
    flat = {}
    for key, value in config.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[RENAMED.get(dotted, dotted)] = (json.dumps(value) if isinstance(value, list)
                                                 else value)
    return flat


# ---------------------------------------------------------------------------------------------
# Status

def is_true(value) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return isinstance(value, (int, float, np.number)) and not pd.isna(value) and value != 0


def logged_exception(log_text: str) -> str | None:
    """The exception line of the last Python traceback in a log ("ValueError: boom"), or None."""
    _, header, after = log_text.rpartition("Traceback (most recent call last):")
    if not header:
        return None
    lines = [line for line in after.splitlines() if line.strip() and not line[0].isspace()]
    return lines[0] if lines else "rnnlab.log holds a Python traceback"


def legacy_status(run_dir: Path, has_metrics: bool) -> tuple[str, str] | None:
    """For folders without status.txt: ("failed", reason) from a non-empty error.txt, or --
    without metrics.csv -- from a traceback in rnnlab.log; else None."""
    error = one_line(read_lenient(run_dir / "error.txt"))
    if error:
        return "failed", error
    exception = None if has_metrics else logged_exception(read_lenient(run_dir / "rnnlab.log"))
    return None if exception is None else ("failed", exception)


def run_status(run_dir: Path, said: tuple[str, str] | None,
               metrics: dict | None) -> tuple[str, str]:
    """(status, reason) of a run whose files all read (the module docstring's rules 2-4)."""
    word, reason = said or legacy_status(run_dir, metrics is not None) or ("", "")
    if word in ("failed", "interrupted", "diverged"):
        return word, reason
    if metrics is not None:
        return ("diverged" if is_true(metrics.get("diverged", False)) else "finished"), reason
    if word:   # running: the run was killed; finished: its metrics.csv was removed since
        return "incomplete", f"status.txt says {word} and there is no metrics.csv"
    return "incomplete", "no status.txt and no metrics.csv"


def read_run(run_dir: Path, name: str) -> Run:
    """One run directory: its config, status and metrics, or corrupt with every problem found."""
    problems = []

    def attempt(reader, *args):
        try:
            return reader(*args)
        except CorruptFile as problem:
            problems.append(str(problem))
            return None

    record = attempt(read_run_json, run_dir)
    overrides = attempt(read_overrides, run_dir) or []
    said = attempt(read_status, run_dir)
    metrics = attempt(read_metrics, run_dir)
    tables = {file: attempt(read_long_table, run_dir / file) for file in LONG_TABLES}
    if record is not None and metrics is not None:
        attempt(check_fingerprint, record, metrics)
    if record is not None:
        overrides = record.get("overrides", overrides)
    config = flatten(record["config"]) if record is not None else parse_overrides(overrides)
    keys = [RENAMED.get(key, key) for key in parse_overrides(overrides)]
    if problems:   # nothing of a corrupt run's is trusted but what names its configuration
        return Run(name, "corrupt", "; ".join(problems), config, keys, {}, {})
    return Run(name, *run_status(run_dir, said, metrics), config, keys, metrics or {},
               {file: table for file, table in tables.items() if table is not None})


# ---------------------------------------------------------------------------------------------
# Collecting many

def config_columns(runs: list[Run]) -> tuple[list[str], list[str]]:
    """(swept keys, every config key, swept first). A key is swept where its values differ and
    either every run's config has it (train.bptt set by a preset's choice r2rt=...) or some
    run's overrides name it (model.units for the ESN beside an NVAR that has none) -- but not a
    key the overrides never name whose value follows from an earlier swept key that every run
    has (model.ridge set per model by conf/model_task follows model). Keys the overrides name
    first (first-seen order), then the rest."""
    named = dict.fromkeys(k for run in runs for k in run.override_keys)
    order = dict.fromkeys([*named, *(k for run in runs for k in run.config)])
    keys = [key for key in order if any(key in run.config for run in runs)]

    def values(key):
        return {repr(run.config[key]) for run in runs if key in run.config}

    def follows(key, named_key):
        pairs = {(repr(run.config.get(named_key)), repr(run.config.get(key))) for run in runs}
        return len(pairs) == len({pair[0] for pair in pairs})

    swept = []
    for key in keys:
        everywhere = all(key in run.config for run in runs)
        if len(values(key)) < 2 or not (key in named or everywhere):
            continue
        if key in named or not any(follows(key, earlier) for earlier in swept
                                   if all(earlier in run.config for run in runs)):
            swept.append(key)
    return swept, swept + [key for key in keys if key not in swept]


def collect(path, exclude=None) -> Collected:
    """Read every run directory at or under ``path`` except under ``exclude`` (the report's
    own folder, default ``path/report``); see the module docstring. Raises ReportError only
    where PATH is no folder of runs: a bad run folder is a ``corrupt`` row."""
    path = Path(path)
    if not path.exists():
        raise ReportError(f"{path} does not exist")
    if not path.is_dir():
        raise ReportError(f"{path} is not a directory")
    run_dirs = find_run_dirs(path, exclude=path / "report" if exclude is None else exclude)
    if not run_dirs:
        raise ReportError(f"no run directories under {path} "
                          f"(looked for .hydra/overrides.yaml, metrics.csv or run.json)")
    runs = [read_run(d, d.relative_to(path).as_posix()) for d in run_dirs]
    swept, keys = config_columns(runs)
    metrics = list(dict.fromkeys(c for run in runs for c in run.metrics if c not in keys))
    columns = ["run_dir", "status", "status_reason", *keys, *metrics]
    table = pd.DataFrame([{**run.metrics, **run.config, "run_dir": run.name,
                           "status": run.status, "status_reason": run.reason} for run in runs],
                         columns=columns)
    return Collected(runs=table,
                     training=long_table(runs, table, swept, "training.csv"),
                     gradients=long_table(runs, table, swept, "gradients.csv"),
                     swept=swept, overrides=keys, metrics=metrics)


def long_table(runs: list[Run], table: pd.DataFrame, swept: list[str],
               filename: str) -> pd.DataFrame:
    """Stack ``filename`` of every run that has it, led by run_dir and the swept keys."""
    frames = []
    for run, (_, row) in zip(runs, table.iterrows()):
        if filename not in run.tables:
            continue
        own = run.tables[filename]
        lead = {"run_dir": run.name, **{key: row[key] for key in swept if key not in own}}
        frames.append(pd.concat([pd.DataFrame(lead, index=own.index), own], axis=1))
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


def counts_line(collected: Collected) -> str:
    """"8 runs found (5 finished, 1 diverged, 2 corrupt); swept: model, seed" (statuses seen)."""
    counts = collected.runs["status"].value_counts()
    parts = ", ".join(f"{counts[status]} {status}" for status in STATUSES if status in counts)
    swept = ", ".join(collected.swept) if collected.swept else "none"
    return f"{len(collected.runs)} runs found ({parts}); swept: {swept}"
