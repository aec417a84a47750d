"""Hydra structured configs (the typed schema), derived from the model and task dataclasses.

The defaults live in one place, the dataclasses in ``rnnlab.models`` and ``rnnlab.tasks``;
:func:`structured_config` copies their fields (types and defaults) into a config node, so
``model.units=abc`` is rejected as a type error by OmegaConf, and range rules are then checked
by :func:`rnnlab.experiment.check_experiment`. YAML files in ``conf/`` only choose and override.
"""

import dataclasses
import re
import typing
from dataclasses import dataclass
from typing import Any

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError

from rnnlab.experiment import SweepConfig, build, check_experiment
from rnnlab.models import MODELS
from rnnlab.tasks import TASKS
from rnnlab.training import TrainConfig
from rnnlab.validation import ConfigError


def structured_config(cls) -> type:
    """A config dataclass with ``name`` plus the fields of ``cls`` (less ``seed``)."""
    hints = typing.get_type_hints(cls)
    fields = [("name", str, dataclasses.field(default=cls.name))]
    fields += [(f.name, hints[f.name], dataclasses.field(default=f.default,
                                                         default_factory=f.default_factory))
               for f in dataclasses.fields(cls) if f.name != "seed"]
    return dataclasses.make_dataclass(f"{cls.__name__}Config", fields)


@dataclass
class RunConfig:
    seed: int = 0          # one seed per run: model and data streams are spawned from it
    kind: str = "train"    # train, gradient_flow or esn_sweep (set by conf/experiment/*.yaml)
    resume: bool = False   # in a sweep: skip a job whose folder already holds its metrics.csv
    model: Any = MISSING
    task: Any = MISSING
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)  # BPTT models only
    sweep: SweepConfig = dataclasses.field(default_factory=SweepConfig)  # kind != train


def register_configs() -> None:
    """Store the schemas in Hydra's ConfigStore (YAML files in conf/ extend them)."""
    store = ConfigStore.instance()
    store.store(name="rnnlab_schema", node=RunConfig)
    for group, table in [("model", MODELS), ("task", TASKS)]:
        for name, cls in table.items():
            store.store(group=group, name=f"{name}_schema", node=structured_config(cls))


def objects_from_config(cfg: DictConfig) -> dict:
    """Keyword arguments of run_experiment (model, task, seed, train, kind, sweep) from a
    composed config."""
    model = OmegaConf.to_container(cfg.model, resolve=True)
    task = OmegaConf.to_container(cfg.task, resolve=True)
    model, task = build(model.pop("name"), task.pop("name"), model, task)
    return {"model": model, "task": task, "seed": cfg.seed, "kind": cfg.kind,
            "train": TrainConfig(**OmegaConf.to_container(cfg.train, resolve=True)),
            "sweep": SweepConfig(**OmegaConf.to_container(cfg.sweep, resolve=True))}


def checked_objects(cfg: DictConfig) -> dict:
    """objects_from_config(cfg), after every check has passed."""
    objects = objects_from_config(cfg)
    check_experiment(**objects)
    return objects


def check_overrides(overrides: list[str]) -> None:
    """Compose the config from command-line overrides exactly as Hydra will, and check it.

    Raises ConfigError with a one-line message (key, value, what is allowed) for anything Hydra
    or our range rules would refuse, so the CLI can stop before a run directory exists.
    """
    register_configs()
    parser = OverridesParser.create()
    for override in overrides:
        try:
            parser.parse_override(override)
        except HydraException as error:
            raise ConfigError(f"{override} cannot be parsed: {str(error).splitlines()[0]}") from None
    with hydra.initialize_config_module(version_base="1.3", config_module="rnnlab.conf"):
        try:
            cfg = hydra.compose("config", overrides=overrides)
        except Exception as error:  # Hydra's and OmegaConf's many exception types
            raise ConfigError(_one_line(error)) from None
        checked_objects(cfg)


def sweep_points(overrides: list[str]) -> list[list[str]]:
    """Every job of ``python -m rnnlab -m OVERRIDES`` as its list of overrides: the command-line
    sweeps (``model=rnn,lstm``) and a preset's ``hydra.sweeper.params`` (the command line wins),
    expanded as Hydra's basic sweeper expands them (the cartesian product)."""
    register_configs()
    parser = OverridesParser.create()
    parsed = []
    for override in overrides:
        try:
            parsed.append(parser.parse_override(override))
        except HydraException as error:
            raise ConfigError(f"{override} cannot be parsed: {str(error).splitlines()[0]}") from None
    fixed = [o.input_line for o in parsed if not o.is_sweep_override()]
    with hydra.initialize_config_module(version_base="1.3", config_module="rnnlab.conf"):
        try:
            cfg = hydra.compose("config", overrides=fixed, return_hydra_config=True)
        except Exception as error:
            raise ConfigError(_one_line(error)) from None
    given = {o.get_key_element() for o in parsed}
    preset = [f"{key}={value}" for key, value in (cfg.hydra.sweeper.get("params") or {}).items()
              if key not in given]
    try:
        return BasicSweeper.split_arguments(parser.parse_overrides(preset) + parsed, None)[0]
    except HydraException as error:
        raise ConfigError(str(error).splitlines()[0]) from None


def _one_line(error: Exception) -> str:
    """Hydra's multi-line composition errors, said in one line."""
    cause, text = error.__cause__, str(error)
    if isinstance(cause, ConfigAttributeError) and dataclasses.is_dataclass(cause.object_type):
        allowed = ", ".join(f.name for f in dataclasses.fields(cause.object_type) if f.name != "name")
        return f"{cause.full_key} is not a key of this config: allowed {allowed}"
    missing = re.search(r"Could not find '([^/']+)/([^']+)'", text)
    if missing:
        group, choice = missing.groups()
        options = GlobalHydra.instance().config_loader().get_group_options(group)
        allowed = ", ".join(o for o in options if not o.endswith("_schema"))
        return f"{group}={choice} is unknown: allowed {allowed}"
    preset = re.search(r"In '([^']+)': ConfigKeyError.*Key '([^']+)' not in '(\w+)Config'",
                       text, re.S)
    if preset:
        source, key, schema = preset.groups()
        return (f"{source.replace('/', '=')} sets {key}, which {schema} does not have: "
                f"this preset cannot run with that model or task")
    merging = re.match(r"Error merging override (\S+)", text)
    if merging and cause is not None:
        return f"{merging.group(1)} is not allowed: {str(cause).splitlines()[0]}"
    return " ".join(line.strip() for line in text.splitlines()[:2])
