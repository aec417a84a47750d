"""kind=gradient_flow: gradient norms across lags over spectral radii, against exact references."""

import math

import numpy as np
import pandas as pd
import pytest

from rnnlab import LSTM, RNN
from rnnlab.analyses.gradient_flow import gradient_flow, jacobian_norms

RADII = [0.6, 0.9, 1.1, 1.4]


def inputs(T=120, B=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((T, B, 1)), rng.integers(0, 2, (T, B))


def test_linear_rnn_rate_is_ln_rho():
    x, y = inputs(T=200)
    _, rates = gradient_flow(RNN(hidden_size=64, activation="linear", seed=0), RADII, x, y,
                             (50, 199), np.random.default_rng(1), jacobians=False)
    for row in rates:
        assert row["fitted_rate"] == pytest.approx(math.log(row["spectral_radius"]), abs=0.02)
        assert row["measured_spectral_radius"] == pytest.approx(row["spectral_radius"], rel=1e-9)


def test_jacobian_norm_of_a_linear_rnn_is_the_norm_of_the_matrix_power():
    model = RNN(hidden_size=12, activation="linear", spectral_radius=0.9, seed=2).build(1, 2)
    x, _ = inputs(T=15, B=2)
    norms = jacobian_norms(model, x, model.zero_state(2))
    W = model.params["W_hh"]
    expected = [np.linalg.norm(np.linalg.matrix_power(W, 14 - t), 2) for t in range(15)]
    np.testing.assert_allclose(norms[0], expected, rtol=1e-10)


def test_tanh_rate_never_exceeds_ln_sigma_max():
    x, y = inputs()
    _, rates = gradient_flow(RNN(hidden_size=32, activation="tanh", init_scale=1.0, seed=0),
                             [0.5, 1.0, 1.5, 2.0, 3.0], x, y, (20, 119), np.random.default_rng(1))
    for row in rates:
        assert row["fitted_rate"] <= row["ln_sigma_max"] == pytest.approx(row["pascanu_bound"])
        assert row["fitted_jacobian_rate"] <= row["ln_sigma_max"]


def test_lstm_with_forget_bias_one_decays_more_slowly_than_rnn_at_the_same_rho():
    x, y = inputs()
    _, rnn = gradient_flow(RNN(hidden_size=32, seed=0), [0.8], x, y, (20, 119),
                           np.random.default_rng(1))
    _, lstm = gradient_flow(LSTM(hidden_size=32, forget_bias=1.0, seed=0), [0.8], x, y,
                            (20, 119), np.random.default_rng(1))
    assert lstm[0]["fitted_rate"] > rnn[0]["fitted_rate"] + 0.05
    assert math.isnan(lstm[0]["pascanu_bound"])


def test_every_rho_rescales_the_same_draw():
    """A Generator seed is read from its start: building again draws the same weights."""
    model = RNN(hidden_size=6, seed=np.random.default_rng(5))
    first = model.build(1, 1).params["W_hh"].copy()
    np.testing.assert_array_equal(model.build(1, 1).params["W_hh"], first)


def test_toy_preset_relu_rate_is_ln_rho_plus_a_constant_and_vanishes_below_one(cli, tmp_path):
    """Without input or bias a ReLU RNN is positively homogeneous: rescaling W leaves every
    ReLU mask unchanged, so the rate moves exactly with ln(rho)."""
    result = cli("experiment=gradient_flow_toy", "hydra.run.dir=run")
    assert result.returncode == 0, result.stderr
    rates = pd.read_csv(tmp_path / "run/rates.csv")
    offset = rates["fitted_rate"] - rates["ln_rho"]
    assert np.ptp(offset) < 1e-8 and offset.iloc[0] < 0
    assert (rates.loc[rates["spectral_radius"] <= 1.0, "fitted_rate"] < 0).all()
    assert rates.loc[rates["spectral_radius"] == 3.0, "fitted_rate"].item() > 0
    flow = pd.read_csv(tmp_path / "run/gradient_flow.csv")
    assert list(flow.columns) == ["spectral_radius", "when", "model", "layer", "lag", "grad_norm",
                                  "jacobian_norm"]
    assert len(flow) == 50 * len(rates)
    assert (tmp_path / "run/gradient_flow.png").exists()


def test_gradient_flow_needs_a_trained_by_gradient_model(cli, tmp_path):
    result = cli("experiment=gradient_flow", "model=esn", "hydra.run.dir=run")
    assert result.returncode == 2
    assert result.stderr == ("rnnlab: error: model.hidden_size is not a key of this config, but a "
                             "config file sets it (experiment=gradient_flow, model=esn): that "
                             "preset cannot run with this model or task; allowed units, "
                             "spectral_radius, leak_rate, activation, topology, connectivity, "
                             "input_scaling, bias_scaling, feedback_scaling, readout, ridge, "
                             "ridge_path, validation_fraction, forgetting, rls_alpha, noise, "
                             "washout, chunk_steps\n")
    assert not (tmp_path / "run").exists()


def test_gradient_flow_of_an_esn_is_refused_by_the_check(compose):
    from rnnlab.app.preflight import check_config
    from rnnlab.validation import ConfigError
    with pytest.raises(ConfigError, match="^model=esn cannot run kind=gradient_flow: allowed "
                                          "model=rnn, model=lstm"):
        check_config(compose("kind=gradient_flow", "model=esn"))


def test_trained_option_measures_again_after_training_at_each_rho(tmp_path):
    from rnnlab import GradientFlowConfig, TrainConfig, run_experiment
    from rnnlab.tasks import EchoTask
    metrics = run_experiment(RNN(hidden_size=8), EchoTask(train_steps=20_000, test_steps=5_000),
                             seed=0, out_dir=tmp_path, kind="gradient_flow",
                             train=TrainConfig(steps=60, bptt=5, batch_size=16),
                             gradient_flow=GradientFlowConfig(spectral_radii=[0.7, 1.3],
                                                              window=20, sequences=8,
                                                              trained=True)).metrics
    rates = pd.read_csv(tmp_path / "rates.csv")
    assert rates["when"].tolist() == ["init", "init", "trained", "trained"]
    init, trained = rates[rates["when"] == "init"], rates[rates["when"] == "trained"]
    assert not np.allclose(init["sigma_max"], trained["sigma_max"])   # training moved W_hh
    assert (tmp_path / "gradient_flow_trained.png").exists()
    assert metrics["spectral_radii"] == 2


def test_gradient_flow_figure_text_is_legible_on_a_slide(tmp_path):
    # at most 13 inches wide and no text under 9.5 pt: shown 1280 pixels wide, 13 pixels high
    from matplotlib.text import Text
    from rnnlab import GradientFlowConfig, run_experiment
    from rnnlab.plots import plot_gradient_flow
    from rnnlab.tasks import EchoTask
    run_experiment(LSTM(hidden_size=8), EchoTask(train_steps=2000, test_steps=500), seed=0,
                   out_dir=tmp_path, kind="gradient_flow",
                   gradient_flow=GradientFlowConfig(spectral_radii=[0.7, 1.3], window=20,
                                                    sequences=4))
    figure = plot_gradient_flow(pd.read_csv(tmp_path / "gradient_flow.csv"),
                                pd.read_csv(tmp_path / "rates.csv"), "title")
    figure.draw_without_rendering()          # lays out the ticks and legends
    sizes = [text.get_fontsize() for text in figure.findobj(Text) if text.get_text().strip()]
    assert figure.get_size_inches()[0] <= 13 and min(sizes) >= 9.5
