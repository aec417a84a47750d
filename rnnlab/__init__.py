"""rnnlab: how recurrent networks learn -- exact BPTT, echo state networks, gradient dynamics."""

from rnnlab.experiment import run_experiment
from rnnlab.models import ESN
from rnnlab.tasks import MackeyGlassTask, SineTask
from rnnlab.validation import ConfigError

__all__ = ["ESN", "SineTask", "MackeyGlassTask", "run_experiment", "ConfigError"]
