import math

import numpy as np
import pytest
import scipy.linalg

from rnnlab import ESN, ConfigError, MackeyGlassTask
from rnnlab.models.esn import random_reservoir
from rnnlab.ridge import fit_ridge
from rnnlab import spectral


@pytest.mark.parametrize("units", [200, spectral.DENSE_LIMIT + 100])  # dense, then ARPACK
def test_reservoir_spectral_radius_equals_request(units):
    W = random_reservoir(units, connectivity=10 / units, spectral_radius=1.25,
                         rng=np.random.default_rng(0))
    exact = np.max(np.abs(scipy.linalg.eigvals(W.toarray())))
    assert exact == pytest.approx(1.25, rel=1e-6)


def test_reservoir_density_is_connectivity():
    W = random_reservoir(400, connectivity=0.03, spectral_radius=0.9, rng=np.random.default_rng(1))
    assert W.nnz == round(0.03 * 400 * 400)


def test_arpack_measures_match_dense_ones():
    n = spectral.DENSE_LIMIT + 100  # large enough for the ARPACK path
    W = random_reservoir(n, connectivity=0.02, spectral_radius=1.0, rng=np.random.default_rng(2))
    dense = W.toarray()
    assert spectral.largest_singular_value(W) == pytest.approx(
        scipy.linalg.svdvals(dense)[0], rel=1e-8)
    shifted = 0.3 * dense + 0.7 * np.eye(n)
    assert spectral.effective_spectral_radius(W, 0.3) == pytest.approx(
        np.max(np.abs(scipy.linalg.eigvals(shifted))), rel=1e-8)
    leading = spectral.eigenvalues(W, leading=10)
    assert np.abs(leading) == pytest.approx(
        np.sort(np.abs(scipy.linalg.eigvals(dense)))[::-1][:10], rel=1e-8)


