"""``kind=esn_sweep``: one echo state network over a grid of spectral radii (optionally leak rates
and input scalings), all grid points advancing together in one process
(:mod:`rnnlab.analyses.esn_sweep`, settings ``esn_sweep.*``).

Table ``sweep`` (one row per grid point and reservoir, ``esn_sweep.reservoirs`` independent
draws: the task's metrics, memory capacity, Lyapunov exponent, effective spectral radius) and
sweep.png (the mean over the reservoirs in a band of +- one std); the metrics are the sweep's
summary (best rho, its error and its spread, largest MC, the rho where the Lyapunov exponent
crosses zero).
"""

import numpy as np

from rnnlab import plots
from rnnlab.analyses.esn_sweep import summarise, sweep
from rnnlab.experiments import train_reservoir
from rnnlab.experiments.outputs import RunResult
from rnnlab.analyses.reservoir_dynamics import MC_WASHOUT, MEMORY_BUDGET_BYTES, mc_steps
from rnnlab.experiments.spec import Experiment
from rnnlab.resources import FLOAT, Need
from rnnlab import tasks
from rnnlab.tasks.base import SeriesData
from rnnlab.validation import require


def check(spec: Experiment) -> None:
    model, task = spec.model, spec.task
    require(model.name == "esn",
            f"model={model.name} cannot run kind=esn_sweep: allowed model=esn "
            f"(kind=gradient_flow sweeps the spectral radius of an RNN, LSTM or GRU)")
    require(model.readout == "ridge" and model.activation == "tanh",
            f"model.readout={model.readout} with model.activation={model.activation} cannot run "
            f"kind=esn_sweep: allowed model.readout=ridge and model.activation=tanh (the sweep "
            f"fits every grid point's ridge readout from one tanh reservoir's states)")
    require(model.chunk_steps == 0,
            f"model.chunk_steps={model.chunk_steps} cannot run kind=esn_sweep: allowed 0 (the "
            f"sweep fits every grid point's readout from its stored states)")
    require(not task.is_classification,
            f"task={task.name} cannot run kind=esn_sweep: allowed {tasks.choices(False)} "
            f"(the sweep scores regression tasks)")
    spec.esn_sweep.check("esn_sweep.")
    train_reservoir.check(spec)


def memory_needs(spec: Experiment) -> list[Need]:
    """The reservoir as for one fit, and the grid's state buffers -- batched to at most
    MEMORY_BUDGET_BYTES (plus one grid point) for the task error and again for the memory
    capacity, whose lagged-input readouts hold (steps, 2N) arrays."""
    model = spec.model
    N, (inputs, _) = model.units, spec.task.dimensions()
    rows = max(spec.task.split())
    point = FLOAT * rows * (inputs + N)
    steps = mc_steps(N)
    capacity = 6 * FLOAT * steps * 2 * N + FLOAT * (max(MC_WASHOUT, 2 * N) + 2 * steps) * N
    return train_reservoir.memory_needs(spec) + [
        Need("model.units", N, "the sweep's state buffers and memory-capacity readouts",
             MEMORY_BUDGET_BYTES + point + (capacity if spec.esn_sweep.memory_capacity else 0))]


def run(spec: Experiment, data: SeriesData, rng: np.random.Generator,
        place=None) -> RunResult:
    config = spec.esn_sweep
    table = sweep(spec.model, spec.task, data, config.spectral_radii, config.leak_rates,
                  config.input_scalings, config.memory_capacity, reservoirs=config.reservoirs)
    return RunResult(summarise(table, spec.task.primary_metric), {"sweep": table})


def plot(spec: Experiment, result: RunResult, out_dir) -> None:
    model, task = spec.model, spec.task
    metrics = [task.primary_metric] + [m for m in task.headline if m != task.primary_metric][:1]
    plots.save(plots.plot_esn_sweep(result.tables["sweep"],
                                    f"{model.name} on {task.name}: sweep over the spectral "
                                    f"radius (N = {model.units})", metrics, units=model.units),
               out_dir / "sweep.png")


def headline(spec: Experiment) -> str:
    """The error of the best grid point."""
    return "best_error"
