"""Optimisers, clipping, truncated-BPTT windows, divergence handling, and that training learns."""

import dataclasses
import re

import numpy as np
import pytest

from rnnlab import LSTM, RNN, ConfigError, TrainConfig, train
from rnnlab.optimisers import OPTIMISERS, clip_gradients
from rnnlab.tasks.echo import EchoTask
from rnnlab.training import (GradientRecords, Probe, RecurrentSpectra, Stream, as_lanes,
                             check_windows, evaluate)


def one_step(name: str, p: float, g: float, steps: int = 1, lr: float = 0.1) -> float:
    params, optimiser = {"w": np.array([p])}, OPTIMISERS[name](momentum=0.5)
    for _ in range(steps):
        optimiser.step(params, {"w": np.array([g])}, lr)
    return float(params["w"][0])


def test_optimisers_follow_their_update_rules():
    assert one_step("sgd", 1.0, 2.0) == pytest.approx(1.0 - 0.1 * 2.0)
    # momentum: v1 = -lr g, v2 = mu v1 - lr g
    assert one_step("momentum", 1.0, 2.0, steps=2) == pytest.approx(1.0 - 0.2 - (0.5 * 0.2 + 0.2))
    # adagrad: m1 = g^2, m2 = 2 g^2
    assert one_step("adagrad", 1.0, 2.0, steps=2) == pytest.approx(
        1.0 - 0.1 * 2.0 / np.sqrt(4.0 + 1e-8) - 0.1 * 2.0 / np.sqrt(8.0 + 1e-8))
    # adam: the bias-corrected first step has size lr whatever the gradient's scale
    assert one_step("adam", 1.0, 2.0) == pytest.approx(1.0 - 0.1, rel=1e-7)
    assert one_step("adam", 1.0, -1e-3) == pytest.approx(1.0 + 0.1, rel=1e-4)


def test_value_clipping_clips_each_element_and_reports_the_fraction():
    grads = {"a": np.array([-7.0, 1.0, 6.0]), "b": np.array([[2.0]])}
    norm, fraction = clip_gradients(grads, "value", 5.0)
    assert norm == pytest.approx(np.sqrt(49 + 1 + 36 + 4))
    assert fraction == pytest.approx(2 / 4)
    np.testing.assert_array_equal(grads["a"], [-5.0, 1.0, 5.0])


def test_norm_clipping_rescales_to_the_threshold_and_leaves_small_gradients():
    grads = {"a": np.array([3.0, 4.0])}
    assert clip_gradients(grads, "norm", 1.0) == (5.0, 1.0)
    np.testing.assert_allclose(grads["a"], [0.6, 0.8])
    assert clip_gradients(grads, "norm", 2.0) == (pytest.approx(1.0), 0.0)
    np.testing.assert_allclose(grads["a"], [0.6, 0.8])


def test_lanes_are_contiguous_chunks_advancing_together():
    lanes = as_lanes(np.arange(10), 3)            # 9 steps used: lanes 0-2, 3-5, 6-8
    np.testing.assert_array_equal(lanes, [[0, 3, 6], [1, 4, 7], [2, 5, 8]])


def test_cosine_schedule_starts_at_the_rate_and_decays_to_zero():
    config = TrainConfig(steps=100, schedule="cosine", learning_rate=0.2)
    assert config.learning_rate_at(1) == 0.2
    assert config.learning_rate_at(51) == pytest.approx(0.1)
    assert config.learning_rate_at(100) == pytest.approx(0.2 * 0.5 * (1 + np.cos(np.pi * 0.99)))


def echo_stream(train_steps=60_000, test_steps=20_000, seed=0):
    data = EchoTask(train_steps=train_steps, test_steps=test_steps).make_data(
        np.random.default_rng(seed))
    return Stream.from_data(data, needs_feedback=False), (train_steps, train_steps + test_steps)


def test_truncated_bptt_learns_what_the_window_reaches():
    """bptt 5 reaches lag 3 but not lag 8: the loss falls from 0.66 towards 0.52 and not far below."""
    stream, test = echo_stream()
    model = RNN(hidden_size=4, seed=0).build(1, 2)
    result = train(model, stream, TrainConfig(steps=2000, bptt=5, batch_size=32), test)
    final = evaluate(model, stream, *test, max_steps=None)
    assert not result.diverged and result.steps_done == 2000
    assert 0.50 < final < 0.56
    assert result.history[0]["test_loss"] == pytest.approx(np.log(2), abs=1e-3)  # init: uniform


def test_training_rows_and_gradient_records_have_the_documented_shape():
    stream, test = echo_stream(train_steps=20_000, test_steps=5_000)
    model = LSTM(hidden_size=3, seed=1).build(1, 2)
    gradients = GradientRecords(stream, test, steps=40, records=3, window=12)
    result = train(model, stream, TrainConfig(steps=40, bptt=4, batch_size=8, log_every=10), test,
                   probes=[RecurrentSpectra(), gradients])
    assert [row["step"] for row in result.history] == [0, 10, 20, 30, 40]
    assert {"spectral_radius_W_hf", "fraction_clipped", "learning_rate"} <= set(result.history[1])
    assert sorted({row["step"] for row in gradients.rows}) == [0, 20, 40]
    lags = [row["lag"] for row in gradients.rows if row["step"] == 0]
    assert lags == list(range(11, -1, -1))


