"""Benchmark: a batched spectral-radius sweep of an ESN against separate fits, in one process.

    python benchmarks/esn_sweep.py [--units 1000] [--values 16] [--repeats 3] [--threads 1]
                                   [--connectivity 0.01]

Task: rnnlab's own MackeyGlassTask with its defaults (6000 samples: 3000 to fit, of which 100
washout, 3000 test; the series reaches the model as output feedback; 84-step free run). Model: the
settings of conf/model_task/esn_mackey_glass.yaml (leak 1.0, noise 0, ridge 1e-8) on ESN's other
defaults (input scaling 0.5, bias 0.2, feedback 1.0), N = --units, density --connectivity, seed 0.
Spectral radii: numpy.linspace(0.1, 1.6, --values).

Rows (each row's time is one call of everything listed; data generation excluded):

    sweep           rnnlab.analyses.esn_sweep.sweep(..., memory_capacity=False): one draw
                    (ARPACK rescaling), the --values grid points advanced together (one sparse
                    product per step), the --values ridge readouts, the teacher-forced test
                    part with the tangent vectors (the Lyapunov exponents ride along), the free
                    runs, task.score per grid point. No files are written (kind=esn_sweep adds
                    sweep.csv and a plot, ~1 s of matplotlib).
    separate fits   for each value: ESN(spectral_radius=rho, ...).fit, .predict (teacher
                    forced), .generate (84 steps), task.score -- what a loop over plain fits
                    does (no Lyapunov exponents).
    one fit         the same for the one value rho = 1.0 (the model's own).

Timing: time.perf_counter; one untimed warm-up of every row, then --repeats timed runs,
round-robin over the rows, each round starting one row later: on this VM memory freed for ~2 s
goes back to the host and touching it again costs ~2.5 s/GB of page faults, which the first run
of a round pays (the sweep holds 384 MB of states, hence its median well above its best). Best
and median are printed, with each row's time over one fit's. Then
the sweep's phases (its ``timings``, best of --repeats back-to-back runs) show where the time
goes, and the largest relative difference between the sweep's metrics and the separate fits':
zero where rho / 1.0 is a power of 2 (W scaled exactly), elsewhere the last-bit rounding of
s (W x) against (s W) x as amplified by the ridge readout -- as much as a plain fit moves when W
changes by one ulp (largest in the free run and where the driven reservoir is nearly chaotic).

Threads: BLAS (numpy's and scipy's OpenBLAS) is limited to --threads (default 1) with
threadpoolctl after scipy.linalg is loaded; on a shared 2-core machine a 2-thread OpenBLAS can be
many times slower than 1 thread whenever another process holds a core.

Last measured (2026-11-23, 2 cores, BLAS 1 thread, numpy 2.4.6, scipy 1.17.1; N = 1000, density
0.01, 16 radii; best of 5):

    sweep                 3.11 s   7.9x one fit
    sweep, no Lyapunov    2.37 s   6.1x one fit
    16 separate fits      6.49 s  16.6x one fit     (2.1x the sweep)
    one fit               0.391 s

    sweep phases: reservoir draw 0.20 s, fit states 0.51 s, 16 ridge readouts 1.14 s,
    test part with tangent vectors 1.14 s, readouts + free runs + scores 0.05 s.
    sweep vs separate fits: rho = 0.5, 1.0 equal bit for bit; the other 14 radii within 3.2e-4
    relative (84-step free-run NRMSE; one-step NRMSE within 2.3e-6). Best one-step NRMSE
    2.06e-5 at rho = 1.4 (1.66e-4 at the preset's rho = 1.0).

What limits it: the 16 ridge readouts alone cost 2.9x one fit. Each is a centred Gram matrix
X^T X of 2900 x 1000 states (syrk, 56 ms at ~50 GFlop/s, near this core's peak) plus a Cholesky
solve (20 ms) and centring (9 ms): exactly the work of a plain fit's readout, once per grid
point, since the states differ from grid point to grid point. What batching saves is the per-fit
reservoir draw (ARPACK, 0.2 s, half of one fit) and per-step Python overhead. The batched state
update costs ~180 us per step for 16 columns (sparse product 85 us; tanh, drive and store ~25 us
each on 16k elements), so barely less per column than a single ESN's ~15-20 us step; the tangent
vectors add ~0.6 s (a 32-column product and six more passes per step). Tried or considered:
(1) scipy's dsyrk directly instead of numpy's A.T @ A: no faster (numpy already calls syrk);
(2) cho_factor/cho_solve instead of solve(assume_a="pos"): 7 ms less per grid point (0.1 s in
all), not taken so that fit_ridge is shared with ESN.fit bit for bit; (3) a float32 Gram matrix:
2x faster, but its 3e-7 relative error meets a condition number of 3e12 (ridge 1e-8, rho = 1):
the Cholesky factorisation fails, the matrix is no longer positive definite; (4) all K Gram
matrices in one BLAS call: there is no batched syrk, and stacking the states
([X_1 ... X_K]^T [X_1 ... X_K]) multiplies the work by K; (5) a shared factorisation: impossible,
the states differ; (6) batches of 4 grid points instead of all 16 together: 1.2 s slower
(per-step overhead paid 4 times). With float64 readouts equal to plain fits', the sweep cannot
come down to 3x one fit on one core; it stays 2.1x faster than a loop of plain fits and also
gives the Lyapunov exponents.
"""

