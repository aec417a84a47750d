"""What one run does, as one value: the model, the task, the seed, the experiment kind and the
settings of every kind (each experiment reads its own)."""

from dataclasses import dataclass, field
from pathlib import Path

from rnnlab.analyses.esn_sweep import ESNSweepConfig
from rnnlab.analyses.gradient_flow import GradientFlowConfig
from rnnlab.tasks.base import Task
from rnnlab.training import TrainConfig


@dataclass
class Experiment:
    """What one run does: a model and a task, a seed, the experiment ``kind`` and its settings."""

    model: object
    task: Task
    seed: int = 0
    kind: str = "train"
    train: TrainConfig = field(default_factory=TrainConfig)               # BPTT models
    gradient_flow: GradientFlowConfig = field(default_factory=GradientFlowConfig)
    esn_sweep: ESNSweepConfig = field(default_factory=ESNSweepConfig)
    blas_threads: int = 1   # BLAS threads of the run (0: the library's own choice, all cores);
                            # part of the config because summation order can change last bits


def experiment(model, task, seed: int = 0, kind: str = "train", train: TrainConfig | None = None,
               gradient_flow: GradientFlowConfig | None = None,
               esn_sweep: ESNSweepConfig | None = None, blas_threads: int = 1) -> Experiment:
    """An :class:`Experiment`, the settings left as None taking their defaults."""
    settings = {"train": train, "gradient_flow": gradient_flow, "esn_sweep": esn_sweep}
    return Experiment(model, task, seed, kind,
                      **{key: value for key, value in settings.items() if value is not None},
                      blas_threads=blas_threads)




@dataclass
class RunPlace:
    """Where a run writes while it runs (checkpoints; None: nothing until the end), the run's
    identity and fingerprint (rnnlab.experiments.records), and a checkpoint of this very config
    to continue from (resume), if any."""

    out_dir: Path | None = None
    identity: dict = field(default_factory=dict)
    fingerprint: str = ""
    resume: object = None    # rnnlab.experiments.checkpoints.Checkpoint or None
