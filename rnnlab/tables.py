"""Writing run outputs atomically: a reader never sees a half-written table or plot; and the
format of a run's status.txt, shared by the runs that write it and the report that reads it."""

import contextlib
import os
import re
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


STATUS_WORDS = ("running", "finished", "diverged", "failed", "interrupted")   # status.txt's first word


def status_line(word: str, reason: str = "") -> str:
    """status.txt's one line: ``word`` or ``word: reason`` (the reason on one line)."""
    if word not in STATUS_WORDS:
        raise ValueError(f"status={word!r}: allowed one of {', '.join(STATUS_WORDS)}")
    reason = " ".join(str(reason).split())
    return f"{word}: {reason}" if reason else word


def parse_status(text: str) -> tuple[str, str] | None:
    """(word, reason) of status.txt's text; None where it does not start with a status word."""
    match = re.match(r"(\w*)\s*:?\s*(.*)", " ".join(str(text).split()))
    word = match.group(1).lower()
    return (word, match.group(2)) if word in STATUS_WORDS else None


def write_table(table: pd.DataFrame | dict | list, path: Path) -> Path:
    """Write a DataFrame (or a dict of columns / list of row dicts) as CSV, atomically."""
    frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, index=False)
    return Path(path)
