"""NVAR (next-generation reservoir computing): features, the ridge fit against lstsq and the
closed form, exact continuation of predict/generate/lead_in, a Lorenz-63 forecast, bad arguments."""

import re
import warnings

import numpy as np
import pytest

from rnnlab import NVAR, ConfigError
from rnnlab.models import MODELS, choices
from rnnlab.models.nvar import delay_features, feature_count
from rnnlab.tasks.lorenz import largest_lyapunov_exponent, lorenz, valid_steps


def random_series(T=200, inputs=2, outputs=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, (T, inputs)), rng.uniform(-1.0, 1.0, (T, outputs))


def input_vectors(u, y, feedback):
    """v(t) = [u(t); y(t-1)], y(-1) = 0, written out independently of the model."""
    if not feedback:
        return u
    return np.hstack([u, np.vstack([np.zeros((1, y.shape[1])), y[:-1]])])


# ------------------------------------------------------------------ features
@pytest.mark.parametrize("d, delays, expected", [
    (1, 1, 3), (3, 1, 10), (4, 1, 15), (1, 4, 15), (3, 2, 28), (2, 3, 28), (5, 3, 136)])
def test_feature_count_is_quadratic_plus_linear_plus_constant(d, delays, expected):
    assert feature_count(d, delays) == expected
    assert NVAR(delays=delays).feature_count(d) == expected
    v = np.random.default_rng(1).normal(size=(20, d))
    assert delay_features(v, delays, stride=2).shape == (20 - (delays - 1) * 2, expected)


def test_feature_matrix_holds_delays_and_their_explicit_products():
    v = np.random.default_rng(2).normal(size=(12, 2))   # d = 2, k = 2, s = 3: L has 4 entries
    features = delay_features(v, delays=2, stride=3)
    assert features.shape == (9, 1 + 4 + 10)
    for row, t in enumerate(range(3, 12)):
        linear = np.concatenate([v[t], v[t - 3]])
        products = [linear[i] * linear[j] for i in range(4) for j in range(i, 4)]
        np.testing.assert_array_equal(features[row], np.concatenate([[1.0], linear, products]))


# ------------------------------------------------------------------ fitting
@pytest.mark.parametrize("feedback, increment", [(False, False), (True, False), (True, True)])
def test_unregularised_fit_equals_lstsq_on_the_same_features(feedback, increment):
    u, y = random_series()
    model = NVAR(delays=2, stride=2, ridge=0.0, feedback=feedback, increment=increment,
                 washout=3).fit(u, y)
    first = 2 + int(feedback) + 3                    # (k-1)s, y(-1), washout
    v = input_vectors(u, y, feedback)
    features = delay_features(v, 2, 2)[first - 2:]
    increments = feedback and increment
    targets = y[first:] - (v[first:, 2:] if increments else 0.0)
    reference = np.linalg.lstsq(features, targets, rcond=None)[0]      # (F, D_out)
    assert model.W_out_.shape == (2, feature_count(4 if feedback else 2, 2))
    np.testing.assert_allclose(model.W_out_, reference.T, rtol=1e-10, atol=1e-10)
    # the same one-step predictions, replayed from the zero history
    prediction = model.lead_in(u[:0], y[:0]).predict(u, y)[first:]
    expected = features @ reference + (v[first:, 2:] if increments else 0.0)
    np.testing.assert_allclose(prediction, expected, rtol=1e-10, atol=1e-12)
    if not feedback:                                 # nothing to feed back: the same outputs
        np.testing.assert_allclose(model.generate(u), model.predict(u), rtol=1e-13)


def test_ridge_fit_equals_closed_form_with_unpenalised_bias():
    u, y = random_series(T=150, seed=3)
    beta = 0.05
    model = NVAR(delays=2, stride=1, ridge=beta, feedback=True, increment=True).fit(u, y)
    v = input_vectors(u, y, True)
    features = delay_features(v, 2, 1)[1:]           # steps 2..T-1
    targets = y[2:] - y[1:-1]
    penalty = beta * np.eye(features.shape[1])
    penalty[0, 0] = 0.0                              # the bias column is not penalised
    reference = np.linalg.solve(features.T @ features + penalty, features.T @ targets)
    np.testing.assert_allclose(model.W_out_, reference.T, rtol=1e-9, atol=1e-11)


