"""The records that say what a run directory holds: its identity, its status, its lock.

- ``run.json``: the run's identity -- the fingerprint (SHA-256) of its resolved job config
  (every setting that can change a number; no paths of outputs, no launcher settings), that
  config, the command-line overrides, and the provenance (rnnlab version, git commit when the
  package sits in a checkout, library versions, BLAS threads, Python, platform).
- ``status.txt``: one line, the first word the status -- ``running``, ``finished``,
  ``diverged: <rule>``, ``failed: <ExceptionType>: <message>``, ``interrupted: SIGINT`` -- written
  at the start of every attempt and at its end by every path.
- ``metrics.csv`` carries the same fingerprint (``config_fingerprint``), so a table can always be
  matched to the config that produced it.
- A run that starts in a directory holding an earlier run's outputs first moves them into
  ``.superseded/<time>/`` (nothing is deleted, nothing stale is left beside the new files).
- ``sweep.json`` in a sweep directory: the command, the resolved folder, the launcher and the
  sweeper with its parameters, the number of jobs.
- ``.rnnlab.lock``: a directory in use (a sweep directory while its sweep runs, a run directory
  while its run runs) holds this file; a second process refuses to start there.

All files are written atomically (``rnnlab.tables.atomic_path``).
"""

import csv
import dataclasses
import datetime
import hashlib
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from rnnlab.tables import atomic_path, parse_status, status_line
from rnnlab.validation import ConfigError

IDENTITY, STATUS, LOCK, SUPERSEDED = "run.json", "status.txt", ".rnnlab.lock", ".superseded"
KEPT = {".hydra", "rnnlab.log", LOCK, SUPERSEDED}   # what is not an earlier run's output
LIBRARIES = ("numpy", "scipy", "pandas", "matplotlib", "hydra-core", "omegaconf", "threadpoolctl")


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal (SIGTERM; SIGINT arrives as a plain KeyboardInterrupt)."""

    def __init__(self, signal_name: str = "SIGINT"):
        super().__init__(signal_name)
        self.signal_name = signal_name


def identity(spec) -> dict:
    """Everything of an Experiment that can change a number, as plain data: seed, kind, blas
    threads, the model and task (name and fields; not the model's own seed, which the run
    replaces), the settings of every kind, and the digest of the task's data file if it has one."""
    def fields(obj) -> dict:
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.name != "seed"}

    found = {"seed": spec.seed, "kind": spec.kind, "blas_threads": spec.blas_threads,
             "model": {"name": spec.model.name, **fields(spec.model)},
             "task": {"name": spec.task.name, **fields(spec.task)},
             **{key: fields(getattr(spec, key)) for key in ("train", "gradient_flow", "esn_sweep")}}
    digest = spec.task.source_digest()
    if digest is not None:
        found["task_source_sha256"] = digest
    return json.loads(json.dumps(found, default=str))   # plain JSON types, as run.json holds them


def fingerprint(config: dict) -> str:
    """SHA-256 of the config as canonical JSON (sorted keys): equal exactly for equal settings."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def provenance(blas_threads: int | None = None) -> dict:
    """Versions and machine facts that can change a number."""
    from threadpoolctl import threadpool_info
    found = {"rnnlab": _version("rnnlab"), "git_commit": _git_commit(),
             "python": platform.python_version(), "platform": platform.platform(),
             "machine": platform.machine(), "host": socket.gethostname()}
    found.update({name: _version(name) for name in LIBRARIES})
    found["blas"] = [{"library": pool.get("internal_api"), "version": pool.get("version"),
                      "threads": pool.get("num_threads")} for pool in threadpool_info()
                     if pool.get("user_api") == "blas"]
    if blas_threads is not None:
        found["blas_threads"] = blas_threads
    return found


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    """HEAD of the checkout the package runs from (with "+dirty" for uncommitted changes)."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=5)
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--", "."],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return commit.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ------------------------------------------------------------------------------ run.json
def write_identity(run_dir: Path, config: dict, context: dict | None = None) -> str:
    """Write run.json (``context``: what launched the run, e.g. its overrides); returns the
    fingerprint."""
    found = fingerprint(config)
    record = {"fingerprint": found, "config": config, **(context or {}),
              "provenance": provenance(config.get("blas_threads")), "started": now()}
    with atomic_path(Path(run_dir) / IDENTITY) as temporary:
        temporary.write_text(json.dumps(record, indent=1, default=str) + "\n", encoding="utf-8")
    return found


