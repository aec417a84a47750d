"""Sweeps of an echo state network over its spectral radius (and leak rate, input scaling).

One random reservoir is drawn exactly as :class:`rnnlab.ESN` draws it (its own ``_init_weights``
on a copy of the model: W at rho_0 = ``model.spectral_radius``, W_in, W_fb, the noise stream);
grid point k = (rho_k, a_k, sigma_k) of the full grid uses W_k = s_k W with s_k = rho_k / rho_0,
the same input draw scaled by its input scaling sigma_k, and its leak rate a_k. All K grid points
advance together, one sparse product per time step:

    Z(t) = W [x_1(t-1) ... x_K(t-1)]                                   (N, K), one product
    x_k(t) = (1 - a_k) x_k(t-1) + a_k tanh(s_k Z_k(t) + W_in,k [1; u(t)] + W_fb y(t-1) + xi(t))

For each grid point, in ``sweep.csv``:

1. Task error: the task's own ``score`` metrics. The readout is fitted exactly as ``ESN.fit``
   fits it (teacher forcing, the same washout, ridge and state noise xi -- one noise draw, shared
   by all grid points), the test part is predicted one step ahead (teacher forced) and the free
   run starts from where fitting ended, as in ``rnnlab.runners.reservoir``. So a grid point is a
   plain ``ESN(spectral_radius=rho_k, leak_rate=a_k, input_scaling=sigma_k, ...)`` with the
   same seed: bit for bit where rho_k / rho_0 is a power of 2 (rho_0 itself included); elsewhere
   s_k (W x) and (s_k W) x round differently in the last bit, and the ridge readout amplifies
   that as it amplifies any rounding (N = 1000, ridge 1e-8: one-step NRMSE within ~1e-6, an
   84-step Mackey-Glass free run within ~3e-4, relative -- what a one-ulp change of W does to a
   plain ESN). A free run that diverges is a result: NaN/inf metrics, no exception.
2. Memory capacity (Jaeger 2002), with i.i.d. input u(t) ~ U(-1, 1) fed through the reservoir's
   input weights (the task's first input column; for a task without inputs, one column drawn from
   a further child of the model's random stream), with the bias, no feedback, no noise:

       MC = sum_{k=1}^{2N} r^2(u(t - k), y_k(t)),   y_k(t) = w_k^T [1; x(t)]

   w_k fitted by ridge on a training part, r^2 (squared correlation) measured on the test part
   that follows: max(``MC_WASHOUT``, 2N) steps dropped, then ``mc_steps(N)`` training steps,
   then ``mc_steps(N)`` test steps. The ridge, beta = ``MC_RELATIVE_RIDGE`` * trace(X_c^T X_c),
   scales with the states, so a tiny input scaling is measured too. Theory: MC <= N; a linear
   reservoir with generic weights and rho < 1 reaches N in exact arithmetic (an orthogonal W at
   rho = 0.9 measures ~0.93 N here; a random sparse W much less, its state covariance being
   very ill-conditioned).
3. Largest Lyapunov exponent of the reservoir driven by the task's teacher-forced test part
   (continuing from the fitted state, no noise): a tangent vector v(0) = 1 / sqrt(N) is
   propagated by the Jacobian of the update, renormalised every step,

       J_k(t) = (1 - a_k) I + a_k diag(1 - x~_k(t)^2) s_k W,   x~ = the tanh term,
       lambda_k = mean over t >= washout of ln ||J_k(t) v(t-1)||,   v(t) = J v(t-1) / ||J v(t-1)||

   in nats per time step (washout = ``model.washout``); the K tangent vectors ride in the same
   sparse product as the states.
4. ``effective_spectral_radius`` rho(a_k W_k + (1 - a_k) I) (= rho_k when a_k = 1).

Memory: K * max(fit steps, test steps) * (D_in + N) floats for the states (16 grid points, 3000
steps, N = 1000: 384 MB); a grid needing more than ``MEMORY_BUDGET_BYTES`` runs in batches.

Plain use (no Hydra):

    data = MackeyGlassTask().make_data(np.random.default_rng(0))
    summary = run_esn_sweep(ESN(units=300, seed=0), MackeyGlassTask(), data,
                            spectral_radii=[0.2, 0.6, 1.0, 1.4], leak_rates=None,
                            input_scalings=None, out_dir=Path("outputs/sweep"))
"""

