"""How gradients vanish or explode across timesteps as the recurrent matrix's spectral radius varies.

For a model at initialisation, rescaled to each spectral radius rho of a grid (the same random
draw every time, so only rho changes), and a batch of input windows of T steps:

    grad_norm(k)     = mean over sequences of || dL_T / dh_{T-k} ||   (the last step's loss alone)
    jacobian_norm(k) = mean over a few sequences of || dh_T / dh_{T-k} ||_2   (spectral norm)

For h_t = f(a_t), a_t = W_hh h_{t-1} + ..., dh_T/dh_{T-k} = prod_{i} diag(f'(a_i)) W_hh over the k
steps, so for a linear RNN both decay or grow like rho^k at large k. The per-step log-rate is the
slope of ln grad_norm(k) against k over [fit_lag_min, fit_lag_max], recorded beside ln(rho),
ln(sigma_max) and Pascanu et al.'s bound ln(gamma sigma_max) (gamma bounds |f'|: 1 for tanh, ReLU
and linear); long-term components must vanish where the bound is < 0. The LSTM has no such bound
(its cell path dc_t/dc_{t-1} = diag(f_t) involves no matrix): its ``pascanu_bound`` is NaN and its
rho and sigma_max are the largest over its four recurrent blocks.

The Jacobian rows come from the backward pass itself: replicating one sequence H times and
starting the backward pass from the H unit vectors at step T gives every dh_T/dh_t in one pass.

    flow, rates = measure_gradient_flow(RNN(hidden_size=64, seed=0), stream, test,
                                        GradientFlowConfig(spectral_radii=[0.5, 1.0, 1.5]), rng)
"""

import dataclasses
import logging
import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from rnnlab import losses, spectral
from rnnlab.analyses.scoring import first_zero_crossing
from rnnlab.models.recurrent import state_from_parts, state_parts
from rnnlab.training import Stream, TrainConfig, train
from rnnlab.validation import at_least, check_list, check_ranges, positive, require

log = logging.getLogger(__name__)

JACOBIAN_HIDDEN_LIMIT = 256    # above this H the Jacobian products are not formed
JACOBIAN_SEQUENCES = 4         # sequences whose Jacobian norms are averaged


@dataclass
class GradientFlowConfig:
    """Settings of the gradient-flow analysis (``kind=gradient_flow``; config keys
    ``gradient_flow.*``)."""

    spectral_radii: list[float] = field(
        default_factory=lambda: [0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.5, 2.0])
    window: int = 50               # T, steps of each input window
    sequences: int = 32            # input windows averaged over
    fit_lag_min: int = 10          # the log-rate is fitted over lags fit_lag_min..T-1
    no_input: bool = False         # zero input, N(0,1) initial state, random final gradient
    trained: bool = False          # also measure after training at each rho (with train.*)

    rules: ClassVar[dict] = {"window": at_least(2), "sequences": at_least(1),
                             "fit_lag_min": at_least(0)}

    def check(self, prefix: str = "gradient_flow.") -> None:
        check_ranges(self, prefix)
        check_list(self.spectral_radii, positive(), f"{prefix}spectral_radii")
        require(self.fit_lag_min < self.window - 1,
                f"{prefix}fit_lag_min={self.fit_lag_min} is out of range: allowed < "
                f"{self.window - 1} ({prefix}window - 1)")

    @property
    def lag_range(self) -> tuple[int, int]:
        return self.fit_lag_min, self.window - 1


def initial_state(model, batch: int, rng: np.random.Generator | None):
    """Zero state, or N(0, 1) entries if ``rng`` is given (needed when there is no input)."""
    state = model.zero_state(batch)
    if rng is None:
        return state
    return state_from_parts([rng.standard_normal(part.shape).astype(part.dtype)
                             for part in state_parts(state)])


def _replicate(state, copies: int, index: int):
    return state_from_parts([np.repeat(part[index:index + 1], copies, axis=0)
                             for part in state_parts(state)])


def last_step_gradients(model, x: np.ndarray, y, state, rng: np.random.Generator | None):
    """dL_T/dh_t for every layer and every t, (L, T, B, H). Without targets (y None) the backward
    pass starts from a random N(0, I) vector at the top layer's h_T (the lecture notes' toy)
    instead of a loss."""
    hidden, _, cache = model.forward(x, state)
    d_hidden = np.zeros_like(hidden)
    if y is None:
        d_hidden[-1] = rng.standard_normal(hidden.shape[1:])
    else:
        _, d_outputs = losses.loss_for(y[-1:])(model.readout(hidden[-1:]), y[-1:])
        d_hidden[-1] = (d_outputs[0] * x.shape[1]) @ model.params["W_hy"]   # each sequence's own loss
    return model.backward(cache, d_hidden)[1]


