"""Online readouts of the ESN (RLS, FORCE), its lead-in, and the orthogonal and linear reservoirs."""

import numpy as np
import pytest

from rnnlab import ESN, ConfigError, MackeyGlassTask, SineTask
from rnnlab.app.preflight import check_config
from rnnlab.models.readouts import rls_readout


def teacher_forced_features(esn, u, y):
    """[1; u(t); x(t)] (T, 1 + D_in + N), the leaky update written out plainly from the drawn
    weights of ``esn``, teacher forced (y(t-1) fed back, y(-1) = 0), without noise."""
    W = esn.W_.toarray() if hasattr(esn.W_, "toarray") else esn.W_
    x, rows = np.zeros(esn.units), []
    for t in range(len(u)):
        previous = y[t - 1] if t else np.zeros(y.shape[1])
        pre = W @ x + esn.W_in_ @ np.r_[1.0, u[t]] + esn.W_fb_ @ previous
        x = (1 - esn.leak_rate) * x + esn.leak_rate * np.tanh(pre)
        rows.append(np.r_[1.0, u[t], x])
    return np.array(rows)


def relative_difference(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def test_rls_with_forgetting_one_equals_ridge_on_every_weight_bias_included():
    rng = np.random.default_rng(0)
    u, y = rng.uniform(-1, 1, (400, 2)), rng.normal(size=(400, 2))
    alpha, washout = 0.3, 30
    esn = ESN(units=40, readout="rls", rls_alpha=alpha, noise=0.0, washout=washout,
              seed=1).fit(u, y)
    Z = teacher_forced_features(esn, u, y)[washout:].T           # (F, T)
    D = y[washout:].T                                           # (D_out, T)
    ridge = D @ Z.T @ np.linalg.inv(Z @ Z.T + alpha * np.eye(len(Z)))
    assert relative_difference(esn.W_out_, ridge) < 1e-6
    # the ridge readout leaves the bias unpenalised: a different solution, which RLS is not
    ridge_readout = ESN(units=40, noise=0.0, ridge=alpha, washout=washout, seed=1).fit(u, y)
    assert relative_difference(ridge_readout.W_out_, ridge) > 1e-3


def test_rls_with_forgetting_equals_exponentially_weighted_ridge():
    rng = np.random.default_rng(2)
    features, targets = rng.normal(size=(300, 6)), rng.normal(size=(300, 2))
    alpha, lam = 0.5, 0.97
    Z = np.hstack([np.ones((300, 1)), features]).T              # (F, T)
    weights = lam ** np.arange(299, -1, -1)                     # lambda^(T-1-t)
    expected = (targets.T * weights) @ Z.T @ np.linalg.inv(
        (Z * weights) @ Z.T + lam ** 300 * alpha * np.eye(7))
    assert relative_difference(rls_readout(features, targets, alpha, lam), expected) < 1e-8


def test_rls_with_forgetting_tracks_a_target_that_switches_halfway():
    rng = np.random.default_rng(3)
    features = rng.normal(size=(600, 4))
    first, second = rng.normal(size=(1, 5)), rng.normal(size=(1, 5))   # [bias | weights]
    z = np.hstack([np.ones((600, 1)), features])
    targets = np.vstack([z[:300] @ first.T, z[300:] @ second.T])
    forgetful = rls_readout(features, targets, 1.0, forgetting=0.95)
    assert relative_difference(forgetful, second) < 1e-5       # old samples weigh 0.95^300
    remembering = rls_readout(features, targets, 1.0, forgetting=1.0)
    assert relative_difference(remembering, second) > 0.2      # the least-squares mix of both


def test_force_without_feedback_learns_what_rls_learns():
    # Without feedback the states do not depend on the output, so FORCE is RLS on the same states:
    # this pins the alignment of FORCE's features, targets and washout.
    rng = np.random.default_rng(4)
    u, y = rng.uniform(-1, 1, (300, 1)), rng.normal(size=(300, 1))
    common = dict(units=30, feedback_scaling=0.0, washout=20, rls_alpha=0.1, seed=5)
    force = ESN(readout="force", **common).fit(u, y)
    rls = ESN(readout="rls", **common).fit(u, y)
    assert relative_difference(force.W_out_, rls.W_out_) < 1e-9
    np.testing.assert_allclose(force.state_, rls.state_, rtol=1e-12, atol=1e-14)


def test_force_trains_a_stable_sine_frequency_generator():
    task = SineTask(length=6000)
    data = task.make_data(np.random.default_rng(0))
    esn = ESN(readout="force", spectral_radius=1.2, leak_rate=0.4, rls_alpha=1e-10,
              seed=0).fit(data.u_train, data.y_train)
    scores = task.score(data, esn.predict(data.u_test, data.y_test),
                        esn.generate(data.u_test, steps=data.free_run_length))
    assert scores["free_run_frequency_error_median"] < 0.03
    assert scores["free_run_amplitude_error_median"] < 0.1


def test_orthogonal_topology_is_an_orthogonal_matrix_times_the_radius():
    W = ESN(units=60, topology="orthogonal", spectral_radius=0.9, seed=6).draw_weights(1, 1).W_
    np.testing.assert_allclose(W @ W.T, 0.81 * np.eye(60), atol=1e-12)
    np.testing.assert_allclose(np.abs(np.linalg.eigvals(W)), 0.9, rtol=1e-10)


@pytest.mark.parametrize("activation, linear", [("linear", True), ("tanh", False)])
def test_linear_activation_gives_states_that_scale_with_the_input(activation, linear):
    rng = np.random.default_rng(7)
    u = rng.uniform(-1, 1, (100, 1))
    esn = ESN(units=30, activation=activation, bias_scaling=0.0, feedback_scaling=0.0,
              input_scaling=1.0, noise=0.0, washout=10, seed=8).fit(u, np.zeros(100))
    once = esn.lead_in(u).state_
    thrice = esn.lead_in(3 * u).state_
    assert np.allclose(thrice, 3 * once, rtol=1e-12, atol=1e-14) == linear


def test_predict_after_lead_in_continues_the_series_from_the_zero_state():
    rng = np.random.default_rng(9)
    u, y = rng.uniform(-1, 1, (350, 1)), rng.normal(size=(350, 1))
    esn = ESN(units=40, washout=20, seed=10).fit(u[:200], y[:200])
    after_fit = esn.predict(u[300:], y[300:])
    continued = esn.lead_in(u[200:300], y[200:300]).predict(u[300:], y[300:])
    esn.state_, esn.last_output_ = np.zeros(40), np.zeros(1)  # the zero state, y(-1) = 0
    whole = esn.predict(u[200:], y[200:])[100:]
    np.testing.assert_allclose(continued, whole, rtol=1e-12, atol=1e-14)
    assert not np.allclose(after_fit, whole, atol=1e-3)   # fitting's end state was forgotten


@pytest.mark.parametrize("field, value, message", [
    ("readout", "foo", "ESN.readout='foo' is not allowed: allowed one of ridge, rls, force"),
    ("forgetting", 0.0, "ESN.forgetting=0.0 is out of range: allowed in (0, 1]"),
    ("rls_alpha", 0.0, "ESN.rls_alpha=0.0 is out of range: allowed > 0"),
    ("topology", "ring", "ESN.topology='ring' is not allowed: allowed one of sparse, orthogonal"),
    ("activation", "relu", "ESN.activation='relu' is not allowed: allowed one of tanh, linear"),
])
def test_bad_readout_settings_raise_one_line_naming_the_key(field, value, message):
    with pytest.raises(ConfigError) as error:
        ESN(**{field: value}).fit(None, np.zeros(50))
    assert str(error.value) == message


def test_bad_readout_on_the_command_line_names_the_key_as_typed(compose):
    with pytest.raises(ConfigError) as error:
        check_config(compose("model=esn", "task=sine", "model.readout=foo"))
    assert str(error.value) == "model.readout='foo' is not allowed: allowed one of ridge, rls, force"


# ------------------------------------------------------------------------------ the ridge path
def test_the_ridge_path_scores_every_penalty_as_a_separate_ridge_fit_would():
    """One eigendecomposition: each penalty's validation NRMSE equals that of fit_ridge's own
    solution with the same penalty."""
    from rnnlab.ridge import fit_ridge, ridge_path
    rng = np.random.default_rng(3)
    X = rng.standard_normal((400, 12)) @ rng.standard_normal((12, 12))
    Y = X @ rng.standard_normal((12, 2)) + 0.3 * rng.standard_normal((400, 2)) + 1.0
    ridges = [0.0, 1e-3, 1.0, 30.0, 1e4]
    errors = ridge_path(X[:300], Y[:300], ridges, (X[300:], Y[300:]))
    for ridge, error in zip(ridges, errors):
        weights, bias = fit_ridge(X[:300], Y[:300], ridge)
        residual = Y[300:] - (X[300:] @ weights + bias)
        expected = np.sqrt(np.mean(residual ** 2)) / np.sqrt(np.mean(np.var(Y[300:], axis=0)))
        assert error == pytest.approx(expected, rel=1e-8)


def test_an_esn_with_a_ridge_path_refits_with_the_chosen_penalty():
    """The chosen penalty has the least validation error, and the readout equals an ESN fitted
    with that penalty alone, bit for bit (the same states, the same solve)."""
    task = MackeyGlassTask(length=2000)
    data = task.make_data(None)
    path = [1e-10, 1e-8, 1e-6, 1e-4, 1e-2]
    chosen = ESN(units=80, seed=1, noise=0.0, ridge_path=path).fit(data.u_train, data.y_train)
    assert chosen.ridge_ == path[int(np.argmin(chosen.ridge_errors_))]
    assert len(set(np.round(chosen.ridge_errors_, 12))) == len(path)     # they differ
    alone = ESN(units=80, seed=1, noise=0.0, ridge=chosen.ridge_).fit(data.u_train, data.y_train)
    np.testing.assert_array_equal(chosen.W_out_, alone.W_out_)


def test_a_ridge_path_is_refused_with_another_readout_and_with_negative_values():
    with pytest.raises(ConfigError, match=r"ESN.ridge_path=\[0.1\] is not allowed with "
                                          r"ESN.readout=rls"):
        ESN(readout="rls", ridge_path=[0.1]).check()
    with pytest.raises(ConfigError, match=r"ESN.ridge_path"):
        ESN(ridge_path=[1e-6, -1.0]).check()
