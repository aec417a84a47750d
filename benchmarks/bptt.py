"""Benchmark: forward + backward through time of rnnlab's RNN, LSTM and GRU against PyTorch's CPU.

    make bench                       # runs this script after the ESN benchmark
    .venv/bin/python benchmarks/bptt.py [--steps 100] [--batch 32] [--inputs 32] [--hidden 128]
                                        [--outputs 32] [--threads 1] [--repeats 5]

What one timed call does, on both sides, in float32: the recurrent core over a window of T steps
from a zero state, a linear readout y_t = W_hy h_t + b_y at every step, the mean cross-entropy over
(T, B) against random class targets, and the exact gradient of that loss with respect to every
parameter (core and readout). rnnlab: ``model.loss_and_grads(x, y)`` of ``RNN(activation="tanh")``,
``LSTM`` and ``GRU`` (reset="after") built with ``dtype="float32"`` (its hand-written BPTT in numpy;
the call also returns dL/dh_t for every step). PyTorch: ``torch.nn.RNN(nonlinearity="tanh")``,
``torch.nn.LSTM`` or ``torch.nn.GRU``, one layer, time-major, then ``torch.nn.Linear`` and
``torch.nn.functional.cross_entropy``, then ``loss.backward()`` (autograd; gradients reset to None
before each call). Input tensors are made once, outside the timing. On the CPU in float32, torch's
LSTM runs oneDNN's fused LSTM kernels (forward and backward: autograd node
MkldnnRnnLayerBackward0) and its RNN and GRU run a C++ loop of ATen operations recorded by autograd
(StackBackward0); the script prints the node it found.

Same work, checked: before timing, rnnlab's parameters are copied into the torch modules (torch's
gate order is i, f, g, o where rnnlab's is i, f, o, g, so the LSTM's row blocks are permuted; torch
has two biases, b_ih and b_hh: b_ih gets rnnlab's bias and b_hh is zero, except for the GRU, whose
b and b_h are torch's b_ih and b_hh, in the same block order r, z, n), both compute the loss and
gradients on the same x and y, and the script prints the relative differences (|a - b| max over the
array divided by |torch| max over the array, per parameter, and the largest of them) and stops
unless they are all below CHECK_TOLERANCE. Weights: recurrent matrices orthogonal rescaled to
spectral radius 0.9, the others N(0, 0.1^2), so that every nonlinearity is exercised and the
gradients are not vanishing.

Timing: time.perf_counter; each side runs once untimed (warm-up), then --repeats timed calls,
round-robin between the two sides so that a busy machine slows both alike; the table shows the
best (and median) seconds per call and the ratio rnnlab best / torch best.

Threads: both libraries run in this one process with the same thread count, --threads (default 1):
torch.set_num_threads(n) for torch (its OpenMP pool and MKL) and threadpoolctl.threadpool_limits(n)
for numpy's OpenBLAS. Use 1: the matrices here are small (at most (32, 128) @ (128, 512) per step),
and on a shared 2-core machine a 2-thread OpenBLAS (or torch) can be many times slower than 1
thread whenever another process holds a core; benchmarks/README.md has the figures.
"""

import argparse
import os
import statistics

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from timing import blas_threads, positive_int, time_round_robin

from rnnlab import GRU, LSTM, RNN

CHECK_TOLERANCE = 1e-3    # float32: largest relative difference allowed in the loss and gradients
TORCH_GATE_ORDER = [0, 1, 3, 2]   # rnnlab blocks (i, f, o, g) taken in torch's order (i, f, g, o)


# ------------------------------------------------------------------------------- the two sides
def build_rnnlab(kind: str, args):
    cls = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}[kind]
    extra = {"activation": "tanh"} if kind == "RNN" else {}
    model = cls(hidden_size=args.hidden, init="orthogonal", spectral_radius=0.9, init_scale=0.1,
                dtype="float32", seed=0, **extra)
    return model.build(args.inputs, args.outputs)


def lstm_blocks_to_torch(array: np.ndarray) -> np.ndarray:
    """(4H, ...) rows in rnnlab's gate order (i, f, o, g) -> torch's (i, f, g, o), and back."""
    blocks = np.split(array, 4, axis=0)
    return np.concatenate([blocks[k] for k in TORCH_GATE_ORDER], axis=0)


def torch_names(kind: str) -> dict[str, str]:
    """rnnlab parameter name -> name of the torch parameter holding it."""
    core = {"RNN": {"W_xh": "core.weight_ih_l0", "W_hh": "core.weight_hh_l0",
                    "b_h": "core.bias_ih_l0"},
            "LSTM": {"W_x": "core.weight_ih_l0", "W_h": "core.weight_hh_l0",
                     "b": "core.bias_ih_l0"},
            "GRU": {"W_x": "core.weight_ih_l0", "W_h": "core.weight_hh_l0",
                    "b": "core.bias_ih_l0", "b_h": "core.bias_hh_l0"}}
    return {**core[kind], "W_hy": "readout.weight", "b_y": "readout.bias"}


