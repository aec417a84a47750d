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
class RunConfig:
    seed: int = 0          # one seed per run: model and data streams are spawned from it
    kind: str = "train"    # train, gradient_flow or esn_sweep (set by conf/experiment/*.yaml)
    resume: bool = False   # in a sweep: skip a job whose folder already holds its metrics.csv
    model: Any = MISSING
    task: Any = MISSING
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)       # BPTT models
    gradient_flow: GradientFlowConfig = dataclasses.field(default_factory=GradientFlowConfig)
    esn_sweep: ESNSweepConfig = dataclasses.field(default_factory=ESNSweepConfig)


def register_configs() -> None:
    """Store the schemas in Hydra's ConfigStore: the run's, and every registered model and task
    under its name (group ``model`` / ``task``), so ``model=NAME`` needs no YAML file."""
    store = ConfigStore.instance()
    store.store(name="rnnlab_schema", node=RunConfig)
    for group, table in [("model", MODELS), ("task", TASKS)]:
        for name, cls in table.items():
            store.store(group=group, name=name, node=structured_config(cls))


def build(model_name: str, task_name: str, model_params: dict, task_params: dict):
    """Model and task objects from their names and keyword parameters."""
    for key, name, table in [("model", model_name, MODELS), ("task", task_name, TASKS)]:
        require(name in table, f"{key}={name} is unknown: allowed {', '.join(table)}")
    return MODELS[model_name](**model_params), TASKS[task_name](**task_params)


def objects_from_config(cfg: DictConfig) -> dict:
    """Keyword arguments of :func:`rnnlab.experiments.run_experiment` (model, task, seed, kind,
    and each kind's settings) from a composed config."""
    model = OmegaConf.to_container(cfg.model, resolve=True)
    task = OmegaConf.to_container(cfg.task, resolve=True)
    model, task = build(model.pop("name"), task.pop("name"), model, task)
    settings = {key: cls(**OmegaConf.to_container(cfg[key], resolve=True)) for key, cls in
                [("train", TrainConfig), ("gradient_flow", GradientFlowConfig),
                 ("esn_sweep", ESNSweepConfig)]}
    return {"model": model, "task": task, "seed": cfg.seed, "kind": cfg.kind, **settings}
