"""The command line: ``python -m rnnlab model=esn task=sine [KEY=VALUE ...]`` (``-m`` for sweeps).

The Hydra task function builds the objects from the composed config and calls
:func:`rnnlab.experiments.run_experiment`; it returns the run's headline metric for sweepers
(None where there is no finite value: a sweeper then counts the trial as failed). A bad value is
refused before anything is written (rnnlab.app.callbacks.Preflight); a configuration Hydra
cannot compose is one line too (:func:`cli`).
"""

import logging
import math
import os
from pathlib import Path

import hydra
import pandas as pd
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException
from threadpoolctl import threadpool_limits

from rnnlab.app.callbacks import refuse
from rnnlab.app.preflight import one_line
from rnnlab.app.schema import objects_from_config, register_configs
from rnnlab.experiments import EXPERIMENTS, experiment, run_experiment, summary
from rnnlab.validation import ConfigError

log = logging.getLogger("rnnlab")


@hydra.main(version_base="1.3", config_path="pkg://rnnlab.conf", config_name="config")
def main(cfg: DictConfig) -> float | None:
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    multirun = HydraConfig.get().mode == RunMode.MULTIRUN
    finished = out_dir / "metrics.csv"
    try:
        objects = objects_from_config(cfg)
        headline = EXPERIMENTS[objects["kind"]].headline(experiment(**objects))
        if cfg.resume and finished.exists():   # rerunning a sweep into its old hydra.sweep.dir
            log.info("resume: %s is complete, skipped", out_dir)
            return objective(pd.read_csv(finished).iloc[0].to_dict(), headline)
        if not multirun:
            metrics = run_experiment(**objects, out_dir=out_dir).metrics
        else:   # one BLAS thread per job (jobs may run side by side)
            with threadpool_limits(limits=1, user_api="blas"):
                metrics = run_experiment(**objects, out_dir=out_dir).metrics
    except Exception as error:
        if not multirun and isinstance(error, ConfigError):
            refuse(error)   # reached only where the pre-flight check did not run
        if not multirun:
            raise
        # a failing job is recorded and the sweep goes on; a refused trial (a value a sampling
        # sweeper chose) is one line, other failures keep their traceback in the log
        if isinstance(error, ConfigError):
            log.error("this trial is refused: %s", error)
        else:
            log.exception("this job failed; the sweep goes on")
        (out_dir / "status.txt").write_text(f"failed: {type(error).__name__}: {error}\n")
        return None
    print(summary(metrics, out_dir))
    return objective(metrics, headline)


def objective(metrics: dict, headline: str) -> float | None:
    """The headline metric as a sweeper's objective; None where it is missing or not finite."""
    value = metrics.get(headline)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value):
        log.warning("%s = %s: a sweeper counts this trial as failed", headline, value)
        return None
    return value


def cli() -> None:
    """``python -m rnnlab`` / ``rnnlab``: Hydra's command line, with every composition error
    (an unknown config choice, a value of the wrong type, an override that does not parse) said
    in one line on stderr and exit status 2."""
    register_configs()
    os.environ["HYDRA_FULL_ERROR"] = "1"   # Hydra's errors reach us as exceptions, not as text
    try:
        main()
    except (HydraException, OmegaConfBaseException) as error:
        refuse(ConfigError(one_line(error)))
