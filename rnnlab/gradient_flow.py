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
"""

import dataclasses
import math

import numpy as np

from rnnlab import losses

GAMMA = {"tanh": 1.0, "relu": 1.0, "linear": 1.0}   # sup |f'|, Pascanu et al. (2013)
JACOBIAN_HIDDEN_LIMIT = 256    # above this H the Jacobian products are not formed
JACOBIAN_SEQUENCES = 4         # sequences whose Jacobian norms are averaged


def initial_state(model, batch: int, rng: np.random.Generator | None):
    """Zero state, or N(0, 1) entries if ``rng`` is given (needed when there is no input)."""
    state = model.zero_state(batch)
    if rng is None:
        return state
    if isinstance(state, tuple):
        return tuple(rng.standard_normal(s.shape).astype(s.dtype) for s in state)
    return rng.standard_normal(state.shape).astype(state.dtype)


def _replicate(state, copies: int, index: int):
    if isinstance(state, tuple):
        return tuple(np.repeat(s[index:index + 1], copies, axis=0) for s in state)
    return np.repeat(state[index:index + 1], copies, axis=0)


def last_step_gradients(model, x: np.ndarray, y, state, rng: np.random.Generator | None):
    """dL_T/dh_t for every t, (T, B, H). Without targets (y None) the backward pass starts from
    a random N(0, I) vector at h_T (the lecture notes' toy) instead of a loss."""
    hidden, _, cache = model.forward(x, state)
    d_hidden = np.zeros_like(hidden)
    if y is None:
        d_hidden[-1] = rng.standard_normal(hidden.shape[1:])
    else:
        _, d_outputs = losses.loss_for(y[-1:])(model._readout(hidden[-1:]), y[-1:])
        d_hidden[-1] = (d_outputs[0] * x.shape[1]) @ model.params["W_hy"]   # each sequence's own loss
    return model.backward(cache, d_hidden)[1]


def jacobian_norms(model, x: np.ndarray, state, sequences: int = JACOBIAN_SEQUENCES) -> np.ndarray:
    """Spectral norms of dh_T/dh_t for every t, (T,), averaged over the first ``sequences``."""
    H = model.hidden_size
    norms = []
    for index in range(min(sequences, x.shape[1])):
        replicated = np.repeat(x[:, index:index + 1], H, axis=1)                  # (T, H, D)
        hidden, _, cache = model.forward(replicated, _replicate(state, H, index))
        d_hidden = np.zeros_like(hidden)
        d_hidden[-1] = np.eye(H, dtype=hidden.dtype)      # row i starts from e_i at h_T
        rows = model.backward(cache, d_hidden)[1]         # rows[t][i] = d h_T[i] / d h_t
        norms.append(np.linalg.norm(rows.astype(np.float64), ord=2, axis=(1, 2)))
    return np.mean(norms, axis=0)


def fitted_rate(lags: np.ndarray, norms: np.ndarray, lag_min: int, lag_max: int) -> float:
    """Slope of ln(norm) against lag over [lag_min, lag_max] (finite, positive norms only)."""
    keep = (lags >= lag_min) & (lags <= lag_max) & np.isfinite(norms) & (norms > 0)
    if keep.sum() < 2:
        return math.nan
    return float(np.polyfit(lags[keep], np.log(norms[keep]), 1)[0])


def spectral_summary(model) -> tuple[float, float]:
    """(rho, sigma_max) of the recurrent matrix; the LSTM's largest over its four blocks."""
    blocks = model.recurrent_blocks().values()
    rho = max(float(np.max(np.abs(np.linalg.eigvals(b)))) for b in blocks)
    sigma = max(float(np.linalg.norm(b, ord=2)) for b in blocks)
    return rho, sigma


def measure_flow(model, x: np.ndarray, y, lag_range: tuple[int, int], seeds,
                 random_state: bool = False, jacobians: bool = True) -> tuple[list[dict], dict]:
    """gradient_flow.csv rows and the rates.csv row of one built model.

    x (T, B, D) input windows; y (T, B) or (T, B, O) targets, or None to start the backward pass
    from a random gradient; seeds: two SeedSequences (initial state, random gradient), reused so
    that every model sees the same draws; random_state: start from an N(0, 1) state instead of 0.
    """
    T, B = x.shape[:2]
    lags = np.arange(T)[::-1]                                    # lag of step t is T-1-t
    state_seed, gradient_seed = seeds
    x = x.astype(model.float_type)
    state = initial_state(model, B, np.random.default_rng(state_seed) if random_state else None)
    with np.errstate(all="ignore"):
        dh = last_step_gradients(model, x, y, state, np.random.default_rng(gradient_seed))
        grad_norm = np.linalg.norm(dh.astype(np.float64), axis=2).mean(axis=1)   # (T,)
        jacobian = (jacobian_norms(model, x, state)
                    if jacobians and model.hidden_size <= JACOBIAN_HIDDEN_LIMIT
                    else np.full(T, np.nan))
    rho, sigma_max = spectral_summary(model)
    gamma = GAMMA.get(getattr(model, "activation", None), math.nan)
    flow = [{"model": model.name, "lag": int(lags[t]), "grad_norm": float(grad_norm[t]),
             "jacobian_norm": float(jacobian[t])} for t in range(T)]
    rates = {"model": model.name, "measured_spectral_radius": rho, "sigma_max": sigma_max,
             "fitted_rate": fitted_rate(lags, grad_norm, *lag_range),
             "fitted_jacobian_rate": fitted_rate(lags, jacobian, *lag_range),
             "ln_rho": math.log(rho), "ln_sigma_max": math.log(sigma_max),
             "pascanu_bound": math.log(gamma * sigma_max),
             "fit_lag_min": lag_range[0], "fit_lag_max": lag_range[1]}
    return flow, rates


def gradient_flow(model, spectral_radii, x: np.ndarray, y, lag_range: tuple[int, int],
                  rng: np.random.Generator, random_state: bool = False,
                  jacobians: bool = True) -> tuple[list[dict], list[dict]]:
    """Rows of gradient_flow.csv and rates.csv for ``model`` (unbuilt, with its seed) built at
    each spectral radius -- the same random draw rescaled -- at initialisation."""
    seeds = rng.bit_generator.seed_seq.spawn(2)
    output_size = 1 if y is None else (int(y.max()) + 1 if np.issubdtype(y.dtype, np.integer)
                                       else y.shape[2])
    flow, rates = [], []
    for rho in spectral_radii:
        rescaled = rescale(model, rho).build(x.shape[2], output_size)
        rows, rate = measure_flow(rescaled, x, y, lag_range, seeds, random_state, jacobians)
        flow += [{"spectral_radius": float(rho), **row} for row in rows]
        rates.append({"spectral_radius": float(rho), **rate})
    return flow, rates


def rescale(model, spectral_radius: float):
    """The same unbuilt model (same seed: same draw) asking for another spectral radius."""
    return dataclasses.replace(model, spectral_radius=float(spectral_radius))
