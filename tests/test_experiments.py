"""The experiment presets (conf/experiment/) from the command line: what they run and refuse."""

import pandas as pd


def test_esn_sweep_preset_writes_one_row_per_radius_and_mc_stays_below_n(cli, tmp_path):
    result = cli("experiment=esn_sweep", "task=mackey_glass", "task.length=2000",
                 "model.units=60", "esn_sweep.spectral_radii=[0.3,0.9,1.2]", "hydra.run.dir=run")
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(tmp_path / "run/sweep.csv")
    assert table["spectral_radius"].tolist() == [0.3, 0.9, 1.2]
    assert (table["memory_capacity"] <= 60).all() and (table["memory_capacity"] > 0).all()
    assert table["lyapunov_exponent"].is_monotonic_increasing
    metrics = pd.read_csv(tmp_path / "run/metrics.csv").iloc[0]
    assert metrics["kind"] == "esn_sweep" and metrics["grid_points"] == 3
    assert metrics["best_spectral_radius"] == table.loc[table["one_step_nrmse"].idxmin(),
                                                        "spectral_radius"]
    assert (tmp_path / "run/sweep.png").exists()


def test_esn_sweep_refuses_other_models_and_classification_tasks(cli, tmp_path):
    for overrides, message in [
        (("model=rnn",), "model=rnn cannot run kind=esn_sweep: allowed model=esn"),
        (("task=echo",), "task=echo cannot run kind=esn_sweep: allowed task=sine, "
                         "task=mackey_glass"),
    ]:
        result = cli("kind=esn_sweep", *overrides, "hydra.run.dir=run")
        assert result.returncode == 2
        assert result.stderr.startswith(f"rnnlab: error: {message}")
    assert not (tmp_path / "run").exists()


def test_sweep_lists_are_checked(cli, tmp_path):
    result = cli("experiment=esn_sweep", "esn_sweep.spectral_radii=[]", "hydra.run.dir=run")
    assert result.returncode == 2
    assert result.stderr.strip() == ("rnnlab: error: esn_sweep.spectral_radii=[] is out of range: "
                                     "allowed a non-empty list of numbers, each > 0")
