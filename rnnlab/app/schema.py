"""Hydra structured configs (the typed schema), derived from the library's own dataclasses.

The defaults live in one place, the dataclasses of the models, tasks, training loop and
analyses; :func:`structured_config` copies a model's or task's fields (types and defaults) into a
config node, so ``model.units=abc`` is rejected as a type error by OmegaConf, and range rules are
then checked by :func:`rnnlab.experiments.check_experiment`. YAML files in ``conf/`` only choose
and override (presets, settings per model and task).
"""

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from rnnlab.analyses.esn_sweep import ESNSweepConfig
from rnnlab.app.help import register_help
from rnnlab.analyses.gradient_flow import GradientFlowConfig
from rnnlab.models import MODELS
from rnnlab.tasks import TASKS
from rnnlab.training import TrainConfig
from rnnlab.validation import require


def structured_config(cls) -> type:
    """A config dataclass with ``name`` plus the fields of ``cls`` (less ``seed``)."""
    hints = typing.get_type_hints(cls)
    fields = [("name", str, dataclasses.field(default=cls.name))]
    fields += [(f.name, hints[f.name], dataclasses.field(default=f.default,
                                                         default_factory=f.default_factory))
               for f in dataclasses.fields(cls) if f.name != "seed"]
    return dataclasses.make_dataclass(f"{cls.__name__}Config", fields)


@dataclass
class Preset:
    """What a preset (conf/experiment/*.yaml) says of itself, so that it cannot run silently with
    a model it was not written for."""

    name: str = ""                                   # e.g. esn_radius
    models: list[str] = dataclasses.field(default_factory=list)   # empty: any model


@dataclass
class RunConfig:
    seed: int = 0          # one seed per run: model and data streams are spawned from it
    kind: str = "train"    # train, gradient_flow or esn_sweep (set by conf/experiment/*.yaml)
    resume: bool = False   # rerunning into old folders: skip a job that finished with this
                           # config, continue one that stopped from its checkpoint
    blas_threads: int = 1  # BLAS threads per run (0: all cores); 1 gives the same bytes whether
                           # a run is alone or one of many jobs side by side
    model: Any = MISSING
    task: Any = MISSING
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)       # BPTT models
    gradient_flow: GradientFlowConfig = dataclasses.field(default_factory=GradientFlowConfig)
    esn_sweep: ESNSweepConfig = dataclasses.field(default_factory=ESNSweepConfig)
    preset: Preset = dataclasses.field(default_factory=Preset)


def register_configs() -> None:
    """Store the schemas in Hydra's ConfigStore: the run's, and every registered model and task
    under its name (group ``model`` / ``task``), so ``model=NAME`` needs no YAML file; and the
    app's help."""
    store = ConfigStore.instance()
    store.store(name="rnnlab_schema", node=RunConfig)
    register_help()                        # hydra/help: rnnlab, which config.yaml selects
    for group, table in [("model", MODELS), ("task", TASKS)]:
        for name, cls in table.items():
            store.store(group=group, name=name, node=structured_config(cls))


SETTINGS = {"train": TrainConfig, "gradient_flow": GradientFlowConfig, "esn_sweep": ESNSweepConfig}


def build(model_name: str, task_name: str, model_params: dict, task_params: dict):
    """Model and task objects from their names and keyword parameters (ConfigError for an
    unknown name or key: ``+model.foo=1`` adds a key no model has)."""
    built = []
    for key, name, table, params in [("model", model_name, MODELS, model_params),
                                     ("task", task_name, TASKS, task_params)]:
        require(name in table, f"{key}={name} is unknown: allowed {', '.join(table)}")
        built.append(_construct(table[name], params, key))
    return tuple(built)


def _construct(cls, params: dict, prefix: str):
    fields = [f.name for f in dataclasses.fields(cls) if f.name != "seed"]
    unknown = [name for name in params if name not in fields]
    require(not unknown, f"{prefix}.{unknown[0] if unknown else ''} is not a key of "
                         f"{prefix}={getattr(cls, 'name', prefix)}: allowed {', '.join(fields)}")
    return cls(**params)


def objects_from_config(cfg: DictConfig) -> dict:
    """Keyword arguments of :func:`rnnlab.experiments.run_experiment` (model, task, seed, kind,
    blas_threads and each kind's settings) from a composed config (ConfigError for a key the
    schema lacks, e.g. ``+foo=1``)."""
    known = {f.name for f in dataclasses.fields(RunConfig)}
    extra = [key for key in cfg if key not in known and key != "hydra"]
    require(not extra, f"{extra[0] if extra else ''} is not a key of this config: allowed "
                       f"{', '.join(sorted(known))}")
    model = OmegaConf.to_container(cfg.model, resolve=True)
    task = OmegaConf.to_container(cfg.task, resolve=True)
    model, task = build(model.pop("name"), task.pop("name"), model, task)
    settings = {key: _construct(cls, OmegaConf.to_container(cfg[key], resolve=True), key)
                for key, cls in SETTINGS.items()}
    preset = cfg.get("preset") or {}
    require(not preset.get("models") or model.name in preset.get("models"),
            f"model={model.name} cannot run experiment={preset.get('name')}: it is written for "
            + ", ".join(f"model={name}" for name in preset.get("models") or []))
    return {"model": model, "task": task, "seed": cfg.seed, "kind": cfg.kind,
            "blas_threads": cfg.get("blas_threads", 1), **settings}