def test_a_probe_adds_its_columns_and_sees_every_update_and_the_divergence():
    class Counting(Probe):
        def __init__(self):
            self.updates, self.diverged_at = [], None

        def columns(self, model):
            return {"w_hh_sum": float(model.params["W_hh"].sum())}

        def after_update(self, model, step):
            self.updates.append(step)

        def on_divergence(self, model, step):
            self.diverged_at = step

    stream, test = echo_stream(train_steps=20_000, test_steps=5_000)
    model = RNN(hidden_size=4, seed=0).build(1, 2)
    probe = Counting()
    result = train(model, stream, TrainConfig(steps=12, bptt=4, batch_size=8, log_every=6), test,
                   probes=[probe])
    assert probe.updates == list(range(13)) and probe.diverged_at is None
    assert [row["w_hh_sum"] for row in result.history][-1] == float(model.params["W_hh"].sum())
    assert "spectral_radius" not in result.history[0]   # only the probes asked for
    diverging = RNN(hidden_size=8, activation="linear", init="orthogonal", spectral_radius=3.0,
                    seed=0).build(1, 2)
    probe = Counting()
    result = train(diverging, stream, TrainConfig(steps=200, bptt=50, batch_size=4, clip="none",
                                                  optimiser="sgd", learning_rate=1e3), test,
                   probes=[probe])
    assert probe.diverged_at == result.diverged_step and probe.updates[-1] == result.steps_done


def test_a_diverging_run_stops_cleanly_and_says_where():
    stream, test = echo_stream(train_steps=20_000, test_steps=5_000)
    model = RNN(hidden_size=8, activation="linear", init="orthogonal", spectral_radius=3.0,
                seed=0).build(1, 2)
    result = train(model, stream, TrainConfig(steps=200, bptt=50, batch_size=4, clip="none",
                                              optimiser="sgd", learning_rate=1e3), test)
    assert result.diverged and 1 <= result.diverged_step < 200
    assert result.steps_done == result.diverged_step - 1
    assert all(np.isfinite(value).all() for value in model.params.values())


def test_training_is_deterministic():
    runs = []
    for _ in range(2):
        stream, test = echo_stream(train_steps=10_000, test_steps=2_000)
        model = LSTM(hidden_size=3, seed=4).build(1, 2)
        runs.append(train(model, stream, TrainConfig(steps=30, bptt=5, batch_size=8), test).history)
    assert runs[0] == runs[1]


def test_bad_training_settings_are_refused_with_one_line():
    with pytest.raises(ConfigError, match=r"^train.optimiser='nadam' is not allowed: allowed one "
                                          r"of sgd, momentum, adagrad, adam, rmsprop$"):
        TrainConfig(optimiser="nadam").check()
    with pytest.raises(ConfigError, match=r"^train.bptt=-1 is out of range: allowed >= 0$"):
        TrainConfig(bptt=-1).check()
    with pytest.raises(ConfigError, match=r"^train.bptt=0 is out of range: allowed >= 1 \(0, "
                                          r"whole sequences, is for tasks of separate "
                                          r"sequences\)$"):
        check_windows(TrainConfig(bptt=0), 1000)


def test_a_loss_far_above_the_first_updates_counts_as_divergence_and_says_which_rule():
    """Momentum 5 makes the loss grow without bound long before it overflows."""
    stream, test = echo_stream(train_steps=20_000, test_steps=5_000)
    config = TrainConfig(steps=300, bptt=5, batch_size=8, optimiser="momentum", momentum=5.0,
                         learning_rate=0.1, clip="none", schedule="constant")
    result = train(RNN(hidden_size=8, seed=0).build(1, 2), stream, config, test)
    assert result.diverged and re.fullmatch(
        r"loss \S+ > 1000 x the first update's \S+", result.diverged_reason)
    loose = train(RNN(hidden_size=8, seed=0).build(1, 2), stream,
                  dataclasses.replace(config, divergence_factor=0.0), test)
    assert loose.diverged_step is None or loose.diverged_step > result.diverged_step
    assert loose.diverged_reason in ("",) or loose.diverged_reason.startswith("non-finite")


@pytest.mark.parametrize("change, message", [
    ({"stream": "not a stream"}, r"stream=str: allowed a Stream \(Stream.from_data\(data, "
                                 r"task.needs_feedback\)\)"),
    ({"config": {"steps": 10}}, r"config=dict: allowed a TrainConfig"),
    ({"model": RNN(hidden_size=4)}, r"model=RNN is not built: call model.build\(1, 2\) first"),
    ({"model": RNN(hidden_size=4).build(3, 2)},
     r"model is built for 3 inputs and 2 outputs: allowed the stream's 1 and 2"),
    ({"test": (0, 100)}, r"test=\(0, 100\) is out of range: allowed \(start, stop\) integers "
                         r"with 20000 <= start < stop <= 25000 \(the test part\)"),
    ({"test": (20000, 30000)}, r"test=\(20000, 30000\) is out of range: allowed .*"),
])
def test_train_refuses_arguments_it_cannot_use_in_one_line(change, message):
    stream, test = echo_stream(train_steps=20_000, test_steps=5_000)
    arguments = {"model": RNN(hidden_size=4, seed=0).build(1, 2), "stream": stream,
                 "config": TrainConfig(steps=5, bptt=4, batch_size=8), "test": test, **change}
    with pytest.raises(ValueError, match=f"^{message}$"):
        train(**arguments)
