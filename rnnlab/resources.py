"""Memory a run will need, estimated from its settings before anything is allocated.

Each task and each experiment lists its big arrays as :class:`Need` records -- the config key that
sizes them, its value, what they are, and their bytes; :func:`check_needs` refuses, in one line
naming the key and the estimate, a run whose arrays would not fit in the memory available.
The estimates count the arrays that grow with the settings (series, state buffers, weights,
one-hot inputs), not the interpreter or the libraries.
"""

import os
from dataclasses import dataclass

from rnnlab.validation import ConfigError

FLOAT = 8   # bytes of a float64 or int64


@dataclass(frozen=True)
class Need:
    key: str          # the config key that sizes it, e.g. "task.length"
    value: object     # that key's value
    what: str         # what is allocated, e.g. "the series and its one-hot inputs"
    bytes: float


def available_memory() -> float:
    """Bytes of memory available now (Linux: MemAvailable), else the machine's total."""
    try:
        with open("/proc/meminfo") as file:
            for line in file:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return float("inf")


def size(bytes_: float) -> str:
    """1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if bytes_ < 1024 or unit == "PiB":
            return f"{bytes_:.3g} {unit}" if unit != "B" else f"{bytes_:.0f} B"
        bytes_ /= 1024
    return f"{bytes_:.3g} EiB"


def check_needs(needs: list[Need], available: float | None = None) -> None:
    """Raise ConfigError if the needs add up to more than the memory available."""
    available = available_memory() if available is None else available
    total = sum(need.bytes for need in needs)
    if total <= available:
        return
    largest = max(needs, key=lambda need: need.bytes)
    raise ConfigError(f"{largest.key}={largest.value!r} needs about {size(largest.bytes)} for "
                      f"{largest.what} ({size(total)} in all): allowed what fits in the "
                      f"{size(available)} of memory available")


def worker_threads() -> int:
    """Threads a run may give independent pieces of its work (an ESN sweep's readouts, the
    chunked fit's Gram matrix): OMP_NUM_THREADS where it is set -- joblib's workers get the
    cores divided among the jobs there, and it is the usual way to ask for one thread -- else
    every core. Results never depend on it: each piece runs alone on one BLAS call sequence."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    try:
        return max(1, int(value))
    except ValueError:
        return os.cpu_count() or 1

