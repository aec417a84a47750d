"""LSTM with an exact, hand-written backward pass through time.

One matrix on the input and one on the previous hidden state give the four gates, in the order
i, f, o, g (each block H rows):

    z_t = W_x x_t + W_h h_{t-1} + b                      (4H)
    i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o),   g = tanh(z_g)
    c_t = f * c_{t-1} + i * g,    h_t = o * tanh(c_t),    y_t = W_hy h_t + b_y

The forget-gate bias starts at ``forget_bias`` (1.0: remember by default). Along the cell path
dc_t/dc_{t-1} = diag(f_t): no matrix product and no squashing derivative, which is why the LSTM
keeps gradients alive over long lags. ``spectral_radius`` rescales each of the four recurrent blocks
W_hi, W_hf, W_ho, W_hg (the (H, H) slices of W_h) to that radius separately.

Layout, for speed: inside forward and backward the gates are kept gate-major, (4, T, B, H), and
the weights are used as their four per-gate blocks, so that at step t ``i, f, o, g = gates[:, t]``
are four contiguous (B, H) arrays (numpy is several times slower on column slices of a (B, 4H)
array). Each step of the time loops is one small matrix product and 9 (forward) or 18
(backward) elementwise operations, written into preallocated arrays (``out=``) where that saves a
copy, all in the model's dtype (float32 stays float32).
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rnnlab.models.recurrent import Recurrent
from rnnlab.validation import Range


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))   # equal to 1 / (1 + e^-z), and never overflows


@dataclass
class LSTM(Recurrent):
    """LSTM. Parameters: W_x (4H, D), W_h (4H, H), b (4H,), W_hy (O, H), b_y (O,); gates i, f, o, g.

    The state is the pair (h, c), each (B, H).
    """

    forget_bias: float = 1.0            # initial bias of the forget gate

    name: ClassVar[str] = "lstm"
    rules: ClassVar[dict] = {**Recurrent.rules, "forget_bias": Range()}
    recurrent_labels: ClassVar[tuple] = ("W_hi", "W_hf", "W_ho", "W_hg")
    initial_state_names: ClassVar[tuple] = ("h0", "c0")
    layer_parameters: ClassVar[tuple] = ("W_x", "W_h", "b")
    _input_weight: ClassVar[str] = "W_x"

    def _input_params(self, input_size: int, rng: np.random.Generator) -> dict:
        H = self.hidden_size
        bias = np.zeros(4 * H)
        bias[H:2 * H] = self.forget_bias
        return {"W_x": self.init_scale * rng.standard_normal((4 * H, input_size)),
                "W_h": np.zeros((4 * H, H)), "b": bias}

    def _recurrent_names(self):
        H = self.hidden_size
        return [("W_h", slice(k * H, (k + 1) * H)) for k in range(4)]

    def _blocks(self, weight: np.ndarray) -> np.ndarray:
        """A (4H, K) weight as its four gate blocks (4, H, K): [W_i, W_f, W_o, W_g]."""
        return weight.reshape(4, self.hidden_size, -1)

    def _layer_forward(self, params: dict, x: np.ndarray, state):
        """x (T, B, D), state (h0, c0) -> hidden (T, B, H), final (h_T, c_T), cache."""
        T, B, D = x.shape
        H, dtype = self.hidden_size, self.float_type
        W_x, W_h, b = params["W_x"], params["W_h"], params["b"]
        # sigmoid(z) = (1 + tanh(z/2)) / 2 (see sigmoid above): the i, f, o rows of the weights and
        # bias are halved here (exact in binary floating point), so one tanh serves all four gates
        half = np.array([0.5, 0.5, 0.5, 1.0], dtype=dtype)[:, None, None]
        # z_t's input part for every step in one product: a column of ones appended to x carries
        # the bias, [x_t, 1] [W_xk, b_k]^T = W_xk x_t + b_k; gates[k, t] is gate k's (B, H) block
        x_1 = np.ones((T * B, D + 1), dtype=dtype)
        x_1[:, :D] = x.reshape(T * B, D)
        W_b = np.concatenate([self._blocks(W_x), self._blocks(b)], axis=2)   # (4, H, D + 1)
        W_b_T = np.multiply(W_b.transpose(0, 2, 1), half, order="C")         # (4, D + 1, H)
        gates = (x_1 @ W_b_T).reshape(4, T, B, H)
        W_h_T = np.multiply(self._blocks(W_h).transpose(0, 2, 1), half, order="C")   # (4, H, H)
        recurrent = np.empty((4, B, H), dtype=dtype)              # h_{t-1} W_hk^T, reused each step
        cells = np.empty((T, B, H), dtype=dtype)
        tanh_cells = np.empty_like(cells)
        hidden = np.empty_like(cells)
        h, c = (np.asarray(s, dtype=dtype) for s in state)
        for t in range(T):
            z = gates[:, t]                                       # (4, B, H): z_{i,f,o}/2, z_g
            z += np.matmul(h, W_h_T, out=recurrent)
            np.tanh(z, out=z)                                     # [tanh(z_{i,f,o}/2), g]
            ifo = z[:3]                                           # z_t becomes [i, f, o, g] in
            ifo += 1.0                                            # place: i = (1 + tanh(z_i/2)) / 2
            ifo *= 0.5
            i, f, o, g = z
            c = np.multiply(f, c, out=cells[t])                   # c_t = f * c_{t-1} + i * g
            c += i * g
            h = np.multiply(o, np.tanh(c, out=tanh_cells[t]), out=hidden[t])
        return hidden, (h.copy(), c.copy()), (x_1, state, gates, cells, tanh_cells, hidden)

    def _layer_backward(self, params: dict, cache, d_hidden: np.ndarray, input_gradient: bool):
        """d_hidden (T, B, H): dL/dh_t from above -> grads of W_x, W_h, b (and h0, c0); dL/dh_t;
        dL/dx_t = sum_k W_xk^T dz_k,t (T, B, D) if ``input_gradient``, else None."""
        x_1, (h0, c0), gates, cells, tanh_cells, hidden = cache
        T, B, H = hidden.shape
        W_h = self._blocks(params["W_h"])                        # (4, H, H): W_hk
        dh = np.empty_like(hidden)                               # total dL/dh_t
        dz = np.empty_like(gates)                                # dL/dz_t, gate-major (4, T, B, H)
        dh_carry = np.zeros((B, H), dtype=hidden.dtype)          # sum_k dz_k,t+1 W_hk
        dc_carry = np.zeros((B, H), dtype=hidden.dtype)          # dL/dc_t through c_{t+1}
        through_W_h = np.empty((4, B, H), dtype=hidden.dtype)   # dz_k,t W_hk, reused every step
        c0 = np.asarray(c0, dtype=hidden.dtype)
        for t in reversed(range(T)):
            i, f, o, g = gates[:, t]
            c_previous = cells[t - 1] if t > 0 else c0
            dh_t = np.add(d_hidden[t], dh_carry, out=dh[t])
            dc = dh_t * o * (1.0 - tanh_cells[t] ** 2)           # dL/dc_t: through h_t ...
            dc += dc_carry                                       # ... and through c_{t+1}
            d = dz[:, t]                                         # (4, B, H): dL/d[i, f, o, g] ...
            np.multiply(dc, g, out=d[0])                         # dL/di = dc_t * g
            np.multiply(dc, c_previous, out=d[1])                # dL/df = dc_t * c_{t-1}
            np.multiply(dh_t, tanh_cells[t], out=d[2])           # dL/do = dh_t * tanh(c_t)
            np.multiply(dc, i, out=d[3])                         # dL/dg = dc_t * i
            ifo = gates[:3, t]                                   # ... times the slopes: dL/dz
            d[:3] *= ifo
            d[:3] *= 1.0 - ifo                                   # sigmoid' = s (1 - s)
            d[3] *= 1.0 - g * g                                  # tanh' = 1 - g^2
            np.multiply(dc, f, out=dc_carry)
            np.matmul(d, W_h, out=through_W_h).sum(axis=0, out=dh_carry)   # into dL/dh_{t-1}
        # weights: sums over t and the batch of dz_t times [x_t, 1] (W_x and b) and h_{t-1} (W_h)
        dz_T = dz.reshape(4, T * B, H).transpose(0, 2, 1)        # (4, H, T B)
        d_W_b = dz_T @ x_1                                       # (4, H, D + 1): [dW_xk, db_k]
        d_W_h = dz_T[:, :, B:] @ hidden[:-1].reshape((T - 1) * B, H)       # h_{t-1} for t >= 1 ...
        d_W_h += dz_T[:, :, :B] @ np.asarray(h0, dtype=hidden.dtype)       # ... and h0 at t = 0
        grads = {"W_x": d_W_b[:, :, :-1].reshape(4 * H, -1),
                 "W_h": d_W_h.reshape(4 * H, H),
                 "b": d_W_b[:, :, -1].reshape(4 * H),
                 "h0": dh_carry.sum(axis=0), "c0": dc_carry.sum(axis=0)}   # dL/d(h, c)_{-1}
        return grads, dh, self._input_gradient(params, dz) if input_gradient else None
