"""What the RNN, the LSTM and the GRU share: hyperparameters, initialisation, stacked layers,
the linear readout, the loss.

A subclass supplies one layer's recurrent core, forward and backward side by side:

    _layer_forward(params, x (T, B, D), state) -> hidden (T, B, H), final state, cache
    _layer_backward(params, cache, d_hidden (T, B, H), input_gradient)
        -> grads of the layer's parameters (and "h0"/"c0": dL/d state_{-1}), dL/dh_t (T, B, H),
           dL/dx_t (T, B, D) if input_gradient else None

where ``d_hidden`` is the gradient reaching h_t from above alone (the readout y_t = W_hy h_t + b_y,
or the next layer's input) and the returned dL/dh_t is the total gradient with respect to h_t
(from above plus all later steps). ``params`` are the layer's parameters under their one-layer
names. With ``num_layers`` = L > 1 the layers are stacked: layer l's hidden states are layer
l+1's inputs, the readout reads the top layer, and the backward pass runs down the stack, each
layer's dL/dx_t being the d_hidden of the layer below. Layer l > 0 names its parameters with the
suffix ``_l<l>`` (W_hh_l1, h0_l1); layer 0 keeps the plain names.
Everything here is exact, hand-written backpropagation through time; no autograd library.

Arrays are time-major: inputs (T, B, D), hidden states (T, B, H), outputs (T, B, O), and the
gradients with respect to the hidden states of every layer (L, T, B, H). Targets are (T, B)
class indices (loss: mean cross-entropy) or (T, B, O) floats (loss: mean squared error). A state
is h (B, H) for a one-layer RNN or GRU, else the tuple of its (B, H) parts layer by layer (LSTM:
h, c; two layers: h, h_l1 or h, c, h_l1, c_l1).
The public methods check their arguments (shapes, dtypes, class range, finiteness: a pass or two
over each array, no extra copies) and raise one ValueError naming the argument, what was given
and what is allowed (RuntimeError before :meth:`Recurrent.build`); the cores ``forward`` and
``backward`` take checked arrays.
"""

import dataclasses
from dataclasses import dataclass
from typing import ClassVar, Optional

import numpy as np

from rnnlab import losses
from rnnlab.validation import OneOf, at_least, check_integer, check_ranges, positive

DTYPES = {"float64": np.float64, "float32": np.float32}


def select_lanes(state, lanes: slice):
    """The state of some of the B sequences: each part's rows ``lanes`` (RNN: h (B, H); LSTM:
    the pair (h, c)); None (the zero state) stays None."""
    return None if state is None else state_from_parts([part[lanes] for part in state_parts(state)])


def state_parts(state) -> list:
    """A state as the list of its (B, H) parts."""
    return [state] if isinstance(state, np.ndarray) else list(state)


def state_from_parts(parts):
    """The inverse of :func:`state_parts`: one part stands alone, several make a tuple."""
    return parts[0] if len(parts) == 1 else tuple(parts)


def layer_name(name: str, layer: int) -> str:
    """A parameter's name in layer ``layer``: W_hh, W_hh_l1, W_hh_l2, ..."""
    return name if layer == 0 else f"{name}_l{layer}"


INITS = ("normal", "orthogonal")