import contextlib
import dataclasses
import itertools
import logging
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from rnnlab import plots, spectral
from rnnlab.models.esn import ESN, _as_series
from rnnlab.ridge import fit_ridge
from rnnlab.runners.scoring import first_zero_crossing
from rnnlab.tables import write_table
from rnnlab.tasks.series import SeriesData

log = logging.getLogger(__name__)

MEMORY_BUDGET_BYTES = 2 ** 30  # state buffers of one batch of grid points (larger grids: batches)
MC_WASHOUT = 500               # steps dropped before the memory-capacity readouts (raised to 2N)
MC_MIN_STEPS = 2000            # memory capacity: training steps, and again test steps, at least...
MC_STEPS_PER_UNIT = 5          # ...and at least this many per reservoir unit
MC_RELATIVE_RIDGE = 1e-12      # memory-capacity ridge / trace of the centred Gram matrix:
                               # just keeps the Cholesky factorisation positive definite
GRID_COLUMNS = ("spectral_radius", "leak_rate", "input_scaling")  # sweep.csv: these, the task's
DYNAMICS_COLUMNS = ("memory_capacity", "lyapunov_exponent",       # score metrics, then these
                    "effective_spectral_radius")


def mc_steps(units: int) -> int:
    """Length of the memory-capacity training part, and of its test part."""
    return max(MC_MIN_STEPS, MC_STEPS_PER_UNIT * units)


# ------------------------------------------------------------------------ the batched update
def advance(W, scales, leak_rates, state: np.ndarray, drive: np.ndarray,
            tangent: np.ndarray | None = None, lyapunov_washout: int = 0,
            activation: str = "tanh", description: str | None = None):
    """Advance K reservoirs sharing the sparse (N, N) matrix W through T steps, together:

        x_k(t) = (1 - a_k) x_k(t-1) + a_k f(s_k W x_k(t-1) + d_k(t)),   f = tanh or identity

    scales s_k, leak_rates a_k: (K,); state: (N, K), x(0); drive: (K, T, N), d_k(t) -- overwritten
    in place, row by row, by the states x_k(t) (any strided view works: a row is read before it
    is replaced). tangent: (N, K) start vectors or None; with them the tangent vectors ride in the
    same sparse product, v <- J_k(t) v (see the module docstring), renormalised every step.

    Returns (state at T (N, K), lambda (K,)): lambda is the mean of ln ||J v|| over steps
    t >= lyapunov_washout (nats per step; NaN if no step counted; None without a tangent).
    """
    if activation not in ("tanh", "linear"):
        raise ValueError(f"activation={activation!r}: allowed 'tanh' or 'linear'")
    scales = np.asarray(scales, dtype=np.float64)
    leak_rates = np.asarray(leak_rates, dtype=np.float64)
    keep = 1.0 - leak_rates
    K, steps = len(scales), drive.shape[1]
    leaky, tanh, track = bool(np.any(leak_rates != 1.0)), activation == "tanh", tangent is not None
    # states in columns 0..K-1, tangents in K..2K-1: one C-ordered (N, K or 2K) operand per step
    operand = np.empty((W.shape[0], 2 * K if track else K))
    column_scales = np.concatenate([scales, scales]) if track else scales
    x = operand[:, :K]
    x[...] = state
    if track:
        v = operand[:, K:]
        v[...] = tangent / np.linalg.norm(tangent, axis=0)
        log_growth, counted = np.zeros(K), 0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for t in tqdm(range(steps), desc=description, unit="step", disable=None, leave=False):
            product = W @ operand                  # (N, K) or (N, 2K): the one sparse product
            product *= column_scales               # s_k W x_k, s_k W v_k
            h = product[:, :K]
            h += drive[:, t, :].T                  # the argument of f
            activated = h if leaky else x          # without leak, x(t) = f(...) itself
            if tanh:
                np.tanh(h, out=activated)
            elif not leaky:
                x[...] = h
            if track:
                jv = product[:, K:]                # becomes J(t) v(t-1)
                if tanh:
                    gain = activated * activated
                    np.subtract(1.0, gain, out=gain)  # f'(z) = 1 - tanh(z)^2
                    if leaky:
                        gain *= leak_rates
                    jv *= gain
                elif leaky:
                    jv *= leak_rates
                if leaky:
                    jv += keep * v
                growth = np.sqrt(np.einsum("nk,nk->k", jv, jv))
                if t >= lyapunov_washout:
                    log_growth += np.log(growth)
                    counted += 1
                np.divide(jv, np.where(growth > 0, growth, 1.0), out=v)  # 0 stays 0: lambda -inf
            if leaky:  # (1 - a) x + a f(...), rounded as ESN._step rounds it
                x *= keep
                h *= leak_rates
                x += h
            drive[:, t, :] = x.T
    lyapunov = None
    if tangent is not None:
        lyapunov = log_growth / counted if counted else np.full(K, np.nan)
    return x.copy(), lyapunov


