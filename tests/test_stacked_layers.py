"""model.num_layers: stacked RNN, LSTM and GRU layers, layer l's hidden states being layer l+1's
inputs, with exact gradients through the whole stack."""

import numpy as np
import pandas as pd
import pytest

from rnnlab import GRU, LSTM, RNN
from rnnlab.analyses.gradient_flow import gradient_flow, summarise
from rnnlab.models.recurrent import state_parts
from test_models import finite_difference_error

T, B, D, H, O = 5, 3, 2, 3, 3
KINDS = {"rnn": lambda **k: RNN(**k), "lstm": lambda **k: LSTM(**k),
         "gru-after": lambda **k: GRU(reset="after", **k),
         "gru-before": lambda **k: GRU(reset="before", **k)}


def stacked(kind: str, layers: int, learn_initial_state: bool = False, seed: int = 1):
    model = KINDS[kind](hidden_size=H, init_scale=0.5, seed=seed, num_layers=layers,
                        learn_initial_state=learn_initial_state).build(D, O)
    rng = np.random.default_rng(seed)
    for name in model.state_parameters if learn_initial_state else []:
        model.params[name][...] = 0.5 * rng.standard_normal(H)   # away from zero
    return model, rng


def random_state(model, rng):
    return tuple(rng.standard_normal(part.shape) for part in state_parts(model.zero_state(B)))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("layers", [2, 3])
@pytest.mark.parametrize("learn_initial_state", [False, True], ids=["zero-start", "learned-start"])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_every_stacked_gradient_matches_central_finite_differences(kind, layers,
                                                                   learn_initial_state, loss):
    """Every parameter of every layer (and each layer's learned initial state) against central
    differences in float64; without a learned state the window starts from a carried random
    state of every layer, with one it starts from the learned state."""
    model, rng = stacked(kind, layers, learn_initial_state)
    x = rng.standard_normal((T, B, D))
    y = rng.integers(0, O, (T, B)) if loss == "cross_entropy" else rng.standard_normal((T, B, O))
    state = None if learn_initial_state else random_state(model, rng)
    errors = finite_difference_error(model, x, y, state)
    assert set(errors) == set(model.params)
    assert {f"W_h{'h' if kind == 'rnn' else ''}_l{layers - 1}"} <= set(errors)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("kind", KINDS)
def test_a_stack_is_its_layers_one_after_the_other(kind):
    """A two-layer model's outputs equal a one-layer model (layer 0's weights) whose hidden
    states drive a second one-layer model (layer 1's weights and the readout)."""
    model, rng = stacked(kind, 2)
    x = rng.standard_normal((T, B, D))
    bottom = KINDS[kind](hidden_size=H).build(D, 1)
    top = KINDS[kind](hidden_size=H).build(H, O)
    for name in model.layer_parameters:
        bottom.params[name] = model.params[name]
        top.params[name] = model.params[f"{name}_l1"]
    top.params["W_hy"], top.params["b_y"] = model.params["W_hy"], model.params["b_y"]
    hidden, _, _ = bottom.forward(x, bottom.zero_state(B))
    np.testing.assert_allclose(model.predict(x), top.predict(hidden), rtol=1e-13)


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_the_state_of_a_stack_is_every_layer_s_parts_in_order(kind):
    model, rng = stacked(kind, 2)
    x = rng.standard_normal((2 * T, B, D))
    outputs, state = model.run(x)
    labels = ["h", "h_l1"] if kind == "rnn" else ["h", "c", "h_l1", "c_l1"]
    assert model.state_labels == labels and len(state) == len(labels)
    first, carried = model.run(x[:T])                 # carried across two windows: one pass
    np.testing.assert_allclose(model.run(x[T:], carried)[0], outputs[T:], rtol=1e-13)
    np.testing.assert_allclose(first, outputs[:T], rtol=1e-13)
    parts = "pair" if len(labels) == 2 else f"{len(labels)} parts"
    with pytest.raises(ValueError, match=rf"state is a tuple of length 1: allowed the {parts} "
                                         rf"\({', '.join(labels)}\), each \(3, 3\)"):
        model.predict(x, state[:1])


def test_a_carried_state_leaves_every_layer_s_learned_initial_state_alone():
    model, rng = stacked("lstm", 3, learn_initial_state=True)
    assert model.state_parameters == ["h0", "c0", "h0_l1", "c0_l1", "h0_l2", "c0_l2"]
    x, y = rng.standard_normal((T, B, D)), rng.integers(0, O, (T, B))
    _, grads, _ = model.loss_and_grads(x, y, random_state(model, rng))
    for name in model.state_parameters:
        np.testing.assert_array_equal(grads[name], 0.0)
    _, grads, _ = model.loss_and_grads(x, y)
    assert all(np.abs(grads[name]).sum() > 0 for name in model.state_parameters)


