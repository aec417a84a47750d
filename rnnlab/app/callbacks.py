"""Hydra callbacks (conf/config.yaml: hydra.callbacks): the pre-flight check and the report.

- :class:`Preflight`: a single run is checked before Hydra creates its run directory
  (``on_run_start``); a multirun has its launcher settings checked and, with the basic sweeper,
  every job composed and checked before the first starts (``on_multirun_start``); then the sweep
  directory is locked (a second sweep into it is refused), and sweep.json records what runs:
  the command, the resolved sweep directory, the launcher and the sweeper with its parameters.
  A refusal is one line on stderr and exit status 2.
- :class:`Report`: every multirun ends by writing SWEEP_DIR/report/ (tables and index.html).

``ACTIVE`` holds the sweep in progress (its folder, lock, job count), so that an interrupted
sweep can still be reported and unlocked (rnnlab.app.main.cli).
"""

import logging
import sys
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from rnnlab.app.preflight import check_config, check_grid, check_launcher, check_output_folder
from rnnlab.experiments.records import Lock, write_sweep
from rnnlab.report import ReportError, collect, counts_line, write_report
from rnnlab.validation import ConfigError

log = logging.getLogger("rnnlab")

BASIC_SWEEPER = "BasicSweeper"   # the end of Hydra's default sweeper's _target_
ACTIVE: dict = {}                # the sweep in progress: dir, lock, jobs


def refuse(error: ConfigError) -> None:
    print(f"rnnlab: error: {error}", file=sys.stderr)
    sys.exit(2)


def plain(node) -> object:
    """A config node as plain data, interpolations resolved where they can be."""
    try:
        return OmegaConf.to_container(node, resolve=True)
    except Exception:   # an interpolation only Hydra's job context can resolve
        return OmegaConf.to_container(node, resolve=False)


class Preflight(Callback):
    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        try:
            check_output_folder("hydra.run.dir", config.hydra.run.dir)
            check_config(config)
        except ConfigError as error:
            refuse(error)

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        jobs = None
        try:
            check_output_folder("hydra.sweep.dir", config.hydra.sweep.dir)
            check_launcher(config.hydra.launcher)
            if str(config.hydra.sweeper.get("_target_", "")).endswith(BASIC_SWEEPER):
                jobs = check_grid(config, kwargs.get("config_name") or "config")
                log.info("pre-flight: all %d jobs of the sweep pass their checks", jobs)
            # a sampling sweeper chooses its trials as it goes: each is checked when it starts
            sweep_dir = Path(str(config.hydra.sweep.dir))
            lock = Lock(sweep_dir, "hydra.sweep.dir").acquire()
        except ConfigError as error:
            refuse(error)
        ACTIVE.update(dir=sweep_dir, lock=lock, jobs=jobs)
        write_sweep(sweep_dir, {
            "command": " ".join(["python -m rnnlab -m", *config.hydra.overrides.task,
                                 *config.hydra.overrides.hydra]),
            "sweep_dir": str(sweep_dir.resolve()), "jobs": jobs,
            "launcher": plain(config.hydra.launcher), "sweeper": plain(config.hydra.sweeper)})

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        if ACTIVE.get("lock") is not None:
            ACTIVE["lock"].release()
        ACTIVE.clear()


def report(sweep_dir: Path) -> str | None:
    """Write SWEEP_DIR/report/; returns the line that says what it found (None: no runs)."""
    try:
        collected = collect(sweep_dir, exclude=sweep_dir / "report")
        page = write_report(collected, sweep_dir, sweep_dir / "report")
    except ReportError as error:
        log.warning("no report: %s", error)
        return None
    return f"{counts_line(collected)} -> {page}"


class Report(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        found = report(Path(str(config.hydra.sweep.dir)))
        if found:
            log.info("report: %s", found)
