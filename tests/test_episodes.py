"""Tasks of separate sequences in the training loop: unscored steps, whole sequences from the
zero state, batches of sequences, evaluation and gradient probes over whole test sequences."""

import numpy as np
import pytest

from rnnlab import GRU, LSTM, RNN, TrainConfig, train
from rnnlab.losses import UNSCORED_CLASS, cross_entropy, mean_squared_error
from rnnlab.training import Stream, Windows, evaluate, gradient_rows

L, D, C = 6, 3, 4


def episodes_stream(sequences=40, test_sequences=8, classes=True, seed=0):
    """Sequences of L steps; only the last two steps of each are scored."""
    rng = np.random.default_rng(seed)
    count = sequences + test_sequences
    inputs = rng.standard_normal((count * L, D))
    if classes:
        targets = rng.integers(0, C, count * L)
        targets.reshape(count, L)[:, :-2] = UNSCORED_CLASS
        return Stream(inputs, targets, D, C, sequences * L, L)
    targets = rng.standard_normal((count * L, 1))
    targets.reshape(count, L, 1)[:, :-2] = np.nan
    return Stream(inputs, targets, D, 1, sequences * L, L)


def test_unscored_steps_add_nothing_to_the_loss_or_its_gradient():
    rng = np.random.default_rng(1)
    logits, targets = rng.standard_normal((5, 3, C)), rng.integers(0, C, (5, 3))
    masked = targets.copy()
    masked[:2] = UNSCORED_CLASS
    loss, grad = cross_entropy(logits, masked)
    kept, kept_grad = cross_entropy(logits[2:], targets[2:])
    assert loss == pytest.approx(kept, rel=1e-14)
    np.testing.assert_array_equal(grad[:2], 0.0)
    np.testing.assert_allclose(grad[2:], kept_grad, rtol=1e-14)
    values, truth = rng.standard_normal((5, 3, 2)), rng.standard_normal((5, 3, 2))
    holes = truth.copy()
    holes[:2] = np.nan
    loss, grad = mean_squared_error(values, holes, "sum")
    assert loss == pytest.approx(np.sum((values[2:] - truth[2:]) ** 2), rel=1e-14)
    np.testing.assert_array_equal(grad[:2], 0.0)


@pytest.mark.parametrize("model", [RNN(hidden_size=4, init_scale=0.5, seed=2),
                                   LSTM(hidden_size=3, init_scale=0.5, seed=2),
                                   GRU(hidden_size=3, init_scale=0.5, seed=2)])
