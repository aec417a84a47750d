"""The reservoir-computing benchmarks: NARMA, Lorenz-63, the memory task and Jaeger's
Mackey-Glass protocol -- data from their definitions, metrics, and ESN runs on them."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from rnnlab import ESN, run_experiment
from rnnlab.tasks import LorenzTask, MackeyGlassTask, MemoryTask, NarmaTask, nrmse
from rnnlab.tasks.lorenz import largest_lyapunov_exponent, lorenz, lorenz_rate, valid_steps
from rnnlab.tasks.narma import narma
from rnnlab.validation import ConfigError


# ------------------------------------------------------------------------------------ NARMA
def test_narma_follows_its_recursion_term_by_term():
    """y(t+1) = 0.3 y(t) + 0.05 y(t) sum_{i<n} y(t-i) + 1.5 u(t-n+1) u(t) + 0.1, written out."""
    u = np.random.default_rng(0).uniform(0, 0.5, 300)
    for order in (2, 10):
        y = narma(u, order)
        expected = np.zeros(300)
        for t in range(order - 1, 299):
            expected[t + 1] = (0.3 * expected[t]
                               + 0.05 * expected[t] * sum(expected[t - i] for i in range(order))
                               + 1.5 * u[t - order + 1] * u[t] + 0.1)
        np.testing.assert_allclose(y[order:], expected[order:], rtol=1e-12)


def test_narma10_data_and_an_esn_near_the_published_level():
    task = NarmaTask(length=4000)
    data = task.make_data(np.random.default_rng(1))
    assert data.u_train.min() >= 0 and data.u_train.max() <= 0.5
    assert 0.1 < data.y_train.mean() < 1.0 and np.all(np.isfinite(data.targets))
    esn = ESN(units=100, spectral_radius=0.9, leak_rate=1.0, input_scaling=0.2,
              feedback_scaling=0.0, noise=0.0, ridge=1e-8, seed=1)
    prediction = esn.fit(data.u_train, data.y_train).predict(data.u_test)
    score = task.score(data, prediction, prediction[:0])["nrmse"]
    assert 0.2 < score < 0.5          # the literature's ~0.3 at N = 100


def test_a_diverging_narma_series_is_refused_in_one_line():
    with pytest.raises(ConfigError, match=r"task.order=60: this seed's NARMA series diverges"):
        NarmaTask(order=60, length=3000).make_data(np.random.default_rng(0))


def test_feedback_that_would_give_the_answer_away_is_refused():
    with pytest.raises(ConfigError, match=r"model.feedback_scaling=1.0 is not allowed for "
                                          r"task=narma: feeding back the previous target"):
        run_experiment(ESN(feedback_scaling=1.0), NarmaTask(length=1000), seed=0)


# ----------------------------------------------------------------------------------- Lorenz
def test_lorenz_integration_matches_an_adaptive_solver_and_stays_on_the_attractor():
    from scipy.integrate import solve_ivp
    start = np.array([1.0, 2.0, 20.0])
    exact = solve_ivp(lambda t, s: lorenz_rate(s, 10.0, 28.0, 8 / 3), (0, 1.0), start,
                      rtol=1e-12, atol=1e-12, t_eval=[1.0]).y[:, 0]
    errors = [np.abs(lorenz(int(round(1 / dt)) + 1, start, dt=dt)[-1] - exact).max()
              for dt in (0.02, 0.01)]
    assert errors[1] < 1e-3 and errors[0] / errors[1] > 12   # RK4: at least ~2^4 per halving
    series = lorenz(5000, start, discard=500)
    assert np.all(np.abs(series[:, :2]) < 30) and series[:, 2].min() > 0


def test_the_lyapunov_exponent_is_measured_from_the_equations():
    """lambda_max ~ 0.906 per time unit in the literature; the measured one is within 0.02."""
    assert largest_lyapunov_exponent(0.02) == pytest.approx(0.906, abs=0.02)
    assert lorenz_rate(np.zeros(3), 10.0, 28.0, 8 / 3).tolist() == [0, 0, 0]   # a fixed point


def test_valid_steps_end_where_the_normalised_error_first_exceeds_the_threshold():
    target = np.ones((10, 3)) * [3.0, 0.0, 4.0]              # ||y|| = 5 every step
    prediction = target.copy()
    prediction[6:, 0] += 2.5                                   # E = 0.5 from step 6 on
    prediction[3, 0] += 1.0                                    # E = 0.2: still valid
    assert valid_steps(target, prediction, 0.4) == 6
    assert valid_steps(target, target, 0.4) == 10
    prediction[1] = np.nan
    assert valid_steps(target, prediction, 0.4) == 1


def test_nrmse_of_several_outputs_is_normalised_by_their_total_variance():
    rng = np.random.default_rng(0)
    target = rng.standard_normal((500, 3)) * [1.0, 10.0, 0.1] + [0.0, 50.0, -3.0]
    prediction = target + rng.standard_normal((500, 3)) * 0.1
    expected = np.sqrt(np.mean(np.sum((target - prediction) ** 2, axis=1))
                       / np.sum(np.var(target, axis=0)))
    assert nrmse(target, prediction) == pytest.approx(expected, rel=1e-12)
    assert nrmse(target[:, 0], prediction[:, 0]) == pytest.approx(
        np.sqrt(np.mean((target[:, 0] - prediction[:, 0]) ** 2)) / np.std(target[:, 0]))


def test_an_esn_forecasts_lorenz_for_several_lyapunov_times():
    task = LorenzTask(length=6000, free_run_steps=1000)
    result = run_experiment(ESN(units=200, spectral_radius=0.9, leak_rate=0.5,
                                feedback_scaling=0.03, bias_scaling=0.5, noise=0.0),
                            task, seed=0)
    assert result.metrics["one_step_nrmse"] < 1e-3
    assert result.metrics["valid_lyapunov_times"] > 3
    assert result.metrics["valid_time"] == pytest.approx(
        result.metrics["valid_lyapunov_times"] / result.metrics["lyapunov_exponent"])


# ------------------------------------------------------------------------------ memory task
def test_memory_targets_are_the_delayed_inputs():
    task = MemoryTask(length=300, max_delay=7)
    data = task.make_data(np.random.default_rng(0))
    u = data.inputs[:, 0]
    for k in range(1, 8):
        np.testing.assert_array_equal(data.targets[k:, k - 1], u[:-k])
    assert data.targets.shape == (300, 7) and task.dimensions() == (1, 7)


@pytest.mark.parametrize("spectral_radius", [0.5, 0.95, 1.3])
def test_memory_capacity_never_exceeds_the_number_of_units(spectral_radius):
    task = MemoryTask(length=4000, max_delay=60)
    for seed in range(3):
        result = run_experiment(ESN(units=20, spectral_radius=spectral_radius, leak_rate=1.0,
                                    feedback_scaling=0.0, noise=0.0, washout=60),
                                task, seed=seed)
        assert 0 < result.metrics["memory_capacity"] <= 20
        curve = result.tables["memory_function"]
        assert list(curve["delay"]) == list(range(1, 61)) and curve["r2"].between(0, 1).all()


def test_a_linear_orthogonal_reservoir_remembers_nearly_n_steps():
    """MC within 10% of N for a linear reservoir with an orthogonal W (White et al. 2004)."""
    task = MemoryTask(length=12000, max_delay=100)
    esn = ESN(units=40, spectral_radius=0.95, leak_rate=1.0, activation="linear",
              topology="orthogonal", input_scaling=0.1, bias_scaling=0.0, feedback_scaling=0.0,
              noise=0.0, ridge=1e-10, washout=100)
    result = run_experiment(esn, task, seed=0)
    assert result.metrics["memory_capacity"] == pytest.approx(40, rel=0.1)
    assert result.metrics["memory_capacity"] <= 40


# ---------------------------------------------------------------- Jaeger's Mackey-Glass protocol
def test_trial_windows_are_independent_lead_ins_followed_by_the_horizon():
    task = MackeyGlassTask(length=4000, trials=5, lead_in=300, free_run_steps=84)
    data = task.make_data(None)
    windows = task.trial_windows(data)
    assert len(windows) == 5 and windows[0][0] == 0 and windows[-1][2] == task.test_length
    assert all(start - lead == 300 and stop - start == 84 for lead, start, stop in windows)
    perfect = np.stack([data.y_test[start:stop] for _, start, stop in windows])
    assert task.score_trials(data, perfect)["trial_nrmse_at_horizon"] == 0.0
    wrong = perfect.copy()
    wrong[:, -1] += np.std(data.y_test)                 # one std off at the horizon only
    scores = task.score_trials(data, wrong)
    assert scores["trial_nrmse_at_horizon"] == pytest.approx(1.0)
    assert scores["trial_nrmse"] == pytest.approx(1 / np.sqrt(84))


def test_the_jaeger_protocol_scores_every_trial_from_the_zero_state():
    """The run's trial metrics equal trials done by hand: lead_in (from the zero state), then
    generate, for each window; the error at the horizon is the RMS over trials / std."""
    task = MackeyGlassTask(length=3000, trials=4, lead_in=200)
    esn = ESN(units=100, spectral_radius=1.0, leak_rate=1.0, noise=0.0, ridge=1e-8)
    result = run_experiment(esn, task, seed=0)
    data = task.make_data(None)
    model = esn.with_seed(np.random.default_rng(0).spawn(3)[0])   # the run's model stream
    errors = []
    # as the run does, on one BLAS thread: OpenBLAS's Gram product rounds differently on two
    # (1e-13), which ridge 1e-8 and the free run amplify to 1e-7 at the horizon
    with threadpool_limits(1, user_api="blas"):
        model.fit(data.u_train, data.y_train)
        for lead, start, stop in task.trial_windows(data):
            run = model.lead_in(data.u_test[lead:start], data.y_test[lead:start]).generate(
                steps=stop - start)
            errors.append(run[-1, 0] - data.y_test[stop - 1, 0])
    assert result.metrics["trials_run"] == 4
    assert result.metrics["trial_nrmse_at_horizon"] == pytest.approx(
        np.sqrt(np.mean(np.square(errors))) / np.std(data.y_test), rel=1e-9)


def test_a_lead_in_that_leaves_no_room_for_the_free_run_is_refused():
    with pytest.raises(ConfigError, match=r"task.lead_in=2990 is out of range: allowed <= 2916"):
        MackeyGlassTask(length=6000, trials=3, lead_in=2990).check()
