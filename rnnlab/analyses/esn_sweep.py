"""An echo state network over its spectral radius (and leak rate, input scaling), in one process.

One random reservoir is drawn exactly as :class:`rnnlab.ESN` draws it (``ESN.draw_weights`` on a
copy of the model with input scaling 1: W at rho_0 = ``model.spectral_radius``, W_in, W_fb, the
noise stream); grid point k = (rho_k, a_k, sigma_k) of the full grid uses W_k = s_k W with
s_k = rho_k / rho_0, the same input draw scaled by sigma_k (``ESN.sharing_reservoir``), and its
leak rate a_k. All K grid points advance together through the one reservoir kernel,
:func:`rnnlab.models.reservoir.advance` (one sparse product per time step for the grid).

For each grid point, a row of the table:

1. Task error: the task's own ``score`` metrics. The readout is fitted exactly as ``ESN.fit``
   fits it (teacher forcing, the same washout, ridge and state noise xi -- one noise draw, shared
   by all grid points), the test part is predicted one step ahead (teacher forced) and the free
   run starts from where fitting ended, as ``ESN.generate`` runs it. So a grid point is a plain
   ``ESN(spectral_radius=rho_k, leak_rate=a_k, input_scaling=sigma_k, ...)`` with the same seed:
   bit for bit where rho_k / rho_0 is a power of 2 (rho_0 itself included); elsewhere s_k (W x)
   and (s_k W) x round differently in the last bit, and the ridge readout amplifies that as it
   amplifies any rounding (N = 1000, ridge 1e-8: one-step NRMSE within ~1e-6, an 84-step
   Mackey-Glass free run within ~3e-4, relative -- what a one-ulp change of W does to a plain
   ESN). A free run that diverges is a result: NaN/inf metrics, no exception.
2. ``memory_capacity`` (:func:`rnnlab.analyses.reservoir_dynamics.memory_function` on the grid).
3. ``lyapunov_exponent``: the largest Lyapunov exponent of the reservoir driven by the task's
   teacher-forced test part from the fitted state; its tangent vectors ride in the same kernel
   call as the test part's states (washout = ``model.washout``).
4. ``effective_spectral_radius`` rho(a_k W_k + (1 - a_k) I) (= rho_k when a_k = 1).

Several reservoirs (``reservoirs`` R > 1): the sweep is repeated on R independent draws of W,
W_in, W_fb and the noise, on the same data, and the table holds R rows per grid point (column
``reservoir``). Reservoir 0 is the model's own draw; reservoir r >= 1 is the draw of child 4 + r
of the model's seed stream (children 0-3 are reservoir 0's weights and noise, child 4 its
memory-capacity inputs): with an integer seed s, ``ESN(seed=np.random.default_rng(s).spawn(5 +
r)[4 + r])``. The summary ranks grid points by their mean over the reservoirs.

Memory: K * max(fit steps, test steps) * (D_in + N) floats for the states (16 grid points, 3000
steps, N = 1000: 384 MB); a grid needing more than ``MEMORY_BUDGET_BYTES`` runs in batches. The
reservoirs run one after another, so R does not add to it.

    data = MackeyGlassTask().make_data(np.random.default_rng(0))
    table = sweep(ESN(units=300, seed=0), MackeyGlassTask(), data, [0.2, 0.6, 1.0, 1.4])
    summarise(table, "one_step_nrmse")
"""

import concurrent.futures
import contextlib
import dataclasses
import itertools
import logging
import math
import time
from dataclasses import dataclass, field
from typing import ClassVar, Optional

import numpy as np
import pandas as pd

from rnnlab.analyses.reservoir_dynamics import batches, effective_spectral_radii, memory_function
from rnnlab.analyses.scoring import first_zero_crossing
from rnnlab.models.esn import ESN, as_series, fit_readout, previous_outputs, readout
from rnnlab.models.reservoir import ClosedLoop, advance
from rnnlab.resources import worker_threads
from rnnlab.tasks.base import SeriesData
from rnnlab.validation import at_least, check_integer, check_list, check_ranges

log = logging.getLogger(__name__)