def build_torch(kind: str, model) -> torch.nn.Module:
    """torch's RNN, LSTM or GRU and a Linear readout, holding the very parameters of ``model``."""
    H, D, O = model.hidden_size, model.input_size, model.output_size
    core = {"RNN": lambda: torch.nn.RNN(D, H, nonlinearity="tanh"),
            "LSTM": lambda: torch.nn.LSTM(D, H), "GRU": lambda: torch.nn.GRU(D, H)}[kind]()
    net = torch.nn.ModuleDict({"core": core, "readout": torch.nn.Linear(H, O)})
    torch_params = dict(net.named_parameters())
    with torch.no_grad():
        torch_params["core.bias_hh_l0"].zero_()   # RNN, LSTM: one bias; torch adds b_ih + b_hh
        for name, torch_name in torch_names(kind).items():
            value = model.params[name]
            if kind == "LSTM" and name in ("W_x", "W_h", "b"):
                value = lstm_blocks_to_torch(value)
            torch_params[torch_name].copy_(torch.from_numpy(np.ascontiguousarray(value)))
    return net


def torch_loss_and_backward(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The loss; leaves every parameter's gradient in its .grad."""
    for parameter in net.parameters():
        parameter.grad = None
    hidden, _ = net["core"](x)                                 # (T, B, H), from a zero state
    logits = net["readout"](hidden)                            # (T, B, O)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    loss.backward()
    return loss


# ------------------------------------------------------------------------------- the check
def relative_difference(ours: np.ndarray, theirs: np.ndarray) -> float:
    return float(np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs)))


def check_same_work(kind: str, model, net, x: np.ndarray, y: np.ndarray) -> float:
    """Largest relative difference between rnnlab's and torch's loss and gradients; asserts it is
    below CHECK_TOLERANCE, and that rnnlab stayed in float32."""
    loss, grads, _ = model.loss_and_grads(x, y)
    torch_loss = torch_loss_and_backward(net, torch.from_numpy(x), torch.from_numpy(y)).item()
    assert all(g.dtype == np.float32 for g in grads.values()), "rnnlab left float32"
    torch_params = dict(net.named_parameters())
    differences = {"loss": abs(loss - torch_loss) / abs(torch_loss)}
    for name, torch_name in torch_names(kind).items():
        theirs = torch_params[torch_name].grad.numpy()
        if kind == "LSTM" and name in ("W_x", "W_h", "b"):
            theirs = lstm_blocks_to_torch(theirs)
        differences[name] = relative_difference(grads[name], theirs)
    worst = max(differences.values())
    node = net["core"](torch.from_numpy(x[:1]))[0].grad_fn.name()   # which kernel torch runs
    print(f"  {kind:5} check: loss {loss:.6f} (torch {torch_loss:.6f}); relative difference "
          + ", ".join(f"{name} {value:.1e}" for name, value in differences.items())
          + f"; max {worst:.1e}")
    print(f"        torch's {kind} backward node: {node}")
    assert worst < CHECK_TOLERANCE, f"{kind}: rnnlab and torch disagree ({worst:.2e})"
    return worst


# -------------------------------------------------------------------------------------- main
def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=positive_int, default=100, help="window length T")
    parser.add_argument("--batch", type=positive_int, default=32, help="batch size B")
    parser.add_argument("--inputs", type=positive_int, default=32, help="input size D")
    parser.add_argument("--hidden", type=positive_int, default=128, help="hidden size H")
    parser.add_argument("--outputs", type=positive_int, default=32, help="classes O")
    parser.add_argument("--threads", type=positive_int, default=1,
                        help="threads for both numpy's BLAS and torch (default 1)")
    parser.add_argument("--repeats", type=positive_int, default=5,
                        help="timed calls per side (best is reported)")
    parser.add_argument("--models", nargs="+", choices=["RNN", "LSTM", "GRU"],
                        default=["RNN", "LSTM", "GRU"])
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    with threadpool_limits(limits=args.threads):
        run(args)


def run(args) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((args.steps, args.batch, args.inputs)).astype(np.float32)
    y = rng.integers(0, args.outputs, (args.steps, args.batch))
    x_torch, y_torch = torch.from_numpy(x), torch.from_numpy(y)

    print(f"BPTT forward + backward, float32: T={args.steps}, B={args.batch}, D={args.inputs}, "
          f"H={args.hidden}, O={args.outputs} (readout + mean cross-entropy on both sides)")
    print(f"  numpy {np.__version__}, torch {torch.__version__}; threads: torch "
          f"{torch.get_num_threads()}, BLAS {blas_threads()}; {os.cpu_count()} CPUs; best and "
          f"median of {args.repeats} timed call(s) after 1 warm-up")

    rows = {}
    for kind in args.models:
        model = build_rnnlab(kind, args)
        net = build_torch(kind, model)
        check_same_work(kind, model, net, x, y)
        rows[kind] = time_round_robin({
            "rnnlab": lambda: model.loss_and_grads(x, y),
            "torch": lambda: torch_loss_and_backward(net, x_torch, y_torch),
        }, args.repeats)

    print(f"\n{'model':6} {'rnnlab s':>9} {'torch s':>9} {'rnnlab/torch':>13}   "
          f"{'(medians: rnnlab s, torch s)':>28}")
    for kind, seconds in rows.items():
        ratio = min(seconds["rnnlab"]) / min(seconds["torch"])
        best, median = ({side: f(values) for side, values in seconds.items()}
                        for f in (min, statistics.median))
        print(f"{kind:6} {best['rnnlab']:9.4f} {best['torch']:9.4f} {ratio:12.2f}x   "
              f"{median['rnnlab']:14.4f} {median['torch']:9.4f}")


if __name__ == "__main__":
    main()