def test_a_model_s_gradient_with_unscored_steps_matches_finite_differences(model):
    stream = episodes_stream()
    model.build(D, C)
    x, y = stream.episodes(0, stream.train_length, 3)
    _, grads, _ = model.loss_and_grads(x, y)
    step = 1e-6
    for name, value in model.params.items():
        index = tuple(i // 2 for i in value.shape)
        kept = value[index]
        value[index] = kept + step
        up = model.loss_and_grads(x, y)[0]
        value[index] = kept - step
        down = model.loss_and_grads(x, y)[0]
        value[index] = kept
        assert grads[name][index] == pytest.approx((up - down) / (2 * step), rel=1e-6, abs=1e-10)


def test_each_update_reads_a_batch_of_whole_sequences_from_the_zero_state():
    stream = episodes_stream(sequences=40)
    windows = Windows(stream, TrainConfig(bptt=0, batch_size=8))
    assert (windows.length, windows.per_sequence, windows.batches) == (L, 1, 5)
    for step in (1, 2, 6, 7):
        x, y, fresh = windows.at(step)
        batch = (step - 1) % 5
        expected = stream.inputs.reshape(40 + 8, L, D)[batch * 8:(batch + 1) * 8].swapaxes(0, 1)
        np.testing.assert_array_equal(x, expected)
        assert fresh and y.shape == (L, 8)


def test_a_shorter_window_carries_the_state_within_a_sequence_only():
    stream = episodes_stream(sequences=40)
    windows = Windows(stream, TrainConfig(bptt=4, batch_size=8))
    assert (windows.length, windows.per_sequence) == (4, 2)     # windows of 4 and 2 steps
    first, second, third = windows.at(1), windows.at(2), windows.at(3)
    assert first[2] and not second[2] and third[2]
    assert first[0].shape[0] == 4 and second[0].shape[0] == 2
    np.testing.assert_array_equal(np.concatenate([first[0], second[0]]),
                                  stream.inputs.reshape(48, L, D)[:8].swapaxes(0, 1))


def test_evaluation_scores_every_test_sequence_from_the_zero_state():
    stream = episodes_stream(classes=False)
    model = RNN(hidden_size=5, init_scale=0.5, seed=3).build(D, 1)
    test = (stream.train_length, len(stream.targets))
    x, y = stream.episodes(*test)
    outputs = model.predict(x)
    scored = ~np.isnan(y)
    expected = np.mean((outputs[scored] - y[scored]) ** 2)
    assert evaluate(model, stream, *test, max_steps=None) == pytest.approx(expected, rel=1e-12)


def test_the_gradient_probe_spans_whole_test_sequences():
    stream = episodes_stream()
    model = LSTM(hidden_size=4, seed=0).build(D, C)
    rows = gradient_rows(model, stream, (stream.train_length, len(stream.targets)), 50, step=0)
    assert [row["lag"] for row in rows] == list(range(L - 1, -1, -1))


def test_training_on_sequences_learns_and_refuses_a_batch_larger_than_the_data():
    stream = episodes_stream(sequences=200, test_sequences=40, classes=False)
    test = (stream.train_length, len(stream.targets))
    model = GRU(hidden_size=8, seed=0).build(D, 1)
    result = train(model, stream, TrainConfig(steps=150, bptt=0, batch_size=20,
                                              learning_rate=0.01), test)
    assert not result.diverged and result.history[-1]["train_loss"] < result.history[1]["train_loss"]
    from rnnlab import ConfigError
    with pytest.raises(ConfigError, match=r"^train.batch_size=500 is out of range: allowed "
                                          r"<= 200 \(the task's training sequences\)$"):
        train(model, stream, TrainConfig(bptt=0, batch_size=500), test)


@pytest.mark.parametrize("experiment, task, swept", [
    ("long_range", "adding", "task.length"), ("long_range_copy", "copy", "task.delay"),
    ("binary_addition", "binary_addition", "task.bits")])
def test_the_long_range_presets_give_every_model_the_same_settings(compose, experiment, task,
                                                                    swept):
    from rnnlab.app.schema import objects_from_config
    settings = []
    for model in ("rnn", "lstm", "gru"):
        objects = objects_from_config(compose(f"experiment={experiment}", f"model={model}"))
        assert (objects["model"].name, objects["task"].name) == (model, task)
        shared = objects["model"]
        settings.append((shared.hidden_size, shared.init, shared.init_scale, objects["train"]))
    assert settings[0] == settings[1] == settings[2]
    assert settings[0][3].bptt == 0 and settings[0][3].optimiser == "adam"


@pytest.mark.parametrize("model", [RNN, LSTM, GRU])
def test_every_architecture_learns_binary_addition_exactly(model):
    """The lecture toy: one bit of carry. 1000 updates of 20 sums of 6-bit numbers; every bit
    of every one of 200 test sums is right."""
    from rnnlab import BinaryAdditionTask
    from rnnlab.experiments import run_experiment
    task = BinaryAdditionTask(bits=6, sequences=1000, test_sequences=200)
    config = TrainConfig(steps=1000, bptt=0, batch_size=20, learning_rate=0.01, clip="norm",
                         clip_threshold=1.0, gradient_records=2)
    metrics = run_experiment(model(hidden_size=16, init_scale=0.1), task, seed=0,
                             train=config).metrics
    assert metrics["test_bit_accuracy"] == metrics["test_sum_accuracy"] == 1.0
    assert metrics["test_cross_entropy"] < 0.02 < metrics["theory_memoryless"]