GRID_COLUMNS = ("spectral_radius", "leak_rate", "input_scaling")  # the table: these, the
DYNAMICS_COLUMNS = ("memory_capacity", "lyapunov_exponent",       # reservoir, the task's score
                    "effective_spectral_radius")                  # metrics, then these


@dataclass
class ESNSweepConfig:
    """Settings of the ESN sweep (``kind=esn_sweep``; config keys ``esn_sweep.*``)."""

    spectral_radii: list[float] = field(default_factory=lambda: [
        0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6])
    leak_rates: Optional[list[float]] = None       # also sweep these (None: the model's)
    input_scalings: Optional[list[float]] = None   # also sweep these (None: the model's)
    memory_capacity: bool = True   # measure MC (costs a second run per grid point)
    reservoirs: int = 1            # independent reservoir draws per grid point (spread, band)

    rules: ClassVar[dict] = {"reservoirs": at_least(1)}

    def check(self, prefix: str = "esn_sweep.") -> None:
        """Every grid value within the ESN's own rule for that hyperparameter; reservoirs >= 1."""
        check_ranges(self, prefix)
        check_list(self.spectral_radii, ESN.rules["spectral_radius"], f"{prefix}spectral_radii")
        check_list(self.leak_rates, ESN.rules["leak_rate"], f"{prefix}leak_rates", optional=True)
        check_list(self.input_scalings, ESN.rules["input_scaling"], f"{prefix}input_scalings",
                   optional=True)


def grid(spectral_radii, leak_rates, input_scalings) -> list[tuple[float, float, float]]:
    """The full grid (rho, a, sigma), ordered by leak rate, then input scaling, then rho."""
    return [(float(rho), float(a), float(sigma))
            for a, sigma, rho in itertools.product(leak_rates, input_scalings, spectral_radii)]


def sweep(model: ESN, task, data: SeriesData, spectral_radii, leak_rates=None,
          input_scalings=None, memory_capacity: bool = True, lyapunov: bool = True,
          timings: dict | None = None, reservoirs: int = 1) -> pd.DataFrame:
    """One row per grid point and reservoir, in ``grid`` order for reservoir 0, then for
    reservoir 1, ... (see the module docstring).

    Columns: spectral_radius, leak_rate, input_scaling, reservoir, the task's score metrics,
    memory_capacity, lyapunov_exponent (each NaN when not measured: ``memory_capacity``,
    ``lyapunov`` False), effective_spectral_radius. model: every other hyperparameter and the
    seed (int or numpy Generator); leak_rates / input_scalings: None means the model's own;
    reservoirs: how many independent draws. timings: a dict to receive the seconds spent per
    phase (for benchmarks), or None.
    """
    model.check()
    check_integer(reservoirs, "reservoirs", at_least(1))
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

    scales = np.array([rho / model.spectral_radius for rho, _, _ in points])
    leaks = np.array([a for _, a, _ in points])
    root = np.random.default_rng(model.seed)  # a Generator seed is used (and spawned from) as is
    rows = []
    for reservoir in range(reservoirs):
        seed = root if reservoir == 0 else root.spawn(1)[0]   # child 4 + reservoir of root
        with _timed(timings, "reservoir"):
            base, mc_rng = _draw(dataclasses.replace(model, seed=seed), u.shape[1], y.shape[1])
        log.info("ESN sweep: %d grid points, N=%d, %s%s", len(points), model.units, task.name,
                 f", reservoir {reservoir + 1} of {reservoirs}" if reservoirs > 1 else "")
        metrics, exponents = _task_errors(model, task, data, points, base, lyapunov, timings)
        capacity = np.full(len(points), np.nan)
        if memory_capacity:
            with _timed(timings, "memory capacity"):
                capacity = memory_function(base, mc_rng, scales, leaks,
                                           [sigma for _, _, sigma in points]).sum(axis=1)
        with _timed(timings, "effective spectral radius"):
            effective = effective_spectral_radii(base, [rho for rho, _, _ in points], leaks)
        rows += [{**dict(zip(GRID_COLUMNS, point)), "reservoir": reservoir, **metrics[i],
                  **dict(zip(DYNAMICS_COLUMNS,
                             map(float, (capacity[i], exponents[i], effective[i]))))}
                 for i, point in enumerate(points)]
    return pd.DataFrame(rows)


