"""The command line: ``python -m rnnlab model=esn task=sine [KEY=VALUE ...]`` (``-m`` for sweeps).

The Hydra task function builds the objects from the composed config and calls
:func:`rnnlab.experiments.run_experiment`, which records the run's identity and status; it
returns the run's headline metric for sweepers (None where there is no finite value: a sweeper
then counts the trial as failed). A bad value is refused before anything is written
(rnnlab.app.callbacks.Preflight); a configuration Hydra cannot compose is one line too, and so
are a failed run and Ctrl-C (:func:`cli`).
"""

import logging
import math
import os
import shutil
import signal
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from rnnlab.app import callbacks
from rnnlab.app.callbacks import refuse
from rnnlab.app.help import version
from rnnlab.app.preflight import check_config, one_line
from rnnlab.app.schema import register_configs
from rnnlab.experiments import (EXPERIMENTS, experiment, records, run_experiment, shown_metrics,
                                summary)
from rnnlab.validation import ConfigError

log = logging.getLogger("rnnlab")
NO_RESULTS = {".hydra", "rnnlab.log", records.IDENTITY, records.STATUS, records.LOCK}


@hydra.main(version_base="1.3", config_path="pkg://rnnlab.conf", config_name="config")
def main(cfg: DictConfig) -> float | None:
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    multirun = HydraConfig.get().mode == RunMode.MULTIRUN
    try:   # a sampling sweeper's trial is checked here, when it starts
        objects = check_config(cfg)
        spec = experiment(**objects)
    except ConfigError as error:
        if not multirun:
            refuse(error)   # reached only where the pre-flight check did not run
        log.error("this trial is refused: %s", error)
        records.write_status(out_dir, "failed", f"ConfigError: {error}")
        return None
    headline = EXPERIMENTS[spec.kind].headline(spec)
    fingerprint = records.fingerprint(records.identity(spec))
    if cfg.resume and records.is_complete(out_dir, fingerprint):
        log.info("resume: %s finished with this config (%s), skipped", out_dir, fingerprint[:12])
        return objective(records.finished_metrics(out_dir), headline)
    if cfg.resume and (out_dir / "metrics.csv").exists():
        log.info("resume: %s holds a run of another config: running again", out_dir)
    lock = None if multirun else _lock(out_dir)
    try:
        metrics = run_experiment(**objects, out_dir=out_dir,
                                 context={"overrides": list(HydraConfig.get().overrides.task)},
                                 resume=cfg.resume).metrics
    except ConfigError as error:   # found only at run time, e.g. a reservoir without a radius
        if not multirun:
            _remove_if_empty(out_dir)
            refuse(error)
        log.error("this job is refused: %s", error)
        return None
    except Exception as error:
        log.exception("this run failed")   # the traceback goes to the run's log
        if not multirun:
            print(f"rnnlab: error: the run failed: {type(error).__name__}: {error} (traceback in "
                  f"{out_dir / 'rnnlab.log'})", file=sys.stderr)
            sys.exit(1)
        return None   # the sweep goes on
    finally:
        if lock is not None:
            lock.release()
    print(summary(metrics, out_dir, shown_metrics(spec, headline)))
    return objective(metrics, headline)


def _lock(out_dir: Path):
    try:
        return records.Lock(out_dir, "hydra.run.dir").acquire()
    except ConfigError as error:
        refuse(error)


def _remove_if_empty(out_dir: Path) -> None:
    """Leave nothing that looks like a run where a run was refused."""
    if out_dir.is_dir() and {p.name for p in out_dir.iterdir()} <= NO_RESULTS:
        shutil.rmtree(out_dir)


def objective(metrics: dict | None, headline: str) -> float | None:
    """The headline metric as a sweeper's objective; None where it is missing or not finite."""
    value = (metrics or {}).get(headline)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value):
        log.warning("%s = %s: a sweeper counts this trial as failed", headline, value)
        return None
    return value


def _terminate(signum, frame) -> None:
    raise records.Interrupted("SIGTERM")


def cli() -> None:
    """``python -m rnnlab`` / ``rnnlab``: Hydra's command line, with every composition error
    (an unknown config choice, a value of the wrong type, an override that does not parse) said
    in one line on stderr and exit status 2; Ctrl-C or SIGTERM end with one line too (status 130),
    the interrupted run marked ``interrupted`` and an interrupted sweep's report written."""
    if sys.argv[1:] == ["--version"]:   # rnnlab's version, not Hydra's
        print(f"rnnlab {version()}")
        return
    register_configs()
    os.environ["HYDRA_FULL_ERROR"] = "1"   # Hydra's errors reach us as exceptions, not as text
    signal.signal(signal.SIGTERM, _terminate)
    try:
        main()
    except (HydraException, OmegaConfBaseException) as error:
        refuse(ConfigError(one_line(error)))
    except KeyboardInterrupt as stop:
        _interrupted(getattr(stop, "signal_name", "SIGINT"))
    except Exception as error:   # a launcher or sweeper plugin that failed mid-sweep
        if not callbacks.ACTIVE:
            raise
        found = _close_sweep()
        print(f"rnnlab: error: the sweep stopped: {type(error).__name__}: {error}"
              + (f"; {found}" if found else ""), file=sys.stderr)
        sys.exit(1)


def _close_sweep() -> str | None:
    """Report and unlock the sweep in progress; returns the report's line."""
    sweep = dict(callbacks.ACTIVE)
    callbacks.ACTIVE.clear()
    found = callbacks.report(sweep["dir"]) if sweep.get("dir", Path("-")).is_dir() else None
    if sweep.get("lock") is not None:
        sweep["lock"].release()
    return found


def _interrupted(signal_name: str) -> None:
    if callbacks.ACTIVE:
        found = _close_sweep()
        print(f"rnnlab: interrupted ({signal_name}): the sweep stopped"
              + (f"; report of what ran: {found}" if found else ""), file=sys.stderr)
    else:
        print(f"rnnlab: interrupted ({signal_name}): the run is marked interrupted",
              file=sys.stderr)
    sys.exit(130)
