"""Hydra callbacks (conf/config.yaml: hydra.callbacks): the pre-flight check and the report.

- :class:`Preflight`: a single run is checked before Hydra creates its run directory
  (``on_run_start``); a basic-sweeper multirun has every job checked before the first starts
  (``on_multirun_start``). A refusal is one line on stderr and exit status 2.
- :class:`Report`: every multirun ends by writing SWEEP_DIR/report/ (tables and index.html).
"""

import logging
import sys
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from rnnlab.app.preflight import check_config, check_grid
from rnnlab.report import ReportError, collect, counts_line, write_report
from rnnlab.validation import ConfigError

log = logging.getLogger("rnnlab")

BASIC_SWEEPER = "BasicSweeper"   # the end of Hydra's default sweeper's _target_


def refuse(error: ConfigError) -> None:
    print(f"rnnlab: error: {error}", file=sys.stderr)
    sys.exit(2)


class Preflight(Callback):
    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        try:
            check_config(config)
        except ConfigError as error:
            refuse(error)

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        if not str(config.hydra.sweeper.get("_target_", "")).endswith(BASIC_SWEEPER):
            return   # a sampling sweeper: each trial is checked when it starts
        try:
            jobs = check_grid(config, kwargs.get("config_name") or "config")
        except ConfigError as error:
            refuse(error)
        log.info("pre-flight: all %d jobs of the sweep pass their checks", jobs)


class Report(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if sweep_dir.is_dir() and not (sweep_dir / "multirun.yaml").exists():
            OmegaConf.save(config, sweep_dir / "multirun.yaml")   # sweepers that write none
        try:
            collected = collect(sweep_dir, exclude=sweep_dir / "report")
        except ReportError as error:
            log.warning("no report: %s", error)
            return
        page = write_report(collected, sweep_dir, sweep_dir / "report")
        log.info("report: %s -> %s", counts_line(collected), page)
