import numpy as np
import pytest

from rnnlab import ConfigError, MackeyGlassTask, SineTask
from rnnlab.tasks.mackey_glass import mackey_glass
from rnnlab.tasks.base import nrmse


def test_nrmse_is_zero_for_a_perfect_and_one_for_a_mean_prediction():
    target = np.sin(np.arange(500) * 0.3)
    assert nrmse(target, target) == 0.0
    assert nrmse(target, np.full_like(target, target.mean())) == pytest.approx(1.0)


def test_mackey_glass_converges_at_second_order_in_the_step():
    # Linear interpolation of the delayed term makes the scheme 2nd order: halving dt divides
    # the change by 4. At the default dt the error is tiny next to the series' spread.
    series = [mackey_glass(300, dt=dt) for dt in (0.1, 0.05, 0.025)]
    changes = [np.max(np.abs(a - b)) for a, b in zip(series, series[1:])]
    assert changes[0] / changes[1] == pytest.approx(4.0, rel=0.05)
    assert changes[0] < 1e-3 * np.std(series[0])


def test_mackey_glass_history_is_constant_until_the_delay_acts():
    # With x = x0 held for t <= 0, the delayed term is constant for t < tau, so
    # dx/dt = a x0 / (1 + x0^n) - b x  has the closed form  x* + (x0 - x*) exp(-b t).
    x0, a, b, n = 1.2, 0.2, 0.1, 10
    steady = a * x0 / (1 + x0 ** n) / b
    t = np.arange(17)
    exact = steady + (x0 - steady) * np.exp(-b * t)
    np.testing.assert_allclose(mackey_glass(17, initial_value=x0), exact, rtol=1e-9)


def test_mackey_glass_split_and_free_run_horizon():
    task = MackeyGlassTask(length=1000, train_fraction=0.6, free_run_steps=50, discard=100)
    data = task.make_data(np.random.default_rng(0))
    assert data.u_train.shape == (600, 0) and data.y_test.shape == (400, 1)
    assert data.free_run_length == 50


def test_sine_input_spans_unit_interval_and_sets_target_frequency():
    task = SineTask(length=4000, period_min=8, period_max=32, segment_min=200, segment_max=400)
    data = task.make_data(np.random.default_rng(1))
    assert data.inputs.min() >= -1 and data.inputs.max() <= 1
    frequency = task.frequency_for(data.inputs[:, 0])
    assert frequency.min() >= 1 / 32 and frequency.max() <= 1 / 8
    # The phase advances by 2 pi f(t) per step: the target is amplitude * sin(cumsum(2 pi f)).
    np.testing.assert_allclose(data.targets[:, 0],
                               task.amplitude * np.sin(np.cumsum(2 * np.pi * frequency)),
                               atol=1e-12)
    segment_lengths = np.diff(np.flatnonzero(np.diff(data.inputs[:, 0])))
    assert segment_lengths.min() >= 200 and segment_lengths.max() <= 400


def test_sine_score_of_the_target_itself_is_near_perfect():
    task = SineTask()
    data = task.make_data(np.random.default_rng(2))
    scores = task.score(data, data.y_test, data.y_test)
    assert scores["teacher_forced_nrmse"] == 0.0
    assert scores["free_run_frequency_error_median"] < 1e-3
    assert scores["free_run_amplitude_error_median"] < 1e-2
    assert scores["free_run_segments"] >= 4


def test_sine_score_measures_a_detuned_and_shrunken_free_run():
    task = SineTask()
    data = task.make_data(np.random.default_rng(3))
    detuned = 0.5 * task.amplitude * np.sin(
        np.cumsum(2 * np.pi * 1.05 * task.frequency_for(data.u_test[:, 0])))[:, None]
    scores = task.score(data, data.y_test, detuned)
    assert scores["free_run_frequency_error_median"] == pytest.approx(0.05, abs=2e-3)
    assert scores["free_run_amplitude_error_median"] == pytest.approx(0.5, abs=2e-2)


def test_sine_score_records_a_dead_free_run_as_failure_not_crash():
    task = SineTask()
    data = task.make_data(np.random.default_rng(4))
    scores = task.score(data, data.y_test, np.zeros_like(data.y_test))
    assert scores["free_run_frequency_error_median"] == np.inf
    assert scores["free_run_amplitude_error_median"] == 1.0


@pytest.mark.parametrize("task, message", [
    (SineTask(period_min=1.5), "task.period_min=1.5 is out of range: allowed >= 2"),
    (SineTask(period_min=30, period_max=20), "task.period_min=30 must be <= task.period_max=20"),
    (SineTask(train_fraction=1.0), "task.train_fraction=1.0 is out of range: allowed in (0, 1)"),
    (MackeyGlassTask(dt=0.3), "task.dt=0.3 is not allowed: 1/dt must be a whole number"),
    (MackeyGlassTask(free_run_steps=5000),
     "task.free_run_steps=5000 is out of range: allowed <= 3000 (the test steps)"),
])
def test_task_range_errors_name_key_value_and_allowed(task, message):
    with pytest.raises(ConfigError) as error:
        task.check()
    assert str(error.value) == message
