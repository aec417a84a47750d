"""What every experiment hands back, and the writers they share: the only code that puts tables,
text and figures into a run directory (all atomically, through ``rnnlab.tables``)."""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rnnlab import plots, spectral
from rnnlab.tables import atomic_path, write_table
from rnnlab.tasks.base import SeriesData

ALL_EIGENVALUES_UP_TO = 2000   # units; above this the spectrum keeps the leading eigenvalues
LEADING_EIGENVALUES = 200


@dataclass
class RunResult:
    """One run's results: ``metrics`` (metrics.csv's row), ``tables`` (name -> DataFrame, written
    as NAME.csv) and ``texts`` (file name -> text, e.g. samples.txt)."""

    metrics: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)


def write_result(result: RunResult, out_dir: Path) -> None:
    """Every table as NAME.csv and every text file (metrics.csv is written last, elsewhere)."""
    for name, table in result.tables.items():
        write_table(table, out_dir / f"{name}.csv")
    for name, text in result.texts.items():
        write_text(text, out_dir / name)


def write_text(text: str, path: Path) -> None:
    """A UTF-8 text file, atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def series_table(data: SeriesData, teacher_forced: np.ndarray,
                 free_run: np.ndarray) -> pd.DataFrame:
    """series.csv: t, input, target, teacher_forced, free_run over the test part (one column per
    feature, suffixed _j when there are several); a short free run is padded with NaN."""
    test_length = len(data.y_test)
    padded = np.full((test_length, free_run.shape[1]), np.nan)
    padded[:len(free_run)] = free_run
    columns = {"t": np.arange(data.train_length, data.train_length + test_length)}
    for name, values in [("input", data.u_test), ("target", data.y_test),
                         ("teacher_forced", teacher_forced), ("free_run", padded)]:
        for j in range(values.shape[1]):
            columns[name if values.shape[1] == 1 else f"{name}_{j}"] = values[:, j]
    return pd.DataFrame(columns)


def plot_series(model, task, result: RunResult, out_dir: Path) -> None:
    """prediction.png from series.csv, its title giving the task's headline metrics."""
    headline = ", ".join(f"{key.replace('_', ' ')} {result.metrics[key]:.3g}"
                         for key in task.headline)
    plots.save(plots.plot_prediction(result.tables["series"],
                                     f"{model.name} on {task.name}: {headline}"),
               out_dir / "prediction.png")


def spectrum_rows(model, when: str | None = None) -> pd.DataFrame:
    """Eigenvalues of every recurrent block (real, imag, modulus; led by ``when`` and ``block``
    for models with named blocks): all of them up to ALL_EIGENVALUES_UP_TO units, else the
    leading ones."""
    blocks = model.recurrent_blocks()
    size = next(iter(blocks.values())).shape[0]
    leading = None if size <= ALL_EIGENVALUES_UP_TO else LEADING_EIGENVALUES
    frames = []
    for block, values in spectral.recurrent_spectra(model, leading).items():
        lead = {} if when is None else {"when": when, "block": block}
        frames.append(pd.DataFrame({**{key: [value] * len(values) for key, value in lead.items()},
                                    "real": values.real, "imag": values.imag,
                                    "modulus": np.abs(values)}))
    return pd.concat(frames, ignore_index=True)
