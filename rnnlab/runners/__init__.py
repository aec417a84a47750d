"""How each model runs each task: ``RUNNERS[(model, task)]`` and the checks per model family.

A runner is ``run(model, task, data, train_config, rng, out_dir) -> metrics``; it writes the run's
tables and plots into ``out_dir``. A check is ``check(model, task, train_config)`` and raises a
one-line ConfigError before anything runs.
"""

from rnnlab.runners import bptt, esn_sweep, gradient_flow, reservoir

RUNNERS = {
    ("esn", "sine"): reservoir.fit_on_series,
    ("esn", "mackey_glass"): reservoir.fit_on_series,
    ("esn", "echo"): reservoir.fit_classifier,
    ("esn", "chars"): reservoir.fit_classifier,
    **{(model, task): bptt.train_on_task
       for model in ("rnn", "lstm") for task in ("sine", "mackey_glass", "echo", "chars")},
}

CHECKS = {"esn": reservoir.check, "rnn": bptt.check, "lstm": bptt.check}

# Experiments other than training one model (``kind=...``): modules with check() and run().
EXPERIMENTS = {"gradient_flow": gradient_flow, "esn_sweep": esn_sweep}