def jacobian_norms(model, x: np.ndarray, state, sequences: int = JACOBIAN_SEQUENCES) -> np.ndarray:
    """Spectral norms of dh_T/dh_t for every layer's h_t and every t, (L, T), h_T the top
    layer's last state, averaged over the first ``sequences``."""
    H = model.hidden_size
    norms = []
    for index in range(min(sequences, x.shape[1])):
        replicated = np.repeat(x[:, index:index + 1], H, axis=1)                  # (T, H, D)
        hidden, _, cache = model.forward(replicated, _replicate(state, H, index))
        d_hidden = np.zeros_like(hidden)
        d_hidden[-1] = np.eye(H, dtype=hidden.dtype)      # row i starts from e_i at h_T
        rows = model.backward(cache, d_hidden)[1]         # rows[l, t][i] = d h_T[i] / d h^l_t
        norms.append(np.linalg.norm(rows.astype(np.float64), ord=2, axis=(2, 3)))
    return np.mean(norms, axis=0)


def fitted_rate(lags: np.ndarray, norms: np.ndarray, lag_min: int, lag_max: int) -> float:
    """Slope of ln(norm) against lag over [lag_min, lag_max] (finite, positive norms only)."""
    keep = (lags >= lag_min) & (lags <= lag_max) & np.isfinite(norms) & (norms > 0)
    if keep.sum() < 2:
        return math.nan
    return float(np.polyfit(lags[keep], np.log(norms[keep]), 1)[0])


def spectral_summary(model) -> tuple[float, float]:
    """(rho, sigma_max) of the recurrent matrix; the LSTM's largest over its four blocks."""
    rho = max(float(np.abs(values[0])) for values in spectral.recurrent_spectra(model).values())
    sigma = max(spectral.largest_singular_value(b) for b in model.recurrent_blocks().values())
    return rho, sigma


def measure_flow(model, x: np.ndarray, y, lag_range: tuple[int, int], seeds,
                 random_state: bool = False, jacobians: bool = True) -> tuple[list[dict], dict]:
    """gradient_flow.csv rows and the rates.csv rows (one per layer) of one built model.

    x (T, B, D) input windows; y (T, B) or (T, B, O) targets, or None to start the backward pass
    from a random gradient; seeds: two SeedSequences (initial state, random gradient), reused so
    that every model sees the same draws; random_state: start from an N(0, 1) state instead of 0.
    """
    T, B = x.shape[:2]
    lags = np.arange(T)[::-1]                                    # lag of step t is T-1-t
    state_seed, gradient_seed = seeds
    x = x.astype(model.float_type)
    state = initial_state(model, B, np.random.default_rng(state_seed) if random_state else None)
    L = model.num_layers
    with np.errstate(all="ignore"):
        dh = last_step_gradients(model, x, y, state, np.random.default_rng(gradient_seed))
        grad_norm = np.linalg.norm(dh.astype(np.float64), axis=3).mean(axis=2)   # (L, T)
        jacobian = (jacobian_norms(model, x, state)
                    if jacobians and model.hidden_size <= JACOBIAN_HIDDEN_LIMIT
                    else np.full((L, T), np.nan))
    rho, sigma_max = spectral_summary(model)
    gamma = math.nan if model.derivative_bound is None else model.derivative_bound
    flow = [{"model": model.name, "layer": layer, "lag": int(lags[t]),
             "grad_norm": float(grad_norm[layer, t]), "jacobian_norm": float(jacobian[layer, t])}
            for layer in range(L) for t in range(T)]
    rates = [{"model": model.name, "layer": layer,
              "measured_spectral_radius": rho, "sigma_max": sigma_max,
              "fitted_rate": fitted_rate(lags, grad_norm[layer], *lag_range),
              "fitted_jacobian_rate": fitted_rate(lags, jacobian[layer], *lag_range),
              "ln_rho": math.log(rho), "ln_sigma_max": math.log(sigma_max),
              "pascanu_bound": math.log(gamma * sigma_max),
              "fit_lag_min": lag_range[0], "fit_lag_max": lag_range[1]} for layer in range(L)]
    return flow, rates


