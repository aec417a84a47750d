"""GRU: exact gradients (central finite differences, torch.nn.GRU), both reset variants, float32,
initialisation, training; and the rmsprop optimiser's update rule."""

import numpy as np
import pytest
from test_models import carried_state, finite_difference_error
from test_training import echo_stream

from rnnlab import GRU, ConfigError, TrainConfig, train
from rnnlab.models import MODELS, choices
from rnnlab.optimisers import OPTIMISERS, RMSprop

T, B, D, H, O = 5, 3, 4, 5, 3
RESETS = ["after", "before"]


def gru(reset: str, dtype: str = "float64", seed: int = 1) -> GRU:
    """A GRU with large weights and random (nonzero) biases b and b_h, so that every term counts."""
    model = GRU(hidden_size=H, reset=reset, init_scale=0.5, dtype=dtype, seed=seed).build(D, O)
    rng = np.random.default_rng(seed + 100)
    for name in ("b", "b_h"):
        model.params[name][...] = 0.5 * rng.standard_normal(3 * H)
    return model


@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_every_gru_gradient_matches_central_finite_differences(reset, loss):
    rng = np.random.default_rng(0)
    model = gru(reset)
    x = rng.standard_normal((T, B, D))
    y = rng.integers(0, O, (T, B)) if loss == "cross_entropy" else rng.standard_normal((T, B, O))
    errors = finite_difference_error(model, x, y, carried_state(model, rng))
    assert set(errors) == {"W_x", "W_h", "b", "b_h", "W_hy", "b_y"}
    assert max(errors.values()) < 1e-6, errors


def test_reset_before_and_after_differ_but_agree_on_the_first_step_from_zero():
    """From h0 = 0 with b_hn = 0 both candidates are tanh(W_xn x + b_n); after that r acts on
    different things (W_hn h + b_hn, or h inside the product)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((T, B, D))
    after, before = gru("after"), gru("before")
    for model in (after, before):
        model.params["b_h"][2 * H:] = 0.0
    y_after, y_before = after.predict(x), before.predict(x)
    np.testing.assert_allclose(y_after[0], y_before[0], rtol=1e-12)
    assert np.max(np.abs(y_after[1:] - y_before[1:])) > 1e-3


def test_b_hn_is_scaled_by_r_only_with_reset_after():
    """With reset="before" b_n and b_hn enter n only as their sum; with "after" they do not."""
    rng = np.random.default_rng(2)
    x, h0 = rng.standard_normal((T, B, D)), rng.standard_normal((B, H))
    for reset, same in [("before", True), ("after", False)]:
        model = gru(reset)
        moved = gru(reset)
        moved.params["b"][2 * H:] += 0.3
        moved.params["b_h"][2 * H:] -= 0.3
        difference = np.max(np.abs(model.predict(x, h0) - moved.predict(x, h0)))
        assert (difference < 1e-12) == same, (reset, difference)


@pytest.mark.parametrize("reset", RESETS)
def test_float32_gru_computes_in_float32_and_agrees_with_float64(reset):
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((T, B, D)), rng.integers(0, O, (T, B))
    loss64, grads64, _ = gru(reset).loss_and_grads(x, y)
    loss32, grads32, info = gru(reset, "float32").loss_and_grads(x, y)
    assert info["dh"].dtype == np.float32 and info["state"].dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads32.values())
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    for name in grads64:
        np.testing.assert_allclose(grads32[name], grads64[name], rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("init", ["normal", "orthogonal"])
def test_spectral_radius_rescales_each_gru_block(init):
    model = GRU(hidden_size=20, init=init, spectral_radius=1.3, seed=0).build(2, 2)
    blocks = model.recurrent_blocks()
    assert list(blocks) == ["W_hr", "W_hz", "W_hn"]
    for label, block in blocks.items():
        assert np.max(np.abs(np.linalg.eigvals(block))) == pytest.approx(1.3, rel=1e-10), label
    np.testing.assert_array_equal(np.concatenate(list(blocks.values())), model.params["W_h"])
    assert not np.array_equal(blocks["W_hr"], blocks["W_hz"])


def test_a_bad_reset_is_refused_with_one_line():
    with pytest.raises(ConfigError) as error:
        GRU(reset="middle").build(1, 1)
    assert str(error.value) == "GRU.reset='middle' is not allowed: allowed one of before, after"


@pytest.mark.parametrize("reset", RESETS)
def test_gru_hidden_gradients_are_the_gradients_of_each_sequence_loss(reset):
    rng = np.random.default_rng(3)
    model = gru(reset)
    x, y = rng.standard_normal((T, B, D)), rng.integers(0, O, (T, B))
    _, _, info = model.loss_and_grads(x, y)
    dh_all, dh_last = model.hidden_gradients(x, y)
    assert dh_all.shape == dh_last.shape == (1, T, B, H)
    np.testing.assert_allclose(dh_all, B * info["dh"], rtol=1e-12)
    assert np.all(dh_last[0, :-1] != 0)


def test_carrying_the_gru_state_across_windows_equals_one_long_forward_pass():
    rng = np.random.default_rng(4)
    model = gru("after")
    x = rng.standard_normal((2 * T, B, D))
    first, state = model.run(x[:T])
    np.testing.assert_allclose(np.concatenate([first, model.predict(x[T:], state)]),
                               model.predict(x), rtol=1e-12)


def test_gru_is_registered_and_has_no_pascanu_bound():
    assert MODELS["gru"] is GRU and "model=gru" in choices("recurrent")
    model = GRU(reset="before")
    assert model.derivative_bound is None and model.description == "gru (reset before)"


def test_gru_learns_the_lag_3_echo():
    """From the uniform loss ln 2 = 0.693 towards the ~0.61 of knowing X_{t-3} in 300 updates."""
    stream, test = echo_stream(train_steps=20_000, test_steps=5_000)
    model = GRU(hidden_size=4, seed=0).build(1, 2)
    result = train(model, stream, TrainConfig(steps=300, bptt=5, batch_size=16,
                                              learning_rate=0.03), test)
    losses = [row["test_loss"] for row in result.history]
    assert losses[0] == pytest.approx(np.log(2), abs=1e-3)
    assert not result.diverged and losses[-1] < 0.63


def test_reset_after_matches_torch_gru():
    """Weights copied into torch.nn.GRU (float64, one layer, time-major; b -> bias_ih, b_h ->
    bias_hh, same block order r, z, n) and a torch Linear readout give the same loss and every
    gradient, from a carried state. Skipped where torch is not installed (CI installs only
    .[test,sweep,slurm,optuna]); ``benchmarks/bptt.py`` prints the same check in float32."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    model = gru("after")
    x, y = rng.standard_normal((T, B, D)), rng.integers(0, O, (T, B))
    h0 = rng.standard_normal((B, H))
    loss, grads, info = model.loss_and_grads(x, y, h0)

    core = torch.nn.GRU(D, H, dtype=torch.float64)
    readout = torch.nn.Linear(H, O, dtype=torch.float64)
    names = {"W_x": core.weight_ih_l0, "W_h": core.weight_hh_l0, "b": core.bias_ih_l0,
             "b_h": core.bias_hh_l0, "W_hy": readout.weight, "b_y": readout.bias}
    with torch.no_grad():
        for name, parameter in names.items():
            parameter.copy_(torch.from_numpy(model.params[name]))
    hidden, final = core(torch.from_numpy(x), torch.from_numpy(h0)[None])
    logits = readout(hidden)
    torch_loss = torch.nn.functional.cross_entropy(logits.reshape(-1, O),
                                                   torch.from_numpy(y).reshape(-1))
    torch_loss.backward()
    assert loss == pytest.approx(torch_loss.item(), rel=1e-12)
    np.testing.assert_allclose(info["state"], final[0].detach().numpy(), rtol=1e-12)
    for name, parameter in names.items():
        np.testing.assert_allclose(grads[name], parameter.grad.numpy(), rtol=1e-12, atol=1e-15,
                                   err_msg=name)