def _batches(count: int, bytes_per_point: int):
    """Slices of the grid, each small enough that its state buffers fit MEMORY_BUDGET_BYTES."""
    size = max(1, min(count, MEMORY_BUDGET_BYTES // max(1, bytes_per_point)))
    for start in range(0, count, size):
        yield slice(start, min(count, start + size))


# ------------------------------------------------------------------------------- the grid
def grid(spectral_radii, leak_rates, input_scalings) -> list[tuple[float, float, float]]:
    """The full grid (rho, a, sigma), ordered by leak rate, then input scaling, then rho."""
    return [(float(rho), float(a), float(sigma))
            for a, sigma, rho in itertools.product(leak_rates, input_scalings, spectral_radii)]


def _draw(model: ESN, input_dim: int, output_dim: int):
    """The model's weights, drawn as ESN.fit draws them (W at rho_0, bias column, W_fb, noise
    stream), with *unscaled* input columns; and a further child stream for the memory capacity."""
    root = np.random.default_rng(model.seed)  # a Generator seed is used (and spawned from) as is
    base = dataclasses.replace(model, input_scaling=1.0, seed=root)
    base._init_weights(input_dim, output_dim)  # spawns children 0..3 of root, as ESN.fit does
    return base, root.spawn(1)[0]


def _network(base: ESN, model: ESN, leak_rate: float, input_scaling: float) -> ESN:
    """A plain ESN holding the shared draw with this grid point's input scaling (for its _drive)."""
    esn = dataclasses.replace(model, leak_rate=leak_rate, input_scaling=input_scaling)
    esn.W_, esn.W_fb_, esn._noise_rng = base.W_, base.W_fb_, base._noise_rng
    esn.W_in_ = base.W_in_.copy()
    esn.W_in_[:, 1:] *= input_scaling  # exactly ESN._init_weights's scaling of the same draw
    return esn


def _effective_radii(W, rho0: float, points) -> np.ndarray:
    """rho(a s W + (1 - a) I) per grid point; rho(s W) = s rho_0 without leak."""
    radii = np.empty(len(points))
    eigenvalues = None
    for i, (rho, a, _) in enumerate(points):
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


# ------------------------------------------------------------------------------- task error
@contextlib.contextmanager
def _timed(timings: dict | None, phase: str):
    """Add the seconds spent in the block to timings[phase] (if timings is a dict)."""
    started = time.perf_counter()
    yield
    if timings is not None:
        timings[phase] = timings.get(phase, 0.0) + time.perf_counter() - started


def task_errors(model: ESN, task, data: SeriesData, points, base: ESN, lyapunov: bool = True,
                timings: dict | None = None) -> tuple[list[dict], np.ndarray]:
    """Task metrics (list of K dicts) and the largest Lyapunov exponents (K,; NaN if not
    ``lyapunov``) of the grid points.

    Per grid point: ESN.fit (teacher forcing, washout, ridge, shared noise draw), then
    ESN.predict on the test part (whose trajectory also carries the tangent vectors), then
    ESN.generate for data.free_run_length steps from where fitting ended, then task.score.
    """
    u, y = _inputs_targets(data)
    T1, D, N = data.train_length, u.shape[1], model.units
    u_train, y_train, u_test, y_test = u[:T1], y[:T1], u[T1:], y[T1:]
    T2, T3 = len(y_test), data.free_run_length
    noise = (model.noise * base._noise_rng.standard_normal((T1, N))) if model.noise > 0 else None
    rho0 = model.spectral_radius
    metrics, exponents = [None] * len(points), np.full(len(points), np.nan)
    rows = max(T1, T2, T3)
    for batch in _batches(len(points), rows * (D + N) * 8):
        chunk = points[batch]
        nets = [_network(base, model, a, sigma) for _, a, sigma in chunk]
        scales = np.array([rho / rho0 for rho, _, _ in chunk])
        leaks = np.array([a for _, a, _ in chunk])
        buffer = np.empty((len(chunk), rows, D + N))  # per grid point the readout features [u, x]

        with _timed(timings, "fit: states"):  # the drive exactly as ESN.fit builds it
            previous = np.vstack([np.zeros((1, y.shape[1])), y_train[:-1]])
            _fill(buffer[:, :T1], nets, u_train, previous, noise)
            fitted, _ = advance(base.W_, scales, leaks, np.zeros((N, len(chunk))),
                                buffer[:, :T1, D:], description="sweep: fit")
        with _timed(timings, "fit: ridge readouts"):
            for j, esn in enumerate(nets):
                esn.state_, esn.last_output_ = fitted[:, j].copy(), y_train[-1].copy()
                try:
                    weights, bias = fit_ridge(buffer[j, model.washout:T1], y_train[model.washout:],
                                              model.ridge, overwrite_features=True)
                    esn.W_out_ = np.hstack([bias[:, None], weights.T])
                except np.linalg.LinAlgError:
                    log.warning("ridge solve failed at %s: its metrics are NaN", chunk[j])
                    esn.W_out_ = np.full((y.shape[1], 1 + D + N), np.nan)

        with _timed(timings, "predict: states" + (" and tangents" if lyapunov else "")):
            previous = np.vstack([y_train[-1:], y_test[:-1]])  # from where fitting ended
            _fill(buffer[:, :T2], nets, u_test, previous)
            _, found = advance(base.W_, scales, leaks, fitted, buffer[:, :T2, D:],
                               tangent=np.ones((N, len(chunk))) if lyapunov else None,
                               lyapunov_washout=model.washout, description="sweep: predict")
            if found is not None:
                exponents[batch] = found
        with _timed(timings, "predict: readouts"):
            teacher_forced = [esn.W_out_[:, 0] + buffer[j, :T2] @ esn.W_out_[:, 1:].T
                              for j, esn in enumerate(nets)]
        with _timed(timings, "free run"):
            free_runs = _generate(nets, base.W_, scales, leaks, fitted, u_test[:T3], buffer)
        with _timed(timings, "score"), np.errstate(over="ignore", invalid="ignore"):
            for j, (one_step, free_run) in enumerate(zip(teacher_forced, free_runs)):
                metrics[batch.start + j] = task.score(data, one_step, free_run)
    return metrics, exponents


def _fill(rows: np.ndarray, nets: list[ESN], u: np.ndarray, previous: np.ndarray | None,
          noise: np.ndarray | None = None) -> None:
    """rows (K, T, D_in + N) <- [u(t), drive_k(t)], the drive computed by ESN._drive as ESN.fit
    (+ noise), predict and generate compute it; once per distinct input scaling."""
    D = u.shape[1]
    groups: dict[float, list[int]] = {}
    for j, esn in enumerate(nets):
        groups.setdefault(esn.input_scaling, []).append(j)
    for members in groups.values():
        drive = nets[members[0]]._drive(u, previous)
        if noise is not None:
            drive += noise
        for j in members:
            rows[j, :, :D] = u
            rows[j, :, D:] = drive


def _generate(nets: list[ESN], W, scales, leaks, state, u, buffer) -> list[np.ndarray]:
    """Free runs (ESN.generate) of the K fitted grid points, together: own output fed back.

    The sparse product is shared; each readout is the very product ESN.generate computes
    (W_out's state columns @ a contiguous state), so rounding does not differ there.
    """
    K, steps, D = len(nets), len(u), u.shape[1]
    _fill(buffer[:, :steps], nets, u, None)  # W_in [1; u(t)]
    drive = buffer[:, :steps, D:]
    W_fb = nets[0].W_fb_                                            # (N, D_out), shared
    readouts = [(esn.W_out_[:, 0], esn.W_out_[:, 1:1 + D], esn.W_out_[:, 1 + D:]) for esn in nets]
    output = np.tile(nets[0].last_output_, (K, 1))                  # (K, D_out)
    outputs = np.empty((K, steps, output.shape[1]))
    leaky = bool(np.any(leaks != 1.0))
    x = state.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        for t in tqdm(range(steps), desc="sweep: free run", unit="step", disable=None, leave=False):
            h = W @ x
            h *= scales
            h += drive[:, t, :].T + W_fb @ output.T
            np.tanh(h, out=h)
            x = (1.0 - leaks) * x + leaks * h if leaky else h
            rows = x.T.copy()                                       # (K, N), contiguous states
            for k, (bias, from_inputs, from_states) in enumerate(readouts):
                output[k] = bias + from_inputs @ u[t] + from_states @ rows[k]
            outputs[:, t] = output
    return list(outputs)


def _inputs_targets(data: SeriesData) -> tuple[np.ndarray, np.ndarray]:
    if data.is_classification:
        raise ValueError("ESN sweeps support regression tasks only (sine, mackey_glass): this "
                         "data is classification (class-index targets)")
    y = _as_series(data.targets, "data.targets")
    return _as_series(data.inputs, "data.inputs", length=y.shape[0]), y


# --------------------------------------------------------------------------- memory capacity
def memory_function(W, scales, leak_rates, input_weights: np.ndarray, bias: np.ndarray,
                    rng: np.random.Generator, washout: int = MC_WASHOUT,
                    steps: int | None = None, activation: str = "tanh") -> np.ndarray:
    """r^2(u(t - k), y_k(t)) for k = 1..2N (columns) and each of K reservoirs (rows), (K, 2N).

    The memory capacity is its row sum. Reservoir k: W_k = scales[k] W, leak rate
    leak_rates[k], drive bias + input_weights[:, k] u(t) with u(t) ~ U(-1, 1) i.i.d. from
    ``rng`` (the same input for all K); the readouts see [1; x(t)]. Lengths: max(washout, 2N)
    steps dropped, then ``steps`` (default mc_steps(N)) to fit the readouts by ridge, then
    ``steps`` to measure r^2 on.
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
    for batch in _batches(K, total * N * 8):
        buffer = u[None, :, None] * input_weights[:, batch].T[:, None, :]  # (k, T, N)
        buffer += bias
        advance(W, scales[batch], leak_rates[batch], np.zeros((N, buffer.shape[0])), buffer,
                activation=activation, description="sweep: memory capacity")
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
            squared_correlations[batch.start + j] = _squared_correlation(lagged[steps:], prediction)
    return squared_correlations


def _squared_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Column-wise squared Pearson correlation; 0 where either column is constant."""
    a, b = a - a.mean(axis=0), b - b.mean(axis=0)
    covariance = np.einsum("tk,tk->k", a, b)
    variances = np.einsum("tk,tk->k", a, a) * np.einsum("tk,tk->k", b, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = covariance ** 2 / variances
    return np.where(variances > 0, r2, 0.0)


# ------------------------------------------------------------------------------- the sweep
def sweep(model: ESN, task, data: SeriesData, spectral_radii, leak_rates=None,
          input_scalings=None, memory_capacity: bool = True, lyapunov: bool = True,
          timings: dict | None = None) -> list[dict]:
    """The rows of sweep.csv (nothing is written): one dict per grid point, in ``grid`` order.

    Columns: spectral_radius, leak_rate, input_scaling, the task's score metrics,
    memory_capacity, lyapunov_exponent (each NaN when not measured: ``memory_capacity``,
    ``lyapunov`` False), effective_spectral_radius.
    timings: a dict to receive the seconds spent per phase (for benchmarks), or None.
    """
    model.check()
    u, y = _inputs_targets(data)
    if not 0 <= model.washout < data.train_length:
        raise ValueError(f"washout={model.washout} must be in [0, {data.train_length}) "
                         f"(the number of training steps)")
    leak_rates = [model.leak_rate] if leak_rates is None else list(leak_rates)
    input_scalings = [model.input_scaling] if input_scalings is None else list(input_scalings)
    for name, values in [("spectral_radii", spectral_radii), ("leak_rates", leak_rates),
                         ("input_scalings", input_scalings)]:
        if len(values) == 0:
            raise ValueError(f"{name} is empty: give at least one value")
    points = grid(spectral_radii, leak_rates, input_scalings)
    for rho, a, sigma in points:  # the ESN's own range rules, naming the offending value
        dataclasses.replace(model, spectral_radius=rho, leak_rate=a, input_scaling=sigma).check()

    with _timed(timings, "reservoir"):
        base, mc_rng = _draw(model, u.shape[1], y.shape[1])
    log.info("ESN sweep: %d grid points, N=%d, %s", len(points), model.units, task.name)
    metrics, exponents = task_errors(model, task, data, points, base, lyapunov, timings)
    scales = np.array([rho / model.spectral_radius for rho, _, _ in points])
    leaks = np.array([a for _, a, _ in points])
    capacity = np.full(len(points), np.nan)
    if memory_capacity:
        # the task's first input column (unscaled draw), or for a task without input a fresh one
        column = base.W_in_[:, 1] if u.shape[1] else mc_rng.uniform(-1.0, 1.0, model.units)
        sigmas = np.array([sigma for _, _, sigma in points])
        with _timed(timings, "memory capacity"):
            capacity = memory_function(base.W_, scales, leaks, column[:, None] * sigmas,
                                       base.W_in_[:, 0], mc_rng).sum(axis=1)
    with _timed(timings, "effective spectral radius"):
        effective = _effective_radii(base.W_, model.spectral_radius, points)
    return [{**dict(zip(GRID_COLUMNS, point)), **metrics[i],
             **dict(zip(DYNAMICS_COLUMNS, map(float, (capacity[i], exponents[i], effective[i]))))}
            for i, point in enumerate(points)]


def summarise(table: pd.DataFrame, primary_metric: str) -> dict:
    """The sweep's headline numbers (see run_esn_sweep)."""
    errors = table[primary_metric].to_numpy(dtype=float)
    finite = np.isfinite(errors)
    summary = {"primary_metric": primary_metric, "grid_points": len(table)}
    if finite.any():
        best = table.iloc[int(np.argmin(np.where(finite, errors, np.inf)))]
        summary.update(best_spectral_radius=float(best["spectral_radius"]),
                       best_leak_rate=float(best["leak_rate"]),
                       best_input_scaling=float(best["input_scaling"]),
                       best_error=float(best[primary_metric]))
        curve = table[(table["leak_rate"] == best["leak_rate"])
                      & (table["input_scaling"] == best["input_scaling"])]
    else:
        summary.update(best_spectral_radius=math.nan, best_leak_rate=math.nan,
                       best_input_scaling=math.nan, best_error=math.nan)
        curve = table
    capacity = table["memory_capacity"].to_numpy(dtype=float)
    summary["max_memory_capacity"] = (float(np.nanmax(capacity)) if np.isfinite(capacity).any()
                                      else math.nan)
    summary["spectral_radius_at_lyapunov_zero"] = first_zero_crossing(
        curve["spectral_radius"], curve["lyapunov_exponent"])
    return summary


def run_esn_sweep(model: ESN, task, data: SeriesData, spectral_radii: list[float],
                  leak_rates: list[float] | None, input_scalings: list[float] | None,
                  out_dir: Path, memory_capacity: bool = True) -> dict:
    """Sweep, then write ``sweep.csv`` (one row per grid point) and ``sweep.png``; return a summary.

    model: every other hyperparameter and the seed (int or numpy Generator). leak_rates /
    input_scalings: None means the model's own value; the grid is the full product.
    Summary: primary_metric (task.primary_metric), best_spectral_radius, best_leak_rate,
    best_input_scaling and best_error (the grid point minimising the primary metric),
    max_memory_capacity (NaN if not measured), spectral_radius_at_lyapunov_zero (first zero
    crossing along rho, linearly interpolated, on the best point's (leak rate, input scaling)
    curve; NaN if none), grid_points.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(sweep(model, task, data, spectral_radii, leak_rates, input_scalings,
                               memory_capacity))
    write_table(table, out_dir / "sweep.csv")
    summary = summarise(table, task.primary_metric)
    metrics = [task.primary_metric] + [m for m in getattr(task, "headline", ())
                                       if m != task.primary_metric][:1]
    plots.plot_esn_sweep(table, out_dir / "sweep.png",
                         f"{model.name} on {task.name}: sweep over the spectral radius "
                         f"(N = {model.units})", metrics, units=model.units)
    return summary
