import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from rnnlab import ESN, MackeyGlassTask, SineTask
from rnnlab import ESNSweepConfig, run_experiment
from rnnlab.analyses.esn_sweep import DYNAMICS_COLUMNS, GRID_COLUMNS, summarise, sweep
from rnnlab.validation import ConfigError
from rnnlab.analyses.reservoir_dynamics import memory_functions
from rnnlab.analyses.scoring import first_zero_crossing
from rnnlab.models.esn import random_reservoir
from rnnlab.models.reservoir import advance
from rnnlab.tasks import SeriesData

MACKEY_GLASS = MackeyGlassTask(length=1200, free_run_steps=50)  # 600 fit, 600 test steps
SINE = SineTask(length=2400, segment_min=200, segment_max=300, settle_steps=50)


@pytest.fixture(scope="module")
def mackey_glass_data():
    return MACKEY_GLASS.make_data(np.random.default_rng(0))


@pytest.fixture(scope="module")
def sine_data():
    return SINE.make_data(np.random.default_rng(0))


def plain_fit(model: ESN, task, data) -> tuple[dict, ESN]:
    """What a training run (kind=train) does for one model: fit, predict, generate, score."""
    model = model.fit(data.u_train, data.y_train)
    one_step = model.predict(data.u_test, data.y_test)
    free_run = model.generate(data.u_test[:data.free_run_length], steps=data.free_run_length)
    return task.score(data, one_step, free_run), model


# ------------------------------------------------------------------ grid point == plain ESN
@pytest.mark.parametrize("case", ["mackey_glass", "sine", "sine, Generator seed"])
def test_grid_points_equal_plain_esn_fits(case, mackey_glass_data, sine_data):
    # Radii rho_0 * 2^m scale W exactly (s (W x) == (s W) x bit for bit), so these grid points
    # must reproduce the plain fits to rounding of the order of the last bit, leak rates and
    # input scalings included; other radii differ by one rounding of W's entries, which the
    # ridge readout amplifies (see test_batched_states_equal_plain_states_at_any_radius).
    if case == "mackey_glass":
        task, data = MACKEY_GLASS, mackey_glass_data
        model = ESN(units=40, spectral_radius=0.8, leak_rate=1.0, connectivity=0.1, noise=0.0,
                    ridge=1e-8, washout=50, seed=3)
        leak_rates, input_scalings = [1.0, 0.5], None
    else:
        task, data = SINE, sine_data
        model = ESN(units=40, spectral_radius=0.8, leak_rate=0.5, connectivity=0.1, seed=4)
        leak_rates, input_scalings = [0.5, 1.0], [0.5, 0.25]
    seed = (lambda: np.random.default_rng(7)) if "Generator" in case else (lambda: model.seed)
    rows = sweep(model.with_seed(seed()), task, data, [0.4, 0.8, 1.6], leak_rates,
                 input_scalings, memory_capacity=False).to_dict("records")
    assert len(rows) == 3 * len(leak_rates) * (len(input_scalings) if input_scalings else 1)
    for row in rows:
        plain = dataclasses.replace(model, spectral_radius=row["spectral_radius"],
                                    leak_rate=row["leak_rate"],
                                    input_scaling=row["input_scaling"]).with_seed(seed())
        metrics, fitted = plain_fit(plain, task, data)
        for key, value in metrics.items():
            np.testing.assert_allclose(row[key], value, rtol=1e-10, atol=0, err_msg=f"{key} {row}")
        assert row["effective_spectral_radius"] == pytest.approx(
            fitted.effective_spectral_radius_, rel=1e-8)


def test_batched_states_equal_plain_states_at_any_radius():
    # The batched update against the plain leaky-tanh loop, each grid point with its own
    # directly scaled reservoir (as ESN draws it) and its own drive.
    N, T, rho0 = 50, 300, 0.9
    radii, leaks = np.array([0.3, 0.9, 1.37, 1.1]), np.array([1.0, 0.3, 0.7, 1.0])
    W = random_reservoir(N, 0.1, rho0, np.random.default_rng(0))
    drives = np.random.default_rng(1).uniform(-0.5, 0.5, (len(radii), T, N))
    states = drives.copy()
    advance(W, radii / rho0, leaks, np.zeros((N, len(radii))), states)
    for k, (rho, a) in enumerate(zip(radii, leaks)):
        W_k = random_reservoir(N, 0.1, rho, np.random.default_rng(0)).toarray()
        x = np.zeros(N)
        for t in range(T):
            x = (1 - a) * x + a * np.tanh(W_k @ x + drives[k, t])
            np.testing.assert_allclose(states[k, t], x, rtol=1e-12, atol=1e-13)


