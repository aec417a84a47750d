"""model.learn_initial_state: the state each sequence starts from is learned (the lecture's
"treat the initial states as learned parameters"), with exact gradients."""

import numpy as np
import pytest

from rnnlab import GRU, LSTM, RNN, TrainConfig, train
from test_models import carried_state, finite_difference_error

MODELS = [RNN, LSTM, GRU]


def learned(cls, seed=1):
    model = cls(hidden_size=4, init_scale=0.5, seed=seed, learn_initial_state=True).build(3, 3)
    rng = np.random.default_rng(seed)
    for name in model.initial_state_names:      # away from zero, so every path is exercised
        model.params[name][...] = 0.5 * rng.standard_normal(4)
    return model, rng


@pytest.mark.parametrize("cls", MODELS)
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_the_initial_state_s_gradient_matches_finite_differences(cls, loss):
    model, rng = learned(cls)
    x = rng.standard_normal((6, 2, 3))
    y = rng.integers(0, 3, (6, 2)) if loss == "cross_entropy" else rng.standard_normal((6, 2, 3))
    errors = finite_difference_error(model, x, y, None)
    assert set(model.initial_state_names) <= set(errors)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("cls", MODELS)
def test_a_carried_state_leaves_the_learned_initial_state_alone(cls):
    model, rng = learned(cls, seed=2)
    x, y = rng.standard_normal((4, 3, 3)), rng.integers(0, 3, (4, 3))   # batch 3, as carried_state
    state = carried_state(model, rng)
    loss, grads, _ = model.loss_and_grads(x, y, state)
    for name in model.initial_state_names:
        np.testing.assert_array_equal(grads[name], 0.0)
        model.params[name][...] += 1.0                 # and the loss does not depend on it
    assert model.loss_and_grads(x, y, state)[0] == loss
    assert model.loss_and_grads(x, y)[0] != loss       # from the learned state it does


@pytest.mark.parametrize("cls", MODELS)
def test_off_by_default_and_the_same_model_at_the_start(cls):
    plain = cls(hidden_size=4, seed=3).build(3, 2)
    learnt = cls(hidden_size=4, seed=3, learn_initial_state=True).build(3, 2)
    assert not set(plain.params) & set(cls.initial_state_names)
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    np.testing.assert_array_equal(plain.predict(x), learnt.predict(x))


def test_a_learned_initial_state_moves_during_training():
    from rnnlab.tasks.echo import EchoTask
    from rnnlab.training import Stream
    data = EchoTask(train_steps=4000, test_steps=1000).make_data(np.random.default_rng(0))
    stream = Stream.from_data(data, needs_feedback=False)
    model = GRU(hidden_size=4, seed=0, learn_initial_state=True).build(1, 2)
    train(model, stream, TrainConfig(steps=30, bptt=5, batch_size=8), (4000, 5000))
    assert np.abs(model.params["h0"]).max() > 0
