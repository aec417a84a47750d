"""``kind=esn_sweep``: one echo state network over a grid of spectral radii (optionally leak rates
and input scalings), all grid points advancing together in one process (``rnnlab.esn_sweep``).

Writes sweep.csv (one row per grid point: the task's metrics, memory capacity, Lyapunov
exponent) and its plots; returns the sweep's summary (best rho, its error, largest MC, the rho
where the Lyapunov exponent crosses zero).
"""

from pathlib import Path

from threadpoolctl import threadpool_limits

from rnnlab.esn_sweep import run_esn_sweep
from rnnlab.runners import reservoir
from rnnlab.training import TrainConfig
from rnnlab.validation import require


def check(model, task, train_config: TrainConfig, sweep) -> None:
    require(model.name == "esn",
            f"model={model.name} cannot run kind=esn_sweep: allowed model=esn "
            f"(kind=gradient_flow sweeps the spectral radius of an RNN or LSTM)")
    require(task.name in ("sine", "mackey_glass"),
            f"task={task.name} cannot run kind=esn_sweep: allowed task=sine, task=mackey_glass "
            f"(the sweep scores regression tasks)")
    reservoir.check(model, task, train_config)


@threadpool_limits.wrap(limits=1, user_api="blas")   # (N, K) products: one thread is faster here
def run(model, task, data, train_config: TrainConfig, sweep, rng, out_dir: Path) -> dict:
    return run_esn_sweep(model, task, data, sweep.spectral_radii, sweep.leak_rates,
                         sweep.input_scalings, out_dir, memory_capacity=sweep.memory_capacity)
