"""Vanilla (Elman) RNN with an exact, hand-written backward pass through time.

    a_t = W_xh x_t + W_hh h_{t-1} + b_h,    h_t = f(a_t),    y_t = W_hy h_t + b_y

f is tanh (default), relu or linear (identity). Backward, with g_t = dL/dh_t the total gradient
reaching h_t:

    g_t = W_hy^T dL/dy_t + W_hh^T delta_{t+1},    delta_t = f'(a_t) * g_t
    dW_hh = sum_t delta_t h_{t-1}^T,  dW_xh = sum_t delta_t x_t^T,  db_h = sum_t delta_t

so dh_t/dh_{t-1} = diag(f'(a_t)) W_hh: gradients through k steps are a product of k such factors;
and dL/dx_t = W_xh^T delta_t, what a stacked layer passes down to the layer below.
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rnnlab.models.recurrent import Recurrent
from rnnlab.validation import OneOf

# f(a), computed in place (a is overwritten and returned), and f'(a) written in terms of h = f(a)
# (what the forward pass keeps); sup |f'| is 1 for all three
ACTIVATIONS = {
    "tanh": (lambda a: np.tanh(a, out=a), lambda h: 1.0 - h * h),
    "relu": (lambda a: np.maximum(a, 0.0, out=a), lambda h: (h > 0).astype(h.dtype)),
    "linear": (lambda a: a, lambda h: np.ones_like(h)),
}


@dataclass
class RNN(Recurrent):
    """Vanilla RNN. Parameters: W_xh (H, D), W_hh (H, H), b_h (H,), W_hy (O, H), b_y (O,)."""

    activation: str = "tanh"            # f: "tanh", "relu" or "linear"

    name: ClassVar[str] = "rnn"
    rules: ClassVar[dict] = {**Recurrent.rules, "activation": OneOf(tuple(ACTIVATIONS))}
    recurrent_labels: ClassVar[tuple] = ("W_hh",)
    layer_parameters: ClassVar[tuple] = ("W_xh", "W_hh", "b_h")
    _input_weight: ClassVar[str] = "W_xh"

    @property
    def variant(self) -> str:
        return self.activation

    @property
    def derivative_bound(self) -> float:
        """gamma = sup |f'| = 1 for tanh, ReLU and linear."""
        return 1.0

    def _input_params(self, input_size: int, rng: np.random.Generator) -> dict:
        H = self.hidden_size
        return {"W_xh": self.init_scale * rng.standard_normal((H, input_size)),
                "W_hh": np.zeros((H, H)), "b_h": np.zeros(H)}

    def _recurrent_names(self):
        return [("W_hh", slice(None))]

    def _layer_forward(self, params: dict, x: np.ndarray, h0: np.ndarray):
        """x (T, B, D), h0 (B, H) -> hidden (T, B, H), final state h_T (B, H), cache."""
        T, B, D = x.shape
        f = ACTIVATIONS[self.activation][0]
        W_hh_T = np.ascontiguousarray(params["W_hh"].T)         # BLAS: faster than the .T view
        hidden = (x.reshape(T * B, D) @ params["W_xh"].T).reshape(T, B, -1)
        hidden += params["b_h"]                                   # (T, B, H): input part of a_t
        h = np.asarray(h0, dtype=self.float_type)
        for t in range(T):
            a = hidden[t]
            a += h @ W_hh_T
            h = f(a)                                              # overwrite a_t with h_t
        return hidden, h.copy(), (x, h0, hidden)

    def _layer_backward(self, params: dict, cache, d_hidden: np.ndarray, input_gradient: bool):
        """d_hidden (T, B, H): dL/dh_t from above -> grads of W_xh, W_hh, b_h (and h0); dL/dh_t;
        dL/dx_t (T, B, D) if ``input_gradient``, else None."""
        x, h0, hidden = cache
        f_prime = ACTIVATIONS[self.activation][1]
        W_hh = params["W_hh"]
        T, B, H = hidden.shape
        dh = np.empty_like(hidden)                 # total dL/dh_t
        delta = f_prime(hidden)                    # becomes dL/da_t in place
        carry = np.zeros((B, H), dtype=hidden.dtype)
        for t in reversed(range(T)):
            np.add(d_hidden[t], carry, out=dh[t])
            delta[t] *= dh[t]
            np.matmul(delta[t], W_hh, out=carry)
        delta_T = delta.reshape(T * B, H).T        # (H, T B)
        d_W_hh = delta_T[:, B:] @ hidden[:-1].reshape((T - 1) * B, H)     # h_{t-1} for t >= 1 ...
        d_W_hh += delta_T[:, :B] @ np.asarray(h0, dtype=hidden.dtype)    # ... and h0 at t = 0
        grads = {"W_xh": delta_T @ x.reshape(T * B, -1), "W_hh": d_W_hh, "b_h": delta_T.sum(axis=1),
                 "h0": carry.sum(axis=0)}           # dL/dh_{-1}, summed over the sequences
        dx = (delta_T.T @ params["W_xh"]).reshape(T, B, -1) if input_gradient else None
        return grads, dh, dx
