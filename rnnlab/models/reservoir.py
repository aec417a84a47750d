"""The reservoir update, written once: K leaky-tanh reservoirs sharing one sparse matrix W.

    x_k(t) = (1 - a_k) x_k(t-1) + a_k f(s_k W x_k(t-1) + d_k(t)),    f = tanh (or identity)

Reservoir k is W scaled by s_k, with leak rate a_k and drive d_k(t) (everything else in the
argument: W_in [1; u(t)] + W_fb y(t-1) + noise). An :class:`rnnlab.ESN` is K = 1 (s = 1); the
spectral-radius sweep is K = the grid, s_k = rho_k / rho_0, one sparse product per step for all.

Two things can ride along in the same loop:

- tangent vectors (the largest Lyapunov exponent): v <- J_k(t) v / ||J_k(t) v|| with the
  update's Jacobian  J_k(t) = (1 - a_k) I + a_k diag(f'(z_k(t))) s_k W,  z the argument of f;
  they share the sparse product with the states;
- a closed loop (:class:`ClosedLoop`, the free run): the readout y_k(t) = W_out,k [1; u(t); x_k(t)]
  is fed back through W_fb into the next step's drive; :class:`rnnlab.models.readouts.ForceLoop`
  also updates W_out at each step (FORCE learning).
"""

import numpy as np
from tqdm import tqdm

ACTIVATIONS = ("tanh", "linear")


def advance(W, scales, leak_rates, state: np.ndarray, drive: np.ndarray,
            tangent: np.ndarray | None = None, lyapunov_washout: int = 0,
            activation: str = "tanh", closed_loop: "ClosedLoop | None" = None,
            description: str | None = None):
    """Advance K reservoirs through T steps together (see the module docstring).

    scales s_k, leak_rates a_k: (K,); state: (N, K), x(0); drive: (K, T, N), d_k(t) --
    overwritten in place, row by row, by the states x_k(t) (any strided view works: a row is read
    before it is replaced). tangent: (N, K) start vectors, or None. closed_loop: adds
    W_fb y_k(t-1) to each step's drive (the free run), or None.

    Returns (state at T (N, K), lambda (K,)): lambda is the mean of ln ||J v|| over steps
    t >= lyapunov_washout (nats per step; NaN if no step counted; None without a tangent).
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation={activation!r}: allowed 'tanh' or 'linear'")
    scales = np.asarray(scales, dtype=np.float64)
    leak_rates = np.asarray(leak_rates, dtype=np.float64)
    keep = 1.0 - leak_rates
    K, steps = len(scales), drive.shape[1]
    leaky, tanh, track = bool(np.any(leak_rates != 1.0)), activation == "tanh", tangent is not None
    # states in columns 0..K-1, tangents in K..2K-1: one C-ordered (N, K or 2K) operand per step
    operand = np.empty((W.shape[0], 2 * K if track else K))
    column_scales = np.concatenate([scales, scales]) if track else scales
    scaled = bool(np.any(scales != 1.0))   # a plain ESN (s = 1) skips the product by 1
    rows = drive.transpose(1, 2, 0)        # (T, N, K): step t's drive, then its states
    x = operand[:, :K]
    x[...] = state
    if track:
        v = operand[:, K:]
        v[...] = tangent / np.linalg.norm(tangent, axis=0)
        log_growth, counted = np.zeros(K), 0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for t in progress(steps, description):
            product = W @ operand                  # (N, K) or (N, 2K): the one sparse product
            if scaled:
                product *= column_scales           # s_k W x_k, s_k W v_k
            h = product[:, :K] if track else product
            if closed_loop is None:
                h += rows[t]                       # the argument of f
            else:
                h += rows[t] + closed_loop.feedback(t, x)
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
            if leaky:                              # (1 - a) x + a f(...)
                x *= keep
                h *= leak_rates
                x += h
            rows[t] = x
        if closed_loop is not None:
            closed_loop.feedback(steps, x)         # the last step's output
    lyapunov = None
    if track:
        lyapunov = log_growth / counted if counted else np.full(K, np.nan)
    return x.copy(), lyapunov


def progress(steps: int, description: str | None):
    """range(steps), with a progress bar in a terminal when the loop has a ``description``."""
    if description is None:
        return range(steps)
    return tqdm(range(steps), desc=description, unit="step", disable=None, leave=False)


class ClosedLoop:
    """The free run's feedback: each reservoir's own output y_k(t-1) = W_out,k [1; u(t-1); x_k(t-1)]
    goes back in through W_fb (shared); ``outputs`` (K, T, D_out) collects them.

    readouts: K matrices W_out,k (D_out, 1 + D_in + N), read through views, so that a readout
    updated in place is used from the next step on; u: inputs (T, D_in); first_output
    (K, D_out): y(-1), where fitting left the outputs.
    """

    def __init__(self, readouts: list[np.ndarray], W_fb: np.ndarray, u: np.ndarray,
                 first_output: np.ndarray):
        D = u.shape[1]
        self.parts = [(W_out[:, 0], W_out[:, 1:1 + D], W_out[:, 1 + D:]) for W_out in readouts]
        self.W_fb, self.u = W_fb, u
        self.output = np.array(first_output, dtype=np.float64)     # (K, D_out), y(t-1)
        self.outputs = np.empty((len(readouts), len(u), self.output.shape[1]))

    def feedback(self, t: int, x: np.ndarray) -> np.ndarray:
        """W_fb y_k(t-1) for step t, (N, K); x = x(t-1) (N, K) gives y(t-1) once t >= 1."""
        if t > 0:
            rows = x.T.copy()                      # (K, N): each state contiguous, as a plain
            for k, (bias, from_inputs, from_states) in enumerate(self.parts):   # ESN's would be
                self.output[k] = bias + from_inputs @ self.u[t - 1] + from_states @ rows[k]
            self.outputs[:, t - 1] = self.output
        return self.W_fb @ self.output.T
