"""Echo state network: a fixed random leaky-tanh reservoir and a ridge-regression readout.

State update (a = leak_rate; noise xi(t) ~ N(0, noise^2 I) only while fitting):

    x(t) = (1 - a) x(t-1) + a tanh(W x(t-1) + W_in [1; u(t)] + W_fb y(t-1) + xi(t))
    y(t) = W_out [1; u(t); x(t)]

W is a sparse random matrix, rescaled so that its spectral radius is exactly ``spectral_radius``.
W_out is fitted by ridge regression on the states after a washout; the bias is not penalised.
With output feedback (``feedback_scaling > 0``) the target y(t-1) is fed back while fitting
(teacher forcing) and in :meth:`ESN.predict`; :meth:`ESN.generate` feeds back the network's own
output, so the network runs as a free-running pattern generator.

Arrays are shaped (timesteps, features); a 1-D array is one feature.
"""

import dataclasses
import functools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse

from rnnlab import spectral
from rnnlab.ridge import fit_ridge
from rnnlab.validation import Range, at_least, check_ranges, fraction, non_negative, positive


def random_reservoir(units: int, connectivity: float, spectral_radius: float,
                     rng: np.random.Generator) -> scipy.sparse.csr_array:
    """A sparse (units, units) matrix with spectral radius exactly ``spectral_radius``.

    ``connectivity`` is a density: round(connectivity * units^2) entries, at distinct positions
    drawn uniformly, with values uniform in [-1, 1]; so each unit has about
    connectivity * units incoming connections.
    """
    count = max(1, round(connectivity * units * units))
    positions = rng.choice(units * units, size=count, replace=False)
    rows, cols = np.divmod(positions, units)
    if units * units < 2 ** 31:  # int32 indices: scipy's sparse product is ~10% faster with them
        rows, cols = rows.astype(np.int32), cols.astype(np.int32)
    weights = scipy.sparse.csr_array(
        (rng.uniform(-1.0, 1.0, count), (rows, cols)), shape=(units, units))
    radius = spectral.spectral_radius(weights)
    if radius == 0.0:  # nilpotent (e.g. extremely sparse): no rescaling can reach the target
        raise ValueError(f"the random reservoir has spectral radius 0 (units={units}, "
                         f"connectivity={connectivity}); raise connectivity")
    return weights * (spectral_radius / radius)


