"""Benchmark: how an ESN fit + predict scales with N and T, rnnlab against both reservoirpy backends.

    python benchmarks/esn_scaling.py [--units 100 300 1000 3000 10000]
                                     [--steps 1000 10000 100000] [--budget 120]
                                     [--libraries rnnlab rnnlab-chunked reservoirpy reservoirpy.jax]

Each cell is one fit on T training steps (washout 100) and a one-step prediction of 1000 test
steps of the Mackey-Glass series (benchmarks/esn_mackey_glass.py's task and hyperparameters, its
own random draw per library), run in a fresh process so that its peak resident memory (ru_maxrss
of the child: the interpreter and libraries included) belongs to that cell alone. The reservoir
keeps about 10 connections per unit (density 10 / N, at most 1), so the sparse product grows
like N and the Gram matrix like T N^2. Libraries:

    rnnlab            ESN(...).fit / .predict, every state kept (O(T N) memory)
    rnnlab-chunked    the same with chunk_steps=1000: O(N^2 + 1000 N) memory, the Gram matrix
                      summed on a second thread while the reservoir runs
    reservoirpy       reservoirpy 0.4's numpy backend
    reservoirpy.jax   its JAX backend (float64, W as BCOO), XLA on one intra-op thread

BLAS runs on one thread in every child (as in esn_mackey_glass.py). A cell is skipped (and says
why) when the memory its states need exceeds what is available, or when the same library at a
tenth of the steps already took more than a tenth of --budget seconds (or was skipped).
Printed: each cell as it finishes, then a markdown table.
"""

import os

# (OMP_NUM_THREADS is left alone: rnnlab reads it as the threads it may give independent work,
# the chunked fit's Gram matrix and the sweep's readouts, each on one-thread BLAS.)
for _variable in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")

import argparse
import json
import resource
import subprocess
import sys
import time

LIBRARIES = ("rnnlab", "rnnlab-chunked", "reservoirpy", "reservoirpy.jax")
TEST_STEPS = 1000
CONNECTIONS_PER_UNIT = 10


def run_cell(library: str, units: int, steps: int) -> dict:
    """One fit + predict in this process: seconds, test NRMSE, peak memory."""
    import numpy as np

    from esn_mackey_glass import Hyper, make_data, run_rnnlab, run_reservoirpy
    from rnnlab.tasks.base import nrmse

    data = make_data(steps, TEST_STEPS)
    hp = Hyper(units=units, connectivity=min(1.0, CONNECTIONS_PER_UNIT / units))
    if library == "reservoirpy.jax":
        import jax
        jax.config.update("jax_enable_x64", True)
    if library.startswith("reservoirpy"):
        import reservoirpy
        try:
            reservoirpy.verbosity(0)
        except AttributeError:
            pass
    run = {"rnnlab": lambda: run_rnnlab(hp, data)[0],
           "rnnlab-chunked": lambda: run_rnnlab(hp, data, chunk_steps=1000)[0],
           "reservoirpy": lambda: run_reservoirpy(hp, data),
           "reservoirpy.jax": lambda: run_reservoirpy(hp, data, backend="jax")}[library]
    start = time.perf_counter()
    prediction = np.asarray(run())
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "nrmse": float(nrmse(data.y_test, prediction)),
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def states_bytes(library: str, units: int, steps: int) -> float:
    """The big arrays' bytes: every state (twice: states and their centred copy), or one chunk,
    plus the Gram matrix."""
    kept = 1000 if library == "rnnlab-chunked" else steps
    return 8 * (2 * kept * (units + 1) + 2 * (units + 1) ** 2)


def available_bytes() -> float:
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    return float("inf")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, nargs="+", default=[100, 300, 1000, 3000, 10000])
    parser.add_argument("--steps", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--budget", type=float, default=120.0,
                        help="seconds a cell may be expected to take")
    parser.add_argument("--libraries", nargs="+", default=list(LIBRARIES), choices=LIBRARIES)
    parser.add_argument("--cell", nargs=3, metavar=("LIBRARY", "N", "T"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cell:
        library, units, steps = args.cell[0], int(args.cell[1]), int(args.cell[2])
        print(json.dumps(run_cell(library, units, steps)))
        return

    print(f"ESN fit + predict ({TEST_STEPS} test steps), Mackey-Glass, ~{CONNECTIONS_PER_UNIT} "
          f"connections per unit, BLAS 1 thread; seconds / peak MiB (test NRMSE), one run each")
    results = {}
    for steps in sorted(args.steps):
        for units in sorted(args.units):
            for library in args.libraries:
                results[library, units, steps] = measure(library, units, steps, results, args)
                print(f"  T={steps:>6} N={units:>5} {library:16} "
                      f"{results[library, units, steps]['text']}", flush=True)
    print()
    print("| T | N | " + " | ".join(args.libraries) + " |")
    print("|---|---|" + "---|" * len(args.libraries))
    for steps in sorted(args.steps):
        for units in sorted(args.units):
            cells = [results[library, units, steps]["text"] for library in args.libraries]
            print(f"| {steps} | {units} | " + " | ".join(cells) + " |")


def measure(library: str, units: int, steps: int, results: dict, args) -> dict:
    shorter = results.get((library, units, steps // 10))
    if shorter and "seconds" not in shorter:
        return {"text": f"skipped (as T={steps // 10})"}
    if shorter and shorter["seconds"] > args.budget / 10:
        return {"text": f"skipped (T={steps // 10} took {shorter['seconds']:.0f} s)"}
    needed = states_bytes(library, units, steps)
    if needed > 0.8 * available_bytes():
        return {"text": f"skipped (needs ~{needed / 2 ** 30:.0f} GiB)"}
    command = [sys.executable, __file__, "--cell", library, str(units), str(steps)]
    done = subprocess.run(command, capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.abspath(__file__)))
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"text": f"failed ({last[:60]})"}
    cell = json.loads(done.stdout.strip().splitlines()[-1])
    cell["text"] = f"{cell['seconds']:.3g} s / {cell['peak_mib']:.0f} MiB ({cell['nrmse']:.2g})"
    return cell


if __name__ == "__main__":
    main()
