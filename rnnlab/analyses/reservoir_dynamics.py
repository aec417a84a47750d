"""Observables of a reservoir that take the model (reservoirpy's style): memory, chaos, radius.

Each takes a drawn or fitted :class:`rnnlab.ESN` and, optionally, a grid of K variants of it that
share its random draw -- reservoir k has W scaled by ``scales[k]``, leak rate ``leak_rates[k]``
and input weights multiplied by ``input_gains[k]`` -- all advanced together through the one
reservoir kernel (:func:`rnnlab.models.reservoir.advance`). Without a grid, K = 1: the model
itself.

1. Memory function and capacity (Jaeger 2002), with i.i.d. input u(t) ~ U(-1, 1) fed through
   the reservoir's first input column (for a model without inputs, a column drawn U(-1, 1) from
   ``rng``, times the model's input scaling), with the bias, no feedback, no noise:

       MC = sum_{k=1}^{2N} r^2(u(t - k), y_k(t)),   y_k(t) = w_k^T [1; x(t)]

   w_k fitted by ridge on a training part, r^2 (squared correlation) measured on the test part
   that follows: max(``MC_WASHOUT``, 2N) steps dropped, then ``mc_steps(N)`` training steps,
   then ``mc_steps(N)`` test steps. The ridge, beta = ``MC_RELATIVE_RIDGE`` * trace(X_c^T X_c),
   scales with the states, so a tiny input scaling is measured too. Theory: MC <= N; a linear
   reservoir with generic weights and rho < 1 reaches N in exact arithmetic (an orthogonal W at
   rho = 0.9 measures ~0.93 N here; a random sparse W much less, its state covariance being
   very ill-conditioned).
2. Largest Lyapunov exponent of the fitted reservoir driven by teacher-forced data (continuing
   from the fitted state, no noise): a tangent vector v(0) = 1 / sqrt(N) is carried through the
   update's Jacobian and renormalised every step,

       lambda = mean over t >= washout of ln ||J(t) v(t-1)||   (nats per time step).

3. Effective spectral radius rho(a s W + (1 - a) I), which governs a leaky reservoir.

    esn = ESN(units=200, seed=0).fit(u, y)
    memory_capacity(esn, np.random.default_rng(1)), lyapunov_exponent(esn, u_test, y_test)
"""

import numpy as np

from rnnlab import spectral
from rnnlab.models.esn import ESN, as_series, previous_outputs
from rnnlab.models.reservoir import advance
from rnnlab.ridge import fit_ridge
from rnnlab.tasks.memory import squared_correlation

MEMORY_BUDGET_BYTES = 2 ** 30  # state buffers of one batch of reservoirs (larger grids: batches)
MC_WASHOUT = 500               # steps dropped before the memory-capacity readouts (raised to 2N)
MC_MIN_STEPS = 2000            # memory capacity: training steps, and again test steps, at least...
MC_STEPS_PER_UNIT = 5          # ...and at least this many per reservoir unit
MC_RELATIVE_RIDGE = 1e-12      # memory-capacity ridge / trace of the centred Gram matrix:
                               # just keeps the Cholesky factorisation positive definite


def mc_steps(units: int) -> int:
    """Length of the memory-capacity training part, and of its test part."""
    return max(MC_MIN_STEPS, MC_STEPS_PER_UNIT * units)


