"""Optimisers and gradient clipping, updating parameter dicts in place.

    sgd       p -= lr g
    momentum  v = mu v - lr g;  p += v
    adagrad   m += g^2;  p -= lr g / sqrt(m + 1e-8)                  (min-char-rnn's optimiser)
    adam      m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
              p -= lr m_hat / (sqrt(v_hat) + 1e-8),  m_hat = m / (1-b1^k), v_hat = v / (1-b2^k)
    rmsprop   m = rho m + (1-rho) g^2;  p -= lr g / (sqrt(m) + 1e-8)           (rho 0.99)
              with use_momentum=True and mu > 0:  v = mu v - lr g / (sqrt(m) + 1e-8);  p += v

Every optimiser is constructed with ``momentum`` (mu; TrainConfig passes its own, 0.9 unless set,
meant for ``momentum``); RMSprop ignores it unless built with ``use_momentum=True``, so
``train.optimiser=rmsprop`` is plain RMSprop (PyTorch's default, momentum 0).
"""

import numpy as np

CLIPS = ("value", "norm", "none")


class Optimiser:
    """Base: ``step(params, grads, learning_rate)`` updates ``params`` in place."""

    def __init__(self, momentum: float = 0.9, betas: tuple[float, float] = (0.9, 0.999)):
        self.momentum, self.betas = momentum, betas
        self.state: dict[str, dict[str, np.ndarray]] = {}   # per parameter: its running buffers
        self.steps = 0

    def step(self, params: dict, grads: dict, learning_rate: float) -> None:
        self.steps += 1
        for name, value in params.items():
            self.update(value, grads[name], learning_rate, self._buffers(name, value))

    def _buffers(self, name: str, value: np.ndarray) -> dict:
        if name not in self.state:
            self.state[name] = {key: np.zeros_like(value) for key in self.buffer_names}
        return self.state[name]


class SGD(Optimiser):
    buffer_names = ()

    def update(self, p, g, learning_rate, buffers):
        p -= learning_rate * g


class Momentum(Optimiser):
    buffer_names = ("velocity",)

    def update(self, p, g, learning_rate, buffers):
        velocity = buffers["velocity"]
        velocity *= self.momentum
        velocity -= learning_rate * g
        p += velocity


class Adagrad(Optimiser):
    buffer_names = ("memory",)

    def update(self, p, g, learning_rate, buffers):
        memory = buffers["memory"]
        memory += g * g
        p -= learning_rate * g / np.sqrt(memory + 1e-8)


class Adam(Optimiser):
    buffer_names = ("mean", "square")

    def update(self, p, g, learning_rate, buffers):
        beta1, beta2 = self.betas
        mean, square = buffers["mean"], buffers["square"]
        mean *= beta1
        mean += (1.0 - beta1) * g
        square *= beta2
        square += (1.0 - beta2) * g * g
        mean_hat = mean / (1.0 - beta1 ** self.steps)       # bias corrections: the buffers start at 0
        square_hat = square / (1.0 - beta2 ** self.steps)
        p -= learning_rate * mean_hat / (np.sqrt(square_hat) + 1e-8)


class RMSprop(Optimiser):
    """RMSprop (Hinton's lecture 6e; PyTorch's alpha is ``rho``): m = rho m + (1 - rho) g^2,
    p -= lr g / (sqrt(m) + eps); with ``use_momentum`` and momentum mu > 0 the step goes through
    a velocity, v = mu v - lr g / (sqrt(m) + eps), p += v."""

    def __init__(self, momentum: float = 0.9, betas: tuple[float, float] = (0.9, 0.999),
                 rho: float = 0.99, eps: float = 1e-8, use_momentum: bool = False):
        super().__init__(momentum, betas)
        self.rho, self.eps = rho, eps
        self.uses_momentum = use_momentum and momentum > 0
        self.buffer_names = ("square", "velocity") if self.uses_momentum else ("square",)

    def update(self, p, g, learning_rate, buffers):
        square = buffers["square"]
        square *= self.rho
        square += (1.0 - self.rho) * g * g
        step = learning_rate * g / (np.sqrt(square) + self.eps)
        if not self.uses_momentum:
            p -= step
            return
        velocity = buffers["velocity"]
        velocity *= self.momentum
        velocity -= step
        p += velocity


OPTIMISERS = {"sgd": SGD, "momentum": Momentum, "adagrad": Adagrad, "adam": Adam,
              "rmsprop": RMSprop}


def global_norm(grads: dict) -> float:
    """sqrt of the sum of squares of every gradient element."""
    return float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads.values())))


def clip_gradients(grads: dict, clip: str, threshold: float) -> tuple[float, float]:
    """Clip in place; return (global norm before clipping, fraction of elements changed).

    value: every element into [-threshold, threshold] (min-char-rnn's +-5);
    norm:  if ||g|| > threshold, g <- g * threshold / ||g|| (Pascanu et al. 2013), which changes
           every element (fraction 1) or none; none: leave them.
    """
    norm = global_norm(grads)
    if clip == "value":
        changed = sum(int(np.count_nonzero(np.abs(g) > threshold)) for g in grads.values())
        for g in grads.values():
            np.clip(g, -threshold, threshold, out=g)
        return norm, changed / sum(g.size for g in grads.values())
    if clip == "norm" and norm > threshold:
        for g in grads.values():
            g *= threshold / norm
        return norm, 1.0
    return norm, 0.0