def read_identity(run_dir: Path) -> dict | None:
    """run.json as a dict, or None where it is missing or unreadable."""
    try:
        record = json.loads((Path(run_dir) / IDENTITY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def is_complete(run_dir: Path, fingerprint_: str) -> bool:
    """The run in ``run_dir`` finished (or diverged) under exactly this fingerprint."""
    said = parse_status(read_status(run_dir) or "")
    return (said is not None and said[0] in ("finished", "diverged")
            and finished_fingerprint(run_dir) == fingerprint_)


def finished_metrics(run_dir: Path) -> dict | None:
    """metrics.csv's one row as text values (None where it is missing or unreadable)."""
    try:
        with open(Path(run_dir) / "metrics.csv", newline="", encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return rows[0] if len(rows) == 1 else None


def finished_fingerprint(run_dir: Path) -> str | None:
    """The fingerprint metrics.csv records, where the run finished (None otherwise)."""
    return (finished_metrics(run_dir) or {}).get("config_fingerprint")


def write_sweep(sweep_dir: Path, record: dict) -> None:
    """SWEEP_DIR/sweep.json: what a sweep runs (command, folder, launcher, sweeper, jobs)."""
    with atomic_path(Path(sweep_dir) / "sweep.json") as temporary:
        temporary.write_text(json.dumps({**record, "started": now()}, indent=1, default=str)
                             + "\n", encoding="utf-8")


# ------------------------------------------------------------------------------ status.txt
def write_status(run_dir: Path, status: str, reason: str = "") -> None:
    """status.txt: ``status`` or ``status: reason`` (one line, rnnlab.tables.status_line)."""
    with atomic_path(Path(run_dir) / STATUS) as temporary:
        temporary.write_text(status_line(status, reason) + "\n", encoding="utf-8")


def read_status(run_dir: Path) -> str | None:
    """status.txt's line (None where it is missing or unreadable)."""
    try:
        return (Path(run_dir) / STATUS).read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


# ------------------------------------------------------------------------------ old outputs
def set_aside(run_dir: Path) -> Path | None:
    """Move an earlier run's outputs (everything but .hydra, the log, the lock) into
    ``.superseded/<time>/``; returns that folder, or None if there was nothing to move."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return None
    old = [entry for entry in run_dir.iterdir() if entry.name not in KEPT]
    if not old:
        return None
    target = run_dir / SUPERSEDED / now().replace(":", "-")
    target.mkdir(parents=True)
    for entry in old:
        shutil.move(str(entry), str(target / entry.name))
    return target


# ------------------------------------------------------------------------------ the lock
class Lock:
    """``.rnnlab.lock`` in ``folder`` while a sweep or run uses it (process id and host inside).

    A lock whose process is gone (same host, no such pid) is stale and taken over; one held by a
    live process (or on another host) makes :meth:`acquire` raise ConfigError in one line.
    """

    def __init__(self, folder: Path, what: str):
        self.path, self.what = Path(folder) / LOCK, what

    def acquire(self) -> "Lock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        mine = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": now(),
                           "command": " ".join(sys.argv)})
        for _ in range(2):
            try:
                descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder is not None and self._alive(holder):
                    raise ConfigError(
                        f"{self.what}={str(self.path.parent)!r} is in use by another rnnlab "
                        f"process (pid {holder.get('pid')} on {holder.get('host')}, since "
                        f"{holder.get('since')}): allowed a folder no other run is writing; "
                        f"wait for it, or choose another folder") from None
                self.path.unlink(missing_ok=True)   # stale: its process has gone
                continue
            with os.fdopen(descriptor, "w") as file:
                file.write(mine)
            return self
        raise ConfigError(f"{self.what}={str(self.path.parent)!r}: could not take its lock "
                          f"{self.path.name}")

    def release(self) -> None:
        holder = self._holder()
        if holder is not None and holder.get("pid") == os.getpid():
            self.path.unlink(missing_ok=True)

    def _holder(self) -> dict | None:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None

    @staticmethod
    def _alive(holder: dict) -> bool:
        if holder.get("host") != socket.gethostname():
            return True   # cannot tell: assume it is running
        try:
            os.kill(int(holder.get("pid")), 0)
        except (ProcessLookupError, ValueError, TypeError):
            return False
        except PermissionError:
            return True
        return True
