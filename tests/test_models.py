"""RNN and LSTM: exact gradients (against central finite differences), initialisation, shapes."""

import numpy as np
import pytest

from rnnlab import LSTM, RNN, ConfigError

T, B, D, H, O = 5, 3, 4, 5, 3


def finite_difference_error(model, x, y, h0, eps=1e-6) -> dict[str, float]:
    """Relative error ||numeric - analytic|| / (||numeric|| + ||analytic||) per parameter."""
    _, grads, _ = model.loss_and_grads(x, y, h0)
    errors = {}
    for name, value in model.params.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            original = value[index]
            value[index] = original + eps
            plus = model.loss_and_grads(x, y, h0)[0]
            value[index] = original - eps
            minus = model.loss_and_grads(x, y, h0)[0]
            value[index] = original
            numeric[index] = (plus - minus) / (2 * eps)
        scale = np.linalg.norm(numeric) + np.linalg.norm(grads[name])
        errors[name] = np.linalg.norm(numeric - grads[name]) / scale
    return errors


def carried_state(model, rng):
    state = model.zero_state(B)
    if isinstance(state, tuple):
        return tuple(rng.standard_normal(s.shape) for s in state)
    return rng.standard_normal(state.shape)


MODELS = [RNN(hidden_size=H, activation="tanh"), RNN(hidden_size=H, activation="relu"),
          RNN(hidden_size=H, activation="linear"), LSTM(hidden_size=H)]


@pytest.mark.parametrize("model", MODELS, ids=["rnn-tanh", "rnn-relu", "rnn-linear", "lstm"])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_every_gradient_matches_central_finite_differences(model, loss):
    rng = np.random.default_rng(0)
    model = model.with_seed(1)
    model.init_scale = 0.5   # large enough that every nonlinearity is exercised
    model.build(D, O)
    x = rng.standard_normal((T, B, D))
    y = rng.integers(0, O, (T, B)) if loss == "cross_entropy" else rng.standard_normal((T, B, O))
    errors = finite_difference_error(model, x, y, carried_state(model, rng))
    assert set(errors) == set(model.params)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_hidden_gradients_are_the_gradients_of_each_sequence_loss(cls):
    """dL/dh_t from hidden_gradients equals B * info['dh'] of the batch-mean loss, and the last
    step's dL_T/dh_T equals W_hy^T dL_T/dy_T."""
    rng = np.random.default_rng(2)
    model = cls(hidden_size=H, init_scale=0.5, seed=3).build(D, O)
    x, y = rng.standard_normal((T, B, D)), rng.integers(0, O, (T, B))
    _, _, info = model.loss_and_grads(x, y)
    dh_all, dh_last = model.hidden_gradients(x, y)
    np.testing.assert_allclose(dh_all, B * info["dh"], rtol=1e-12)
    logits = info["outputs"][-1]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(B), y[-1]] -= 1.0
    np.testing.assert_allclose(dh_last[-1, -1], p @ model.params["W_hy"], rtol=1e-10)
    assert np.all(dh_last[0, :-1] != 0)


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_carrying_the_state_across_windows_equals_one_long_forward_pass(cls):
    rng = np.random.default_rng(4)
    model = cls(hidden_size=H, init_scale=0.3, seed=5).build(D, O)
    x = rng.standard_normal((2 * T, B, D))
    whole = model.predict(x)
    first, state = model.run(x[:T])
    second = model.predict(x[T:], state)
    np.testing.assert_allclose(np.concatenate([first, second]), whole, rtol=1e-12)


@pytest.mark.parametrize("cls", [RNN, LSTM])
@pytest.mark.parametrize("init", ["normal", "orthogonal"])
def test_init_spectral_radius_rescales_every_recurrent_block(cls, init):
    model = cls(hidden_size=20, init=init, spectral_radius=1.3, seed=0).build(2, 2)
    for label, block in model.recurrent_blocks().items():
        assert np.max(np.abs(np.linalg.eigvals(block))) == pytest.approx(1.3, rel=1e-10), label
    assert len(model.recurrent_blocks()) == (4 if cls is LSTM else 1)


def test_orthogonal_init_gives_an_orthogonal_recurrent_matrix():
    W = RNN(hidden_size=30, init="orthogonal", seed=0).build(1, 1).params["W_hh"]
    np.testing.assert_allclose(W @ W.T, np.eye(30), atol=1e-12)


def test_classic_init_has_the_requested_scale_and_forget_bias():
    lstm = LSTM(hidden_size=50, init_scale=0.01, forget_bias=1.0, seed=0).build(100, 10)
    assert np.std(lstm.params["W_x"]) == pytest.approx(0.01, rel=0.02)
    np.testing.assert_array_equal(lstm.params["b"][50:100], 1.0)
    np.testing.assert_array_equal(np.delete(lstm.params["b"], np.s_[50:100]), 0.0)


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_float32_option_computes_in_float32_and_agrees_with_float64(cls):
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((T, B, D)), rng.integers(0, O, (T, B))
    loss64, grads64, _ = cls(hidden_size=H, init_scale=0.3, seed=7).build(D, O).loss_and_grads(x, y)
    loss32, grads32, info = cls(hidden_size=H, init_scale=0.3, seed=7, dtype="float32").build(
        D, O).loss_and_grads(x, y)
    assert info["dh"].dtype == np.float32 and all(g.dtype == np.float32 for g in grads32.values())
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    for name in grads64:
        np.testing.assert_allclose(grads32[name], grads64[name], rtol=1e-3, atol=1e-6)


def test_same_seed_same_parameters_other_seed_different():
    a, b, c = (LSTM(hidden_size=8, seed=s).build(3, 2) for s in (0, 0, 1))
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert not np.array_equal(a.params["W_h"], c.params["W_h"])


@pytest.mark.parametrize("field, value, message", [
    ("hidden_size", 0, "RNN.hidden_size=0 is out of range: allowed >= 1"),
    ("activation", "sigmoid", "RNN.activation='sigmoid' is not allowed: allowed one of tanh, relu, linear"),
    ("dtype", "float16", "RNN.dtype='float16' is not allowed: allowed one of float64, float32"),
    ("spectral_radius", -1.0, "RNN.spectral_radius=-1.0 is out of range: allowed > 0"),
])
def test_bad_hyperparameters_are_refused_with_one_line(field, value, message):
    with pytest.raises(ConfigError) as error:
        RNN(**{field: value}).build(1, 1)
    assert str(error.value) == message