def gradient_flow(model, spectral_radii, x: np.ndarray, y, lag_range: tuple[int, int],
                  rng: np.random.Generator, random_state: bool = False,
                  jacobians: bool = True) -> tuple[list[dict], list[dict]]:
    """Rows of the flow table and the rates table for ``model`` (unbuilt, with its seed) built
    at each spectral radius -- the same random draw rescaled -- at initialisation.

    x (T, B, D) input windows, y their targets (or None: a random final gradient, see
    :func:`last_step_gradients`); lag_range: the lags the rate is fitted over."""
    seeds = rng.bit_generator.seed_seq.spawn(2)
    output_size = 1 if y is None else (int(y.max()) + 1 if np.issubdtype(y.dtype, np.integer)
                                       else y.shape[2])
    flow, rates = [], []
    for rho in spectral_radii:
        rescaled = rescale(model, rho).build(x.shape[2], output_size)
        rows, layer_rates = measure_flow(rescaled, x, y, lag_range, seeds, random_state,
                                         jacobians)
        flow += [{"spectral_radius": float(rho), **row} for row in rows]
        rates += [{"spectral_radius": float(rho), **rate} for rate in layer_rates]
    return flow, rates


def rescale(model, spectral_radius: float):
    """The same unbuilt model (same seed: same draw) asking for another spectral radius."""
    return dataclasses.replace(model, spectral_radius=float(spectral_radius))


FLOW_COLUMNS = ["spectral_radius", "when", "model", "layer", "lag", "grad_norm", "jacobian_norm"]


def measure_gradient_flow(model, stream: Stream, test: tuple[int, int],
                          config: GradientFlowConfig, rng: np.random.Generator,
                          train_config: TrainConfig | None = None
                          ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The flow table (long: spectral_radius, when, model, layer, lag, grad_norm,
    jacobian_norm) and the rates table (one row per spectral radius, ``when`` and layer) of
    ``model`` on ``stream``.

    ``when`` is "init"; with ``config.trained`` also "trained": the model built at each rho is
    first trained with ``train_config`` on the stream's training part (rates gain ``diverged``).
    The input windows are ``config.sequences`` windows of ``config.window`` steps spread over the
    test part ``test`` = (start, stop) (for a task of separate sequences: its first test
    sequences, whole), or zeros with ``config.no_input``.
    """
    window, sequences = config.window, config.sequences
    if config.no_input:   # the lecture notes' toy: zero input, random state, random final gradient
        x = np.zeros((window, sequences, stream.input_size))
        y = None
    elif stream.episode_length:   # separate sequences: whole test sequences, lags up to L - 1
        x, y = stream.episodes(*test, sequences)
        x, window = stream.features(x), stream.episode_length
    else:
        x, y, _ = stream.lanes(*test, sequences, window)
        x = stream.features(x)
    log.info("gradient flow of %s over spectral radii %s (T = %d, %d sequences)",
             model.name, list(config.spectral_radii), window, sequences)
    flow, rates = gradient_flow(model, config.spectral_radii, x, y, config.lag_range, rng,
                                random_state=config.no_input)
    for row in flow + rates:
        row["when"] = "init"
    if config.trained:
        seeds = rng.bit_generator.seed_seq.spawn(2)
        for rho in config.spectral_radii:
            trained = rescale(model, rho).build(stream.input_size, stream.output_size)
            result = train(trained, stream, train_config or TrainConfig(), test,
                           f"{model.name} at rho = {rho:g}")
            rows, layer_rates = measure_flow(trained, x, y, config.lag_range, seeds,
                                             config.no_input)
            flow += [{"spectral_radius": float(rho), **row, "when": "trained"} for row in rows]
            rates += [{"spectral_radius": float(rho), **rate, "when": "trained",
                       "diverged": result.diverged} for rate in layer_rates]
    return pd.DataFrame(flow)[FLOW_COLUMNS], pd.DataFrame(rates)


def summarise(rates: pd.DataFrame) -> dict:
    """Headline numbers of the rates at initialisation, of the top layer (the one the loss
    reads): the spectral radius where the fitted rate crosses zero (interpolated; NaN if it does
    not), the largest gap between the fitted rate and ln rho, and between it and Pascanu's bound
    (NaN without a bound)."""
    rates = rates[(rates["when"] == "init") & (rates["layer"] == rates["layer"].max())]
    rate = rates["fitted_rate"].to_numpy()
    return {"spectral_radii": len(rates),
            "spectral_radius_at_zero_rate": first_zero_crossing(rates["spectral_radius"], rate),
            "max_rate_minus_ln_rho": float(np.nanmax(rate - rates["ln_rho"].to_numpy())),
            "max_rate_minus_pascanu_bound":
                float(np.nanmax(rate - rates["pascanu_bound"].to_numpy()))
                if rates["pascanu_bound"].notna().any() else math.nan}
