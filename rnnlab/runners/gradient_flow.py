"""``kind=gradient_flow``: gradient norms across timesteps over a grid of spectral radii of W_hh.

Writes gradient_flow.csv (long: spectral_radius, when, model, lag, grad_norm, jacobian_norm),
rates.csv (one row per spectral radius and ``when``: sigma_max, fitted_rate, ln_rho,
pascanu_bound, ...) and gradient_flow.png (heatmap, rate vs ln rho, norm vs lag). ``when`` is
"init", and also "trained" with ``sweep.trained=true`` (the model trained at each rho first).
"""

import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from rnnlab import plots
from rnnlab.gradient_flow import gradient_flow, measure_flow, rescale
from rnnlab.runners.scoring import first_zero_crossing
from rnnlab.tables import write_table
from rnnlab.training import Stream, TrainConfig, check_windows, train
from rnnlab.validation import require

log = logging.getLogger(__name__)


def check(model, task, train_config: TrainConfig, sweep) -> None:
    require(model.name in ("rnn", "lstm"),
            f"model={model.name} cannot run kind=gradient_flow: allowed model=rnn, model=lstm "
            f"(the ESN's reservoir is not trained by gradients; see kind=esn_sweep)")
    window, test_length = sweep.window, task.test_length
    require(sweep.fit_lag_min < window - 1,
            f"sweep.fit_lag_min={sweep.fit_lag_min} is out of range: allowed < {window - 1} "
            f"(sweep.window - 1)")
    if not sweep.no_input:
        require(window * sweep.sequences <= test_length,
                f"sweep.window={window} is out of range: allowed <= "
                f"{test_length // sweep.sequences} (the task's {test_length} test steps split "
                f"into sweep.sequences={sweep.sequences} windows)")
    if sweep.trained:
        check_windows(train_config, task.train_length)


@threadpool_limits.wrap(limits=1, user_api="blas")
def run(model, task, data, train_config: TrainConfig, sweep, rng, out_dir: Path) -> dict:
    stream = Stream.from_data(data, task.needs_feedback)
    test = (data.train_length, len(data.targets))
    window, sequences = sweep.window, sweep.sequences
    if sweep.no_input:   # the lecture notes' toy: zero input, random state, random final gradient
        x = np.zeros((window, sequences, stream.input_size))
        y = None
    else:
        x, y, _ = stream.lanes(*test, sequences, window)
        x = stream.features(x)
    lag_range = (sweep.fit_lag_min, window - 1)
    log.info("gradient flow of %s over spectral radii %s (T = %d, %d sequences)",
             model.name, list(sweep.spectral_radii), window, sequences)
    flow, rates = gradient_flow(model, sweep.spectral_radii, x, y, lag_range, rng,
                                random_state=sweep.no_input)
    for row in flow + rates:
        row["when"] = "init"
    if sweep.trained:
        seeds = rng.bit_generator.seed_seq.spawn(2)
        for rho in sweep.spectral_radii:
            trained = rescale(model, rho).build(stream.input_size, stream.output_size)
            result = train(trained, stream, train_config, test, f"{model.name} at rho = {rho:g}")
            rows, rate = measure_flow(trained, x, y, lag_range, seeds, sweep.no_input)
            flow += [{"spectral_radius": float(rho), **row, "when": "trained"} for row in rows]
            rates.append({"spectral_radius": float(rho), **rate, "when": "trained",
                          "diverged": result.diverged})
    flow_table, rates_table = pd.DataFrame(flow), pd.DataFrame(rates)
    flow_table = flow_table[["spectral_radius", "when", "model", "lag", "grad_norm", "jacobian_norm"]]
    write_table(flow_table, out_dir / "gradient_flow.csv")
    write_table(rates_table, out_dir / "rates.csv")
    at_init = rates_table[rates_table["when"] == "init"]
    description = (f"{model.name}" + (f" ({model.activation})" if hasattr(model, "activation") else "")
                   + f", H = {model.hidden_size}, T = {window}"
                   + (", no input, random state and final gradient" if sweep.no_input
                      else f", {task.name} inputs"))
    plots.plot_gradient_flow(flow_table[flow_table["when"] == "init"], at_init,
                             out_dir / "gradient_flow.png", f"gradient flow at initialisation: "
                                                            f"{description}")
    if sweep.trained:
        plots.plot_gradient_flow(flow_table[flow_table["when"] == "trained"],
                                 rates_table[rates_table["when"] == "trained"],
                                 out_dir / "gradient_flow_trained.png",
                                 f"gradient flow after training: {description}")
    return summarise(at_init)


def summarise(rates: pd.DataFrame) -> dict:
    """Headline numbers: the largest gap between the fitted rate and ln rho, and the spectral
    radius where the fitted rate crosses zero (interpolated; NaN if it does not)."""
    rate = rates["fitted_rate"].to_numpy()
    return {"spectral_radii": len(rates),
            "spectral_radius_at_zero_rate": first_zero_crossing(rates["spectral_radius"], rate),
            "max_rate_minus_ln_rho": float(np.nanmax(rate - rates["ln_rho"].to_numpy())),
            "max_rate_minus_pascanu_bound": float(np.nanmax(rate - rates["pascanu_bound"].to_numpy()))
            if rates["pascanu_bound"].notna().any() else math.nan}
