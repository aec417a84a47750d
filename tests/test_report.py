"""rnnlab.report on synthetic run directories of the older format (overrides.yaml, metrics.csv,
no run.json; hand-written files, no training). The run.json format and bad inputs:
tests/test_report_inputs.py."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import rnnlab.report.runs as report
from rnnlab.report import collect, write_report_tables
from rnnlab.report.__main__ import main
from rnnlab.report.page import headline_metric

# (job, model, bptt, seed) -> test_loss, train_loss; hand-picked numbers for the summary check
LOSSES = {
    ("0", "rnn", 1, 0): (0.60, 0.50),
    ("1", "rnn", 1, 1): (0.64, 0.55),
    ("2", "rnn", 1, 2): (0.71, 0.52),
    ("3", "lstm", 1, 0): (0.40, 0.30),
    ("4", "lstm", 1, 1): (0.46, 0.33),
}


def make_run(run_dir, overrides, metrics=None, training=None, log=None, files=None):
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "overrides.yaml").write_text(
        "".join(f"- {entry}\n" for entry in overrides))
    if metrics is not None:
        pd.DataFrame([metrics]).to_csv(run_dir / "metrics.csv", index=False)
    if training is not None:
        pd.DataFrame(training).to_csv(run_dir / "training.csv", index=False)
    if log is not None:
        (run_dir / "rnnlab.log").write_text(log)
    for name, text in (files or {}).items():
        (run_dir / name).write_text(text)


def overrides_of(model, bptt, seed):
    return [f"model={model}", "task=echo", f"train.bptt={bptt}", "train.learning_rate=1e-3",
            f"seed={seed}", "train.steps=50"]


@pytest.fixture
def multirun(tmp_path):
    """A sweep over model and seed: 5 finished runs, 1 diverged, 1 incomplete, 1 failed."""
    root = tmp_path / "multirun"
    for (job, model, bptt, seed), (test_loss, train_loss) in LOSSES.items():
        make_run(root / job, overrides_of(model, bptt, seed),
                 metrics={"kind": "train", "model": model, "task": "echo", "seed": seed,
                          "headline_metric": "test_loss", "train_loss": train_loss, "test_loss": test_loss,
                          "diverged": False, "diverged_step": np.nan, "steps_done": 50},
                 training={"step": [0, 1, 2], "train_loss": [np.nan, 0.7, 0.6],
                           "test_loss": [0.69, 0.68, test_loss]})
    make_run(root / "5", overrides_of("lstm", 1, 2),
             metrics={"kind": "train", "model": "lstm", "task": "echo", "seed": 2,
                      "train_loss": np.nan, "test_loss": np.nan, "diverged": True,
                      "diverged_step": 17, "steps_done": 17})
    make_run(root / "6", overrides_of("rnn", 1, 3), log="[INFO] - step 10/50\n")  # still running
    make_run(root / "7", overrides_of("rnn", 1, 4),
             log="[INFO] - start\nTraceback (most recent call last):\nValueError: boom\n")
    (root / "multirun.yaml").write_text("hydra: {}\n")
    return root


def test_swept_keys_are_those_whose_values_differ(multirun):
    collected = collect(multirun)
    assert collected.swept == ["model", "seed"]
    # non-swept override keys are columns too
    assert {"task", "train.bptt", "train.learning_rate", "train.steps"} <= set(collected.runs)


def test_override_values_are_parsed_to_numbers(multirun):
    runs = collect(multirun).runs.set_index("run_dir")
    assert runs.loc["0", "train.bptt"] == 1 and isinstance(runs.loc["0", "train.bptt"],
                                                          (int, np.integer))
    assert runs.loc["0", "train.learning_rate"] == pytest.approx(1e-3)
    assert sorted(runs["seed"].tolist()) == [0, 0, 1, 1, 2, 2, 3, 4]
    assert runs.loc["0", "task"] == "echo"


def test_every_run_has_a_row_with_its_status(multirun):
    runs = collect(multirun).runs.set_index("run_dir")
    assert runs.index.tolist() == ["0", "1", "2", "3", "4", "5", "6", "7"]
    assert runs["status"].to_dict() == {"0": "finished", "1": "finished", "2": "finished",
                                        "3": "finished", "4": "finished", "5": "diverged",
                                        "6": "incomplete", "7": "failed"}
    assert runs.loc["7", "status_reason"] == "ValueError: boom"   # the traceback's last line
    assert runs.loc["6", "status_reason"] == "no status.txt and no metrics.csv"
    assert (runs.loc[["0", "5"], "status_reason"] == "").all()
    # runs without metrics keep their overrides and have NaN metrics
    assert np.isnan(runs.loc["6", "test_loss"]) and np.isnan(runs.loc["7", "test_loss"])
    assert runs.loc["7", "model"] == "rnn"


def test_status_file_marks_a_run_failed(tmp_path):
    make_run(tmp_path / "a", ["seed=0"], files={"status.txt": "FAILED: out of memory\n"})
    make_run(tmp_path / "b", ["seed=1"], files={"error.txt": "KeyError: 'x'\n"})
    make_run(tmp_path / "c", ["seed=2"], files={"status.txt": "running\n"})
    runs = collect(tmp_path).runs.set_index("run_dir")
    assert runs["status"].to_dict() == {"a": "failed", "b": "failed", "c": "incomplete"}
    assert runs["status_reason"].to_dict() == {
        "a": "out of memory", "b": "KeyError: 'x'",
        "c": "status.txt says running and there is no metrics.csv"}


def test_runs_are_in_natural_order(tmp_path):
    for job in ["10", "2", "1"]:
        make_run(tmp_path / job, [f"seed={job}"], metrics={"seed": int(job), "test_loss": 0.5})
    assert collect(tmp_path).runs["run_dir"].tolist() == ["1", "2", "10"]


def test_summary_mean_and_std_match_numpy(multirun):
    summary = report.summarise(collect(multirun)).set_index("model")
    for model in ["rnn", "lstm"]:
        test = [v[0] for k, v in LOSSES.items() if k[1] == model]
        train = [v[1] for k, v in LOSSES.items() if k[1] == model]
        assert summary.loc[model, "test_loss_mean"] == pytest.approx(np.mean(test), rel=1e-12)
        assert summary.loc[model, "test_loss_std"] == pytest.approx(np.std(test, ddof=1),
                                                                     rel=1e-12)
        assert summary.loc[model, "train_loss_mean"] == pytest.approx(np.mean(train), rel=1e-12)
    # finished + diverged runs enter; the diverged run's NaN losses do not enter the means
    assert summary.loc["rnn", "n"] == 3 and summary.loc["lstm", "n"] == 2 + 1
    assert summary.loc["lstm", "n_diverged"] == 1 and summary.loc["rnn", "n_diverged"] == 0
    assert summary.loc["lstm", "diverged_mean"] == pytest.approx(1 / 3)
    assert "seed_mean" not in summary and "seed" not in summary


def test_training_table_is_long_with_swept_keys(multirun):
    training = collect(multirun).training
    assert list(training.columns[:3]) == ["run_dir", "model", "seed"]
    assert len(training) == 3 * len(LOSSES)  # runs without training.csv are skipped
    last = training[training["step"] == 2].set_index("run_dir")["test_loss"]
    assert last.to_dict() == {k[0]: v[0] for k, v in LOSSES.items()}


def test_tables_are_written_through_write_table(multirun, monkeypatch, tmp_path):
    calls = []
    real = report.write_table

    def spy(table, path):
        calls.append(path.name)
        return real(table, path)

    monkeypatch.setattr(report, "write_table", spy)
    out = tmp_path / "out"
    write_report_tables(collect(multirun), out)
    assert sorted(calls) == ["runs.csv", "summary.csv", "training.csv"]  # no gradients.csv here
    assert sorted(p.name for p in out.iterdir()) == sorted(calls)  # no temporary files left
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 8


def test_main_writes_report_and_prints_counts(multirun, capsys):
    main([str(multirun)])
    out = capsys.readouterr().out
    assert "8 runs found (5 finished, 1 diverged, 1 failed, 1 incomplete)" in out
    assert (multirun / "report" / "summary.csv").is_file()
    main([str(multirun)])  # the report folder itself is not taken for a run
    assert "8 runs found" in capsys.readouterr().out


def test_single_run_directory(tmp_path):
    make_run(tmp_path / "run", ["model=rnn"], metrics={"seed": 0, "test_loss": 0.25})
    collected = collect(tmp_path / "run")
    assert collected.runs["run_dir"].tolist() == ["."] and collected.swept == []
    summary = report.summarise(collected)
    assert summary["n"].tolist() == [1] and summary["test_loss_mean"].tolist() == [0.25]


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_cli_bad_path_exits_2_with_one_line(tmp_path, make):
    path = tmp_path / "nothing"
    if make == "empty":
        path.mkdir()
    result = subprocess.run([sys.executable, "-m", "rnnlab.report", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rnnlab.report: error: ")
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_the_page_plots_the_metric_the_runs_name_as_their_headline(multirun):
    runs = collect(multirun).runs
    assert headline_metric(runs) == "test_loss"
    assert headline_metric(runs.drop(columns="headline_metric")) is None
    runs["headline_metric"] = "no_such_metric"   # named, but not reported: nothing to plot
    assert headline_metric(runs) is None


@pytest.mark.parametrize("mean, std, shown", [
    (0.0009123, 0.0000341, "9.12e-04 ± 3.4e-05"),   # small errors keep their digits
    (0.01627, 0.00496, "0.0163 ± 0.0050"),
    (0.5135, 0.0, "0.5135"),
    (12.3456, 1.234, "12.3 ± 1.2"),
    (2.3e-6, float("nan"), "2.3e-06"),
    (float("nan"), 0.1, "nan"),
])
def test_summary_cells_show_the_digits_the_spread_allows(mean, std, shown):
    from rnnlab.report.page import _plus_minus
    assert _plus_minus(mean, std) == shown


def test_a_spread_that_rounds_up_a_decade_keeps_the_mean_to_the_same_place():
    from rnnlab.report.page import _plus_minus
    assert _plus_minus(3.664e-4, 9.96e-6) == "3.66e-04 ± 1.0e-05"


def test_seeds_of_one_setting_are_drawn_as_their_mean_in_a_band():
    from rnnlab.report.page import plot_seed_bands
    steps = [0, 10, 20]
    table = pd.DataFrame({"run_dir": [str(r) for r in (0, 1, 2, 3) for _ in steps],
                          "step": steps * 4,
                          "test_loss": [1.0, 0.8, 0.6, 1.2, 1.0, 0.8, 2.0, 1.9, 1.8,
                                        2.2, 2.1, 2.0]})
    settings = {"0": "bptt=1", "1": "bptt=1", "2": "bptt=5", "3": "bptt=5"}
    figure = plot_seed_bands(table, lambda rows: (rows["step"], rows["test_loss"]), "t",
                             ("step", "loss"), settings)
    axis = figure.axes[0]
    means = [line.get_ydata() for line in axis.get_lines()]
    assert len(means) == 2 and np.allclose(means[0], [1.1, 0.9, 0.7])
    assert np.allclose(means[1], [2.1, 2.0, 1.9])
    assert len(axis.collections) == 2                         # one band per setting
    assert [text.get_text() for text in figure.legends[0].get_texts()] == [
        "bptt=1 (n = 2)", "bptt=5 (n = 2)"]


def test_swept_values_read_as_the_command_line_wrote_them():
    # a column with gaps (an NVAR in a sweep over model.units) is float: 50.0 is shown as 50
    from rnnlab.report.page import shown_value
    assert [shown_value(v) for v in (50.0, 0.25, 1e-12, float("nan"), "esn", 3)] == [
        "50", "0.25", "1e-12", "-", "esn", "3"]


def test_a_metric_against_one_key_says_which_other_keys_it_pools():
    # r2rt pairs hidden size 4 with bptt 1 and 5: that point's spread is not only the seeds'
    from rnnlab.report.page import plot_metric_vs_key
    runs = pd.DataFrame({"model.hidden_size": [4, 4, 4, 4, 16, 16],
                         "train.bptt": [1, 1, 5, 5, 10, 10], "seed": [0, 1] * 3, "loss": [0.66, 0.66, 0.52, 0.52, 0.46, 0.46]})
    label = plot_metric_vs_key(runs, "loss", "model.hidden_size", [], ["train.bptt"]).axes[0]
    assert label.get_ylabel() == "loss\n(mean ± std over seeds and train.bptt)"
    alone = plot_metric_vs_key(runs, "loss", "train.bptt", [], ["model.hidden_size"]).axes[0]
    assert alone.get_ylabel() == "loss\n(mean ± std over seeds)"   # each bptt has one size
