"""Bad arguments to the public model API: one exception (ValueError, or RuntimeError before
build/fit) whose one-line message names the argument, what was given and what is allowed -- never
a raw numpy error or a silently wrong number. And the checks leave good inputs' numbers alone."""

import re

import numpy as np
import pytest

from rnnlab import ESN, LSTM, RNN, losses

T, B, D, H, O = 5, 3, 2, 4, 3
X = np.zeros((T, B, D))
CLASSES = np.zeros((T, B), dtype=int)
FLOATS = np.zeros((T, B, O))
U = np.sin(0.3 * np.arange(120.0))[:, None]          # ESN inputs (T, 1)
STATE = "allowed (3, 4), (B, H) with batch B=3 and hidden_size=4"
PAIR = r"allowed the pair \(h, c\), each \(3, 4\), \(B, H\) with batch B=3 and hidden_size=4"
X_SHAPE = r"allowed \(T, B, 2\) with T, B >= 1, time-major inputs with 2 features"
Y_SHAPE = r"allowed \(5, 3\) class indices or \(5, 3, 3\) floats, matching x"
ONE_INPUT = "the 1 input feature this ESN was fitted on"


def rnn():
    return RNN(hidden_size=H, seed=0).build(D, O)


def lstm():
    return LSTM(hidden_size=H, seed=0).build(D, O)


def esn(**kwargs):
    """An ESN fitted on 1 input feature and 1 output feature."""
    return ESN(units=10, washout=10, seed=0, **kwargs).fit(U[:60], np.cos(0.3 * np.arange(60.0)))


def with_value(array, index, value):
    array = array.copy()
    array[index] = value
    return array


