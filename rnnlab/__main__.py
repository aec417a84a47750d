"""Command line: ``python -m rnnlab model=esn task=sine [KEY=VALUE ...]`` (``-m`` for sweeps)."""

import shutil
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from rnnlab.config import check_overrides, checked_objects, register_configs
from rnnlab.experiment import run_experiment, summary
from rnnlab.validation import ConfigError

HYDRA_ONLY = {".hydra", "rnnlab.log"}  # what Hydra writes into a run directory before we start


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
    metrics = run_experiment(**objects, out_dir=out_dir)
    print(summary(metrics, out_dir))
    return metrics.get(objects["task"].primary_metric)


def cli() -> None:
    """Check a single run's overrides before Hydra creates its run directory, then run it.

    Invocations with flags (-m, --cfg, --help, ...) go straight to Hydra.
    """
    register_configs()
    overrides = sys.argv[1:]
    if not any(argument.startswith("-") for argument in overrides):
        try:
            check_overrides(overrides)
        except ConfigError as error:
            fail(error)
    main()


if __name__ == "__main__":
    cli()
