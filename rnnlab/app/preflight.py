"""Checking a run before it starts, through Hydra's public mechanisms, in one line per problem.

- :func:`one_line`: Hydra's and OmegaConf's composition errors (a missing config choice, a value
  of the wrong type, a key the schema lacks, an override that does not parse) as one line that
  names the key, the value and what is allowed -- read from the exceptions' attributes.
- :func:`check_config`: a composed config's objects pass every range rule (ConfigError if not).
- :func:`grid_jobs` / :func:`check_grid`: every job of a basic-sweeper multirun (command-line
  sweeps and a preset's ``hydra.sweeper.params``, expanded as the basic sweeper expands them) is
  composed and checked before the first job starts. Other sweepers (Optuna, Ax, Nevergrad)
  choose their trials as they go: each is checked when it starts (rnnlab.app.main).
"""

import dataclasses
import itertools
import sys
from pathlib import Path

import hydra
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import IntervalSweep
from hydra.errors import MissingConfigException, OverrideParseException
from omegaconf import DictConfig
from omegaconf.errors import (ConfigAttributeError, ConfigKeyError, InterpolationResolutionError,
                              OmegaConfBaseException)

from rnnlab.app.schema import objects_from_config
from rnnlab.experiments import check_experiment, experiment
from rnnlab.validation import ConfigError, require

# config choices that come with an optional extra of the package (pip install -e '.[EXTRA]')
EXTRAS = {"hydra/sweeper/optuna": "optuna", "hydra/launcher/joblib": "sweep",
          "hydra/launcher/submitit_local": "slurm", "hydra/launcher/submitit_slurm": "slurm"}
SCALAR_KEYS = ("seed", "kind", "resume")   # top-level keys that are values, not config choices


def one_line(error: Exception, arguments: list[str] | None = None) -> str:
    """A composition error said in one line; ``arguments``: the command line (to tell a key the
    user typed from one a preset sets)."""
    arguments = sys.argv[1:] if arguments is None else arguments
    if isinstance(error, OverrideParseException):
        return f"{error.override} cannot be parsed: {_first_line(error.message)}"
    if isinstance(error, MissingConfigException) and error.options is not None:
        group, _, choice = error.missing_cfg_file.rpartition("/")
        allowed = ", ".join(error.options) or "none"
        hint = (f" (hydra/sweeper=optuna and the like come with an extra: pip install -e "
                f"'.[{EXTRAS[error.missing_cfg_file]}]')" if error.missing_cfg_file in EXTRAS
                else "")
        return f"{group}={choice} is unknown: allowed {allowed}{hint}"
    cause = (error if isinstance(error, OmegaConfBaseException)
             else error.__cause__ or error.__context__)
    if isinstance(cause, (ConfigAttributeError, ConfigKeyError)) and cause.full_key:
        schema = cause.object_type
        allowed = (", ".join(f.name for f in dataclasses.fields(schema) if f.name != "name")
                   if schema is not None and dataclasses.is_dataclass(schema) else "")
        typed = any(a.lstrip("+~").split("=", 1)[0] == cause.full_key for a in arguments)
        group = cause.full_key.split(".")[0]
        swept = next((a for a in arguments if a.split("=", 1)[0] == group and "," in a), None)
        if typed and swept:   # Hydra composes a sweep first with the group's default choice
            return (f"{cause.full_key} is not a key of every choice of {swept}: write "
                    f"++{cause.full_key}=... to set it in the jobs whose {group} has it")
        choices = [a for a in arguments if "=" in a and not a.startswith(("-", "hydra"))
                   and "." not in a.split("=", 1)[0] and a.split("=", 1)[0] not in SCALAR_KEYS]
        where = ("" if typed else f", but a config file sets it ({', '.join(choices) or 'a preset'}"
                 f"): that preset cannot run with this model or task")
        return (f"{cause.full_key} is not a key of this config{where}"
                + (f"; allowed {allowed}" if allowed and where else
                   f": allowed {allowed}" if allowed else ""))
    if isinstance(cause, InterpolationResolutionError) and cause.full_key:
        return f"{cause.full_key} cannot be resolved: {_first_line(cause.msg)}"
    if isinstance(cause, OmegaConfBaseException) and cause.full_key:
        return f"{cause.full_key}={cause.value} is not allowed: {_first_line(cause.msg)}"
    return _first_line(str(error))


def _first_line(text: str) -> str:
    return next((line.strip() for line in str(text).splitlines() if line.strip()), "")


def check_config(cfg: DictConfig) -> dict:
    """The run_experiment arguments of a composed config, after every check has passed (a bad
    ``${...}`` interpolation included); ConfigError (one line) if one does not."""
    try:
        objects = objects_from_config(cfg)
    except OmegaConfBaseException as error:
        raise ConfigError(one_line(error)) from None
    check_experiment(experiment(**objects))
    return objects


def check_output_folder(key: str, folder) -> None:
    """A run or sweep directory must be a folder of its own, not the working directory."""
    text = str(folder).strip()
    require(text not in ("", ".") and Path(text).resolve() != Path.cwd().resolve(),
            f"{key}={text!r} is not allowed: allowed a folder other than the working directory "
            f"(the run writes many files there)")


def check_launcher(launcher: DictConfig) -> None:
    """Settings of the launcher plugins that would only fail once the sweep has started."""
    jobs = launcher.get("n_jobs")
    require(jobs is None or (isinstance(jobs, int) and jobs != 0),
            f"hydra.launcher.n_jobs={jobs!r} is not allowed: allowed a positive number of "
            f"processes, or -1 for all cores")


def compose(overrides: list[str], config_name: str = "config") -> DictConfig:
    """The job's config as Hydra composes it (inside a running app: its own search path)."""
    if GlobalHydra.instance().is_initialized():
        return hydra.compose(config_name, overrides=overrides)
    with hydra.initialize_config_module(version_base="1.3", config_module="rnnlab.conf"):
        return hydra.compose(config_name, overrides=overrides)


def grid_jobs(arguments: list[str], params: dict | None) -> list[list[str]]:
    """Every job of a basic-sweeper multirun as its overrides: the cartesian product of the
    sweeper's ``params`` (a preset's; the command line wins for a key it gives) and the
    command-line overrides, comma lists / range() / choice() / glob() expanded."""
    parser = OverridesParser.create()
    given = parser.parse_overrides(arguments)
    keys = {override.get_key_element() for override in given}
    preset = parser.parse_overrides([f"{key}={value}" for key, value in (params or {}).items()
                                     if key not in keys])
    axes = []
    for override in preset + given:
        if not override.is_sweep_override():
            axes.append([override.input_line])
            continue
        if isinstance(override.value(), IntervalSweep):
            raise ConfigError(f"{override.input_line} needs a sweeper that samples intervals: "
                              f"allowed with hydra/sweeper=optuna (the basic sweeper takes "
                              f"lists, range() and choice())")
        key = override.get_key_element()
        axes.append([f"{key}={value}" for value in override.sweep_string_iterator()])
    return [list(job) for job in itertools.product(*axes)]


def check_grid(config: DictConfig, config_name: str = "config") -> int:
    """Compose and check every job of this basic-sweeper multirun; returns the number of jobs.
    Raises ConfigError (one line) for the first job that would be refused."""
    jobs = grid_jobs(list(config.hydra.overrides.task), config.hydra.sweeper.get("params"))
    for job in jobs:
        try:
            cfg = compose(job, config_name)
        except Exception as error:   # OmegaConf's and Hydra's many composition errors
            raise ConfigError(one_line(error, job)) from None
        check_config(cfg)
    return len(jobs)