# (id, call, exception, regex matched against the whole message)
CASES = [
    # ------------------------------------------------------------- before build()
    ("rnn_predict_before_build", lambda: RNN().predict(X), RuntimeError,
     r"this RNN is not built yet: call build\(input_size, output_size\) first"),
    ("lstm_loss_and_grads_before_build", lambda: LSTM().loss_and_grads(X, CLASSES), RuntimeError,
     r"this LSTM is not built yet: call build\(input_size, output_size\) first"),
    ("rnn_generate_before_build", lambda: RNN().generate(3, lambda t, y: np.zeros(D)),
     RuntimeError, r"this RNN is not built yet: call build\(input_size, output_size\) first"),
    ("lstm_hidden_gradients_before_build", lambda: LSTM().hidden_gradients(X, CLASSES),
     RuntimeError, r"this LSTM is not built yet: call build\(input_size, output_size\) first"),
    ("rnn_run_before_build", lambda: RNN().run(X), RuntimeError,
     r"this RNN is not built yet: call build\(input_size, output_size\) first"),
    # ------------------------------------------------------------- build()
    ("build_with_zero_input_size", lambda: RNN().build(0, 2), ValueError,
     r"input_size=0 is out of range: allowed an integer >= 1"),
    ("build_with_negative_output_size", lambda: LSTM().build(2, -1), ValueError,
     r"output_size=-1 is out of range: allowed an integer >= 1"),
    ("build_with_fractional_input_size", lambda: RNN().build(2.5, 2), ValueError,
     r"input_size=2.5 is out of range: allowed an integer >= 1"),
    # ------------------------------------------------------------- inputs x
    ("x_not_three_dimensional", lambda: rnn().predict(np.zeros((5, 3))), ValueError,
     rf"x has shape \(5, 3\): {X_SHAPE}"),
    ("x_with_wrong_feature_count", lambda: lstm().loss_and_grads(np.zeros((T, B, 3)), CLASSES),
     ValueError, rf"x has shape \(5, 3, 3\): {X_SHAPE}"),
    ("x_with_no_timesteps", lambda: rnn().loss_and_grads(np.zeros((0, B, D)),
                                                        np.zeros((0, B), dtype=int)),
     ValueError, rf"x has shape \(0, 3, 2\): {X_SHAPE}"),
    ("x_not_numeric", lambda: rnn().predict([[["a", "b"]]]), ValueError,
     rf"x is not a numeric array: {X_SHAPE}"),
    ("x_with_nan_in_loss_and_grads", lambda: rnn().loss_and_grads(
        with_value(X, (1, 1, 1), np.nan), CLASSES), ValueError,
     r"x contains NaN or infinite values: allowed finite values"),
    ("x_with_inf_in_predict", lambda: lstm().predict(with_value(X, (0, 0, 0), np.inf)),
     ValueError, r"x contains NaN or infinite values: allowed finite values"),
    # ------------------------------------------------------------- targets y
    ("class_index_minus_two", lambda: rnn().loss_and_grads(X, with_value(CLASSES, (2, 1), -2)),
     ValueError, r"y holds class index -2: allowed 0\.\.2 \(output_size=3\), or -1 for a step "
     r"that is not scored"),
    ("class_index_equal_to_output_size", lambda: lstm().loss_and_grads(
        X, with_value(CLASSES, (0, 0), O)), ValueError,
     r"y holds class index 3: allowed 0\.\.2 \(output_size=3\), or -1 for a step that is not "
     r"scored"),
    ("class_index_out_of_range_in_hidden_gradients", lambda: lstm().hidden_gradients(
        X, np.full((T, B), 7)), ValueError,
     r"y holds class index 7: allowed 0\.\.2 \(output_size=3\), or -1 for a step that is not "
     r"scored"),
    ("class_indices_with_a_feature_axis", lambda: rnn().loss_and_grads(
        X, np.zeros((T, B, 1), dtype=int)), ValueError,
     rf"y has shape \(5, 3, 1\) \(integers\): {Y_SHAPE}"),
    ("class_indices_longer_than_x", lambda: rnn().loss_and_grads(
        X, np.zeros((T + 1, B), dtype=int)), ValueError,
     rf"y has shape \(6, 3\) \(integers\): {Y_SHAPE}"),
    ("float_targets_without_output_axis", lambda: rnn().loss_and_grads(X, np.zeros((T, B))),
     ValueError, rf"y has shape \(5, 3\) \(float64\): {Y_SHAPE}"),
    ("float_targets_with_wrong_output_size", lambda: lstm().loss_and_grads(
        X, np.zeros((T, B, O + 1))), ValueError,
     rf"y has shape \(5, 3, 4\) \(float64\): {Y_SHAPE}"),
    ("float_targets_with_inf", lambda: rnn().loss_and_grads(X, with_value(FLOATS, (4, 2, 0),
                                                                          np.inf)),
     ValueError, r"y contains infinite values: allowed finite values, or NaN for a step that is "
                 r"not scored"),
    ("targets_of_strings", lambda: rnn().loss_and_grads(X, np.full((T, B), "a")), ValueError,
     rf"y has dtype <U1: {Y_SHAPE}"),
    # ------------------------------------------------------------- states h0 / state
    ("rnn_h0_with_wrong_batch", lambda: rnn().loss_and_grads(X, CLASSES, np.zeros((B + 1, H))),
     ValueError, rf"h0 has shape \(4, 4\): {re.escape(STATE)}"),
    ("rnn_h0_given_an_lstm_pair", lambda: rnn().loss_and_grads(
        X, CLASSES, (np.zeros((B, H)), np.zeros((B, H)))), ValueError,
     rf"h0 has shape \(2, 3, 4\): {re.escape(STATE)}"),
    ("rnn_state_of_one_sequence_for_a_batch", lambda: rnn().predict(X, np.zeros(H)), ValueError,
     rf"state has shape \(4,\): {re.escape(STATE)}"),
    ("lstm_h0_given_a_single_array", lambda: lstm().loss_and_grads(X, CLASSES, np.zeros((B, H))),
     ValueError, rf"h0 has shape \(3, 4\): {PAIR}"),
    ("lstm_state_with_wrong_cell_shape", lambda: lstm().run(
        X, (np.zeros((B, H)), np.zeros((B, H + 1)))), ValueError,
     rf"state\[1\] \(c\) has shape \(3, 5\): {re.escape(STATE)}"),
    ("lstm_state_of_three_parts", lambda: lstm().predict(X, (np.zeros((B, H)),) * 3),
     ValueError, rf"state is a tuple of length 3: {PAIR}"),
    # ------------------------------------------------------------- generate()
    ("recurrent_generate_negative_steps", lambda: rnn().generate(-1, lambda t, y: np.zeros(D)),
     ValueError, r"steps=-1 is out of range: allowed an integer >= 0"),
    ("recurrent_generate_float_steps", lambda: lstm().generate(2.0, lambda t, y: np.zeros(D)),
     ValueError, r"steps=2\.0 is out of range: allowed an integer >= 0"),
    ("recurrent_generate_next_input_not_callable", lambda: rnn().generate(3, np.zeros(D)),
     ValueError, r"next_input=array\(\[0\., 0\.\]\) is not callable: allowed a function "
                 r"next_input\(t, y_previous\) returning the input \(2,\)"),
    ("recurrent_generate_next_input_of_wrong_shape", lambda: lstm().generate(
        3, lambda t, y: np.zeros(D + 1)), ValueError,
     r"next_input\(0, \.\.\.\) returned shape \(3,\): allowed \(2,\), one input with 2 features"),
    ("recurrent_generate_state_of_a_batch", lambda: rnn().generate(
        3, lambda t, y: np.zeros(D), np.zeros((B, H))), ValueError,
     r"state has shape \(3, 4\): allowed \(1, 4\), \(B, H\) with batch B=1 and hidden_size=4"),
    # ------------------------------------------------------------- ESN fit()
    ("esn_fit_targets_three_dimensional", lambda: ESN(units=10).fit(None, np.zeros((50, 1, 1))),
     ValueError, r"y has shape \(50, 1, 1\): allowed \(T, D\) or \(T,\)"),
    ("esn_fit_inputs_shorter_than_targets", lambda: ESN(units=10, washout=5).fit(
        np.zeros(40), np.zeros(50)), ValueError,
     r"u has shape \(40,\): allowed \(50, D\) or \(50,\), as many timesteps as y"),
    ("esn_fit_washout_beyond_the_data", lambda: ESN(units=10).fit(None, np.zeros(50), washout=60),
     ValueError, r"washout=60 is out of range: allowed an integer in \[0, 50\) "
                 r"\(the number of training steps\)"),
    ("esn_fit_fractional_washout", lambda: ESN(units=10).fit(None, np.zeros(50), washout=5.5),
     ValueError, r"washout=5\.5 is out of range: allowed an integer in \[0, 50\) "
                 r"\(the number of training steps\)"),
    ("esn_fit_targets_with_nan", lambda: ESN(units=10, washout=5).fit(
        None, with_value(np.zeros(50), 7, np.nan)), ValueError,
     r"y contains NaN or infinite values: allowed finite values"),
    # ------------------------------------------------------------- ESN predict()
    ("esn_predict_before_fit", lambda: ESN().predict(np.zeros((5, 1)), np.zeros(5)), RuntimeError,
     r"this ESN is not fitted yet: call fit\(u, y\) first"),
    ("esn_predict_inputs_with_wrong_feature_count", lambda: esn().predict(
        np.zeros((20, 3)), np.zeros(20)), ValueError,
     rf"u has shape \(20, 3\): allowed \(20, 1\) or \(20,\), {ONE_INPUT}, as many timesteps as y"),
    ("esn_predict_targets_with_wrong_feature_count", lambda: esn().predict(
        np.zeros((20, 1)), np.zeros((20, 2))), ValueError,
     r"y has shape \(20, 2\): allowed \(T, 1\) or \(T,\), the 1 output feature this ESN was "
     r"fitted on"),
    ("esn_predict_inputs_shorter_than_targets", lambda: esn().predict(
        np.zeros((19, 1)), np.zeros(20)), ValueError,
     rf"u has shape \(19, 1\): allowed \(20, 1\) or \(20,\), {ONE_INPUT}, as many timesteps as y"),
    ("esn_predict_inputs_with_inf", lambda: esn().predict(np.full((20, 1), np.inf), np.zeros(20)),
     ValueError, r"u contains NaN or infinite values: allowed finite values"),
    ("esn_predict_without_feedback_targets_with_wrong_feature_count", lambda: esn(
        feedback_scaling=0.0).predict(U[:20], np.zeros((20, 2))), ValueError,
     r"y has shape \(20, 2\): allowed \(T, 1\) or \(T,\), the 1 output feature this ESN was "
     r"fitted on"),
    ("esn_predict_without_inputs_or_targets", lambda: ESN(
        units=10, washout=10, seed=0, feedback_scaling=0.0).fit(None, np.zeros(50)).predict(),
     ValueError, r"u and y are both None: allowed u \(T, D_in\) or y \(T, D_out\), to give the "
                 r"number of steps"),
    # ------------------------------------------------------------- ESN generate()
    ("esn_generate_negative_steps", lambda: esn().generate(steps=-5), ValueError,
     r"steps=-5 is out of range: allowed an integer >= 0"),
    ("esn_generate_float_steps", lambda: esn().generate(U[:5], steps=5.0), ValueError,
     r"steps=5\.0 is out of range: allowed an integer >= 0"),
    ("esn_generate_without_inputs_or_steps", lambda: esn().generate(), ValueError,
     r"u and steps are both None: allowed u \(T, D_in\) or steps, an integer >= 0, to give the "
     r"number of steps"),
    ("esn_generate_inputs_with_wrong_feature_count", lambda: esn().generate(np.zeros((5, 2))),
     ValueError, rf"u has shape \(5, 2\): allowed \(T, 1\) or \(T,\), {ONE_INPUT}"),
    ("esn_generate_steps_not_matching_inputs", lambda: esn().generate(U[:5], steps=6),
     ValueError, rf"u has shape \(5, 1\): allowed \(6, 1\) or \(6,\), {ONE_INPUT} \(steps=6\)"),
    ("esn_generate_missing_inputs_of_a_model_with_inputs", lambda: esn().generate(steps=6),
     ValueError, rf"u is None: allowed an array of shape \(6, 1\) or \(6,\), {ONE_INPUT} "
                 r"\(steps=6\)"),
    ("esn_generate_inputs_for_a_model_without_inputs", lambda: ESN(
        units=10, washout=10, seed=0).fit(None, np.zeros(50)).generate(U[:5]), ValueError,
     r"u has shape \(5, 1\): allowed \(T, 0\) or None, the 0 input features this ESN was "
     r"fitted on"),
]


