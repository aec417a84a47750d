"""Writing run outputs atomically: a reader never sees a half-written table or plot."""

import contextlib
import os
from pathlib import Path

import pandas as pd


@contextlib.contextmanager
def atomic_path(path: Path):
    """Yield a temporary path beside ``path``; on success rename it onto ``path`` (atomic on POSIX)."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_table(table: pd.DataFrame | dict | list, path: Path) -> Path:
    """Write a DataFrame (or a dict of columns / list of row dicts) as CSV, atomically."""
    frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, index=False)
    return Path(path)
