"""Tasks: what a model is asked to learn, with its data, metrics and theory (plain numpy).

Every task follows the contract in :mod:`rnnlab.tasks.base` (``make_data``, ``score`` or
``theory``, ``primary_metric``, ``is_classification``, the train/test split). Tasks are listed
here by the name used on the command line (``task=NAME``); adding one is a new module plus one
entry in ``TASKS``.
"""

from rnnlab.tasks.adding import AddingTask
from rnnlab.tasks.base import SeriesData, Task, nrmse
from rnnlab.tasks.binary_addition import BinaryAdditionTask
from rnnlab.tasks.chars import CharsTask
from rnnlab.tasks.copy import CopyTask
from rnnlab.tasks.echo import EchoTask
from rnnlab.tasks.lorenz import LorenzTask
from rnnlab.tasks.mackey_glass import MackeyGlassTask
from rnnlab.tasks.memory import MemoryTask
from rnnlab.tasks.narma import NarmaTask
from rnnlab.tasks.sequences import SequenceTask
from rnnlab.tasks.sine import SineTask

TASKS = {cls.name: cls for cls in (SineTask, MackeyGlassTask, NarmaTask, LorenzTask, MemoryTask,
                                   EchoTask, CharsTask, AddingTask, CopyTask,
                                   BinaryAdditionTask)}

__all__ = ["SeriesData", "Task", "nrmse", "SineTask", "MackeyGlassTask", "NarmaTask", "LorenzTask",
           "MemoryTask", "EchoTask", "CharsTask", "SequenceTask", "AddingTask", "CopyTask",
           "BinaryAdditionTask", "TASKS", "choices"]


def choices(classification: bool) -> str:
    """The command-line choices of one kind of task, e.g. "task=sine, task=mackey_glass"."""
    return ", ".join(f"task={name}" for name, cls in TASKS.items()
                     if cls.is_classification == classification)