def summarise(table: pd.DataFrame, primary_metric: str) -> dict:
    """The sweep's headline numbers: primary_metric (its name), grid_points, reservoirs,
    best_spectral_radius, best_leak_rate, best_input_scaling and best_error (the grid point
    minimising the primary metric), best_error_std (its std over the reservoirs; NaN for one),
    max_memory_capacity (NaN if not measured), spectral_radius_at_lyapunov_zero (first zero
    crossing along rho, linearly interpolated, on the best point's (leak rate, input scaling)
    curve; NaN if none). With several reservoirs every number is of the mean over them at each
    grid point (a grid point with a non-finite value on any reservoir counts as non-finite)."""
    reservoirs = int(table["reservoir"].nunique()) if "reservoir" in table else 1
    spread = None
    if reservoirs > 1:
        spread = over_reservoirs(table, lambda v: np.std(v, ddof=1))[primary_metric]
        table = over_reservoirs(table, np.mean)
    errors = table[primary_metric].to_numpy(dtype=float)
    finite = np.isfinite(errors)
    summary = {"primary_metric": primary_metric, "grid_points": len(table),
               "reservoirs": reservoirs}
    if finite.any():
        index = int(np.argmin(np.where(finite, errors, np.inf)))
        best = table.iloc[index]
        summary.update(best_spectral_radius=float(best["spectral_radius"]),
                       best_leak_rate=float(best["leak_rate"]),
                       best_input_scaling=float(best["input_scaling"]),
                       best_error=float(best[primary_metric]),
                       best_error_std=math.nan if spread is None else float(spread[index]))
        curve = table[(table["leak_rate"] == best["leak_rate"])
                      & (table["input_scaling"] == best["input_scaling"])]
    else:
        summary.update(best_spectral_radius=math.nan, best_leak_rate=math.nan,
                       best_input_scaling=math.nan, best_error=math.nan,
                       best_error_std=math.nan)
        curve = table
    capacity = table["memory_capacity"].to_numpy(dtype=float)
    summary["max_memory_capacity"] = (float(np.nanmax(capacity)) if np.isfinite(capacity).any()
                                      else math.nan)
    summary["spectral_radius_at_lyapunov_zero"] = first_zero_crossing(
        curve["spectral_radius"], curve["lyapunov_exponent"])
    return summary


def over_reservoirs(table: pd.DataFrame, statistic) -> pd.DataFrame:
    """One row per grid point (in grid order): ``statistic`` (a numpy reduction, NaN and inf
    propagating) of every numeric column over the reservoirs."""
    columns = [c for c in table.select_dtypes("number").columns
               if c not in GRID_COLUMNS and c != "reservoir"]
    return (table.groupby(list(GRID_COLUMNS), sort=False)[columns]
            .agg(lambda values: statistic(values.to_numpy(dtype=float))).reset_index())


# ------------------------------------------------------------------------------- the grid
def _draw(model: ESN, input_dim: int, output_dim: int) -> tuple[ESN, np.random.Generator]:
    """The model's weights, drawn as ESN.fit draws them (W at rho_0, bias column, W_fb, noise
    stream), with *unscaled* input columns; and a further child stream for the memory capacity."""
    root = np.random.default_rng(model.seed)  # a Generator seed is used (and spawned from) as is
    base = dataclasses.replace(model, input_scaling=1.0, seed=root)
    base.draw_weights(input_dim, output_dim)  # spawns children 0..3 of root, as ESN.fit does
    return base, root.spawn(1)[0]


@contextlib.contextmanager
def _timed(timings: dict | None, phase: str):
    """Add the seconds spent in the block to timings[phase] (if timings is a dict)."""
    started = time.perf_counter()
    yield
    if timings is not None:
        timings[phase] = timings.get(phase, 0.0) + time.perf_counter() - started