# --------------------------------------------------------------------------- memory capacity
def test_memory_capacity_is_at_most_n_and_largest_near_rho_one():
    N = 30
    rng = np.random.default_rng(1)
    W = random_reservoir(N, 0.2, 1.0, rng)
    weights, bias = rng.uniform(-0.5, 0.5, (N, 1)), rng.uniform(-0.2, 0.2, N)
    radii = np.array([0.1, 0.9])
    capacity = memory_functions(W, radii, np.ones(2), np.repeat(weights, 2, axis=1), bias,
                               np.random.default_rng(2)).sum(axis=1)
    assert np.all(capacity <= N)
    assert capacity[1] > 1.5 * capacity[0]


def test_linear_reservoir_memory_capacity_approaches_n():
    # Theory: a linear reservoir with rho < 1 and generic weights has MC = N. A random *sparse*
    # W reaches far less numerically (its state covariance is very ill-conditioned); a random
    # orthogonal W scaled to rho = 0.9 keeps it well-conditioned, and 2N delays hold all but
    # 0.81^(2N) of its memory.
    N = 20
    rng = np.random.default_rng(3)
    orthogonal = np.linalg.qr(rng.standard_normal((N, N)))[0]
    weights = rng.uniform(-1.0, 1.0, (N, 1))
    capacity = memory_functions(orthogonal, np.array([0.9]), np.ones(1), weights, np.zeros(N),
                               np.random.default_rng(4), activation="linear").sum()
    assert 0.9 * N < capacity <= N


# ------------------------------------------------------------------------ Lyapunov exponent
@pytest.mark.parametrize("leak_rate", [1.0, 0.5])
def test_lyapunov_exponent_of_linear_reservoir_is_log_spectral_radius(leak_rate):
    # Zero input, linear units: J = (1 - a) I + a rho W is constant, and the tangent vector's
    # growth rate is ln rho(J) -- ln rho without leak.
    N, T = 100, 2000
    W = random_reservoir(N, 0.1, 1.0, np.random.default_rng(5))
    radii = np.array([0.5, 0.9, 1.2])
    K = len(radii)
    _, exponents = advance(W, radii, np.full(K, leak_rate), np.zeros((N, K)),
                           np.zeros((K, T, N)), tangent=np.ones((N, K)), lyapunov_washout=200,
                           activation="linear")
    eigenvalues = np.linalg.eigvals(W.toarray())
    expected = [np.log(np.max(np.abs(leak_rate * rho * eigenvalues + 1 - leak_rate)))
                for rho in radii]
    np.testing.assert_allclose(exponents, expected, atol=0.01)
    if leak_rate == 1.0:
        np.testing.assert_allclose(exponents, np.log(radii), atol=0.01)


# ---------------------------------------------------------------- the whole sweep, on disk
@pytest.fixture(scope="module")
def mackey_glass_sweep(tmp_path_factory, mackey_glass_data):
    out_dir = tmp_path_factory.mktemp("sweep")
    model = ESN(units=30, spectral_radius=1.0, leak_rate=1.0, connectivity=0.2, noise=0.0,
                ridge=1e-8, washout=50, seed=0)
    summary = run_experiment(model, MACKEY_GLASS, seed=0, out_dir=out_dir, kind="esn_sweep",
                             esn_sweep=ESNSweepConfig(spectral_radii=[0.5, 0.9, 1.3],
                                                      leak_rates=[0.5, 1.0])).metrics
    return model, summary, out_dir


def test_sweep_csv_has_one_row_per_grid_point(mackey_glass_sweep):
    model, summary, out_dir = mackey_glass_sweep
    table = pd.read_csv(out_dir / "sweep.csv")
    assert list(table.columns) == [*GRID_COLUMNS, "reservoir", "one_step_nrmse",
                                   "free_run_nrmse", *DYNAMICS_COLUMNS]
    assert (table["reservoir"] == 0).all() and summary["reservoirs"] == 1
    assert math.isnan(summary["best_error_std"])
    assert len(table) == 6 == summary["grid_points"]
    assert sorted(zip(table["leak_rate"], table["spectral_radius"])) == [
        (a, rho) for a in (0.5, 1.0) for rho in (0.5, 0.9, 1.3)]
    assert (table["input_scaling"] == model.input_scaling).all()
    assert (out_dir / "sweep.png").stat().st_size > 0


