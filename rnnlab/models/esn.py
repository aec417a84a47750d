"""Echo state network: a fixed random leaky-tanh (or linear) reservoir and a linear readout.

State update (a = leak_rate, f = tanh or the identity (``activation``); noise
xi(t) ~ N(0, noise^2 I) only while fitting):

    x(t) = (1 - a) x(t-1) + a f(W x(t-1) + W_in [1; u(t)] + W_fb y(t-1) + xi(t))
    y(t) = W_out [1; u(t); x(t)]

W (``topology``) is a sparse random matrix rescaled so that its spectral radius is exactly
``spectral_radius``, or a dense Haar-random orthogonal matrix times ``spectral_radius`` (every
eigenvalue on the circle of that radius). W_out (``readout``) is learned on the states after a
washout:

- ``ridge``: ridge regression, the bias not penalised (:func:`rnnlab.ridge.fit_ridge`);
- ``rls``: recursive least squares over the same teacher-forced states, in time order, from
  W_out = 0 and P_0 = I / rls_alpha, with forgetting factor ``forgetting``
  (:mod:`rnnlab.models.readouts`; forgetting 1 is ridge with penalty rls_alpha, bias included);
- ``force``: FORCE learning (Sussillo & Abbott 2009): while fitting, the network's own output is
  fed back instead of the teacher, and RLS updates W_out at every step after the washout.

With output feedback (``feedback_scaling > 0``) the target y(t-1) is fed back while fitting
(teacher forcing; not with ``force``) and in :meth:`ESN.predict`; :meth:`ESN.generate` feeds
back the network's own output, so the network runs as a free-running pattern generator.

Arrays are shaped (timesteps, features); a 1-D array is one feature.
"""

import concurrent.futures
import dataclasses
import functools
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import scipy.sparse

from rnnlab import spectral
from rnnlab.models.readouts import RLS, ForceLoop, rls_readout
from rnnlab.models.reservoir import ACTIVATIONS, ClosedLoop, advance
from rnnlab.resources import FLOAT, Need, worker_threads
from rnnlab.ridge import RidgeAccumulator, choose_ridge, fit_ridge
from rnnlab.validation import (ConfigError, OneOf, Range, at_least, check_integer, check_list,
                               check_ranges, fraction, non_negative, positive)

READOUTS = ("ridge", "rls", "force")
TOPOLOGIES = ("sparse", "orthogonal")


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


def orthogonal_reservoir(units: int, spectral_radius: float,
                         rng: np.random.Generator) -> np.ndarray:
    """A dense (units, units) Haar-random orthogonal matrix times ``spectral_radius``: Q of the QR
    decomposition of a standard Gaussian matrix, each column's sign fixed by R's diagonal (without
    the fix Q is not uniformly distributed). W W^T = rho^2 I; every eigenvalue has modulus rho."""
    Q, R = np.linalg.qr(rng.standard_normal((units, units)))
    return Q * (spectral_radius * np.sign(np.diag(R)))


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


def fitted_note(count: int, kind: str, model: str) -> str:
    """", the 3 input features this ESN was fitted on": why a shape is wrong."""
    return f", the {count} {kind} feature{'' if count == 1 else 's'} this {model} was fitted on"


def free_run_inputs(u, steps: int | None, inputs: int, model: str) -> np.ndarray:
    """The inputs of a free run (generate): u (T, D_in), or None with ``steps`` (an integer
    >= 0) for a model without inputs; given both, ``steps`` must be len(u). Checked as
    :func:`as_series`; ``inputs`` is D_in of the fitted ``model`` (its name, for messages)."""
    if steps is not None:
        check_integer(steps, "steps", at_least(0))
    elif u is None:
        raise ValueError("u and steps are both None: allowed u (T, D_in) or steps, an "
                         "integer >= 0, to give the number of steps")
    note = fitted_note(inputs, "input", model) + ("" if steps is None else f" (steps={steps})")
    return as_series(u, "u", length=steps, features=inputs, note=note)


