"""rnnlab: how recurrent networks learn -- exact BPTT, echo state networks, gradient dynamics."""

from rnnlab.experiment import SweepConfig, run_experiment
from rnnlab.models import ESN, LSTM, RNN
from rnnlab.tasks import CharsTask, EchoTask, MackeyGlassTask, SineTask
from rnnlab.training import TrainConfig, train
from rnnlab.validation import ConfigError

__all__ = ["ESN", "RNN", "LSTM", "SineTask", "MackeyGlassTask", "EchoTask", "CharsTask",
           "TrainConfig", "SweepConfig", "train", "run_experiment", "ConfigError"]