def test_sweep_memory_capacity_and_lyapunov_exponents(mackey_glass_sweep):
    model, summary, out_dir = mackey_glass_sweep
    table = pd.read_csv(out_dir / "sweep.csv")
    assert np.all((table["memory_capacity"] > 0) & (table["memory_capacity"] <= model.units))
    assert summary["max_memory_capacity"] == table["memory_capacity"].max()
    for _, curve in table.groupby("leak_rate"):
        exponents = curve.sort_values("spectral_radius")["lyapunov_exponent"].to_numpy()
        assert exponents[0] < 0                      # rho = 0.5: contracting
        assert np.all(np.diff(exponents) > 0)        # and growing with rho


def test_sweep_summary_names_the_best_grid_point(mackey_glass_sweep):
    _, summary, out_dir = mackey_glass_sweep
    table = pd.read_csv(out_dir / "sweep.csv")
    best = table.loc[table["one_step_nrmse"].idxmin()]
    assert summary["primary_metric"] == "one_step_nrmse"
    assert summary["best_error"] == pytest.approx(best["one_step_nrmse"], rel=1e-12)
    assert (summary["best_spectral_radius"], summary["best_leak_rate"]) == (
        best["spectral_radius"], best["leak_rate"])


# ------------------------------------------------------------------------ edges and summary
def test_classification_data_is_rejected():
    data = SeriesData(inputs=np.zeros((200, 2)), targets=np.zeros(200, dtype=int),
                      train_length=150, classes=(0, 1))
    with pytest.raises(ValueError, match="regression tasks only"):
        sweep(ESN(units=10, seed=0), SINE, data, [0.9])


def test_lyapunov_zero_crossing_interpolates_the_first_sign_change():
    crossing = first_zero_crossing([0.5, 1.0, 1.5, 2.0], [-0.4, -0.1, 0.1, -0.2])
    assert crossing == pytest.approx(1.25)
    assert first_zero_crossing([1.5, 0.5, 1.0], [0.2, -0.6, -0.2]) == pytest.approx(1.25)
    assert math.isnan(first_zero_crossing([0.5, 1.0], [-0.4, -0.1]))


def test_summary_skips_diverged_grid_points():
    table = pd.DataFrame({"spectral_radius": [0.5, 1.0, 1.5], "leak_rate": 1.0,
                          "input_scaling": 0.5, "one_step_nrmse": [0.2, np.nan, np.inf],
                          "memory_capacity": np.nan, "lyapunov_exponent": [-0.5, 0.5, np.nan]})
    summary = summarise(table, "one_step_nrmse")
    assert summary["best_spectral_radius"] == 0.5 and summary["best_error"] == 0.2
    assert math.isnan(summary["max_memory_capacity"])
    assert summary["spectral_radius_at_lyapunov_zero"] == pytest.approx(0.75)


def test_batches_of_grid_points_give_the_same_rows(monkeypatch, sine_data):
    # A grid too large for the memory budget runs in batches; each grid point's column of the
    # batched product does not depend on its neighbours, and all share one noise draw. (The
    # memory capacity's nearly unregularised solve may round differently in another buffer.)
    model = ESN(units=20, connectivity=0.2, seed=5)
    args = (model, SINE, sine_data, [0.5, 1.0, 1.2], [0.5, 1.0], None)
    together = sweep(*args)
    monkeypatch.setattr("rnnlab.analyses.reservoir_dynamics.MEMORY_BUDGET_BYTES", 1)  # one per batch
    pd.testing.assert_frame_equal(sweep(*args), together, rtol=1e-9, atol=0)


