"""Nonlinear vector autoregression (NVAR), the "next-generation reservoir computer" of Gauthier
et al. 2021: no reservoir, a feature vector of time-delayed inputs and their quadratic monomials,
and a ridge-regression readout.

Input vector at step t (y(t-1) only with ``feedback``; y(-1) = 0, v(t < 0) = 0 before a lead-in):

    v(t) = [u(t); y(t-1)]                                       (d,) = (D_in + D_out,)
    L(t) = [v(t); v(t-s); ...; v(t-(k-1)s)]                     (dk,)    k = delays, s = stride
    phi(t) = [1; L(t); L_i(t) L_j(t) for i <= j]                (F,)     F = (dk)(dk+1)/2 + dk + 1

    y(t) = W_out phi(t)                     (without feedback, or with ``increment=False``)
    y(t) = y(t-1) + W_out phi(t)            (with feedback and ``increment``, as Gauthier et al.)

The monomials are ordered as numpy.triu_indices(dk): (0, 0), (0, 1), ..., (0, dk-1), (1, 1), ...
W_out (D_out, F), bias in column 0, is fitted by ridge regression (:func:`rnnlab.ridge.fit_ridge`,
the bias not penalised) on the steps whose delays all lie in the data: the first (k-1)s steps
(one more with feedback, whose y(-1) is unknown) and then ``washout`` steps are dropped.
With feedback, :meth:`NVAR.predict` feeds back the true y(t-1) (teacher forcing: one step ahead)
and :meth:`NVAR.generate` its own output (the free run). The model is deterministic.

Arrays are shaped (timesteps, features); a 1-D array is one feature.
"""

import dataclasses
import functools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rnnlab.models.esn import (as_series, free_run_inputs, previous_outputs,
                               teacher_series)
from rnnlab.resources import FLOAT, Need
from rnnlab.ridge import fit_ridge
from rnnlab.validation import (ConfigError, Range, at_least, check_integer, check_ranges,
                               non_negative)


def feature_count(d: int, delays: int) -> int:
    """F = (dk)(dk+1)/2 + dk + 1: constant, linear part, unique quadratic monomials."""
    n = d * delays
    return n * (n + 1) // 2 + n + 1


