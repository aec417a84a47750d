"""Every experiment by its ``kind``: a module with ``check(spec)``, ``run(spec, data, rng,
place=None) -> RunResult`` (``place``: a :class:`~rnnlab.experiments.spec.RunPlace`, for what
is written while the run runs, e.g. checkpoints), ``plot(spec, result, out_dir)`` and
``headline(spec)`` (the name of the metric a sweeper optimises). Adding an experiment is a new
module plus one entry here."""

from rnnlab.experiments import esn_sweep, gradient_flow, train

EXPERIMENTS = {"train": train, "gradient_flow": gradient_flow, "esn_sweep": esn_sweep}