import os

# BLAS reads its thread count when first loaded; 1 unless the caller says otherwise (--threads
# is applied with threadpoolctl below, once scipy's own OpenBLAS is loaded too).
# (OMP_NUM_THREADS is left alone: rnnlab reads it as the threads it may give independent work,
# the chunked fit's Gram matrix and the sweep's readouts, each on one-thread BLAS.)
for _variable in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse
import dataclasses
import math
import statistics

import numpy as np
import scipy
import scipy.linalg  # noqa: F401  (load scipy's BLAS before threadpool_limits)
from threadpoolctl import threadpool_info, threadpool_limits

from timing import positive_int, time_round_robin

from rnnlab import ESN, MackeyGlassTask
from rnnlab.analyses.esn_sweep import sweep
from rnnlab.resources import worker_threads

OWN_RADIUS = 1.0    # conf/model_task/esn_mackey_glass.yaml's spectral radius: the "one fit"

SWEEP, NO_LYAPUNOV, SEPARATE, ONE = "sweep", "sweep, no Lyapunov", "separate fits", "one fit"


def plain_fit(model: ESN, task, data) -> dict:
    """What a plain loop does per value: fit, predict, generate, score."""
    model = dataclasses.replace(model).fit(data.u_train, data.y_train)
    one_step = model.predict(data.u_test, data.y_test)
    free_run = model.generate(data.u_test[:data.free_run_length], steps=data.free_run_length)
    return task.score(data, one_step, free_run)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=positive_int, default=1000, help="reservoir size N")
    parser.add_argument("--values", type=positive_int, default=16,
                        help="spectral radii, numpy.linspace(0.1, 1.6, VALUES)")
    parser.add_argument("--repeats", type=positive_int, default=3, help="timed runs per row")
    parser.add_argument("--threads", type=positive_int, default=1, help="BLAS threads")
    parser.add_argument("--connectivity", type=float, default=0.01,
                        help="reservoir density (0.01: ~10 inputs per unit at N = 1000)")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    with threadpool_limits(args.threads, user_api="blas"):
        run(args)


