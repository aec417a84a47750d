"""Checkpoints of BPTT training in a run directory, and reading them back.

    checkpoint.npz   the arrays: param/<name>, optimiser/<name>/<buffer>, state/<i> (the state
                     carried into the next window, RNN [h], LSTM [h, c], each (B, H))
    checkpoint.json  the rest: step, optimiser, smoothed loss, the history and the probes' data
                     so far, the run's config and fingerprint, the vocabulary, the characters
                     that seed samples, and the SHA-256 of checkpoint.npz

No pickled objects: the npz holds plain .npy members (``numpy.load(..., allow_pickle=False)``
reads it) and the json plain data. Each file is written atomically, the npz first; the digest in
the json detects a pair from two different moments. The zip members carry a fixed timestamp, so
the same training writes the same bytes.
"""

import hashlib
import io
import json
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnlab.tables import atomic_path
from rnnlab.training import Snapshot
from rnnlab.validation import ConfigError

ARRAYS, RECORD = "checkpoint.npz", "checkpoint.json"
FORMAT = 1
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass
class Checkpoint:
    """A checkpoint read back: the :class:`~rnnlab.training.Snapshot` and what the json says of
    the run (``config``, ``fingerprint``, ``classes``, ``seeds``: character indices that seed
    samples -- ``test``: the test part's first, ``next``: stream 0's next one)."""

    snapshot: Snapshot
    config: dict
    fingerprint: str
    classes: list | None
    seeds: dict
    run_dir: Path

    @property
    def shapes(self) -> dict:
        return {name: tuple(value.shape) for name, value in self.snapshot.params.items()}


def _arrays(snapshot: Snapshot) -> dict[str, np.ndarray]:
    arrays = {f"param/{name}": value for name, value in snapshot.params.items()}
    for name, buffers in snapshot.optimiser_state.items():
        arrays.update({f"optimiser/{name}/{key}": value for key, value in buffers.items()})
    for index, part in enumerate(snapshot.state or []):
        arrays[f"state/{index}"] = part
    return arrays


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz (a zip of .npy files) with fixed member timestamps: equal arrays, equal bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arrays[name]),
                                      allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{name}.npy", ZIP_TIME), member.getvalue())
    return buffer.getvalue()


def save(run_dir: Path, snapshot: Snapshot, config: dict, fingerprint: str,
         classes: list | None = None, seeds: dict | None = None) -> None:
    """Write checkpoint.npz and checkpoint.json into ``run_dir`` (atomically, npz first)."""
    run_dir = Path(run_dir)
    content = _npz_bytes(_arrays(snapshot))
    with atomic_path(run_dir / ARRAYS) as temporary:
        temporary.write_bytes(content)
    record = {"format": FORMAT, "step": snapshot.step, "optimiser": snapshot.optimiser,
              "optimiser_steps": snapshot.optimiser_steps, "smooth_loss": snapshot.smooth_loss,
              "state_parts": len(snapshot.state or []), "classes": classes,
              "seeds": seeds or {}, "fingerprint": fingerprint, "config": config,
              "arrays_sha256": hashlib.sha256(content).hexdigest(), "record": snapshot.record}
    with atomic_path(run_dir / RECORD) as temporary:
        temporary.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def load(run_dir, key: str = "run_dir") -> Checkpoint:
    """The checkpoint in ``run_dir``; ConfigError (one line naming ``key``) where there is none
    or it cannot be trusted."""
    run_dir = Path(run_dir)
    where = f"{key}={str(run_dir)!r}"
    if not run_dir.is_dir():
        raise ConfigError(f"{where} is not a directory: allowed a run directory holding "
                          f"{RECORD} and {ARRAYS}")
    try:
        record = json.loads((run_dir / RECORD).read_text(encoding="utf-8"))
        content = (run_dir / ARRAYS).read_bytes()
    except FileNotFoundError as error:
        raise ConfigError(f"{where} holds no checkpoint ({Path(error.filename).name} is "
                          f"missing): allowed a run directory of a BPTT training run, which "
                          f"writes one at its end and every train.checkpoint_every steps") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ConfigError(f"{where}: {RECORD} cannot be read ({error})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ConfigError(f"{where}: {RECORD} is not an rnnlab checkpoint of format {FORMAT}")
    if hashlib.sha256(content).hexdigest() != record.get("arrays_sha256"):
        raise ConfigError(f"{where}: {ARRAYS} does not match {RECORD} (written at different "
                          f"moments, or changed since): allowed a checkpoint written whole")
    try:
        with np.load(io.BytesIO(content), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise ConfigError(f"{where}: {ARRAYS} cannot be read ({error})") from None
    return Checkpoint(_snapshot(arrays, record), record.get("config") or {},
                      record.get("fingerprint", ""), record.get("classes"),
                      record.get("seeds") or {}, run_dir)


def _snapshot(arrays: dict[str, np.ndarray], record: dict) -> Snapshot:
    params, optimiser_state = {}, {}
    for name, value in arrays.items():
        kind, *rest = name.split("/")
        if kind == "param":
            params[rest[0]] = value
        elif kind == "optimiser":
            optimiser_state.setdefault(rest[0], {})[rest[1]] = value
    parts = [arrays[f"state/{index}"] for index in range(record["state_parts"])]
    return Snapshot(record["step"], params, record["optimiser"], record["optimiser_steps"],
                    optimiser_state, parts or None, record["smooth_loss"], record.get("record"))


def matching(run_dir: Path, fingerprint: str) -> Checkpoint | None:
    """The checkpoint in ``run_dir`` if it was written under exactly this fingerprint (a run of
    this config that stopped), else None."""
    if not (Path(run_dir) / RECORD).is_file():
        return None
    try:
        found = load(run_dir)
    except ConfigError:
        return None
    return found if found.fingerprint == fingerprint else None


def restore_files(folder: Path | None, run_dir: Path) -> None:
    """Copy a checkpoint's two files from ``folder`` (where an earlier attempt's outputs were set
    aside) back into ``run_dir``."""
    for name in (ARRAYS, RECORD):
        if folder is not None and (Path(folder) / name).is_file():
            shutil.copy2(Path(folder) / name, Path(run_dir) / name)
