"""Tasks, by the name used on the command line (``task=NAME``)."""

from rnnlab.tasks.chars import CharsTask
from rnnlab.tasks.echo import EchoTask
from rnnlab.tasks.mackey_glass import MackeyGlassTask
from rnnlab.tasks.series import SeriesData, nrmse
from rnnlab.tasks.sine import SineTask

TASKS = {cls.name: cls for cls in (SineTask, MackeyGlassTask, EchoTask, CharsTask)}