def run(args) -> None:
    task = MackeyGlassTask()
    data = task.make_data(np.random.default_rng(0))
    model = ESN(units=args.units, spectral_radius=OWN_RADIUS, leak_rate=1.0, noise=0.0,
                ridge=1e-8, connectivity=args.connectivity, seed=0)
    radii = [float(rho) for rho in np.linspace(0.1, 1.6, args.values)]
    pools = ", ".join(f"{pool['internal_api']} {pool['num_threads']}"
                      for pool in threadpool_info() if pool["user_api"] == "blas")
    print(f"ESN spectral-radius sweep, Mackey-Glass: N={args.units}, density "
          f"{args.connectivity}, {args.values} radii in [0.1, 1.6], {data.train_length} fit "
          f"steps (washout {model.washout}), {len(data.y_test)} test steps")
    print(f"  numpy {np.__version__}, scipy {scipy.__version__}; BLAS threads: {pools}; "
          f"{os.cpu_count()} CPUs; the grid points' readouts on {worker_threads()} thread(s) "
          f"(OMP_NUM_THREADS sets it)")
    print(f"  best and median of {args.repeats} timed run(s) per row, after 1 warm-up\n")

    runs = {
        SWEEP: lambda: sweep(model, task, data, radii, memory_capacity=False),
        NO_LYAPUNOV: lambda: sweep(model, task, data, radii, memory_capacity=False,
                                   lyapunov=False),
        SEPARATE: lambda: [plain_fit(dataclasses.replace(model, spectral_radius=rho), task, data)
                           for rho in radii],
        ONE: lambda: plain_fit(model, task, data),
    }
    results = {name: run() for name, run in runs.items()}  # the warm-up
    seconds = time_round_robin(runs, args.repeats, warm_up=False, rotate=True)
    best = {name: min(values) for name, values in seconds.items()}

    print(f"{'':20} {'best s':>8} {'median s':>9} {'/ one fit':>10}")
    for name, values in seconds.items():
        print(f"{name:20} {best[name]:8.3f} {statistics.median(values):9.3f} "
              f"{best[name] / best[ONE]:10.2f}")
    ratio = best[SWEEP] / best[ONE]
    print(f"\nsweep / one fit: {ratio:.2f}x; separate fits / sweep: "
          f"{best[SEPARATE] / best[SWEEP]:.2f}x")

    phases: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        timings: dict[str, float] = {}
        sweep(model, task, data, radii, memory_capacity=False, timings=timings)
        for phase, spent in timings.items():
            phases.setdefault(phase, []).append(spent)
    print(f"\nwhere the sweep's time goes (s, best of {args.repeats} per phase):")
    for phase, spent in phases.items():
        print(f"  {phase:32} {min(spent):7.3f}")

    # rho / rho_0 a power of 2 scales W exactly: those grid points must equal the plain fits bit
    # for bit; elsewhere s (W x) and (s W) x differ in the last bit, which the readout amplifies
    # (most where the driven reservoir is nearly chaotic: a plain fit moves as much when W
    # changes by one ulp).
    worst = {True: [], False: []}
    for row, plain in zip(results[SWEEP].to_dict("records"), results[SEPARATE]):
        exact = math.frexp(row["spectral_radius"] / OWN_RADIUS)[0] == 0.5
        worst[exact].append(max([abs(row[key] - value) / abs(value) for key, value in plain.items()
                                 if np.isfinite(value) and value != 0], default=0.0))
    print("\nlargest relative difference of a metric, sweep vs separate fits:")
    for exact, what in [(True, f"rho / {OWN_RADIUS:g} a power of 2 (bit for bit expected)"),
                        (False, "other radii (rounding of W, amplified by the ridge readout)")]:
        found = f"{max(worst[exact]):.1e}" if worst[exact] else "none"
        print(f"  {len(worst[exact]):2d} grid points with {what}: {found}")
    primary = task.primary_metric
    best_row = results[SWEEP].loc[results[SWEEP][primary].idxmin()]
    print(f"best {primary}: {best_row[primary]:.3e} at rho = {best_row['spectral_radius']:.2f}")


if __name__ == "__main__":
    main()