def test_sweep_readouts_give_the_same_bytes_on_one_thread_as_on_several(monkeypatch, sine_data):
    # the grid points' ridge readouts are fitted side by side on worker_threads() threads
    model = ESN(units=30, connectivity=0.2, seed=6)
    args = (model, SINE, sine_data, [0.4, 0.8, 1.1, 1.3], None, None)
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    several = sweep(*args, memory_capacity=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    pd.testing.assert_frame_equal(sweep(*args, memory_capacity=False), several, rtol=0, atol=0)


# ------------------------------------------------------------------ several reservoirs
def test_each_reservoir_is_the_sweep_of_its_own_seed(sine_data):
    # reservoir 0 is the model's own draw; reservoir r >= 1 is that of child 4 + r of its seed
    model = ESN(units=20, connectivity=0.2, seed=8)
    args = (SINE, sine_data, [0.6, 1.2], [0.5, 1.0], None)
    table = sweep(model, *args, reservoirs=3)
    assert len(table) == 3 * 4 and list(table["reservoir"]) == [0] * 4 + [1] * 4 + [2] * 4
    for reservoir in range(3):
        seed = 8 if reservoir == 0 else np.random.default_rng(8).spawn(5 + reservoir)[4 + reservoir]
        alone = sweep(model.with_seed(seed), *args)
        rows = table[table["reservoir"] == reservoir].drop(columns="reservoir")
        pd.testing.assert_frame_equal(rows.reset_index(drop=True),
                                      alone.drop(columns="reservoir"), rtol=0, atol=0)
    errors = table[SINE.primary_metric].to_numpy()
    assert not np.allclose(errors[:4], errors[4:8])  # the draws differ


def test_summary_of_several_reservoirs_ranks_their_means():
    table = pd.DataFrame({"spectral_radius": [0.5, 1.0, 1.5] * 2, "leak_rate": 1.0,
                          "input_scaling": 0.5, "reservoir": [0, 0, 0, 1, 1, 1],
                          "one_step_nrmse": [0.2, 0.1, 0.01, 0.4, 0.15, np.nan],
                          "memory_capacity": [3.0, 5.0, 4.0, 5.0, 7.0, 2.0],
                          "lyapunov_exponent": [-0.6, -0.2, 0.2, -0.4, 0.0, 0.4]})
    summary = summarise(table, "one_step_nrmse")
    # rho 1.5 is NaN on reservoir 1: not finite, so rho 1.0 (mean 0.125) beats rho 0.5 (0.3)
    assert summary["reservoirs"] == 2 and summary["grid_points"] == 3
    assert summary["best_spectral_radius"] == 1.0
    assert summary["best_error"] == pytest.approx(0.125)
    assert summary["best_error_std"] == pytest.approx(np.std([0.1, 0.15], ddof=1))
    assert summary["max_memory_capacity"] == pytest.approx(6.0)
    assert summary["spectral_radius_at_lyapunov_zero"] == pytest.approx(1.125)  # means -0.1, 0.3


def test_reservoir_count_below_one_is_refused_naming_the_key():
    with pytest.raises(ConfigError,
                       match=r"^esn_sweep.reservoirs=0 is out of range: allowed >= 1$"):
        ESNSweepConfig(reservoirs=0).check()
    with pytest.raises(ValueError, match=r"^reservoirs=1.5 is out of range: allowed an integer"):
        sweep(ESN(units=10, seed=0), SINE, SINE.make_data(np.random.default_rng(0)), [0.9],
              reservoirs=1.5)


def test_sweep_figure_draws_the_mean_over_reservoirs_in_a_band():
    from rnnlab.plots import plot_esn_sweep
    table = pd.DataFrame({"spectral_radius": [0.5, 1.0] * 2, "leak_rate": 1.0,
                          "input_scaling": 0.5, "reservoir": [0, 0, 1, 1],
                          "one_step_nrmse": [0.2, 0.5, 0.2, 0.5],
                          "memory_capacity": [3.0, 5.0, 5.0, 9.0],
                          "lyapunov_exponent": [-0.6, -0.2, -0.4, 0.0]})
    figure = plot_esn_sweep(table, "t", ["one_step_nrmse"], units=10)
    error_axis, capacity_axis, lyapunov_axis = figure.axes
    np.testing.assert_allclose(capacity_axis.get_lines()[0].get_ydata(), [4.0, 7.0])
    np.testing.assert_allclose(lyapunov_axis.get_lines()[0].get_ydata(), [-0.5, -0.1])
    (band,) = capacity_axis.collections                  # +- one std: 4 +- 1.41, 7 +- 2.83
    np.testing.assert_allclose(sorted(band.get_paths()[0].vertices[:, 1])[:2],
                               [4 - np.sqrt(2), 7 - 2 * np.sqrt(2)], rtol=1e-9)
    assert len(error_axis.collections) == 1 and "over 2 reservoirs" in error_axis.get_title()
