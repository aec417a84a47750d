"""Command line: ``python -m rnnlab model=esn task=sine [KEY=VALUE ...]`` (``-m`` for sweeps)."""

import logging
import math
import shutil
import sys
from pathlib import Path

import hydra
import pandas as pd
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig
from threadpoolctl import threadpool_limits

from rnnlab.config import check_overrides, checked_objects, register_configs, sweep_points
from rnnlab.experiment import run_experiment, summary
from rnnlab.validation import ConfigError

HYDRA_ONLY = {".hydra", "rnnlab.log"}  # what Hydra writes into a run directory before we start
MULTIRUN_FLAGS = {"-m", "--multirun"}

log = logging.getLogger("rnnlab")


def fail(error: ConfigError):
    print(f"rnnlab: error: {error}", file=sys.stderr)
    sys.exit(2)


@hydra.main(version_base="1.3", config_path="pkg://rnnlab.conf", config_name="config")
def main(cfg: DictConfig) -> float:
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        objects = checked_objects(cfg)
    except ConfigError as error:  # reached only where the pre-flight check did not run
        if out_dir.is_dir() and {p.name for p in out_dir.iterdir()} <= HYDRA_ONLY:
            shutil.rmtree(out_dir)  # leave nothing that looks like a run
        fail(error)
    finished = out_dir / "metrics.csv"
    if cfg.resume and finished.exists():   # rerunning a sweep into its old hydra.sweep.dir
        log.info("resume: %s is complete, skipped", out_dir)
        return pd.read_csv(finished).iloc[0].get(objects["task"].primary_metric)
    if HydraConfig.get().mode != RunMode.MULTIRUN:
        metrics = run_experiment(**objects, out_dir=out_dir)
    else:   # one BLAS thread per job (jobs may run side by side); a failure must not stop the sweep
        try:
            with threadpool_limits(limits=1, user_api="blas"):
                metrics = run_experiment(**objects, out_dir=out_dir)
        except Exception as error:
            log.exception("this job failed; the sweep goes on")
            (out_dir / "status.txt").write_text(f"failed: {type(error).__name__}: {error}\n")
            return math.nan
    print(summary(metrics, out_dir))
    return metrics.get(objects["task"].primary_metric)


def cli() -> None:
    """Check every job's overrides before Hydra creates a directory, then run.

    A sweep (-m) is checked job by job before any job starts. Other flags (--cfg, --help, ...)
    go straight to Hydra.
    """
    register_configs()
    arguments = sys.argv[1:]
    flags = [a for a in arguments if a.startswith("-")]
    if set(flags) <= MULTIRUN_FLAGS:
        overrides = [a for a in arguments if not a.startswith("-")]
        try:
            for job in (sweep_points(overrides) if flags else [overrides]):
                check_overrides(job)
        except ConfigError as error:
            fail(error)
    main()


if __name__ == "__main__":
    cli()