def _as_series(values, name: str, length: int | None = None) -> np.ndarray:
    """(T, D) float64 view of ``values``; None means no features, (length, 0)."""
    if values is None:
        if length is None:
            raise ValueError(f"{name} is required")
        return np.zeros((length, 0))
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise ValueError(f"{name} must have shape (timesteps, features); got {values.shape}")
    if length is not None and values.shape[0] != length:
        raise ValueError(f"{name} has {values.shape[0]} timesteps; expected {length}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return values


@dataclass
class ESN:
    """Echo state network estimator (scikit-learn style: fit / predict / generate).

    Learned attributes (after :meth:`fit`): ``W_`` (sparse (N, N)), ``W_in_`` (N, 1 + D_in),
    ``W_fb_`` (N, D_out), ``W_out_`` (D_out, 1 + D_in + N), and ``state_`` / ``last_output_``:
    where fitting left the reservoir, from which predict/generate continue. The measured
    ``spectral_radius_``, ``largest_singular_value_`` and ``effective_spectral_radius_`` of W
    are computed on first access (they cost a few eigensolves that fitting does not need).
    """

    units: int = 300                 # N, reservoir size
    spectral_radius: float = 0.8     # rho(W) after rescaling
    leak_rate: float = 0.5           # a in (0, 1]; 1 = no leak
    connectivity: float = 0.05       # density of W (about connectivity * N inputs per unit)
    input_scaling: float = 0.5       # W_in input columns ~ U(-input_scaling, input_scaling)
    bias_scaling: float = 0.2        # W_in bias column ~ U(-bias_scaling, bias_scaling)
    feedback_scaling: float = 1.0    # W_fb ~ U(-feedback_scaling, feedback_scaling); 0 = none
    ridge: float = 1e-6              # beta, the ridge penalty on W_out (not on its bias)
    noise: float = 1e-3              # std of xi(t) while fitting: keeps the free run stable
    washout: int = 100               # initial states discarded before the readout is fitted
    seed: int | np.random.Generator | None = None

    name: ClassVar[str] = "esn"
    rules: ClassVar[dict[str, Range]] = {
        "units": at_least(1),
        "spectral_radius": positive(),
        "leak_rate": fraction(),
        "connectivity": fraction(),
        "input_scaling": non_negative(),
        "bias_scaling": non_negative(),
        "feedback_scaling": non_negative(),
        "ridge": non_negative(),
        "noise": non_negative(),
        "washout": at_least(0),
    }

    def check(self, prefix: str = "ESN.") -> None:
        """Raise ConfigError if a hyperparameter is out of range."""
        check_ranges(self, prefix)

    # ---------------------------------------------------------------- fitting
    def fit(self, u, y, washout: int | None = None) -> "ESN":
        """Drive the reservoir with inputs u (T, D_in) (or None) and teacher outputs y (T, D_out),
        then fit W_out by ridge regression on the states after ``washout`` steps."""
        self.check()
        washout = self.washout if washout is None else washout
        y = _as_series(y, "y")
        u = _as_series(u, "u", length=y.shape[0])
        if not 0 <= washout < y.shape[0]:
            raise ValueError(f"washout={washout} must be in [0, {y.shape[0]}) "
                             f"(the number of training steps)")
        self._init_weights(u.shape[1], y.shape[1])
        # One (T, D_in + N) buffer holds the readout's features [u, x]: the state columns first
        # receive the drive, which _run overwrites in place with the states (T*N is the big cost).
        features = np.empty((y.shape[0], u.shape[1] + self.units))
        features[:, :u.shape[1]] = u
        drive = self._drive(u, np.vstack([np.zeros((1, y.shape[1])), y[:-1]]),
                            out=features[:, u.shape[1]:])
        if self.noise > 0:
            drive += self.noise * self._noise_rng.standard_normal(drive.shape)
        states = self._run(np.zeros(self.units), drive)
        self.state_, self.last_output_ = states[-1].copy(), y[-1].copy()
        weights, bias = fit_ridge(features[washout:], y[washout:], self.ridge,
                                  overwrite_features=True)
        self.W_out_ = np.hstack([bias[:, None], weights.T])
        return self

    def _init_weights(self, input_dim: int, output_dim: int) -> None:
        reservoir_rng, input_rng, feedback_rng, self._noise_rng = (
            np.random.default_rng(self.seed).spawn(4))
        N = self.units
        self.W_ = random_reservoir(N, self.connectivity, self.spectral_radius, reservoir_rng)
        self.W_in_ = input_rng.uniform(-1.0, 1.0, (N, 1 + input_dim))
        self.W_in_[:, 0] *= self.bias_scaling
        self.W_in_[:, 1:] *= self.input_scaling
        self.W_fb_ = self.feedback_scaling * feedback_rng.uniform(-1.0, 1.0, (N, output_dim))
        for measured in ("spectral_radius_", "largest_singular_value_", "effective_spectral_radius_"):
            self.__dict__.pop(measured, None)  # forget a previous fit's cached values

    @functools.cached_property
    def spectral_radius_(self) -> float:
        self._check_fitted()
        return spectral.spectral_radius(self.W_)

    @functools.cached_property
    def largest_singular_value_(self) -> float:
        self._check_fitted()
        return spectral.largest_singular_value(self.W_)

    @functools.cached_property
    def effective_spectral_radius_(self) -> float:
        self._check_fitted()
        return spectral.effective_spectral_radius(self.W_, self.leak_rate)

    # ------------------------------------------------------------- the reservoir
    def _drive(self, u: np.ndarray, previous_outputs: np.ndarray | None,
               out: np.ndarray | None = None) -> np.ndarray:
        """Everything in the tanh argument except W x: W_in [1; u(t)] + W_fb y(t-1), (T, N)."""
        drive = np.matmul(u, self.W_in_[:, 1:].T, out=out)
        drive += self.W_in_[:, 0]
        if previous_outputs is not None and self.feedback_scaling > 0:
            drive += previous_outputs @ self.W_fb_.T
        return drive

    def _step(self, state: np.ndarray, drive: np.ndarray) -> np.ndarray:
        """One update x(t) = (1 - a) x(t-1) + a tanh(W x(t-1) + drive(t)); state, drive: (N,)."""
        activation = self.W_ @ state
        activation += drive
        np.tanh(activation, out=activation)
        if self.leak_rate == 1.0:
            return activation
        return (1.0 - self.leak_rate) * state + self.leak_rate * activation

    def _run(self, state: np.ndarray, drive: np.ndarray) -> np.ndarray:
        """States x(1..T) from x(0) = state under a precomputed drive (T, N), written over the
        drive row by row (each row is read before it is replaced); returns that array."""
        for t in range(drive.shape[0]):
            state = self._step(state, drive[t])
            drive[t] = state
        return drive

    def _readout(self, u: np.ndarray, states: np.ndarray) -> np.ndarray:
        return self.W_out_[:, 0] + np.hstack([u, states]) @ self.W_out_[:, 1:].T

    # ----------------------------------------------------------------- using it
    def _check_fitted(self) -> None:
        if not hasattr(self, "W_out_"):
            raise RuntimeError("this ESN is not fitted yet: call fit(u, y) first")

    def predict(self, u=None, y=None) -> np.ndarray:
        """Outputs (T, D_out) driven by inputs u (T, D_in), continuing from where fit ended.

        With output feedback, y (T, D_out) are the true outputs to feed back (teacher forcing),
        so each prediction is one step ahead. For a free run use :meth:`generate`.
        """
        self._check_fitted()
        has_feedback = self.feedback_scaling > 0
        if has_feedback and y is None:
            raise ValueError("this ESN has output feedback: predict(u, y) needs the true outputs "
                             "y to feed back; use generate(u) for a free run")
        if y is not None:
            y = _as_series(y, "y")
            u = _as_series(u, "u", length=y.shape[0])
        else:
            u = _as_series(u, "u")
            y = np.zeros((u.shape[0], self.W_fb_.shape[1]))
        previous_outputs = np.vstack([self.last_output_[None, :], y[:-1]])
        states = self._run(self.state_, self._drive(u, previous_outputs))
        return self._readout(u, states)

    def generate(self, u=None, steps: int | None = None) -> np.ndarray:
        """Free run (T, D_out): the network's own output y(t-1) is fed back, from where fit ended.

        u: inputs (T, D_in), or None with ``steps`` for a network without inputs.
        """
        self._check_fitted()
        u = _as_series(u, "u", length=steps)
        W_fb = self.W_fb_
        input_drive = self._drive(u, None)
        readout_bias, readout_inputs, readout_states = (
            self.W_out_[:, 0], self.W_out_[:, 1:1 + u.shape[1]], self.W_out_[:, 1 + u.shape[1]:])
        state, output = self.state_, self.last_output_
        outputs = np.empty((u.shape[0], W_fb.shape[1]))
        for t in range(u.shape[0]):
            state = self._step(state, input_drive[t] + W_fb @ output)
            output = readout_bias + readout_inputs @ u[t] + readout_states @ state
            outputs[t] = output
        return outputs

    def with_seed(self, seed) -> "ESN":
        """A copy with another seed (int or numpy Generator), unfitted."""
        return dataclasses.replace(self, seed=seed)
