"""rnnlab: how recurrent networks learn -- exact BPTT, echo state networks, gradient dynamics.

The package is a plain Python library (numpy, no Hydra) with a Hydra app at its edge:

    models/, tasks/   what learns and what is learnt (plain numpy, no files)
    training.py       the truncated-BPTT loop, with probes as callbacks
    analyses/         arrays and models in, tables out (gradient flow, ESN sweeps, observables)
    experiments/      run an experiment, write its tables and plots (the only writer of files)
    report/           aggregate run directories into tables and a page
    app/              the command line (the only importer of hydra and omegaconf)
"""

from rnnlab.analyses import (ESNSweepConfig, GradientFlowConfig, effective_spectral_radii,
                             lyapunov_exponent, measure_gradient_flow, memory_capacity,
                             memory_function, sweep)
from rnnlab.experiments import EXPERIMENTS, Experiment, RunResult, run_experiment
from rnnlab.models import ESN, GRU, LSTM, NVAR, RNN
from rnnlab.tasks import (AddingTask, BinaryAdditionTask, CharsTask, CopyTask, EchoTask,
                          MackeyGlassTask, SeriesData, SineTask, Task)
from rnnlab.training import (GradientRecords, Probe, RecurrentSpectra, Stream, TrainConfig,
                             train)
from rnnlab.validation import ConfigError

__all__ = ["ESN", "NVAR", "RNN", "LSTM", "GRU", "Task", "SeriesData", "SineTask",
           "MackeyGlassTask", "EchoTask", "CharsTask", "AddingTask", "CopyTask", "BinaryAdditionTask", "TrainConfig", "Stream", "train", "Probe", "RecurrentSpectra",
           "GradientRecords", "GradientFlowConfig", "measure_gradient_flow", "ESNSweepConfig",
           "sweep", "memory_function", "memory_capacity", "lyapunov_exponent",
           "effective_spectral_radii", "EXPERIMENTS", "Experiment", "RunResult",
           "run_experiment", "ConfigError"]
