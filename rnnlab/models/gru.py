"""GRU (gated recurrent unit) with an exact, hand-written backward pass through time.

Three blocks, in the order r (reset), z (update), n (candidate), each H rows of one matrix on the
input and one on the previous hidden state, each with an input bias b and a recurrent bias b_h:

    r = sigmoid(W_xr x_t + b_r + W_hr h_{t-1} + b_hr)
    z = sigmoid(W_xz x_t + b_z + W_hz h_{t-1} + b_hz)
    n = tanh(W_xn x_t + b_n + r * (W_hn h_{t-1} + b_hn))     reset="after" (cuDNN, PyTorch nn.GRU)
    n = tanh(W_xn x_t + b_n + W_hn (r * h_{t-1}) + b_hn)     reset="before" (Cho et al. 2014)
    h_t = (1 - z) * n + z * h_{t-1},    y_t = W_hy h_t + b_y

The two biases of a block only ever appear summed, except b_hn with reset="after" (it is scaled by
r); both are kept for every block, as nn.GRU keeps b_ih and b_hh, so that its weights copy over
one to one. Backward, with g_t = dL/dh_t the total gradient reaching h_t, m_t the vector W_hn
multiplies (h_{t-1} after, r * h_{t-1} before) and q_t = W_hn m_t + b_hn:

    dL/dn_pre = g_t (1 - z) (1 - n^2),   dL/dz_pre = g_t (h_{t-1} - n) z (1 - z)
    dL/dq_t = r dL/dn_pre (after) or dL/dn_pre (before)
    dL/dr_pre = dL/dn_pre q_t r (1 - r) (after) or (W_hn^T dL/dq_t) h_{t-1} r (1 - r) (before)
    g_{t-1} gets  z g_t + W_hr^T dL/dr_pre + W_hz^T dL/dz_pre + [W_hn^T dL/dq_t (after) or
                  r W_hn^T dL/dq_t (before)]
    dW_hn = sum_t dL/dq_t m_t^T,  db_hn = sum_t dL/dq_t

No Pascanu-style bound: dh_t/dh_{t-1} = diag(z) + (terms through W_hr, W_hz, W_hn scaled by the
gates' slopes), and its diag(z) part alone has norm up to 1 with no matrix in it (as the LSTM's
cell path), so sigma_max of the recurrent blocks does not decide whether gradients vanish.
``spectral_radius`` rescales each of the three recurrent blocks W_hr, W_hz, W_hn separately.

Layout, for speed, as in the LSTM: the gates are kept gate-major, (3, T, B, H), and the weights are
used as their per-block (H, K) matrices, so that each gate at step t is a contiguous (B, H) array;
the r and z rows are halved so that one tanh gives both sigmoids; every array is in the model's
dtype (float32 stays float32).
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rnnlab.models.recurrent import Recurrent
from rnnlab.validation import OneOf

RESETS = ("before", "after")


@dataclass
class GRU(Recurrent):
    """GRU. Parameters: W_x (3H, D), W_h (3H, H), b (3H,), b_h (3H,), W_hy (O, H), b_y (O,);
    blocks r, z, n. The state is h (B, H)."""

    reset: str = "after"                # where r acts: "after" W_hn h (PyTorch) or "before" (Cho)

    name: ClassVar[str] = "gru"
    rules: ClassVar[dict] = {**Recurrent.rules, "reset": OneOf(RESETS)}
    recurrent_labels: ClassVar[tuple] = ("W_hr", "W_hz", "W_hn")
    layer_parameters: ClassVar[tuple] = ("W_x", "W_h", "b", "b_h")
    _input_weight: ClassVar[str] = "W_x"

    @property
    def variant(self) -> str:
        return f"reset {self.reset}"

    @property
    def derivative_bound(self) -> None:
        """None: dh_t/dh_{t-1} = diag(z) + ... has no sigma_max < 1 / gamma bound (see the module
        docstring)."""
        return None

    def _input_params(self, input_size: int, rng: np.random.Generator) -> dict:
        H = self.hidden_size
        return {"W_x": self.init_scale * rng.standard_normal((3 * H, input_size)),
                "W_h": np.zeros((3 * H, H)), "b": np.zeros(3 * H), "b_h": np.zeros(3 * H)}

    def _recurrent_names(self):
        H = self.hidden_size
        return [("W_h", slice(k * H, (k + 1) * H)) for k in range(3)]

    def _blocks(self, weight: np.ndarray) -> np.ndarray:
        """A (3H, K) weight as its three blocks (3, H, K): [W_r, W_z, W_n]."""
        return weight.reshape(3, self.hidden_size, -1)

    def _layer_forward(self, params: dict, x: np.ndarray, h0: np.ndarray):
        """x (T, B, D), h0 (B, H) -> hidden (T, B, H), final state h_T (B, H), cache."""
        T, B, D = x.shape
        H, dtype, after = self.hidden_size, self.float_type, self.reset == "after"
        W_x, W_h = params["W_x"], params["W_h"]
        b, b_h = self._blocks(params["b"]), self._blocks(params["b_h"])   # (3, H, 1)
        # sigmoid(a) = (1 + tanh(a/2)) / 2: the r and z rows are halved (exact in binary floating
        # point) so that one tanh serves both gates
        half = np.array([0.5, 0.5, 1.0], dtype=dtype)[:, None, None]
        # the input part of every step in one product, the bias carried by a column of ones
        # appended to x; b_h joins it wherever it is not scaled by r (all but b_hn with "after")
        x_1 = np.ones((T * B, D + 1), dtype=dtype)
        x_1[:, :D] = x.reshape(T * B, D)
        bias = b + b_h * np.array([1.0, 1.0, 0.0 if after else 1.0], dtype=dtype)[:, None, None]
        W_b = np.concatenate([self._blocks(W_x), bias], axis=2)              # (3, H, D + 1)
        W_b_T = np.multiply(W_b.transpose(0, 2, 1), half, order="C")         # (3, D + 1, H)
        gates = (x_1 @ W_b_T).reshape(3, T, B, H)                           # becomes [r, z, n]
        W_h_T = np.multiply(self._blocks(W_h).transpose(0, 2, 1), half, order="C")   # (3, H, H)
        W_rz_T, W_n_T = W_h_T[:2], W_h_T[2]
        b_hn = b_h[2, :, 0]                                       # added to q_t with "after"
        recurrent = np.empty((2, B, H), dtype=dtype)              # h_{t-1} W_h{r,z}^T, each step
        q = np.empty((T, B, H), dtype=dtype)                      # q_t = W_hn m_t (+ b_hn)
        m = None if after else np.empty((T, B, H), dtype=dtype)   # m_t = r * h_{t-1} (before)
        hidden = np.empty((T, B, H), dtype=dtype)
        h = np.asarray(h0, dtype=dtype)
        for t in range(T):
            rz = gates[:2, t]                                     # (2, B, H): a_{r,z} / 2
            rz += np.matmul(h, W_rz_T, out=recurrent)
            np.tanh(rz, out=rz)
            rz += 1.0                                             # r, z = (1 + tanh(a/2)) / 2
            rz *= 0.5
            r, z, n = gates[:, t]
            if after:                                             # n_pre = a_n + r * q_t
                np.matmul(h, W_n_T, out=q[t])
                q[t] += b_hn
                n += r * q[t]
            else:                                                 # n_pre = a_n + q_t
                np.matmul(np.multiply(r, h, out=m[t]), W_n_T, out=q[t])
                n += q[t]
            np.tanh(n, out=n)
            h_t = np.subtract(h, n, out=hidden[t])                # h_t = n + z * (h_{t-1} - n)
            h_t *= z
            h_t += n
            h = h_t
        return hidden, h.copy(), (x_1, h0, gates, q, m, hidden)

    def _layer_backward(self, params: dict, cache, d_hidden: np.ndarray, input_gradient: bool):
        """d_hidden (T, B, H): dL/dh_t from above -> grads of W_x, W_h, b, b_h (and h0);
        dL/dh_t; dL/dx_t = sum_k W_xk^T da_k,t (T, B, D) if ``input_gradient``, else None."""
        x_1, h0, gates, q, m, hidden = cache
        T, B, H = hidden.shape
        after = m is None
        W_h = self._blocks(params["W_h"])                        # (3, H, H): W_hr, W_hz, W_hn
        W_rz, W_n = W_h[:2], W_h[2]
        h0 = np.asarray(h0, dtype=hidden.dtype)
        dh = np.empty_like(hidden)                               # total dL/dh_t
        da = np.empty_like(gates)                                # dL/d[r, z, n]_pre (3, T, B, H)
        dq = np.empty_like(hidden) if after else da[2]           # dL/dq_t
        carry = np.zeros((B, H), dtype=hidden.dtype)             # dL/dh_t through step t + 1
        through_W_rz = np.empty((2, B, H), dtype=hidden.dtype)
        dm = np.empty((B, H), dtype=hidden.dtype)                # W_hn^T dL/dq_t
        for t in reversed(range(T)):
            r, z, n = gates[:, t]
            h_previous = hidden[t - 1] if t > 0 else h0
            g = np.add(d_hidden[t], carry, out=dh[t])
            d_r, d_z, d_n = da[:, t]
            np.multiply(g, 1.0 - z, out=d_n)                     # dL/dn = g (1 - z) ...
            d_n *= 1.0 - n * n                                   # ... times tanh' = 1 - n^2
            np.subtract(h_previous, n, out=d_z)                  # dL/dz = g (h_{t-1} - n) ...
            d_z *= g
            d_z *= z                                             # ... times z (1 - z)
            d_z *= 1.0 - z
            np.multiply(g, z, out=carry)                         # the direct path z * h_{t-1}
            if after:
                np.multiply(d_n, r, out=dq[t])
                np.multiply(d_n, q[t], out=d_r)                  # dL/dr = dL/dn_pre q_t
                np.matmul(dq[t], W_n, out=dm)
                carry += dm
            else:
                np.matmul(d_n, W_n, out=dm)                      # dL/dm_t; m_t = r * h_{t-1}
                np.multiply(dm, h_previous, out=d_r)             # dL/dr = dL/dm_t h_{t-1}
                carry += dm * r
            d_r *= r                                             # sigmoid' = r (1 - r)
            d_r *= 1.0 - r
            carry += np.matmul(da[:2, t], W_rz, out=through_W_rz).sum(axis=0)
        # weights: sums over t and the batch of da_t times [x_t, 1] (W_x and b), h_{t-1} (W_hr,
        # W_hz) and dq_t times m_t (W_hn); b_h equals b's gradient but for b_hn
        da_T = da.reshape(3, T * B, H).transpose(0, 2, 1)        # (3, H, T B)
        d_W_b = da_T @ x_1                                       # (3, H, D + 1): [dW_xk, db_k]
        d_W_rz = da_T[:2, :, B:] @ hidden[:-1].reshape((T - 1) * B, H)   # h_{t-1} for t >= 1 ...
        d_W_rz += da_T[:2, :, :B] @ h0                                   # ... and h0 at t = 0
        dq_T = dq.reshape(T * B, H).T                            # (H, T B)
        if after:
            d_W_n = dq_T[:, B:] @ hidden[:-1].reshape((T - 1) * B, H) + dq_T[:, :B] @ h0
        else:
            d_W_n = dq_T @ m.reshape(T * B, H)
        d_b = d_W_b[:, :, -1]                                    # (3, H)
        grads = {"W_x": d_W_b[:, :, :-1].reshape(3 * H, -1),
                 "W_h": np.concatenate([d_W_rz.reshape(2 * H, H), d_W_n]),
                 "b": d_b.reshape(3 * H),
                 "b_h": np.concatenate([d_b[:2].reshape(2 * H), dq_T.sum(axis=1)]),
                 "h0": carry.sum(axis=0)}           # dL/dh_{-1}, summed over the sequences
        return grads, dh, self._input_gradient(params, da) if input_gradient else None