def test_each_layer_draws_its_own_recurrent_blocks_and_spectra():
    model = GRU(hidden_size=8, num_layers=2, spectral_radius=0.9, seed=0).build(1, 2)
    blocks = model.recurrent_blocks()
    assert list(blocks) == ["W_hr", "W_hz", "W_hn", "W_hr_l1", "W_hz_l1", "W_hn_l1"]
    for matrix in blocks.values():
        assert np.max(np.abs(np.linalg.eigvals(matrix))) == pytest.approx(0.9, rel=1e-12)
    assert not np.allclose(blocks["W_hr"], blocks["W_hr_l1"])
    assert model.params["W_x_l1"].shape == (24, 8) and model.description == \
        "gru (reset after), 2 layers"


def test_one_layer_draws_the_same_weights_as_the_bottom_layer_of_a_stack():
    one = RNN(hidden_size=4, seed=7).build(2, 3)
    two = RNN(hidden_size=4, seed=7, num_layers=2).build(2, 3)
    for name in one.layer_parameters:
        np.testing.assert_array_equal(one.params[name], two.params[name])


def test_hidden_gradients_and_gradient_flow_have_one_profile_per_layer():
    """dL/dh_t of every layer (L, T, B, H); the gradient-flow tables gain a layer column, the
    rates one row per layer, and the summary reads the top layer."""
    model, rng = stacked("rnn", 3)
    x, y = rng.standard_normal((T, B, D)), rng.integers(0, O, (T, B))
    dh_all, dh_last = model.hidden_gradients(x, y)
    assert dh_all.shape == dh_last.shape == (3, T, B, H)
    _, _, info = model.loss_and_grads(x, y)
    np.testing.assert_allclose(dh_all, B * info["dh"], rtol=1e-12)
    flow, rates = gradient_flow(RNN(hidden_size=8, num_layers=2, seed=0), [0.5, 1.5],
                                rng.standard_normal((20, 4, 1)), rng.integers(0, 2, (20, 4)),
                                (2, 19), np.random.default_rng(0))
    flow, rates = pd.DataFrame(flow), pd.DataFrame(rates)
    assert sorted(flow["layer"].unique()) == [0, 1] and len(flow) == 2 * 2 * 20
    assert len(rates) == 4 and np.isfinite(flow["jacobian_norm"]).all()
    top = rates[rates["layer"] == 1]
    rates["when"] = "init"
    assert summarise(rates)["max_rate_minus_ln_rho"] == pytest.approx(
        float(np.max(top["fitted_rate"] - top["ln_rho"])))


def test_two_layer_gru_matches_torch_gru_with_two_layers():
    """Layer l's W_x_l, W_h_l, b_l, b_h_l copied into torch.nn.GRU(num_layers=2)'s
    weight_ih_l, weight_hh_l, bias_ih_l, bias_hh_l: the same loss and every gradient. Skipped
    where torch is not installed (it is a bench extra)."""
    torch = pytest.importorskip("torch")
    model, rng = stacked("gru-after", 2)
    x, y = rng.standard_normal((T, B, D)), rng.integers(0, O, (T, B))
    state = random_state(model, rng)
    loss, grads, _ = model.loss_and_grads(x, y, state)
    core = torch.nn.GRU(D, H, num_layers=2, dtype=torch.float64)
    readout = torch.nn.Linear(H, O, dtype=torch.float64)
    names = {"W_hy": readout.weight, "b_y": readout.bias}
    for layer in range(2):
        suffix = "" if layer == 0 else f"_l{layer}"
        names.update({f"W_x{suffix}": getattr(core, f"weight_ih_l{layer}"),
                      f"W_h{suffix}": getattr(core, f"weight_hh_l{layer}"),
                      f"b{suffix}": getattr(core, f"bias_ih_l{layer}"),
                      f"b_h{suffix}": getattr(core, f"bias_hh_l{layer}")})
    with torch.no_grad():
        for name, parameter in names.items():
            parameter.copy_(torch.from_numpy(model.params[name]))
    hidden, _ = core(torch.from_numpy(x), torch.from_numpy(np.stack(state)))
    torch_loss = torch.nn.functional.cross_entropy(readout(hidden).reshape(-1, O),
                                                   torch.from_numpy(y).reshape(-1))
    torch_loss.backward()
    assert loss == pytest.approx(torch_loss.item(), rel=1e-12)
    for name, parameter in names.items():
        np.testing.assert_allclose(grads[name], parameter.grad.numpy(), rtol=1e-10, atol=1e-14,
                                   err_msg=name)