def teacher_series(u, y, feeds_back: bool, inputs: int, outputs: int, model: str,
                   verb: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The inputs u (T, D_in) and true outputs y (T, D_out) of a teacher-forced call
    (predict, lead_in) of a fitted ``model`` (its name, for messages) with D_in = ``inputs`` and
    D_out = ``outputs``, checked; y may be None (returned as None) only without feedback."""
    if feeds_back and y is None:
        raise ValueError(f"this {model} has output feedback: {verb}(u, y) needs the true outputs "
                         "y to feed back; use generate(u) for a free run")
    if u is None and y is None:
        raise ValueError("u and y are both None: allowed u (T, D_in) or y (T, D_out), to "
                         "give the number of steps")
    if y is None:
        return as_series(u, "u", features=inputs, note=fitted_note(inputs, "input", model)), None
    y = as_series(y, "y", features=outputs, note=fitted_note(outputs, "output", model))
    u = as_series(u, "u", length=y.shape[0], features=inputs,
                  note=fitted_note(inputs, "input", model) + ", as many timesteps as y")
    return u, y


@dataclass
class ESN:
    """Echo state network estimator (scikit-learn style: fit / predict / generate).

    Learned attributes (after :meth:`fit`): ``W_`` ((N, N), sparse; dense for the orthogonal
    topology), ``W_in_`` (N, 1 + D_in), ``W_fb_`` (N, D_out), ``noise_rng_`` (the state-noise
    stream), ``W_out_`` (D_out, 1 + D_in + N), and ``state_`` / ``last_output_``: where fitting
    (or :meth:`lead_in`) left the reservoir, from which predict/generate continue (after FORCE,
    ``last_output_`` is the network's own last output); with the ridge readout ``ridge_``, the
    penalty used (chosen from ``ridge_path`` when one is given, with ``ridge_errors_``, each
    penalty's validation NRMSE). The state update is
    :func:`rnnlab.models.reservoir.advance`. The measured ``spectral_radius_``,
    ``largest_singular_value_`` and ``effective_spectral_radius_`` of W are computed on first
    access (they cost a few eigensolves that fitting does not need).
    """

    units: int = 300                 # N, reservoir size
    spectral_radius: float = 0.8     # rho(W) after rescaling
    leak_rate: float = 0.5           # a in (0, 1]; 1 = no leak
    activation: str = "tanh"         # f: tanh, or linear (the identity: a linear reservoir)
    topology: str = "sparse"         # W: sparse (random, density connectivity) or orthogonal
    connectivity: float = 0.05       # density of W (about connectivity * N inputs per unit);
                                     # unused by the dense orthogonal topology
    input_scaling: float = 0.5       # W_in input columns ~ U(-input_scaling, input_scaling)
    bias_scaling: float = 0.2        # W_in bias column ~ U(-bias_scaling, bias_scaling)
    feedback_scaling: float = 1.0    # W_fb ~ U(-feedback_scaling, feedback_scaling); 0 = none
    readout: str = "ridge"           # how W_out is learned: ridge, rls (online) or force
    ridge: float = 1e-6              # beta, ridge's penalty on W_out (not on its bias)
    ridge_path: list[float] = field(default_factory=list)   # several betas: the one of least
                                     # validation error is chosen (one eigendecomposition)
    validation_fraction: float = 0.2  # the last part of the fitted states that chooses it
    forgetting: float = 1.0          # lambda in (0, 1], RLS's forgetting factor (rls, force)
    rls_alpha: float = 1.0           # alpha, RLS's P_0 = I / alpha (rls, force): its ridge penalty
    noise: float = 1e-3              # std of xi(t) while fitting: keeps the free run stable
    washout: int = 100               # initial states discarded before the readout is fitted
    chunk_steps: int = 0             # 0: keep every state, one Gram product; > 0: drive this many
                                     # steps at a time, the Gram matrix summed chunk by chunk
    seed: int | np.random.Generator | None = None

    name: ClassVar[str] = "esn"
    family: ClassVar[str] = "reservoir"
    rules: ClassVar[dict[str, Range | OneOf]] = {
        "units": at_least(1),
        "spectral_radius": positive(),
        "leak_rate": fraction(),
        "activation": OneOf(ACTIVATIONS),
        "topology": OneOf(TOPOLOGIES),
        "connectivity": fraction(),
        "input_scaling": non_negative(),
        "bias_scaling": non_negative(),
        "feedback_scaling": non_negative(),
        "readout": OneOf(READOUTS),
        "ridge": non_negative(),
        "validation_fraction": Range(0, 1, False, False),
        "forgetting": fraction(),
        "rls_alpha": positive(),
        "noise": non_negative(),
        "washout": at_least(0),
        "chunk_steps": at_least(0),
    }

    def check(self, prefix: str = "ESN.") -> None:
        """Raise ConfigError if a hyperparameter is out of range."""
        check_ranges(self, prefix)
        if self.ridge_path:
            check_list(self.ridge_path, non_negative(), f"{prefix}ridge_path")
        if self.chunk_steps == 1:
            raise ConfigError(f"{prefix}chunk_steps=1: allowed 0 (no chunks) or an integer >= 2 "
                              f"(a one-step chunk rounds the input product differently)")
        if self.chunk_steps and (self.readout != "ridge" or self.ridge_path):
            setting = (f"{prefix}ridge_path={list(self.ridge_path)}" if self.ridge_path
                       else f"{prefix}readout={self.readout}")
            raise ConfigError(f"{prefix}chunk_steps={self.chunk_steps} is not allowed with "
                              f"{setting}: allowed 0 (the chunked fit sums the ridge readout's "
                              f"Gram matrix; it keeps no states to score a path or run RLS on)")
        if self.ridge_path and self.readout != "ridge":
            raise ConfigError(f"{prefix}ridge_path={list(self.ridge_path)} is not allowed with "
                              f"{prefix}readout={self.readout}: allowed [] (a path of ridge "
                              f"penalties chooses the ridge readout's)")

    # ---------------------------------------------------------------- fitting
    def fit(self, u, y, washout: int | None = None) -> "ESN":
        """Drive the reservoir with inputs u (T, D_in) (or None) and teacher outputs y (T, D_out),
        then learn W_out on the states after ``washout`` steps by ridge regression or RLS; with
        ``readout="force"``, learn it while the network runs on its own fed-back output."""
        self.check()
        washout = self.washout if washout is None else washout
        y = as_series(y, "y")
        u = as_series(u, "u", length=y.shape[0], note=", as many timesteps as y")
        check_integer(washout, "washout", Range(0, y.shape[0], high_closed=False),
                      " (the number of training steps)")
        self.draw_weights(u.shape[1], y.shape[1])
        if self.readout == "force":
            return self._fit_force(u, y, washout)
        if self.chunk_steps:
            return self._fit_chunked(u, y, washout)
        features = np.empty((y.shape[0], u.shape[1] + self.units))   # T * N: the big cost
        state = self._teacher_forced(u, y, 0, features, np.zeros((self.units, 1)))
        self.state_, self.last_output_ = state[:, 0], y[-1].copy()
        if self.readout == "ridge":
            self.ridge_ = self.ridge
            if self.ridge_path:                  # chosen on the last validation_fraction
                self.ridge_, self.ridge_errors_ = choose_ridge(
                    features[washout:], y[washout:], list(self.ridge_path),
                    self.validation_fraction)
            self.W_out_ = fit_readout(features[washout:], y[washout:], self.ridge_)
        else:
            self.W_out_ = rls_readout(features[washout:], y[washout:], self.rls_alpha,
                                      self.forgetting, description="RLS readout")
        return self

    def _teacher_forced(self, u: np.ndarray, y: np.ndarray, start: int, features: np.ndarray,
                        state: np.ndarray) -> np.ndarray:
        """Fill ``features`` (n, D_in + N) with the readout's features [u(t), x(t)] of steps
        start..start+n-1 while fitting: y(t-1) fed back (y(-1) = 0) and the state noise (drawn
        in order: chunk after chunk gives the same draws as one call); the state columns first
        receive the drive, which the update overwrites in place with the states. Returns the
        state (N, 1) the steps end in, driven from ``state``."""
        stop, D_in = start + len(features), u.shape[1]
        features[:, :D_in] = u[start:stop]
        first = y[start - 1] if start else np.zeros(y.shape[1])
        drive = self.drive(u[start:stop], previous_outputs(first, y[start:stop]),
                           out=features[:, D_in:])
        noise = self.state_noise(stop - start)
        if noise is not None:
            drive += noise
        state, _ = advance(self.W_, [1.0], [self.leak_rate], state, drive[None],
                           activation=self.activation)
        return state

    def _fit_chunked(self, u: np.ndarray, y: np.ndarray, washout: int) -> "ESN":
        """Ridge readout in O(N^2 + chunk_steps N) memory: drive the reservoir ``chunk_steps``
        steps at a time (the same states as one pass) and add each chunk's rows after the
        washout to a :class:`RidgeAccumulator`, on a second thread while the next chunk runs
        (the Gram product and the sparse loop share two cores; one thread where
        :func:`rnnlab.resources.worker_threads` gives one). Chunks are added one at a time,
        in order, whatever the threads do: the same bytes."""
        D_in, T = u.shape[1], y.shape[0]
        chunks = self.chunks(T)
        longest = max(stop - start for start, stop in chunks)
        buffers = [np.empty((longest, D_in + self.units)) for _ in range(2)]
        accumulator, state = RidgeAccumulator(), np.zeros((self.units, 1))
        overlap = worker_threads() > 1    # else (OMP_NUM_THREADS=1) one chunk after another
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pending = None                # the previous chunk, being added from its buffer
            for number, (start, stop) in enumerate(chunks):
                features = buffers[number % 2][:stop - start]
                state = self._teacher_forced(u, y, start, features, state)
                skip = min(max(washout - start, 0), stop - start)
                if pending is not None:
                    pending.result()
                if overlap:
                    pending = pool.submit(accumulator.add, features[skip:], y[start + skip:stop])
                else:
                    accumulator.add(features[skip:], y[start + skip:stop])
            if pending is not None:
                pending.result()
        self.state_, self.last_output_ = state[:, 0], y[-1].copy()
        self.ridge_ = self.ridge
        weights, bias = accumulator.solve(self.ridge)
        self.W_out_ = np.hstack([bias[:, None], weights.T])
        return self

    def _fit_force(self, u: np.ndarray, y: np.ndarray, washout: int) -> "ESN":
        """FORCE: run closed loop from the zero state and y(-1) = 0, the drive W_in [1; u(t)] plus
        the noise, the network's own output fed back (:class:`ForceLoop`), RLS updating W_out
        from zero at every step t >= washout; the network stays where training left it."""
        drive = self.drive(u, None)
        noise = self.state_noise(y.shape[0])
        if noise is not None:
            drive += noise
        rls = RLS(1 + u.shape[1] + self.units, y.shape[1], self.rls_alpha, self.forgetting)
        loop = ForceLoop(rls, self.W_fb_, u, y, washout, np.zeros(y.shape[1]))
        state, _ = advance(self.W_, [1.0], [self.leak_rate], np.zeros((self.units, 1)),
                           drive[None], activation=self.activation, closed_loop=loop,
                           description="FORCE")
        self.state_, self.last_output_ = state[:, 0], loop.output[0].copy()
        self.W_out_ = rls.W
        return self

    def draw_weights(self, input_dim: int, output_dim: int) -> "ESN":
        """Draw W, W_in, W_fb and the state-noise stream from ``seed`` (what fit does first).

        Four independent child streams of default_rng(seed), in this order: W, W_in, W_fb, noise.
        """
        reservoir_rng, input_rng, feedback_rng, self.noise_rng_ = (
            np.random.default_rng(self.seed).spawn(4))
        N = self.units
        if self.topology == "orthogonal":
            self.W_ = orthogonal_reservoir(N, self.spectral_radius, reservoir_rng)
        else:
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

    def fit_record(self) -> tuple[dict, dict]:
        """What fitting chose, for the run's records: (metrics, tables as {name: {column:
        values}}) -- with a ridge path the penalty chosen and every penalty's validation NRMSE."""
        if not (self.readout == "ridge" and self.ridge_path):
            return {}, {}
        return ({"ridge_chosen": self.ridge_},
                {"ridge_path": {"ridge": list(self.ridge_path),
                                "validation_nrmse": self.ridge_errors_}})

    def recurrent_blocks(self) -> dict[str, scipy.sparse.csr_array | np.ndarray]:
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

    def _teacher_series(self, u, y, verb: str) -> tuple[np.ndarray, np.ndarray]:
        """u (T, D_in) and y (T, D_out), checked against the fitted dimensions; y may be None
        without output feedback (it is then zeros: never fed back)."""
        self.check_fitted()
        u, y = teacher_series(u, y, self.feeds_back, *self.fitted_dimensions(), "ESN", verb)
        return u, np.zeros((u.shape[0], self.W_fb_.shape[1])) if y is None else y

    def predict(self, u=None, y=None) -> np.ndarray:
        """Outputs (T, D_out) driven by inputs u (T, D_in), continuing from where fit (or
        :meth:`lead_in`) ended; the state is left as it was.

        With output feedback, y (T, D_out) are the true outputs to feed back (teacher forcing),
        so each prediction is one step ahead. For a free run use :meth:`generate`.
        """
        u, y = self._teacher_series(u, y, "predict")
        outputs, state = np.empty((len(u), self.W_out_.shape[0])), self.state_[:, None]
        previous = previous_outputs(self.last_output_, y)
        for start, stop in self.chunks(len(u)):
            states = self.drive(u[start:stop], previous[start:stop])
            state, _ = advance(self.W_, [1.0], [self.leak_rate], state, states[None],
                               activation=self.activation)
            outputs[start:stop] = readout(self.W_out_, np.hstack([u[start:stop], states]))
        return outputs

    def chunks(self, steps: int):
        """(start, stop) of the chunks a series of ``steps`` steps is driven in: one chunk,
        or ``chunk_steps`` steps at a time (the memory of the states: chunk x N)."""
        size = self.chunk_steps or max(steps, 1)
        starts = list(range(0, steps, size))
        if len(starts) > 1 and steps - starts[-1] == 1:
            starts.pop()   # no one-step chunk: numpy's matrix-vector path rounds the input
                           # product differently from the matrix-matrix one
        return [(start, starts[k + 1] if k + 1 < len(starts) else steps)
                for k, start in enumerate(starts)]

    def lead_in(self, u=None, y=None) -> "ESN":
        """Forget where fitting ended: from the zero state, drive the reservoir teacher-forced
        through inputs u (T, D_in) and outputs y (T, D_out) (y(t-1) fed back, y(-1) = 0, no
        noise), and keep the state and last output where it ends, so that the next
        predict/generate continue from there (e.g. independent test trials). Returns self."""
        u, y = self._teacher_series(u, y, "lead_in")
        outputs, state = y.shape[1], np.zeros((self.units, 1))
        previous = previous_outputs(np.zeros(outputs), y)
        for start, stop in self.chunks(len(u)):
            state, _ = advance(self.W_, [1.0], [self.leak_rate], state,
                               self.drive(u[start:stop], previous[start:stop])[None],
                               activation=self.activation)
        self.state_ = state[:, 0]
        self.last_output_ = y[-1].copy() if len(y) else np.zeros(outputs)
        return self

    def generate(self, u=None, steps: int | None = None) -> np.ndarray:
        """Free run (T, D_out): the network's own output y(t-1) is fed back, from where fit (or
        :meth:`lead_in`) ended; the state is left as it was.

        u: inputs (T, D_in), or None with ``steps`` (an integer >= 0) for a network without
        inputs; given both, ``steps`` must be len(u).
        """
        self.check_fitted()
        u = free_run_inputs(u, steps, self.fitted_dimensions()[0], "ESN")
        outputs, state = np.empty((len(u), self.W_fb_.shape[1])), self.state_[:, None]
        last_output = self.last_output_
        for start, stop in self.chunks(len(u)):
            loop = ClosedLoop([self.W_out_], self.W_fb_, u[start:stop], last_output[None])
            state, _ = advance(self.W_, [1.0], [self.leak_rate], state,
                               self.drive(u[start:stop], None)[None],
                               activation=self.activation, closed_loop=loop)
            outputs[start:stop], last_output = loop.outputs[0], loop.output[0]
        return outputs

    feedback_key: ClassVar[str] = "feedback_scaling"   # the setting that turns feedback off

    def memory_needs(self, inputs: int, outputs: int, train: int, test: int) -> list[Need]:
        """W (sparse; dense for the orthogonal topology) and the Gram matrix, or RLS's P of the
        same size (sized by N); the (T, D_in + N) states of the training part with their noise,
        and of the test part (sized by the series), for D_in = ``inputs`` over ``train`` +
        ``test`` steps -- or, with ``chunk_steps``, the states of one chunk at a time."""
        N = self.units
        if self.topology == "orthogonal":   # dense: the Gaussian draw, and Q and R of its QR
            entries, weights = N * N, 3 * FLOAT * N * N
        else:
            entries = max(1, round(self.connectivity * N * N))
            weights = 32 * entries + (FLOAT * N * N if entries > N * N / 50 else 0)   # positions
        gram = Need("model.units", N, f"the reservoir ({entries} weights) and its Gram matrix",
                    weights + 2 * FLOAT * (inputs + N) ** 2)
        if self.chunk_steps:   # two chunk buffers, the drive of a predicted chunk and its copy
            chunk = min(self.chunk_steps, max(train, test))
            return [gram, Need("model.chunk_steps", self.chunk_steps, f"the states of {N} units, "
                               f"{chunk} steps at a time", 4 * FLOAT * (inputs + N) * chunk)]
        return [gram, Need("series", train + test, f"the states of {N} units over {train} "
                           f"training and {test} test steps",
                           2 * FLOAT * (inputs + N) * (train + test))]

    @property
    def feeds_back(self) -> bool:
        """Whether the previous output y(t-1) reaches the reservoir (feedback_scaling > 0)."""
        return self.feedback_scaling > 0

    def with_seed(self, seed) -> "ESN":
        """A copy with another seed (int or numpy Generator), unfitted."""
        return dataclasses.replace(self, seed=seed)


def previous_outputs(first: np.ndarray, y: np.ndarray) -> np.ndarray:
    """y(t-1) for t = 0..T-1: ``first`` (D_out,), then y(0..T-2); (T, D_out), also for T = 0."""
    return np.vstack([first[None, :], y[:-1]])[:len(y)]


def fit_readout(features: np.ndarray, targets: np.ndarray, ridge: float) -> np.ndarray:
    """W_out (D_out, 1 + F) = [bias | weights^T] by ridge regression of targets (T, D_out) on
    features (T, F) = [u, x], the bias unpenalised; ``features`` is centred in place."""
    weights, bias = fit_ridge(features, targets, ridge, overwrite_features=True)
    return np.hstack([bias[:, None], weights.T])


def readout(W_out: np.ndarray, features: np.ndarray) -> np.ndarray:
    """y(t) = W_out [1; u(t); x(t)] for every row of features (T, D_in + N) -> (T, D_out)."""
    return W_out[:, 0] + features @ W_out[:, 1:].T
