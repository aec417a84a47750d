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

Speed: the time loops run one small matrix product and a handful of numpy calls per step, so
they write into preallocated arrays (``out=``), work on the whole contiguous (B, 4H) gate slab
where they can (numpy is several times slower on its column slices), and stay in the model's
dtype.
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

    def zero_state(self, batch: int) -> tuple[np.ndarray, np.ndarray]:
        zeros = np.zeros((batch, self.hidden_size), dtype=self.float_type)
        return zeros, zeros.copy()

    def _gate_columns(self, on_ifo: float, on_g: float) -> np.ndarray:
        """A (4H,) row in the model dtype: ``on_ifo`` on the columns of i, f, o, ``on_g`` on g's."""
        row = np.full(4 * self.hidden_size, on_ifo, dtype=self.float_type)
        row[3 * self.hidden_size:] = on_g
        return row

    def forward(self, x: np.ndarray, state):
        """x (T, B, D), state (h0, c0) -> hidden (T, B, H), final (h_T, c_T), cache."""
        H = self.hidden_size
        T, B, D = x.shape
        W_h_T = np.ascontiguousarray(self.params["W_h"].T)   # BLAS is faster on it than on the .T view
        gates = (x.reshape(T * B, D) @ self.params["W_x"].T).reshape(T, B, 4 * H)
        gates += self.params["b"]                                 # (T, B, 4H): input part of z_t
        # sigmoid(z) = (1 + tanh(z/2)) / 2: halve z_i, z_f, z_o, take one tanh over the whole slab,
        # then map tanh -> (1 + tanh) / 2 on i, f, o (scale 1/2, shift 1/2) and leave g's tanh as is
        half_ifo, shift_ifo = self._gate_columns(0.5, 1.0), self._gate_columns(0.5, 0.0)
        cells = np.empty((T, B, H), dtype=gates.dtype)
        tanh_cells = np.empty_like(cells)
        hidden = np.empty_like(cells)
        recurrent = np.empty((B, 4 * H), dtype=gates.dtype)       # W_h h_{t-1}, reused every step
        h, c = (np.asarray(s, dtype=gates.dtype) for s in state)
        for t in range(T):
            z = gates[t]
            z += np.matmul(h, W_h_T, out=recurrent)
            z *= half_ifo                                         # z_t becomes [i, f, o, g] in place
            np.tanh(z, out=z)
            z *= half_ifo
            z += shift_ifo
            i, f, o, g = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
            c = np.multiply(f, c, out=cells[t])                   # c_t = f * c_{t-1} + i * g
            c += i * g
            h = np.multiply(o, np.tanh(c, out=tanh_cells[t]), out=hidden[t])
        return hidden, (h, c), (x, state, gates, cells, tanh_cells, hidden)

    def backward(self, cache, d_hidden: np.ndarray):
        """d_hidden (T, B, H): dL/dh_t from the readout -> grads of W_x, W_h, b; dL/dh_t."""
        x, (h0, c0), gates, cells, tanh_cells, hidden = cache
        H = self.hidden_size
        W_h = self.params["W_h"]
        T, B, D = x.shape
        dh = np.empty_like(hidden)                               # total dL/dh_t
        dz = np.empty_like(gates)                                # dL/dz_t
        dh_carry = np.zeros((B, H), dtype=hidden.dtype)          # W_h^T dz_{t+1}
        dc_carry = np.zeros((B, H), dtype=hidden.dtype)          # dL/dc_t through c_{t+1}
        c0 = np.asarray(c0, dtype=hidden.dtype)
        one_on_g = self._gate_columns(0.0, 1.0)
        for t in reversed(range(T)):
            gate = gates[t]                                      # [i, f, o, g], (B, 4H)
            i, f, o, g = gate[:, :H], gate[:, H:2 * H], gate[:, 2 * H:3 * H], gate[:, 3 * H:]
            c_previous = cells[t - 1] if t > 0 else c0
            dh_t = np.add(d_hidden[t], dh_carry, out=dh[t])
            dc = dh_t * o * (1.0 - tanh_cells[t] ** 2)
            dc += dc_carry
            # dL/d(gate value) for i, f, o, g, written block by block into dz_t ...
            d = dz[t]
            np.multiply(dc, g, out=d[:, :H])
            np.multiply(dc, c_previous, out=d[:, H:2 * H])
            np.multiply(dh_t, tanh_cells[t], out=d[:, 2 * H:3 * H])
            np.multiply(dc, i, out=d[:, 3 * H:])
            # ... times the slope, over the whole slab: s (1 - s) on i, f, o; (1 - g)(1 + g) on g
            d *= (1.0 - gate) * (gate + one_on_g)
            np.multiply(dc, f, out=dc_carry)
            np.matmul(d, W_h, out=dh_carry)
        previous = np.concatenate([np.asarray(h0, hidden.dtype)[None], hidden[:-1]])
        dz_flat = dz.reshape(T * B, 4 * H)
        grads = {"W_x": dz_flat.T @ x.reshape(T * B, D),
                 "W_h": dz_flat.T @ previous.reshape(T * B, H),
                 "b": dz_flat.sum(axis=0)}
        return grads, dh