def _task_errors(model: ESN, task, data: SeriesData, points, base: ESN, lyapunov: bool = True,
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
    noise = base.state_noise(T1)
    rho0 = model.spectral_radius
    metrics, exponents = [None] * len(points), np.full(len(points), np.nan)
    rows = max(T1, T2, T3)
    for batch in batches(len(points), rows * (D + N) * 8):
        chunk = points[batch]
        nets = [base.sharing_reservoir(a, sigma) for _, a, sigma in chunk]
        scales = np.array([rho / rho0 for rho, _, _ in chunk])
        leaks = np.array([a for _, a, _ in chunk])
        buffer = np.empty((len(chunk), rows, D + N))  # per grid point the readout features [u, x]

        with _timed(timings, "fit: states"):  # the drive exactly as ESN.fit builds it
            _fill(buffer[:, :T1], nets, u_train, previous_outputs(np.zeros(y.shape[1]), y_train),
                  noise)
            fitted, _ = advance(base.W_, scales, leaks, np.zeros((N, len(chunk))),
                                buffer[:, :T1, D:], description="sweep: fit")
        with _timed(timings, "fit: ridge readouts"):
            def fit(j: int) -> None:      # grid points are independent: as many at once as
                esn = nets[j]             # worker_threads(), each exactly as ESN.fit does it
                esn.state_, esn.last_output_ = fitted[:, j].copy(), y_train[-1].copy()
                try:
                    esn.W_out_ = fit_readout(buffer[j, model.washout:T1], y_train[model.washout:],
                                             model.ridge)
                except np.linalg.LinAlgError:
                    log.warning("ridge solve failed at %s: its metrics are NaN", chunk[j])
                    esn.W_out_ = np.full((y.shape[1], 1 + D + N), np.nan)

            with concurrent.futures.ThreadPoolExecutor(min(worker_threads(), len(nets))) as pool:
                list(pool.map(fit, range(len(nets))))

        with _timed(timings, "predict: states" + (" and tangents" if lyapunov else "")):
            _fill(buffer[:, :T2], nets, u_test, previous_outputs(y_train[-1], y_test))
            _, found = advance(base.W_, scales, leaks, fitted, buffer[:, :T2, D:],
                               tangent=np.ones((N, len(chunk))) if lyapunov else None,
                               lyapunov_washout=model.washout, description="sweep: predict")
            if found is not None:
                exponents[batch] = found
        with _timed(timings, "predict: readouts"):
            teacher_forced = [readout(esn.W_out_, buffer[j, :T2]) for j, esn in enumerate(nets)]
        with _timed(timings, "free run"):   # ESN.generate, the K grid points together
            _fill(buffer[:, :T3], nets, u_test[:T3], None)
            loop = ClosedLoop([esn.W_out_ for esn in nets], base.W_fb_, u_test[:T3],
                              np.tile(y_train[-1], (len(chunk), 1)))
            advance(base.W_, scales, leaks, fitted, buffer[:, :T3, D:], closed_loop=loop,
                    description="sweep: free run")
        with _timed(timings, "score"), np.errstate(over="ignore", invalid="ignore"):
            for j, one_step in enumerate(teacher_forced):
                metrics[batch.start + j] = task.score(data, one_step, loop.outputs[j])
    return metrics, exponents


def _fill(rows: np.ndarray, nets: list[ESN], u: np.ndarray, previous: np.ndarray | None,
          noise: np.ndarray | None = None) -> None:
    """rows (K, T, D_in + N) <- [u(t), drive_k(t)], the drive computed by ESN.drive as ESN.fit
    (+ noise), predict and generate compute it; once per distinct input scaling."""
    D = u.shape[1]
    groups: dict[float, list[int]] = {}
    for j, esn in enumerate(nets):
        groups.setdefault(esn.input_scaling, []).append(j)
    for members in groups.values():
        drive = nets[members[0]].drive(u, previous)
        if noise is not None:
            drive += noise
        for j in members:
            rows[j, :, :D] = u
            rows[j, :, D:] = drive


def _inputs_targets(data: SeriesData) -> tuple[np.ndarray, np.ndarray]:
    if data.is_classification:
        raise ValueError("ESN sweeps support regression tasks only (sine, mackey_glass): this "
                         "data is classification (class-index targets)")
    y = as_series(data.targets, "data.targets")
    return as_series(data.inputs, "data.inputs", length=y.shape[0]), y