def test_ridge_equals_lstsq_on_augmented_system():
    rng = np.random.default_rng(3)
    features, targets, beta = rng.normal(size=(200, 12)), rng.normal(size=(200, 2)), 0.7
    weights, bias = fit_ridge(features, targets, beta)
    # min ||Y - 1 b - X w||^2 + beta ||w||^2  ==  lstsq of [[1, X], [0, sqrt(beta) I]] against [Y; 0]
    augmented = np.block([[np.ones((200, 1)), features],
                          [np.zeros((12, 1)), np.sqrt(beta) * np.eye(12)]])
    reference = np.linalg.lstsq(augmented, np.vstack([targets, np.zeros((12, 2))]), rcond=None)[0]
    np.testing.assert_allclose(bias, reference[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weights, reference[1:], rtol=1e-10, atol=1e-12)


def test_ridge_in_place_centring_gives_the_same_solution():
    rng = np.random.default_rng(13)
    features, targets = rng.normal(size=(100, 8)) + 3.0, rng.normal(size=(100, 1))
    expected = fit_ridge(features, targets, 0.1)
    actual = fit_ridge(features.copy(), targets, 0.1, overwrite_features=True)
    for a, b in zip(actual, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def reference_states(esn, u, y_previous):
    """The leaky update written out plainly, from W_, W_in_, W_fb_ of a fitted ESN."""
    x, states = np.zeros(esn.units), []
    for t in range(len(u)):
        pre = esn.W_.toarray() @ x + esn.W_in_ @ np.r_[1.0, u[t]] + esn.W_fb_ @ y_previous[t]
        x = (1 - esn.leak_rate) * x + esn.leak_rate * np.tanh(pre)
        states.append(x)
    return np.array(states)


@pytest.mark.parametrize("leak_rate", [0.5, 1.0])  # the leak-free update has its own branch
def test_fit_solves_ridge_on_bias_inputs_and_states(leak_rate):
    rng = np.random.default_rng(4)
    u, y = rng.uniform(-1, 1, (300, 2)), rng.normal(size=(300, 1))
    esn = ESN(units=40, leak_rate=leak_rate, noise=0.0, ridge=1e-3, washout=20, seed=5).fit(u, y)
    y_previous = np.vstack([np.zeros((1, 1)), y[:-1]])
    features = np.hstack([u, reference_states(esn, u, y_previous)])[20:]
    augmented = np.block([[np.ones((280, 1)), features],
                          [np.zeros((42, 1)), np.sqrt(1e-3) * np.eye(42)]])
    reference = np.linalg.lstsq(augmented, np.vstack([y[20:], np.zeros((42, 1))]), rcond=None)[0]
    np.testing.assert_allclose(esn.W_out_, reference.T, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("leak_rate", [0.5, 1.0])
def test_predict_continues_teacher_forced_from_where_fit_ended(leak_rate):
    rng = np.random.default_rng(6)
    u, y = rng.uniform(-1, 1, (250, 1)), rng.normal(size=(250, 1))
    esn = ESN(units=30, leak_rate=leak_rate, noise=0.0, seed=7).fit(u[:200], y[:200])
    states = reference_states(esn, u, np.vstack([np.zeros((1, 1)), y[:-1]]))
    expected = esn.W_out_[:, 0] + np.hstack([u, states])[200:] @ esn.W_out_[:, 1:].T
    np.testing.assert_allclose(esn.predict(u[200:], y[200:]), expected, rtol=1e-10, atol=1e-12)


def test_generate_feeds_back_its_own_output():
    rng = np.random.default_rng(8)
    u, y = rng.uniform(-1, 1, (150, 1)), rng.normal(size=(150, 1))
    esn = ESN(units=30, washout=10, seed=9).fit(u[:100], y[:100])
    free = esn.generate(u[100:])
    # Teacher-forcing the model with its own free-run outputs reproduces them exactly.
    np.testing.assert_allclose(esn.predict(u[100:], free), free, rtol=1e-10, atol=1e-12)
    assert not np.allclose(free, esn.predict(u[100:], y[100:]))


def test_without_feedback_generate_equals_predict():
    rng = np.random.default_rng(10)
    u, y = rng.uniform(-1, 1, (120, 1)), rng.normal(size=(120, 1))
    esn = ESN(units=30, feedback_scaling=0.0, washout=10, seed=11).fit(u[:100], y[:100])
    np.testing.assert_allclose(esn.generate(u[100:]), esn.predict(u[100:]), rtol=1e-12)


def test_same_seed_gives_identical_model_and_other_seed_does_not():
    rng = np.random.default_rng(12)
    u, y = rng.uniform(-1, 1, (200, 1)), rng.normal(size=(200, 1))
    first, second, other = (ESN(units=50, seed=s).fit(u, y) for s in (1, 1, 2))
    np.testing.assert_array_equal(first.W_out_, second.W_out_)
    np.testing.assert_array_equal(first.generate(u[:50]), second.generate(u[:50]))
    assert not np.allclose(first.W_out_, other.W_out_)


def test_fitted_attributes_report_the_spectrum():
    esn = ESN(units=100, spectral_radius=0.7, leak_rate=0.4, seed=0).fit(None, np.sin(np.arange(300.0)))
    assert esn.spectral_radius_ == pytest.approx(0.7, rel=1e-6)
    assert esn.largest_singular_value_ > esn.spectral_radius_
    assert esn.effective_spectral_radius_ == pytest.approx(
        np.max(np.abs(0.4 * np.linalg.eigvals(esn.W_.toarray()) + 0.6)), rel=1e-9)


def test_predict_without_targets_is_refused_when_the_model_has_feedback():
    esn = ESN(units=20, seed=0).fit(None, np.sin(np.arange(200.0)))
    with pytest.raises(ValueError, match="generate"):
        esn.predict(np.zeros((10, 0)))


def test_unfitted_model_refuses_to_predict():
    with pytest.raises(RuntimeError, match="not fitted"):
        ESN().generate(steps=5)


@pytest.mark.parametrize("field, value, allowed", [
    ("spectral_radius", 0.0, "> 0"), ("leak_rate", 1.5, "in (0, 1]"), ("units", 0, ">= 1"),
    ("connectivity", 0.0, "in (0, 1]"), ("ridge", -1e-3, ">= 0"),
])
def test_out_of_range_hyperparameter_is_named_with_its_value_and_range(field, value, allowed):
    with pytest.raises(ConfigError) as error:
        ESN(**{field: value}).fit(None, np.zeros(50))
    assert str(error.value) == f"ESN.{field}={value!r} is out of range: allowed {allowed}"


def test_washout_longer_than_training_is_refused():
    with pytest.raises(ValueError, match="washout=60"):
        ESN(units=10, washout=60).fit(None, np.zeros(50))


def test_mackey_glass_one_step_nrmse_below_one_percent_with_500_units():
    task = MackeyGlassTask()
    data = task.make_data(np.random.default_rng(0))
    esn = ESN(units=500, seed=0).fit(data.u_train, data.y_train)
    scores = task.score(data, esn.predict(data.u_test, data.y_test),
                        esn.generate(steps=data.free_run_length))
    assert scores["one_step_nrmse"] < 1e-2


def test_a_diverging_linear_reservoir_is_a_recorded_result_not_a_crash(tmp_path):
    # past rho = 1 a linear reservoir's states overflow: no readout, NaN metrics, status diverged
    from rnnlab import SineTask, run_experiment
    task = SineTask(length=2400, segment_min=200, segment_max=300, settle_steps=50)
    metrics = run_experiment(ESN(units=30, activation="linear", spectral_radius=3.0, seed=0),
                             task, seed=0, out_dir=tmp_path).metrics
    assert metrics["diverged"] is True and math.isnan(metrics[task.primary_metric])
    assert "the states diverged" in metrics["diverged_reason"]
    assert (tmp_path / "status.txt").read_text().startswith("diverged: the readout's features")