# ------------------------------------------------------------------------------- rmsprop
def test_rmsprop_follows_its_update_rule():
    """m1 = (1 - rho) g^2, m2 = rho m1 + (1 - rho) g^2; p -= lr g / (sqrt(m) + 1e-8); the
    momentum TrainConfig passes (0.5 here) is ignored unless use_momentum=True."""
    rho, lr, g = 0.99, 0.1, 2.0
    m1 = (1 - rho) * g * g
    m2 = rho * m1 + (1 - rho) * g * g
    step1, step2 = lr * g / (np.sqrt(m1) + 1e-8), lr * g / (np.sqrt(m2) + 1e-8)

    def two_steps(optimiser):
        params = {"w": np.array([1.0])}
        for _ in range(2):
            optimiser.step(params, {"w": np.array([g])}, lr)
        return float(params["w"][0])

    assert two_steps(OPTIMISERS["rmsprop"](momentum=0.5)) == pytest.approx(1.0 - step1 - step2)
    # with momentum: v1 = -step1, v2 = mu v1 - step2
    assert two_steps(RMSprop(momentum=0.5, use_momentum=True)) == pytest.approx(
        1.0 - step1 - (0.5 * step1 + step2))
    assert two_steps(RMSprop(momentum=0.0, use_momentum=True)) == pytest.approx(
        1.0 - step1 - step2)
    assert two_steps(RMSprop(rho=0.9, momentum=0.5)) == pytest.approx(
        1.0 - 2 * lr / (np.sqrt(0.4) + 1e-8) - 2 * lr / (np.sqrt(0.9 * 0.4 + 0.4) + 1e-8))


def test_train_optimiser_rmsprop_is_plain_rmsprop_whatever_train_momentum_says():
    optimiser = OPTIMISERS[TrainConfig(optimiser="rmsprop").optimiser](
        momentum=TrainConfig().momentum)
    assert optimiser.buffer_names == ("square",)
    params = {"w": np.array([1.0], dtype=np.float32)}
    optimiser.step(params, {"w": np.array([2.0], dtype=np.float32)}, 0.1)
    assert params["w"].dtype == np.float32 and list(optimiser.state["w"]) == ["square"]