@functools.lru_cache(maxsize=32)
def monomial_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(i, j) with i <= j of the n linear features, in numpy.triu_indices order."""
    return np.triu_indices(n)


def delay_features(v: np.ndarray, delays: int, stride: int) -> np.ndarray:
    """phi(t) for every t whose delays lie in v: v (T, d) -> (T - (k-1)s, F), row r being
    t = r + (k-1)s (no rows when T <= (k-1)s)."""
    span = (delays - 1) * stride
    T, d = v.shape
    rows, n = max(T - span, 0), d * delays
    i, j = monomial_pairs(n)
    features = np.empty((rows, 1 + n + len(i)))            # (T - (k-1)s, F)
    features[:, 0] = 1.0
    linear = features[:, 1:1 + n]                          # (T - (k-1)s, dk)
    for delay in range(delays):                            # a loop over the k delays, not steps
        start = span - delay * stride
        linear[:, delay * d:(delay + 1) * d] = v[start:start + rows]
    np.multiply(linear[:, i], linear[:, j], out=features[:, 1 + n:])
    return features


@dataclass
class NVAR:
    """Nonlinear vector autoregression estimator (scikit-learn style: fit / predict / generate).

    Learned attributes (after :meth:`fit`): ``W_out_`` (D_out, F), bias in column 0, and where
    fitting left the series, from which predict/generate continue: ``history_`` ((k-1)s, d), the
    last input vectors v, and ``last_output_`` (D_out,), the last output y. :meth:`lead_in`
    replaces them by where a teacher-forced run from the zero history ends.
    """

    delays: int = 2                  # k, the number of time-delayed copies of v
    stride: int = 1                  # s, the steps between delayed copies
    ridge: float = 1e-6              # beta, the ridge penalty on W_out (not on its bias)
    feedback: bool = True            # y(t-1) is part of v(t) (output feedback)
    increment: bool = True           # with feedback: the readout predicts y(t) - y(t-1)
    washout: int = 0                 # steps dropped before fitting, beyond the delays' own
    seed: int | np.random.Generator | None = None   # accepted and unused: nothing is random

    name: ClassVar[str] = "nvar"
    family: ClassVar[str] = "reservoir"
    feedback_key: ClassVar[str] = "feedback"   # the key that turns output feedback off
    rules: ClassVar[dict[str, Range]] = {
        "delays": at_least(1),
        "stride": at_least(1),
        "ridge": non_negative(),
        "washout": at_least(0),
    }

    def check(self, prefix: str = "NVAR.") -> None:
        """Raise ConfigError if a hyperparameter is out of range (or not an integer)."""
        check_ranges(self, prefix)
        for key in ("delays", "stride", "washout"):
            try:
                check_integer(getattr(self, key), f"{prefix}{key}", type(self).rules[key])
            except ValueError as error:
                raise ConfigError(str(error)) from None

    @property
    def feeds_back(self) -> bool:
        """Whether the previous output y(t-1) is part of the input vector (``feedback``)."""
        return bool(self.feedback)

    @property
    def increments(self) -> bool:
        """Whether the readout predicts y(t) - y(t-1) (``increment`` counts only with feedback)."""
        return self.feeds_back and bool(self.increment)

    @property
    def span(self) -> int:
        """(k-1)s: the steps of history a feature vector reaches back."""
        return (self.delays - 1) * self.stride

    def feature_count(self, d: int) -> int:
        """F for input vectors of dimension d (D_in, plus D_out with feedback)."""
        return feature_count(d, self.delays)

    def memory_needs(self, inputs: int, outputs: int, train: int, test: int) -> list[Need]:
        """The feature matrix of the training part (and a centred copy), its Gram matrix, and
        the features of the test part, for D_in = ``inputs``, D_out = ``outputs``."""
        F = self.feature_count(inputs + (outputs if self.feedback else 0))
        return [Need("model.delays", self.delays, f"{F} features over {train} training and "
                     f"{test} test steps, and their Gram matrix",
                     FLOAT * (2 * F * train + F * test + 2 * F * F))]

    def fit_record(self) -> tuple[dict, dict]:
        """What fitting chose, for the run's records: nothing (the NVAR has no choices)."""
        return {}, {}

    def recurrent_blocks(self) -> dict:
        """No recurrent matrix: {}."""
        return {}

    def with_seed(self, seed) -> "NVAR":
        """A copy with another seed (unused: an NVAR has nothing random), unfitted."""
        return dataclasses.replace(self, seed=seed)

    # ---------------------------------------------------------------- fitting
    def input_vectors(self, u: np.ndarray, y_previous: np.ndarray) -> np.ndarray:
        """v(t) = [u(t); y(t-1)] (or u(t) without feedback): (T, d)."""
        return np.hstack([u, y_previous]) if self.feeds_back else u

    def fit(self, u, y, washout: int | None = None) -> "NVAR":
        """Fit W_out by ridge regression of y(t) (or y(t) - y(t-1)) on phi(t), for inputs u
        (T, D_in) (or None) and teacher outputs y (T, D_out), after the delays' steps and
        ``washout`` more."""
        self.check()
        washout = self.washout if washout is None else washout
        y = as_series(y, "y")
        u = as_series(u, "u", length=y.shape[0], note=", as many timesteps as y")
        if u.shape[1] == 0 and not self.feeds_back:
            raise ValueError("u has no features and feedback=False: allowed u with at least one "
                             "feature, or feedback=True (the NVAR would see nothing)")
        T, unknown = y.shape[0], self.span + int(self.feeds_back)
        if T <= unknown:
            raise ValueError(f"y has {T} timesteps: allowed more than {unknown}, the steps before "
                             f"the first full feature vector ((delays - 1) * stride"
                             f"{' + 1 for y(-1)' if self.feeds_back else ''})")
        check_integer(washout, "washout", Range(0, T - unknown, high_closed=False),
                      f" (the {T} training steps less the {unknown} the delays need)")
        y_previous = previous_outputs(np.zeros(y.shape[1]), y)
        v = self.input_vectors(u, y_previous)                          # (T, d)
        first = unknown + washout                                      # first fitted step
        features = delay_features(v[first - self.span:], self.delays, self.stride)
        targets = y[first:] - y_previous[first:] if self.increments else y[first:]
        weights, bias = fit_ridge(features[:, 1:], targets, self.ridge, overwrite_features=True)
        self.W_out_ = np.hstack([bias[:, None], weights.T])            # (D_out, F)
        self.history_ = v[T - self.span:].copy()                       # ((k-1)s, d)
        self.last_output_ = y[-1].copy()
        return self

    # ----------------------------------------------------------------- using it
    def check_fitted(self) -> None:
        """Raise RuntimeError unless the readout is fitted."""
        if not hasattr(self, "W_out_"):
            raise RuntimeError("this NVAR is not fitted yet: call fit(u, y) first")

    def fitted_dimensions(self) -> tuple[int, int]:
        """(D_in, D_out): the numbers of input and output features the model was fitted on."""
        self.check_fitted()
        outputs = self.W_out_.shape[0]
        return self.history_.shape[1] - (outputs if self.feeds_back else 0), outputs

    def _teacher_series(self, u, y, verb: str) -> tuple[np.ndarray, np.ndarray | None]:
        """u (T, D_in) and y (T, D_out) or None, checked against the fitted dimensions."""
        self.check_fitted()
        return teacher_series(u, y, self.feeds_back, *self.fitted_dimensions(), "NVAR", verb)

    def predict(self, u=None, y=None) -> np.ndarray:
        """Outputs (T, D_out) driven by inputs u (T, D_in), continuing from where fit (or
        :meth:`lead_in`) ended; the history is left as it was.

        With output feedback, y (T, D_out) are the true outputs to feed back (teacher forcing),
        so each prediction is one step ahead. For a free run use :meth:`generate`.
        """
        u, y = self._teacher_series(u, y, "predict")
        outputs = self.W_out_.shape[0]
        y_previous = (previous_outputs(self.last_output_, y) if y is not None
                      else np.zeros((u.shape[0], outputs)))
        v = np.vstack([self.history_, self.input_vectors(u, y_previous)])   # ((k-1)s + T, d)
        prediction = delay_features(v, self.delays, self.stride) @ self.W_out_.T   # (T, D_out)
        if self.increments:
            prediction += y_previous
        return prediction

    def generate(self, u=None, steps: int | None = None) -> np.ndarray:
        """Free run (T, D_out): the model's own output y(t-1) is fed back, from where fit (or
        :meth:`lead_in`) ended; the history is left as it was. A diverging run gives inf/NaN.

        u: inputs (T, D_in), or None with ``steps`` (an integer >= 0) for a model without
        inputs; given both, ``steps`` must be len(u).
        """
        self.check_fitted()
        inputs, outputs = self.fitted_dimensions()
        u = free_run_inputs(u, steps, inputs, "NVAR")
        if not self.feeds_back:                       # nothing fed back: the open-loop readout
            return self.predict(u)
        T, span = u.shape[0], self.span
        v = np.empty((span + T, inputs + outputs))  # v(t - (k-1)s), ..., filled step by step
        v[:span] = self.history_
        v[span:, :inputs] = u
        generated = np.empty((T, outputs))
        output = self.last_output_.copy()
        with np.errstate(over="ignore", invalid="ignore"):
            for t in range(T):
                v[span + t, inputs:] = output       # y(t-1), the model's own
                phi = delay_features(v[t:t + span + 1], self.delays, self.stride)[0]
                output = self.W_out_ @ phi + (output if self.increments else 0.0)
                generated[t] = output
        return generated

    def lead_in(self, u=None, y=None) -> "NVAR":
        """Forget where fitting ended: from the zero history (v(t < 0) = 0, y(-1) = 0), drive the
        model teacher-forced through u (T, D_in) and y (T, D_out), and keep the history where it
        ends, so that the next predict/generate continue from there. Returns self."""
        u, y = self._teacher_series(u, y, "lead_in")
        outputs = self.W_out_.shape[0]
        if y is None:
            y = np.zeros((u.shape[0], outputs))     # without feedback y(t-1) is never used
        v = np.vstack([np.zeros((self.span, self.history_.shape[1])),
                       self.input_vectors(u, previous_outputs(np.zeros(outputs), y))])
        self.history_ = v[len(v) - self.span:].copy()
        self.last_output_ = y[-1].copy() if len(y) else np.zeros(outputs)
        return self