@dataclass
class Recurrent:
    """Base of the BPTT-trained models (not used on its own). ``params`` is set by :meth:`build`."""

    hidden_size: int = 16               # H
    init: str = "normal"                # recurrent matrix: "normal" (N(0,1) * init_scale) or "orthogonal"
    init_scale: float = 0.01            # std of every non-recurrent weight (and of W_hh if "normal")
    spectral_radius: Optional[float] = None  # if set, rescale the recurrent matrix to this rho
    dtype: str = "float64"              # "float64" or "float32"
    learn_initial_state: bool = False   # the state a sequence starts from (else zeros) becomes
                                        # parameters h0 (LSTM: h0, c0), learned like the weights
    num_layers: int = 1                 # L stacked layers, each of hidden_size units
    seed: int | np.random.Generator | None = None

    name: ClassVar[str] = ""
    family: ClassVar[str] = "recurrent"
    initial_state_names: ClassVar[tuple] = ("h0",)   # the parts of the state (LSTM: h0, c0)
    rules: ClassVar[dict] = {
        "hidden_size": at_least(1),
        "num_layers": at_least(1),
        "init": OneOf(INITS),
        "init_scale": positive(),
        "spectral_radius": positive(),
        "dtype": OneOf(tuple(DTYPES)),
    }

    def check(self, prefix: str = "") -> None:
        """Raise ConfigError if a hyperparameter is out of range."""
        check_ranges(self, prefix or f"{type(self).__name__}.")

    def with_seed(self, seed) -> "Recurrent":
        return dataclasses.replace(self, seed=seed)

    # ---------------------------------------------------------------- parameters
    def build(self, input_size: int, output_size: int) -> "Recurrent":
        """Draw the parameters for inputs of size D and outputs of size O; returns self.

        Input and readout weights ~ N(0, init_scale^2), biases 0 (subclasses may set gate biases).
        The recurrent matrix (each of the LSTM's four blocks) is N(0, init_scale^2) or a random
        orthogonal matrix, then, if ``spectral_radius`` is set, multiplied so that its largest
        |eigenvalue| equals it.
        """
        self.check()
        check_integer(input_size, "input_size", at_least(1))
        check_integer(output_size, "output_size", at_least(1))
        seed = self.seed
        if isinstance(seed, np.random.Generator):   # start from its seed, not its current state,
            seed = seed.bit_generator.seed_seq      # so that building again draws the same weights
        rng = np.random.default_rng(seed)
        H, scale = self.hidden_size, self.init_scale
        params = {}
        for layer in range(self.num_layers):   # layer by layer, each as a one-layer model draws
            layer_params = self._input_params(input_size if layer == 0 else H, rng)
            for name, block in self._recurrent_names():
                layer_params[name][block] = self._recurrent_matrix(rng)
            params.update({layer_name(name, layer): value for name, value in layer_params.items()})
        params["W_hy"] = scale * rng.standard_normal((output_size, H))
        params["b_y"] = np.zeros(output_size)
        if self.learn_initial_state:       # starts at zero: the same model as without, at first
            params.update({name: np.zeros(H) for name in self.state_parameters})
        self.params = {name: value.astype(self.float_type) for name, value in params.items()}
        return self

    @property
    def state_parameters(self) -> list[str]:
        """The names of the learned initial state's parts, layer by layer (h0, c0, h0_l1, ...),
        in the order of the state's parts."""
        return [layer_name(name, layer) for layer in range(self.num_layers)
                for name in self.initial_state_names]

    def layer_params(self, layer: int) -> dict[str, np.ndarray]:
        """Layer ``layer``'s parameters under their one-layer names (W_hh_l1 as W_hh)."""
        return {name: self.params[layer_name(name, layer)] for name in self.layer_parameters}

    def _recurrent_matrix(self, rng: np.random.Generator) -> np.ndarray:
        H = self.hidden_size
        if self.init == "orthogonal":
            q, r = np.linalg.qr(rng.standard_normal((H, H)))
            matrix = q * np.sign(np.diag(r))  # sign fix: uniform (Haar) over orthogonal matrices
        else:
            matrix = self.init_scale * rng.standard_normal((H, H))
        if self.spectral_radius is not None:
            radius = np.max(np.abs(np.linalg.eigvals(matrix)))
            matrix = matrix * (self.spectral_radius / radius)
        return matrix

    def recurrent_blocks(self) -> dict[str, np.ndarray]:
        """The (H, H) recurrent matrices by name (RNN: W_hh; LSTM: one per gate), layer by layer
        (W_hh, W_hh_l1, ...)."""
        self.check_built()
        return {layer_name(label, layer): self.params[layer_name(name, layer)][block]
                for layer in range(self.num_layers)
                for label, (name, block) in zip(self.recurrent_labels, self._recurrent_names())}

    @property
    def description(self) -> str:
        """The model's name, with what distinguishes it (the RNN's activation, the GRU's reset)
        and its number of layers if stacked: "rnn (tanh)", "gru (reset after), 2 layers"."""
        variant = f" ({self.variant})" if self.variant else ""
        return self.name + variant + (f", {self.num_layers} layers" if self.num_layers > 1 else "")

    @property
    def variant(self) -> str:
        return ""

    @property
    def derivative_bound(self) -> float | None:
        """gamma, a bound on |f'| of the recurrent nonlinearity (Pascanu et al. 2013: long-term
        gradients vanish when sigma_max(W_hh) < 1 / gamma); None where no such bound applies."""
        return None

    @property
    def float_type(self):
        return DTYPES[self.dtype]

    @property
    def input_size(self) -> int:
        self.check_built()
        return self.params[self._input_weight].shape[1]

    @property
    def output_size(self) -> int:
        self.check_built()
        return self.params["W_hy"].shape[0]

    # ---------------------------------------------------------------- argument checks
    def check_built(self) -> None:
        """Raise RuntimeError unless :meth:`build` has drawn the parameters."""
        if getattr(self, "params", None) is None:
            raise RuntimeError(f"this {type(self).__name__} is not built yet: call "
                               f"build(input_size, output_size) first")

    def _check_inputs(self, x) -> np.ndarray:
        """x as a finite (T, B, D) array of the model's dtype, T, B >= 1."""
        D = self.input_size
        allowed = f"allowed (T, B, {D}) with T, B >= 1, time-major inputs with {D} features"
        try:
            x = np.asarray(x, dtype=self.float_type)
        except (TypeError, ValueError):
            raise ValueError(f"x is not a numeric array: {allowed}") from None
        if x.ndim != 3 or x.shape[2] != D or x.size == 0:
            raise ValueError(f"x has shape {x.shape}: {allowed}")
        if not np.isfinite(x).all():
            raise ValueError("x contains NaN or infinite values: allowed finite values")
        return x

    def _check_targets(self, y, x: np.ndarray) -> np.ndarray:
        """y as an array: (T, B) integer class indices in [0, O) (or -1: not scored), or
        (T, B, O) floats, finite or NaN (not scored)."""
        T, B, O = x.shape[0], x.shape[1], self.output_size
        y = np.asarray(y)
        allowed = f"allowed ({T}, {B}) class indices or ({T}, {B}, {O}) floats, matching x"
        if np.issubdtype(y.dtype, np.integer):
            if y.shape != (T, B):
                raise ValueError(f"y has shape {y.shape} (integers): {allowed}")
            low, high = y.min(), y.max()
            if low < losses.UNSCORED_CLASS or high >= O:
                raise ValueError(f"y holds class index {low if low < 0 else high}: "
                                 f"allowed 0..{O - 1} (output_size={O}), or "
                                 f"{losses.UNSCORED_CLASS} for a step that is not scored")
        elif y.dtype.kind in "fb":
            if y.shape != (T, B, O):
                raise ValueError(f"y has shape {y.shape} ({y.dtype}): {allowed}")
            if np.isinf(y).any():
                raise ValueError("y contains infinite values: allowed finite values, or NaN "
                                 "for a step that is not scored")
        else:
            raise ValueError(f"y has dtype {y.dtype}: {allowed}")
        return y

    @property
    def state_labels(self) -> list[str]:
        """The names of the state's parts, layer by layer: h; LSTM h, c; two layers h, h_l1."""
        return [layer_name(name[:-1], layer) for layer in range(self.num_layers)
                for name in self.initial_state_names]             # h0 -> h, c0 in layer 1 -> c_l1

    def zero_state(self, batch: int):
        """The zero state of B sequences (see the module docstring for its form)."""
        return state_from_parts([np.zeros((batch, self.hidden_size), dtype=self.float_type)
                                 for _ in self.state_labels])

    def _check_state(self, state, batch: int, name: str):
        """``state`` in the model's dtype after checking its shape against the batch B (RNN: h
        (B, H); LSTM: the pair (h, c); stacked layers: every layer's parts, layer by layer);
        None stays None (the zero state)."""
        if state is None:
            return None
        labels = self.state_labels
        if len(labels) == 1:
            return self._state_array(state, batch, name)
        if isinstance(state, (str, bytes)) or not hasattr(state, "__len__") or \
                len(state) != len(labels):
            given = (f"has shape {state.shape}" if isinstance(state, np.ndarray) else
                     f"is a {type(state).__name__}"
                     + (f" of length {len(state)}" if hasattr(state, "__len__") else ""))
            H = self.hidden_size
            parts = (f"the pair ({', '.join(labels)})" if len(labels) == 2 else
                     f"the {len(labels)} parts ({', '.join(labels)})")
            raise ValueError(f"{name} {given}: allowed {parts}, each ({batch}, {H}), "
                             f"(B, H) with batch B={batch} and hidden_size={H}")
        return tuple(self._state_array(part, batch, f"{name}[{k}] ({label})")
                     for k, (part, label) in enumerate(zip(state, labels)))

    def _state_array(self, value, batch: int, name: str) -> np.ndarray:
        """One (B, H) part of a state, as an array of the model's dtype."""
        expected = (batch, self.hidden_size)
        try:
            array = np.asarray(value, dtype=self.float_type)
        except (TypeError, ValueError):
            array = None
        if array is None or array.shape != expected:
            given = "is not a numeric array" if array is None else f"has shape {array.shape}"
            raise ValueError(f"{name} {given}: allowed {expected}, (B, H) with batch B={batch} "
                             f"and hidden_size={self.hidden_size}")
        return array

    # ---------------------------------------------------------------- readout and loss
    def predict(self, x, state=None) -> np.ndarray:
        """Outputs (T, B, O) (logits or regression values) driven by inputs x (T, B, D), from
        ``state`` (None: zeros). To continue from where it ends, use :meth:`run`."""
        return self.run(x, state)[0]

    def run(self, x, state=None):
        """:meth:`predict`, and the final state: (outputs (T, B, O), state)."""
        x = self._check_inputs(x)
        return self._run(x, self._check_state(state, x.shape[1], "state"))

    def _run(self, x: np.ndarray, state):
        hidden, final_state, _ = self.forward(x, self._state_or_zero(state, x.shape[1]))
        return self.readout(hidden), final_state

    def generate(self, steps: int, next_input, state=None):
        """Free run of one sequence: the input of step t is ``next_input(t, y_{t-1})`` (D,), with
        y_{-1} = None, so each output can be fed back (a regression closed loop) or sampled from
        (text). Returns (outputs (steps, O) float64, final state).

        The inputs are not checked for finiteness: a diverged model's NaN outputs, fed back, are
        a result to score, not a wrong argument.
        """
        D = self.input_size
        check_integer(steps, "steps", at_least(0))
        if not callable(next_input):
            raise ValueError(f"next_input={next_input!r} is not callable: allowed a function "
                             f"next_input(t, y_previous) returning the input ({D},)")
        state = self._check_state(state, 1, "state")
        outputs, output = np.empty((steps, self.output_size)), None
        for t in range(steps):
            x = np.asarray(next_input(t, output))
            if x.shape != (D,):
                raise ValueError(f"next_input({t}, ...) returned shape {x.shape}: allowed ({D},), "
                                 f"one input with {D} features")
            y, state = self._run(x.astype(self.float_type, copy=False)[None, None, :], state)
            outputs[t] = output = y[0, 0]
        return outputs, state

    # ---------------------------------------------------------------- the stack of layers
    def forward(self, x: np.ndarray, state):
        """x (T, B, D), a checked state (not None) -> the top layer's hidden states (T, B, H),
        the final state, the cache for :meth:`backward`."""
        parts, per_layer = state_parts(state), len(self.initial_state_names)
        finals, caches, inputs = [], [], x
        for layer in range(self.num_layers):
            layer_state = state_from_parts(parts[layer * per_layer:(layer + 1) * per_layer])
            inputs, final, cache = self._layer_forward(self.layer_params(layer), inputs,
                                                       layer_state)
            finals += state_parts(final)
            caches.append(cache)
        return inputs, state_from_parts(finals), caches

    def backward(self, caches, d_hidden: np.ndarray):
        """d_hidden (T, B, H): dL/dh_t of the top layer from the readout -> grads of every
        parameter but the readout's (and of the initial state's parts), dL/dh_t of every layer
        (L, T, B, H)."""
        grads, dh = {}, [None] * self.num_layers
        for layer in reversed(range(self.num_layers)):
            layer_grads, dh[layer], d_hidden = self._layer_backward(
                self.layer_params(layer), caches[layer], d_hidden, input_gradient=layer > 0)
            grads.update({layer_name(name, layer): value for name, value in layer_grads.items()})
        return grads, dh[0][None] if self.num_layers == 1 else np.stack(dh)

    def _input_gradient(self, params: dict, d_blocks: np.ndarray) -> np.ndarray:
        """dL/dx_t = sum_k W_xk^T d_k,t (T, B, D) from the gradients of a gated layer's K
        pre-activations kept block-major, d_blocks (K, T, B, H) (LSTM: K = 4, GRU: K = 3)."""
        K, T, B, H = d_blocks.shape
        W_x = params[self._input_weight].reshape(K, H, -1)          # (K, H, D): W_xk
        return np.matmul(d_blocks.reshape(K, T * B, H), W_x).sum(axis=0).reshape(T, B, -1)

    def readout(self, hidden: np.ndarray) -> np.ndarray:
        """y_t = W_hy h_t + b_y: hidden (..., H) -> outputs (..., O)."""
        return hidden @ self.params["W_hy"].T + self.params["b_y"]

    def loss_and_grads(self, x, y, h0=None, reduction: str = "mean"):
        """Loss of the window, exact gradients of every parameter, and information for analyses.

        x (T, B, D); y (T, B) int (cross-entropy) or (T, B, O) float (mean squared error);
        h0: the carried initial state (None = zeros); reduction: "mean" over the T B steps, or
        "sum" (min-char-rnn's window loss). Returns ``(loss, grads, info)``: grads has the keys
        of ``params``; info["state"] is the final state (carry it into the next window),
        info["dh"] (L, T, B, H) is dL/dh_t of every layer, info["outputs"] the outputs (T, B, O).
        """
        x, y, h0 = self._check_window(x, y, h0)
        if reduction not in losses.REDUCTIONS:
            raise ValueError(f"reduction={reduction!r} is not allowed: allowed "
                             f"{', '.join(losses.REDUCTIONS)}")
        hidden, final_state, cache = self.forward(x, self._state_or_zero(h0, x.shape[1]))
        outputs = self.readout(hidden)
        loss, d_outputs = losses.loss_for(y)(outputs, y, reduction)
        grads, dh = self._backward_through_readout(cache, hidden, d_outputs)
        if self.learn_initial_state and h0 is not None:   # a carried state: the learned one
            for name in self.state_parameters:            # was not used
                grads[name] = np.zeros_like(grads[name])
        return loss, grads, {"state": final_state, "dh": dh, "outputs": outputs}

    def _backward_through_readout(self, cache, hidden, d_outputs):
        T, B, H = hidden.shape
        d_outputs = d_outputs.astype(self.float_type, copy=False)
        d_flat = d_outputs.reshape(T * B, -1)
        grads, dh = self.backward(cache, d_outputs @ self.params["W_hy"])
        grads["W_hy"] = d_flat.T @ hidden.reshape(T * B, H)
        grads["b_y"] = d_flat.sum(axis=0)
        return {name: grads[name] for name in self.params}, dh

    def hidden_gradients(self, x, y, h0=None) -> tuple[np.ndarray, np.ndarray]:
        """dL/dh_t and dL_T/dh_t of every layer, each (L, T, B, H), for every sequence's own loss.

        L is the sequence's mean loss over its (scored) steps and L_T its last step's loss alone;
        so the values do not depend on the batch size B.
        """
        x, y, h0 = self._check_window(x, y, h0)
        hidden, _, cache = self.forward(x, self._state_or_zero(h0, x.shape[1]))
        _, d_sum = losses.loss_for(y)(self.readout(hidden), y, "sum")   # each term's gradient
        steps = losses.scored(y) if y.ndim == 2 else losses.scored(y).any(axis=2)   # (T, B)
        counts = np.maximum(steps.sum(axis=0), 1).astype(d_sum.dtype)   # scored steps per sequence
        d_all = d_sum / counts[None, :, None]                              # each sequence's mean
        _, dh_all = self.backward(cache, d_all @ self.params["W_hy"])
        last_only = np.zeros_like(d_sum)
        last_only[-1] = d_sum[-1]
        _, dh_last = self.backward(cache, last_only @ self.params["W_hy"])
        return dh_all, dh_last

    def _check_window(self, x, y, h0):
        """The checked arguments of :meth:`loss_and_grads` and :meth:`hidden_gradients`."""
        x = self._check_inputs(x)
        return x, self._check_targets(y, x), self._check_state(h0, x.shape[1], "h0")

    def _state_or_zero(self, state, batch: int):
        """``state``, or where it is None the state a sequence starts from: zeros, or the learned
        initial state (model.learn_initial_state) for each of the B sequences."""
        if state is not None:
            return state
        if not self.learn_initial_state:
            return self.zero_state(batch)
        return state_from_parts([np.repeat(self.params[name][None, :], batch, axis=0)
                                 for name in self.state_parameters])