@pytest.mark.parametrize("call, error, message", [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_bad_argument_raises_one_line_naming_it_and_what_is_allowed(call, error, message):
    with pytest.raises(Exception) as caught:
        call()
    assert type(caught.value) is error, f"{type(caught.value).__name__}: {caught.value}"
    text = str(caught.value)
    assert "\n" not in text
    assert re.fullmatch(message, text), text


def test_there_are_at_least_25_distinct_bad_argument_cases():
    assert len({case[0] for case in CASES}) == len(CASES) >= 25


# --------------------------------------------------------------------- good inputs unchanged
def fixed_problem():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((6, 3, 2)), rng.integers(0, 3, (6, 3)),
            rng.standard_normal((6, 3, 3)))


# loss and sum of squared gradients, recorded with the code before these checks were added
# (equal to the last digit on the recording machine; rel 1e-12 absorbs other BLAS builds)
RECORDED = {
    (RNN, "classes"): (1.2500507946099093, 0.37098833277848076),
    (RNN, "floats"): (1.3890070219769444, 1.0878908099295086),
    (LSTM, "classes"): (1.1343588907207822, 0.07194018058069272),
    (LSTM, "floats"): (1.0572262869254572, 0.1212103897739036),
}


@pytest.mark.parametrize("cls, targets", list(RECORDED), ids=lambda v: getattr(v, "__name__", v))
def test_loss_and_grads_of_good_inputs_equal_the_values_recorded_before_the_checks(cls, targets):
    x, classes, floats = fixed_problem()
    model = cls(hidden_size=4, init_scale=0.5, seed=1).build(2, 3)
    loss, grads, _ = model.loss_and_grads(x, classes if targets == "classes" else floats)
    squared = float(sum(np.sum(g * g) for g in grads.values()))
    assert (loss, squared) == pytest.approx(RECORDED[cls, targets], rel=1e-12)


@pytest.mark.parametrize("cls", [RNN, LSTM])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_checked_loss_and_grads_equal_the_unchecked_core_bit_for_bit(cls, dtype):
    """loss_and_grads (checks included) against forward + loss + backward called directly, with
    a carried state given as a list: identical arrays, not merely close ones."""
    x, classes, _ = fixed_problem()
    model = cls(hidden_size=4, init_scale=0.5, seed=1, dtype=dtype).build(2, 3)
    state = model.loss_and_grads(x, classes)[2]["state"]
    loss, grads, info = model.loss_and_grads(x, classes.tolist(), state)
    hidden, final, cache = model.forward(x.astype(model.float_type), state)
    outputs = model.readout(hidden)
    core_loss, d_outputs = losses.cross_entropy(outputs, classes)
    core_grads, core_dh = model._backward_through_readout(cache, hidden, d_outputs)
    assert loss == core_loss
    for name in model.params:
        np.testing.assert_array_equal(grads[name], core_grads[name])
    np.testing.assert_array_equal(info["dh"], core_dh)
    np.testing.assert_array_equal(info["outputs"], outputs)


def test_lstm_state_as_one_stacked_array_gives_the_same_outputs_as_the_pair():
    x, _, _ = fixed_problem()
    model = LSTM(hidden_size=4, init_scale=0.5, seed=1).build(2, 3)
    h, c = model.run(x)[1]
    np.testing.assert_array_equal(model.predict(x, np.stack([h, c])), model.predict(x, (h, c)))


def test_generate_of_a_diverged_model_returns_nan_outputs_instead_of_refusing_them():
    """Its own NaN outputs fed back are a result to score, not a bad argument."""
    model = RNN(hidden_size=4, seed=0).build(2, 2)
    model.params["W_hy"][:] = np.nan
    with np.errstate(invalid="ignore"):
        outputs, _ = model.generate(3, lambda t, y: np.zeros(2) if y is None else y)
    assert outputs.shape == (3, 2) and np.isnan(outputs).all()


def test_generate_of_zero_steps_returns_no_outputs_and_the_given_state():
    outputs, state = LSTM(hidden_size=4, seed=0).build(2, 3).generate(0, lambda t, y: None)
    assert outputs.shape == (0, 3) and state is None


def test_esn_predict_and_generate_of_good_inputs_equal_the_values_recorded_before_the_checks():
    u, y = np.sin(np.arange(300) * 0.1)[:, None], np.cos(np.arange(300) * 0.1)
    model = ESN(units=20, seed=0, washout=10).fit(u[:200], y[:200])
    assert float(model.predict(u[200:], y[200:]).sum()) == pytest.approx(-18.86255238320267,
                                                                         rel=1e-12)
    # the free run feeds each output back: rounding that differs between numpy builds (~1e-16)
    # grows over its 20 steps to ~1e-12, so the recorded sum is held to 1e-9
    assert float(model.generate(u[200:220]).sum()) == pytest.approx(-8.483059223374347, rel=1e-9)
    assert model.generate(u[200:210], steps=10).shape == (10, 1)
