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
from rnnlab.models.reservoir import ClosedLoop, advance
from rnnlab.ridge import fit_ridge
from rnnlab.validation import (ConfigError, Range, at_least, check_integer, check_ranges, fraction,
                               non_negative, positive)


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
        raise ConfigError(f"connectivity={connectivity} with units={units} drew a reservoir with "
                          f"spectral radius 0 ({count} weights, nilpotent): allowed a "
                          f"connectivity that gives it cycles; raise it")
    return weights * (spectral_radius / radius)


def as_series(values, name: str, length: int | None = None, features: int | None = None,
              note: str = "") -> np.ndarray:
    """(T, D) float64 view of ``values`` (a 1-D array is one feature), finite, with ``length``
    timesteps and ``features`` columns where given; None means no features, (length, 0).

    A bad array raises one ValueError naming ``name``, the shape given and the allowed one
    (followed by ``note``, which says why).
    """
    allowed = f"({'T' if length is None else length}, {'D' if features is None else features})"
    if features in (None, 1):
        allowed += f" or ({'T' if length is None else length},)"
    elif features == 0:
        allowed += " or None"
    if values is None:
        if length is None or features not in (None, 0):
            raise ValueError(f"{name} is None: allowed an array of shape {allowed}{note}")
        return np.zeros((length, 0))
    try:
        values = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} is not a numeric array: allowed shape {allowed}{note}") from None
    series = values[:, None] if values.ndim == 1 else values
    if (series.ndim != 2 or (length is not None and series.shape[0] != length)
            or (features is not None and series.shape[1] != features)):
        raise ValueError(f"{name} has shape {values.shape}: allowed {allowed}{note}")
    if not np.all(np.isfinite(series)):
        raise ValueError(f"{name} contains NaN or infinite values: allowed finite values")
    return series