# ------------------------------------------------------------------ continuing
def test_predict_continues_exactly_where_fit_and_lead_in_end():
    u, y = random_series(T=300, seed=4)
    n, m = 200, 120
    model = NVAR(delays=3, stride=2, ridge=1e-3, washout=5).fit(u[:n], y[:n])
    after_fit = model.predict(u[n:], y[n:])
    np.testing.assert_array_equal(model.predict(u[n:], y[n:]), after_fit)   # history untouched
    whole = model.lead_in(u[:0], y[:0]).predict(u, y)     # the whole series from zero history
    np.testing.assert_allclose(after_fit, whole[n:], rtol=1e-12, atol=1e-13)
    model.lead_in(u[:m], y[:m])                           # a lead-in ending elsewhere
    np.testing.assert_allclose(model.predict(u[m:], y[m:]), whole[m:], rtol=1e-12, atol=1e-13)
    model.lead_in(u[:n], y[:n])                           # a lead-in through the fit data
    np.testing.assert_allclose(model.predict(u[n:], y[n:]), after_fit, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(model.generate(u[n:])[0], after_fit[0], rtol=1e-12, atol=1e-13)


def test_first_generated_step_equals_first_predicted_step():
    u, y = random_series(T=120, seed=5)
    model = NVAR(delays=2, stride=3, ridge=1e-2).fit(u[:100], y[:100])
    generated, predicted = model.generate(u[100:]), model.predict(u[100:], y[100:])
    np.testing.assert_allclose(generated[0], predicted[0], rtol=1e-13, atol=1e-14)
    assert np.abs(generated[1:] - predicted[1:]).max() > 1e-3   # then its own outputs differ


def test_generate_equals_predict_fed_its_own_outputs():
    u, y = random_series(T=140, seed=7)
    model = NVAR(delays=3, stride=3, ridge=1.0, washout=4).fit(u[:120], y[:120])  # stays bounded
    own = np.zeros((20, 2))                          # y(t) from predict on y(0..t-1) so far
    for t in range(20):
        own[t] = model.predict(u[120:121 + t], own[:t + 1])[t]
    np.testing.assert_allclose(model.generate(u[120:]), own, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("increment", [True, False])
def test_generate_reproduces_a_fitted_linear_recurrence(increment):
    # y(t) = 0.9 y(t-1) - 0.2 y(t-2) + u(t), driven so that it does not decay away
    u = np.random.default_rng(6).uniform(-1.0, 1.0, (800, 1))
    y = np.zeros((800, 1))
    for t in range(800):
        y[t] = u[t] + 0.9 * (y[t - 1] if t >= 1 else 0.0) - 0.2 * (y[t - 2] if t >= 2 else 0.0)
    model = NVAR(delays=2, stride=1, ridge=0.0, increment=increment).fit(u[:200], y[:200])
    # features [1, u(t), y(t-1), u(t-1), y(t-2), 10 products]
    linear = [0.0, 1.0, 0.9 - (1.0 if increment else 0.0), 0.0, -0.2]
    np.testing.assert_allclose(model.W_out_[0], linear + [0.0] * 10, atol=1e-10)
    generated = model.generate(u[200:])                   # 600 steps on its own outputs
    np.testing.assert_allclose(generated, y[200:], rtol=0, atol=1e-9)


def test_diverging_free_run_gives_non_finite_outputs_without_raising():
    y = 1.1 ** (2.0 ** np.arange(8))                      # y(t) = y(t-1)^2, up to 1.9e5
    model = NVAR(delays=1, ridge=0.0).fit(None, y)
    np.testing.assert_allclose(model.W_out_, [[0.0, -1.0, 1.0]], atol=1e-6)   # the increment
    with warnings.catch_warnings():
        warnings.simplefilter("error")                    # not even a RuntimeWarning
        generated = model.generate(steps=20)              # 1.1^(2^27) overflows float64
    assert generated.shape == (20, 1)
    assert generated[0, 0] == pytest.approx(y[-1] ** 2, rel=1e-6)
    assert np.isfinite(generated[:5, 0]).all() and not np.isfinite(generated[-1, 0])


def test_lorenz_free_run_stays_valid_for_four_lyapunov_times():
    # Gauthier et al.'s k = 2, s = 1 on one trajectory of the task's RK4 flow. Their ridge 2.5e-6
    # fits this noise-free RK4 data to an unstable map (valid ~0.1 Lyapunov times); beta = 0.3
    # gives 4.6 here (204 steps), and 3.1-7.8 (median 4.9) over 20 trajectories.
    dt = 0.025
    start = np.random.default_rng(0).uniform([-10.0, -10.0, 10.0], [10.0, 10.0, 40.0])
    series = lorenz(1500, start, dt, discard=1000)
    model = NVAR(delays=2, stride=1, ridge=0.3).fit(None, series[:1000])
    assert model.W_out_.shape == (3, 28)
    free_run = model.generate(steps=500)
    lyapunov_times = valid_steps(series[1000:], free_run, 0.4) * dt * largest_lyapunov_exponent(dt)
    assert lyapunov_times >= 4.0                          # measured 4.62
    one_step = model.predict(None, series[1000:])
    assert np.sqrt(np.mean((one_step - series[1000:]) ** 2)) < 0.01   # measured 0.0037


# ------------------------------------------------------------------ the contract
def test_nvar_is_a_registered_reservoir_model_without_recurrent_blocks():
    assert MODELS["nvar"] is NVAR and "model=nvar" in choices("reservoir")
    assert NVAR.feedback_key == "feedback"
    assert (NVAR().feeds_back, NVAR(feedback=False).feeds_back) == (True, False)
    model = NVAR(delays=3, seed=1)
    assert model.recurrent_blocks() == {}
    copy = model.with_seed(7)
    assert (copy.seed, copy.delays, model.seed) == (7, 3, 1)
    u, y = random_series(T=50)
    first = NVAR().fit(u, y).W_out_
    np.testing.assert_array_equal(NVAR(seed=123).fit(u, y).W_out_, first)   # deterministic


def message(error_info) -> str:
    text = str(error_info.value)
    assert "\n" not in text
    return text


def test_bad_hyperparameters_give_one_line_errors():
    u, y = random_series(T=10)
    with pytest.raises(ConfigError) as error:
        NVAR(delays=0).fit(u, y)
    assert message(error) == "NVAR.delays=0 is out of range: allowed >= 1"
    with pytest.raises(ConfigError) as error:
        NVAR(stride=1.5).check("model.")
    assert message(error) == "model.stride=1.5 is out of range: allowed an integer >= 1"
    with pytest.raises(ConfigError) as error:
        NVAR(ridge=-1.0).check("model.")
    assert message(error) == "model.ridge=-1.0 is out of range: allowed >= 0"


def test_bad_arguments_give_one_line_errors():
    u, y = random_series(T=10)
    model = NVAR()
    with pytest.raises(RuntimeError, match=re.escape("this NVAR is not fitted yet: call fit(u, y) "
                                                     "first")):
        model.predict(u, y)
    with pytest.raises(ValueError) as error:
        model.fit(u[:5], y)
    assert message(error) == ("u has shape (5, 2): allowed (10, D) or (10,), as many timesteps "
                              "as y")
    with pytest.raises(ValueError) as error:
        model.fit(u, y, washout=8)
    assert message(error) == ("washout=8 is out of range: allowed an integer in [0, 8) (the 10 "
                              "training steps less the 2 the delays need)")
    with pytest.raises(ValueError) as error:
        NVAR(delays=6, stride=2).fit(u, y)
    assert message(error) == ("y has 10 timesteps: allowed more than 11, the steps before the "
                              "first full feature vector ((delays - 1) * stride + 1 for y(-1))")
    model.fit(u, y)
    with pytest.raises(ValueError) as error:
        model.predict(np.zeros((4, 3)), y[:4])
    assert message(error) == ("u has shape (4, 3): allowed (4, 2), the 2 input features this NVAR "
                              "was fitted on, as many timesteps as y")
    with pytest.raises(ValueError) as error:
        model.predict(u)
    assert message(error).startswith("this NVAR has output feedback: predict(u, y) needs the "
                                     "true outputs y")
    with pytest.raises(ValueError) as error:
        model.generate(steps=-1)
    assert message(error) == "steps=-1 is out of range: allowed an integer >= 0"
    with pytest.raises(ValueError) as error:
        model.generate()
    assert message(error).startswith("u and steps are both None")