def batches(count: int, bytes_per_point: int):
    """Slices of a grid, each small enough that its state buffers fit MEMORY_BUDGET_BYTES."""
    size = max(1, min(count, MEMORY_BUDGET_BYTES // max(1, bytes_per_point)))
    for start in range(0, count, size):
        yield slice(start, min(count, start + size))


def _grid(esn: ESN, scales, leak_rates, input_gains):
    """The K variants as arrays (K,): W scales, leak rates, input gains (default: the model)."""
    scales = np.ones(1) if scales is None else np.asarray(scales, dtype=np.float64)
    K = len(scales)
    leak_rates = (np.full(K, esn.leak_rate) if leak_rates is None
                  else np.asarray(leak_rates, dtype=np.float64))
    input_gains = np.ones(K) if input_gains is None else np.asarray(input_gains, dtype=np.float64)
    return scales, leak_rates, input_gains


# --------------------------------------------------------------------------- memory capacity
def memory_function(esn: ESN, rng: np.random.Generator, scales=None, leak_rates=None,
                    input_gains=None, **options) -> np.ndarray:
    """r^2(u(t - k), y_k(t)) for k = 1..2N: (2N,) for the model, (K, 2N) for a grid.

    The memory capacity is its sum (:func:`memory_capacity`). ``options``: washout, steps,
    activation of :func:`memory_functions` (default: the model's activation).
    """
    grid = (scales, leak_rates, input_gains)
    esn.check_drawn()
    if esn.W_in_.shape[1] > 1:
        column = esn.W_in_[:, 1]
    else:  # a reservoir without inputs: a column drawn as W_in's would be
        column = rng.uniform(-1.0, 1.0, esn.units) * esn.input_scaling
    scales, leak_rates, input_gains = _grid(esn, *grid)
    options = {"activation": esn.activation, **options}
    result = memory_functions(esn.W_, scales, leak_rates, column[:, None] * input_gains,
                              esn.W_in_[:, 0], rng, **options)
    return result if any(value is not None for value in grid) else result[0]


def memory_capacity(esn: ESN, rng: np.random.Generator, **grid_and_options):
    """MC = sum_k r^2(u(t-k), y_k(t)) (float; (K,) for a grid): see :func:`memory_function`."""
    return memory_function(esn, rng, **grid_and_options).sum(axis=-1)


def memory_functions(W, scales, leak_rates, input_weights: np.ndarray, bias: np.ndarray,
                     rng: np.random.Generator, washout: int = MC_WASHOUT,
                     steps: int | None = None, activation: str = "tanh") -> np.ndarray:
    """The memory functions (K, 2N) of K reservoirs given as arrays (any (N, N) matrix W).

    Reservoir k: W_k = scales[k] W, leak rate leak_rates[k], drive bias + input_weights[:, k] u(t)
    with u(t) ~ U(-1, 1) i.i.d. from ``rng`` (the same input for all K); the readouts see
    [1; x(t)]. Lengths: max(washout, 2N) steps dropped, then ``steps`` (default mc_steps(N)) to
    fit the readouts by ridge, then ``steps`` to measure r^2 on.
    """
    N, K = W.shape[0], len(scales)
    delays = 2 * N
    steps = mc_steps(N) if steps is None else steps
    start = max(washout, delays)
    total = start + 2 * steps
    u = rng.uniform(-1.0, 1.0, total)
    lagged = np.lib.stride_tricks.sliding_window_view(u, delays)[start - delays:total - delays]
    lagged = lagged[:, ::-1]  # row t: u(t-1), u(t-2), ..., u(t-2N)
    fit_part, test_part = slice(start, start + steps), slice(start + steps, total)
    squared_correlations = np.zeros((K, delays))
    for batch in batches(K, total * N * 8):
        buffer = u[None, :, None] * input_weights[:, batch].T[:, None, :]  # (k, T, N)
        buffer += bias
        advance(W, scales[batch], leak_rates[batch], np.zeros((N, buffer.shape[0])), buffer,
                activation=activation, description="memory capacity")
        for j, states in enumerate(buffer):
            if not np.all(np.isfinite(states)):  # an unstable (linear) reservoir: no measurement
                squared_correlations[batch.start + j] = np.nan
                continue
            features = states[fit_part]
            ridge = MC_RELATIVE_RIDGE * len(features) * features.var(axis=0).sum()
            try:
                weights, offset = fit_ridge(features, lagged[:steps], ridge,
                                            overwrite_features=True)
            except np.linalg.LinAlgError:
                squared_correlations[batch.start + j] = np.nan
                continue
            prediction = states[test_part] @ weights + offset  # (steps, 2N)
            squared_correlations[batch.start + j] = squared_correlation(lagged[steps:], prediction)
    return squared_correlations


# ------------------------------------------------------------------------ Lyapunov exponent
def lyapunov_exponent(esn: ESN, u, y, washout: int | None = None) -> float:
    """Largest Lyapunov exponent (nats per step) of the fitted ``esn`` driven by inputs u and
    teacher-forced outputs y (T, D) from where fitting left it; ``washout`` (default the model's)
    steps are not counted."""
    esn.check_fitted()
    y = as_series(y, "y")
    drive = esn.drive(as_series(u, "u", length=len(y)), previous_outputs(esn.last_output_, y))
    _, exponent = advance(esn.W_, [1.0], [esn.leak_rate], esn.state_[:, None], drive[None],
                          tangent=np.ones((esn.units, 1)), activation=esn.activation,
                          lyapunov_washout=esn.washout if washout is None else washout)
    return float(exponent[0])


# ------------------------------------------------------------------ effective spectral radius
def effective_spectral_radii(esn: ESN, spectral_radii, leak_rates) -> np.ndarray:
    """rho(a_k s_k W + (1 - a_k) I) for the variants k of the drawn ``esn`` rescaled to
    spectral_radii[k] (s_k = rho_k / rho(W)) with leak rates a_k, (K,); rho_k without leak."""
    esn.check_drawn()
    W, rho0 = esn.W_, esn.spectral_radius
    radii = np.empty(len(spectral_radii))
    eigenvalues = None
    for i, (rho, a) in enumerate(zip(spectral_radii, leak_rates)):
        if a == 1.0:
            radii[i] = rho
            continue
        if W.shape[0] <= spectral.DENSE_LIMIT:
            if eigenvalues is None:
                eigenvalues = spectral.eigenvalues(W)
            radii[i] = np.max(np.abs(a * (rho / rho0) * eigenvalues + (1.0 - a)))
        else:
            radii[i] = spectral.effective_spectral_radius(W * (rho / rho0), a)
    return radii