@dataclass
class ESN:
    """Echo state network estimator (scikit-learn style: fit / predict / generate).

    Learned attributes (after :meth:`fit`): ``W_`` (sparse (N, N)), ``W_in_`` (N, 1 + D_in),
    ``W_fb_`` (N, D_out), ``noise_rng_`` (the state-noise stream), ``W_out_`` (D_out, 1 + D_in + N),
    and ``state_`` / ``last_output_``: where fitting left the reservoir, from which
    predict/generate continue. The state update is :func:`rnnlab.models.reservoir.advance`. The
    measured ``spectral_radius_``, ``largest_singular_value_`` and ``effective_spectral_radius_``
    of W are computed on first access (they cost a few eigensolves that fitting does not need).
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
    family: ClassVar[str] = "reservoir"
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
        y = as_series(y, "y")
        u = as_series(u, "u", length=y.shape[0], note=", as many timesteps as y")
        check_integer(washout, "washout", Range(0, y.shape[0], high_closed=False),
                      " (the number of training steps)")
        self.draw_weights(u.shape[1], y.shape[1])
        # One (T, D_in + N) buffer holds the readout's features [u, x]: the state columns first
        # receive the drive, which the update overwrites in place with the states (T*N is the
        # big cost).
        features = np.empty((y.shape[0], u.shape[1] + self.units))
        features[:, :u.shape[1]] = u
        drive = self.drive(u, previous_outputs(np.zeros(y.shape[1]), y),
                           out=features[:, u.shape[1]:])
        noise = self.state_noise(y.shape[0])
        if noise is not None:
            drive += noise
        state, _ = advance(self.W_, [1.0], [self.leak_rate], np.zeros((self.units, 1)),
                           drive[None])
        self.state_, self.last_output_ = state[:, 0], y[-1].copy()
        self.W_out_ = fit_readout(features[washout:], y[washout:], self.ridge)
        return self

    def draw_weights(self, input_dim: int, output_dim: int) -> "ESN":
        """Draw W, W_in, W_fb and the state-noise stream from ``seed`` (what fit does first).

        Four independent child streams of default_rng(seed), in this order: W, W_in, W_fb, noise.
        """
        reservoir_rng, input_rng, feedback_rng, self.noise_rng_ = (
            np.random.default_rng(self.seed).spawn(4))
        N = self.units
        self.W_ = random_reservoir(N, self.connectivity, self.spectral_radius, reservoir_rng)
        self.W_in_ = input_rng.uniform(-1.0, 1.0, (N, 1 + input_dim))
        self.W_in_[:, 0] *= self.bias_scaling
        self.W_in_[:, 1:] *= self.input_scaling
        self.W_fb_ = self.feedback_scaling * feedback_rng.uniform(-1.0, 1.0, (N, output_dim))
        for measured in ("spectral_radius_", "largest_singular_value_",
                         "effective_spectral_radius_"):
            self.__dict__.pop(measured, None)  # forget a previous fit's cached values
        return self

    def sharing_reservoir(self, leak_rate: float, input_scaling: float) -> "ESN":
        """A copy with another leak rate and input scaling that keeps this model's drawn W, W_fb
        and noise stream; W_in's input columns are multiplied by input_scaling / self.input_scaling
        (exactly the draw times input_scaling when this model's input_scaling is 1)."""
        self.check_drawn()
        if self.input_scaling == 0:
            raise ValueError("input_scaling=0 kept no input draw to rescale: draw the shared "
                             "reservoir with input_scaling=1")
        esn = dataclasses.replace(self, leak_rate=leak_rate, input_scaling=input_scaling)
        esn.W_, esn.W_fb_, esn.noise_rng_ = self.W_, self.W_fb_, self.noise_rng_
        esn.W_in_ = self.W_in_.copy()
        esn.W_in_[:, 1:] *= input_scaling / self.input_scaling
        return esn

    def state_noise(self, steps: int) -> np.ndarray | None:
        """xi(t) for ``steps`` steps of fitting, (steps, N), from the noise stream (None: no noise)."""
        if self.noise == 0:
            return None
        return self.noise * self.noise_rng_.standard_normal((steps, self.units))

    @functools.cached_property
    def spectral_radius_(self) -> float:
        self.check_drawn()
        return spectral.spectral_radius(self.W_)

    @functools.cached_property
    def largest_singular_value_(self) -> float:
        self.check_drawn()
        return spectral.largest_singular_value(self.W_)

    @functools.cached_property
    def effective_spectral_radius_(self) -> float:
        self.check_drawn()
        return spectral.effective_spectral_radius(self.W_, self.leak_rate)

    def recurrent_blocks(self) -> dict[str, scipy.sparse.csr_array]:
        """The recurrent matrix by name: {"W": W}."""
        self.check_drawn()
        return {"W": self.W_}

    # ------------------------------------------------------------- the reservoir
    def drive(self, u: np.ndarray, previous_outputs: np.ndarray | None,
              out: np.ndarray | None = None) -> np.ndarray:
        """Everything in the tanh argument except W x and the noise: W_in [1; u(t)] + W_fb y(t-1),
        (T, N); previous_outputs (T, D_out) are the y(t-1), or None for none."""
        drive = np.matmul(u, self.W_in_[:, 1:].T, out=out)
        drive += self.W_in_[:, 0]
        if previous_outputs is not None and self.feedback_scaling > 0:
            drive += previous_outputs @ self.W_fb_.T
        return drive

    # ----------------------------------------------------------------- using it
    def check_drawn(self) -> None:
        """Raise RuntimeError unless the weights are drawn (by fit or draw_weights)."""
        if not hasattr(self, "W_"):
            raise RuntimeError("this ESN has no weights yet: call fit(u, y) (or draw_weights) "
                               "first")

    def check_fitted(self) -> None:
        """Raise RuntimeError unless the readout is fitted."""
        if not hasattr(self, "W_out_"):
            raise RuntimeError("this ESN is not fitted yet: call fit(u, y) first")

    def fitted_dimensions(self) -> tuple[int, int]:
        """(D_in, D_out): the numbers of input and output features the model was fitted on."""
        self.check_drawn()
        return self.W_in_.shape[1] - 1, self.W_fb_.shape[1]

    @staticmethod
    def _fitted_note(count: int, kind: str) -> str:
        return f", the {count} {kind} feature{'' if count == 1 else 's'} this ESN was fitted on"

    def predict(self, u=None, y=None) -> np.ndarray:
        """Outputs (T, D_out) driven by inputs u (T, D_in), continuing from where fit ended.

        With output feedback, y (T, D_out) are the true outputs to feed back (teacher forcing),
        so each prediction is one step ahead. For a free run use :meth:`generate`.
        """
        self.check_fitted()
        has_feedback = self.feedback_scaling > 0
        if has_feedback and y is None:
            raise ValueError("this ESN has output feedback: predict(u, y) needs the true outputs "
                             "y to feed back; use generate(u) for a free run")
        if u is None and y is None:
            raise ValueError("u and y are both None: allowed u (T, D_in) or y (T, D_out), to "
                             "give the number of steps")
        inputs, outputs = self.fitted_dimensions()
        if y is not None:
            y = as_series(y, "y", features=outputs, note=self._fitted_note(outputs, "output"))
            u = as_series(u, "u", length=y.shape[0], features=inputs,
                          note=self._fitted_note(inputs, "input") + ", as many timesteps as y")
        else:
            u = as_series(u, "u", features=inputs, note=self._fitted_note(inputs, "input"))
            y = np.zeros((u.shape[0], outputs))
        states = self.drive(u, previous_outputs(self.last_output_, y))
        advance(self.W_, [1.0], [self.leak_rate], self.state_[:, None], states[None])
        return readout(self.W_out_, np.hstack([u, states]))

    def generate(self, u=None, steps: int | None = None) -> np.ndarray:
        """Free run (T, D_out): the network's own output y(t-1) is fed back, from where fit ended.

        u: inputs (T, D_in), or None with ``steps`` (an integer >= 0) for a network without
        inputs; given both, ``steps`` must be len(u).
        """
        self.check_fitted()
        if steps is not None:
            check_integer(steps, "steps", at_least(0))
        elif u is None:
            raise ValueError("u and steps are both None: allowed u (T, D_in) or steps, an "
                             "integer >= 0, to give the number of steps")
        inputs = self.fitted_dimensions()[0]
        note = self._fitted_note(inputs, "input") + ("" if steps is None else f" (steps={steps})")
        u = as_series(u, "u", length=steps, features=inputs, note=note)
        loop = ClosedLoop([self.W_out_], self.W_fb_, u, self.last_output_[None])
        advance(self.W_, [1.0], [self.leak_rate], self.state_[:, None], self.drive(u, None)[None],
                closed_loop=loop)
        return loop.outputs[0]

    def with_seed(self, seed) -> "ESN":
        """A copy with another seed (int or numpy Generator), unfitted."""
        return dataclasses.replace(self, seed=seed)


def previous_outputs(first: np.ndarray, y: np.ndarray) -> np.ndarray:
    """y(t-1) for t = 0..T-1: ``first`` (D_out,), then y(0..T-2); (T, D_out)."""
    return np.vstack([first[None, :], y[:-1]])


def fit_readout(features: np.ndarray, targets: np.ndarray, ridge: float) -> np.ndarray:
    """W_out (D_out, 1 + F) = [bias | weights^T] by ridge regression of targets (T, D_out) on
    features (T, F) = [u, x], the bias unpenalised; ``features`` is centred in place."""
    weights, bias = fit_ridge(features, targets, ridge, overwrite_features=True)
    return np.hstack([bias[:, None], weights.T])


def readout(W_out: np.ndarray, features: np.ndarray) -> np.ndarray:
    """y(t) = W_out [1; u(t); x(t)] for every row of features (T, D_in + N) -> (T, D_out)."""
    return W_out[:, 0] + features @ W_out[:, 1:].T
