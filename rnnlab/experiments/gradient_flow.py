"""``kind=gradient_flow``: gradient norms across timesteps over a grid of spectral radii of W_hh
(:mod:`rnnlab.analyses.gradient_flow`, settings ``gradient_flow.*``).

Tables: ``gradient_flow`` (long: spectral_radius, when, model, lag, grad_norm, jacobian_norm)
and ``rates`` (one row per spectral radius and ``when``: sigma_max, fitted_rate, ln_rho,
pascanu_bound, ...); plots gradient_flow.png (heatmap, rate vs ln rho, norm vs lag) and, with
``gradient_flow.trained=true``, gradient_flow_trained.png. ``when`` is "init", and "trained" for
the model trained at each rho first.
"""

import numpy as np

from rnnlab import plots
from rnnlab.analyses.gradient_flow import JACOBIAN_HIDDEN_LIMIT, measure_gradient_flow, summarise
from rnnlab.experiments.outputs import RunResult
from rnnlab.experiments.spec import Experiment
from rnnlab.resources import FLOAT, Need
from rnnlab import models
from rnnlab.tasks.base import SeriesData
from rnnlab.training import Stream, check_windows
from rnnlab.validation import require


def check(spec: Experiment) -> None:
    model, task, config = spec.model, spec.task, spec.gradient_flow
    require(model.family == "recurrent",
            f"model={model.name} cannot run kind=gradient_flow: allowed "
            f"{models.choices('recurrent')} (the ESN's reservoir is not trained by gradients; "
            f"see kind=esn_sweep)")
    config.check("gradient_flow.")
    window, test_length = config.window, task.test_length
    if not config.no_input:
        require(window * config.sequences <= test_length,
                f"gradient_flow.window={window} is out of range: allowed <= "
                f"{test_length // config.sequences} (the task's {test_length} test steps split "
                f"into gradient_flow.sequences={config.sequences} windows)")
    if config.trained:
        check_windows(spec.train, task.train_length, task.episode_length)


def memory_needs(spec: Experiment) -> list[Need]:
    """The input windows, and the Jacobian rows: each sequence replicated H times through the
    forward and backward pass (H <= 256)."""
    model, config = spec.model, spec.gradient_flow
    H, gates, L = model.hidden_size, len(model.recurrent_labels), model.num_layers
    inputs = sum(spec.task.dimensions())
    T, B = config.window, config.sequences
    per_sequence = inputs + 4 * (gates + 3) * H * L      # inputs; every layer's activations
    jacobian = FLOAT * T * H * per_sequence if H <= JACOBIAN_HIDDEN_LIMIT else 0
    return [Need("model.hidden_size", H, f"the gradients and Jacobians of {B} windows of {T} steps",
                 FLOAT * T * B * per_sequence + jacobian)]


def run(spec: Experiment, data: SeriesData, rng: np.random.Generator,
        place=None) -> RunResult:
    stream = Stream.from_data(data, spec.task.needs_feedback)
    test = (data.train_length, len(data.targets))
    flow, rates = measure_gradient_flow(spec.model, stream, test, spec.gradient_flow, rng,
                                        spec.train)
    return RunResult(summarise(rates), {"gradient_flow": flow, "rates": rates})


def plot(spec: Experiment, result: RunResult, out_dir) -> None:
    model, config = spec.model, spec.gradient_flow
    flow, rates = result.tables["gradient_flow"], result.tables["rates"]
    description = (f"{model.description}, H = {model.hidden_size}, T = {config.window}"
                   + (", no input, random state and final gradient" if config.no_input
                      else f", {spec.task.name} inputs"))
    for when, name, label in [("init", "gradient_flow.png", "at initialisation"),
                              ("trained", "gradient_flow_trained.png", "after training")]:
        if (rates["when"] == when).any():
            plots.save(plots.plot_gradient_flow(flow[flow["when"] == when],
                                                rates[rates["when"] == when],
                                                f"gradient flow {label}: {description}"),
                       out_dir / name)


def headline(spec: Experiment) -> str:
    """The spectral radius where the fitted gradient rate crosses zero."""
    return "spectral_radius_at_zero_rate"
