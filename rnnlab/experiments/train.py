"""``kind=train`` (the default): fit or train one model on one task, then score, tabulate, plot.

How depends on the model's family (``model.family``): a reservoir's readout is fitted by ridge
regression (:mod:`~rnnlab.experiments.train_reservoir`), a recurrent network is trained by
truncated BPTT (:mod:`~rnnlab.experiments.train_recurrent`); inside each, the task's kind
(regression or classification) decides how it is scored. Every model runs every task.
"""

from rnnlab.experiments import train_recurrent, train_reservoir
from rnnlab.experiments.spec import Experiment

FAMILIES = {"reservoir": train_reservoir, "recurrent": train_recurrent}


def check(spec: Experiment) -> None:
    FAMILIES[spec.model.family].check(spec)


def run(spec: Experiment, data, rng, place=None):
    return FAMILIES[spec.model.family].run(spec, data, rng, place)


def plot(spec: Experiment, result, out_dir) -> None:
    FAMILIES[spec.model.family].plot(spec, result, out_dir)


def memory_needs(spec: Experiment) -> list:
    return FAMILIES[spec.model.family].memory_needs(spec)


def headline(spec: Experiment) -> str:
    """The metric a sweeper optimises and a report puts first: the task's primary metric."""
    return spec.task.primary_metric
