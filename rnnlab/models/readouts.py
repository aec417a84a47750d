"""Online readouts: recursive least squares (RLS), and FORCE learning built on it.

RLS learns a linear readout y(t) = W z(t), W (D_out, F), one sample at a time (Haykin's
exponentially weighted RLS; lambda = forgetting, P_0 = I / alpha, W_0 = 0):

    k(t) = P z(t) / (lambda + z(t)^T P z(t))                 gain, (F,)
    W   <- W + (d(t) - W z(t)) k(t)^T                         all D_out outputs at once
    P   <- (P - k(t) z(t)^T P) / lambda                       O(F^2) per step

P is the inverse of the exponentially weighted Gram matrix sum_s lambda^(t-s) z(s) z(s)^T plus
lambda^t alpha I. With lambda = 1, W after T samples is exactly the ridge solution with penalty
alpha on every weight, the bias included: W = D Z^T (Z Z^T + alpha I)^-1 (Z (F, T), D (D_out, T)).
With lambda < 1 a sample's weight decays as lambda^age: the readout tracks a changing target
(memory ~ 1 / (1 - lambda) steps).

FORCE (Sussillo & Abbott 2009): the reservoir runs closed loop while it learns, its own output
y(t) = W_out [1; u(t); x(t)] fed back through W_fb (not the teacher), and after the washout RLS
moves W_out towards the target at every step; the output fed back is the one computed before
that step's update. :class:`ForceLoop` is the free run's :class:`ClosedLoop` with this update.
"""

import numpy as np
import scipy.linalg.blas

from rnnlab.models.reservoir import ClosedLoop, progress


class RLS:
    """Recursive least squares for y = W z (see the module docstring).

    ``W`` (D_out, F) starts at zero and is updated in place (views of it see every update);
    ``P`` (F, F) is symmetric and kept in its upper triangle only (Fortran order, for BLAS's
    symmetric matrix-vector product and rank-1 update).
    """

    def __init__(self, features: int, outputs: int, alpha: float, forgetting: float = 1.0):
        self.W = np.zeros((outputs, features))                    # (D_out, F)
        self.P = np.asfortranarray(np.eye(features) / alpha)      # (F, F), P_0 = I / alpha
        self.forgetting = forgetting

    def update(self, z: np.ndarray, target: np.ndarray, output: np.ndarray | None = None) -> None:
        """One step towards target d (D_out,) at features z (F,); ``output`` is W z where the
        caller has already computed it (FORCE's fed-back output), else it is computed here."""
        Pz = scipy.linalg.blas.dsymv(1.0, self.P, z)               # P z = (z^T P)^T, P symmetric
        gain = 1.0 / (self.forgetting + z @ Pz)                    # k = gain * P z
        error = target - (self.W @ z if output is None else output)
        self.W += np.outer(error, gain * Pz)
        self.P = scipy.linalg.blas.dsyr(-gain, Pz, a=self.P, overwrite_a=True)  # P - k z^T P
        if self.forgetting != 1.0:
            self.P /= self.forgetting


def rls_readout(features: np.ndarray, targets: np.ndarray, alpha: float, forgetting: float,
                description: str | None = None) -> np.ndarray:
    """W_out (D_out, 1 + F) = [bias | weights] learned by RLS over the rows of features (T, F)
    (an ESN's [u(t), x(t)]) against targets (T, D_out), in order, on z(t) = [1; features[t]]."""
    rls = RLS(1 + features.shape[1], targets.shape[1], alpha, forgetting)
    z = np.ones(1 + features.shape[1])                            # (1 + F,), z[0] = 1: the bias
    for t in progress(len(features), description):
        z[1:] = features[t]
        rls.update(z, targets[t])
    return rls.W


class ForceLoop(ClosedLoop):
    """FORCE learning in the closed loop of :func:`rnnlab.models.reservoir.advance` (one
    reservoir, K = 1): :class:`ClosedLoop` computes y(t-1) = W_out [1; u(t-1); x(t-1)] and feeds
    it back; then, for t-1 >= washout, RLS updates W_out (``rls.W``, the loop's readout) towards
    targets[t-1] with that same output as its prediction.

    rls: the readout's RLS (F = 1 + D_in + N); W_fb (N, D_out); u (T, D_in); targets (T, D_out);
    first_output (D_out,): y(-1). ``outputs[0]`` (T, D_out) collects the outputs fed back.
    """

    def __init__(self, rls: RLS, W_fb: np.ndarray, u: np.ndarray, targets: np.ndarray,
                 washout: int, first_output: np.ndarray):
        super().__init__([rls.W], W_fb, u, first_output[None])
        self.rls, self.targets, self.washout = rls, targets, washout
        self.z = np.ones(rls.W.shape[1])                          # [1; u(t-1); x(t-1)]

    def feedback(self, t: int, x: np.ndarray) -> np.ndarray:
        fed_back = super().feedback(t, x)                         # from W_out before the update
        if t - 1 >= self.washout:
            D = self.u.shape[1]
            self.z[1:1 + D] = self.u[t - 1]
            self.z[1 + D:] = x[:, 0]
            self.rls.update(self.z, self.targets[t - 1], output=self.output[0])
        return fed_back
