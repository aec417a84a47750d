"""min-char-rnn's training as the notes run it: the summed window loss and its clip, the notes'
units in training.csv, samples during training, checkpoints, resuming and continuing."""

import hashlib
import io
import json
import math
import subprocess
import sys
import zipfile
from contextlib import nullcontext

import numpy as np
import pandas as pd
import pytest

import rnnlab.sample as sample
from rnnlab import LSTM, RNN, CharsTask, ConfigError, TrainConfig, train
from rnnlab.experiments import checkpoints, run_experiment
from rnnlab.optimisers import clip_gradients
from rnnlab.tasks.echo import EchoTask
from rnnlab.training import Stream

TEXT = "a small text for a small model, read a character at a time. " * 12


def window(model, T=6, B=3, seed=0):
    rng = np.random.default_rng(seed)
    x = np.eye(model.input_size)[rng.integers(0, model.input_size, (T, B))]
    y = rng.integers(0, model.output_size, (T, B))
    h0 = 0.3 * rng.standard_normal((B, model.hidden_size))
    return x, y, h0


def summed_window_loss(params, x, y, h0) -> float:
    """The notes' loss written out: sum over steps t and streams b of -log softmax(y_t)[target],
    h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h), y_t = W_hy h_t + b_y."""
    h, total = h0, 0.0
    for t in range(x.shape[0]):
        h = np.tanh(x[t] @ params["W_xh"].T + h @ params["W_hh"].T + params["b_h"])
        logits = h @ params["W_hy"].T + params["b_y"]
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        total -= log_p[np.arange(len(y[t])), y[t]].sum()
    return total


def test_sum_reduction_clips_the_gradient_of_the_summed_loss():
    """Every element of the summed loss's gradient by central differences of the loss written
    out above, then clipped to +-0.5: equal to what sum mode computes and clips; the mean's
    gradient is T B times smaller, and its clip changes nothing."""
    model = RNN(hidden_size=3, init_scale=1.0, seed=1).build(3, 3)
    x, y, h0 = window(model, T=6, B=3)
    loss, grads, _ = model.loss_and_grads(x, y, h0, reduction="sum")
    assert loss == pytest.approx(summed_window_loss(model.params, x, y, h0), rel=1e-12)
    step = 1e-6
    numeric = {}
    for name, value in model.params.items():
        numeric[name] = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            kept = value[index]
            value[index] = kept + step
            up = summed_window_loss(model.params, x, y, h0)
            value[index] = kept - step
            down = summed_window_loss(model.params, x, y, h0)
            value[index] = kept
            numeric[name][index] = (up - down) / (2 * step)
        np.testing.assert_allclose(grads[name], numeric[name], rtol=1e-6, atol=1e-8)
    _, fraction = clip_gradients(grads, "value", 0.5)
    _, numeric_fraction = clip_gradients(numeric, "value", 0.5)
    assert fraction == numeric_fraction > 0.1
    for name in grads:
        np.testing.assert_allclose(grads[name], numeric[name], rtol=1e-6, atol=1e-8)
    _, mean_grads, _ = model.loss_and_grads(x, y, h0)
    assert clip_gradients(mean_grads, "value", 0.5)[1] < fraction


def test_mean_reduction_is_the_sum_divided_by_the_steps_and_the_default():
    model = LSTM(hidden_size=3, init_scale=0.5, seed=3).build(4, 4)
    x, y, h0 = window(model)
    h0 = (h0, 0.5 * h0)
    default = model.loss_and_grads(x, y, h0)
    mean = model.loss_and_grads(x, y, h0, reduction="mean")
    total = model.loss_and_grads(x, y, h0, reduction="sum")
    assert default[0] == mean[0] == pytest.approx(total[0] / 18, rel=1e-14)
    for name in mean[1]:
        np.testing.assert_array_equal(default[1][name], mean[1][name])
        np.testing.assert_allclose(mean[1][name] * 18, total[1][name], rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="reduction='max' is not allowed: allowed mean, sum"):
        model.loss_and_grads(x, y, h0, reduction="max")


def echo_stream(train_steps=4_000, test_steps=1_000):
    data = EchoTask(train_steps=train_steps, test_steps=test_steps).make_data(
        np.random.default_rng(0))
    return Stream.from_data(data, needs_feedback=False), (train_steps, train_steps + test_steps)


def test_training_rows_read_in_the_notes_units():
    """window_loss = bptt x the per-step loss; smooth_loss starts at bptt ln V and follows
    0.999 smooth + 0.001 loss; the first update's window loss is bptt ln V at a tiny init."""
    stream, test = echo_stream()
    model = RNN(hidden_size=4, seed=0).build(1, 2)
    config = TrainConfig(steps=30, bptt=8, batch_size=4, optimiser="adagrad",
                         learning_rate=0.1, schedule="constant", loss_reduction="sum",
                         log_every=1)
    history = pd.DataFrame(train(model, stream, config, test).history)
    assert history["smooth_loss"].iloc[0] == pytest.approx(8 * math.log(2), rel=1e-15)
    np.testing.assert_allclose(history["window_loss"][1:], 8 * history["train_loss"][1:],
                               rtol=1e-12)
    assert history["window_loss"].iloc[1] == pytest.approx(8 * math.log(2), abs=1e-3)
    smooth = 8 * math.log(2)
    for loss in history["window_loss"][1:]:
        smooth = 0.999 * smooth + 0.001 * loss
    assert history["smooth_loss"].iloc[-1] == pytest.approx(smooth, rel=1e-12)
    np.testing.assert_allclose(history["recent_train_loss"].iloc[-1],
                               history["train_loss"][1:].mean(), rtol=1e-12)


def chars_run(tmp_path, name, steps=40, **settings):
    text = tmp_path / "text.txt"
    text.write_text(TEXT, encoding="utf-8")
    config = TrainConfig(steps=steps, bptt=5, batch_size=2, optimiser="adagrad",
                         learning_rate=0.1, schedule="constant", loss_reduction="sum",
                         log_every=5, sample_every=10, checkpoint_every=20, gradient_records=3,
                         **settings)
    task = CharsTask(source="file", path=str(text), sample_length=30)
    return dict(model=RNN(hidden_size=12), task=task, seed=3, train=config,
                out_dir=tmp_path / name)


def test_samples_during_training_are_written_with_their_step_and_seed(tmp_path):
    run_experiment(**chars_run(tmp_path, "run"))
    samples = (tmp_path / "run" / "samples.txt").read_text(encoding="utf-8")
    headers = [line for line in samples.splitlines() if line.startswith("-----")]
    assert headers[:4] == [f"----- step {s} (seed {3 * 10 ** 9 + s}) -----"
                           for s in (10, 20, 30, 40)]
    assert headers[4].startswith("----- after training: from the zero state")
    texts = samples.split("-----\n")[1:]
    assert all(len(text.rstrip("\n").split("\n-----")[0]) == 31 for text in texts[:4])


def test_a_checkpoint_is_plain_arrays_and_json_written_whole(tmp_path):
    run_experiment(**chars_run(tmp_path, "run"))
    run_dir = tmp_path / "run"
    record = json.loads((run_dir / "checkpoint.json").read_text())
    content = (run_dir / "checkpoint.npz").read_bytes()
    assert record["step"] == 40 and record["optimiser"] == "adagrad"
    assert record["arrays_sha256"] == hashlib.sha256(content).hexdigest()
    with np.load(io.BytesIO(content), allow_pickle=False) as archive:   # no pickled objects
        names = set(archive.files)
    assert {"param/W_hh", "optimiser/W_hh/memory", "state/0"} <= names
    assert all(info.date_time == (1980, 1, 1, 0, 0, 0)
               for info in zipfile.ZipFile(io.BytesIO(content)).infolist())
    (run_dir / "checkpoint.npz").write_bytes(content[:-10] + b"0123456789")
    with pytest.raises(ConfigError, match="checkpoint.npz does not match checkpoint.json"):
        checkpoints.load(run_dir, "train.init_from")


def test_a_resumed_run_ends_exactly_as_an_uninterrupted_one(tmp_path):
    """Stop after the checkpoint at step 20 (an interrupt inside training), resume: the
    parameters, every table and the samples equal an uninterrupted run's, byte for byte."""
    whole = chars_run(tmp_path, "whole")
    run_experiment(**whole)
    killed = chars_run(tmp_path, "killed")

    class Stop(Exception):
        pass

    original = checkpoints.save

    def save_then_stop(run_dir, snapshot, *args, **kwargs):
        original(run_dir, snapshot, *args, **kwargs)
        if snapshot.step == 20:
            raise KeyboardInterrupt

    checkpoints.save = save_then_stop
    try:
        with pytest.raises(KeyboardInterrupt):
            run_experiment(**killed)
    finally:
        checkpoints.save = original
    assert json.loads((tmp_path / "killed" / "checkpoint.json").read_text())["step"] == 20
    run_experiment(**killed, resume=True)
    for name in ("checkpoint.npz", "training.csv", "gradients.csv", "samples.txt",
                 "spectrum.csv"):
        assert (tmp_path / "killed" / name).read_bytes() == \
            (tmp_path / "whole" / name).read_bytes(), name


def test_init_from_continues_training_from_another_runs_checkpoint(tmp_path):
    first = chars_run(tmp_path, "first", steps=20)
    run_experiment(**first)
    whole = run_experiment(**chars_run(tmp_path, "whole", steps=40))
    more = chars_run(tmp_path, "more", steps=40, init_from=str(tmp_path / "first"))
    result = run_experiment(**more)
    history = result.tables["training"]
    assert history["step"].iloc[0] == 20 and history["step"].iloc[-1] == 40
    np.testing.assert_array_equal(
        np.load(tmp_path / "more" / "checkpoint.npz")["param/W_hh"],
        np.load(tmp_path / "whole" / "checkpoint.npz")["param/W_hh"])
    assert result.metrics["test_loss"] == whole.metrics["test_loss"]


@pytest.mark.parametrize("change, message", [
    ({"steps": 20}, r"train.steps=20 is out of range: allowed > 20, the step of the checkpoint"),
    ({"init_from": "nowhere"}, r"train.init_from='nowhere' is not a directory"),
])
def test_init_from_refuses_what_cannot_continue(tmp_path, change, message):
    run_experiment(**chars_run(tmp_path, "first", steps=20))
    settings = {"init_from": str(tmp_path / "first"), **change}
    steps = settings.pop("steps", 40)
    with pytest.raises(ConfigError, match=message):
        run_experiment(**chars_run(tmp_path, "next", steps=steps, **settings))


def test_init_from_refuses_another_model_size(tmp_path):
    run_experiment(**chars_run(tmp_path, "first", steps=20))
    arguments = chars_run(tmp_path, "next", init_from=str(tmp_path / "first"))
    arguments["model"] = RNN(hidden_size=7)
    with pytest.raises(ConfigError, match=r"model.hidden_size=7 does not match "
                                          r"train.init_from=.*allowed 12, the checkpoint's"):
        run_experiment(**arguments)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trained")
    run_experiment(**chars_run(folder, "run"))
    return folder / "run"


def test_the_sample_command_draws_the_in_training_sample_again(trained_run):
    samples = (trained_run / "samples.txt").read_text(encoding="utf-8")
    at_40 = samples.split(f"----- step 40 (seed {3 * 10 ** 9 + 40}) -----\n")[1].split("\n")[0]
    command = [sys.executable, "-m", "rnnlab.sample", str(trained_run), "--state", "checkpoint",
               "--seed", str(3 * 10 ** 9 + 40), "--length", "30"]
    drawn = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert drawn.returncode == 0, drawn.stderr
    assert drawn.stdout == at_40 + "\n"


def test_the_sample_command_primes_with_text_from_the_zero_state(trained_run, capsys):
    assert sample.main([str(trained_run), "--prime", "a small", "--length", "12"]) == 0
    primed = capsys.readouterr().out
    assert primed.startswith("a small") and len(primed) == len("a small") + 12 + 1
    assert sample.main([str(trained_run), "--prime", "a small", "--length", "12"]) == 0
    assert capsys.readouterr().out == primed                      # seed 0 both times
    assert sample.main([str(trained_run), "--prime", "a small", "--length", "12",
                        "--temperature", "0.05"]) == 0
    assert capsys.readouterr().out != primed


@pytest.mark.parametrize("arguments, message", [
    (["--temperature", "0"], "temperature=0.0 is out of range: allowed > 0"),
    (["--length", "-1"], "length=-1 is out of range: allowed an integer >= 0"),
    (["--prime", "Z!"], "error: prime='Z!' holds '!Z', not in the vocabulary"),
    (["--state", "other"], "argument --state: invalid choice: 'other'"),
])
def test_the_sample_command_refuses_bad_arguments_in_one_line(trained_run, capsys, arguments,
                                                               message):
    with pytest.raises(SystemExit) if arguments[0] == "--state" else nullcontext():
        assert sample.main([str(trained_run), *arguments]) == 2
    said = capsys.readouterr()
    assert said.out == "" and len(said.err.splitlines()) == 1 and message in said.err


def test_the_sample_command_refuses_a_folder_without_a_checkpoint(tmp_path, capsys):
    assert sample.main([str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"rnnlab.sample: error: run_dir={str(tmp_path)!r} holds no checkpoint (checkpoint.json "
        f"is missing): allowed a run directory of a BPTT training run, which writes one at its "
        f"end and every train.checkpoint_every steps")


def test_the_min_char_rnn_preset_is_the_notes_setting(compose):
    from rnnlab.app.schema import objects_from_config
    objects = objects_from_config(compose("experiment=min_char_rnn", "task.source=hello"))
    model, config = objects["model"], objects["train"]
    assert (model.name, model.hidden_size, model.activation, model.init, model.init_scale) == \
        ("rnn", 100, "tanh", "normal", 0.01)
    assert (config.bptt, config.batch_size, config.optimiser, config.learning_rate,
            config.schedule, config.clip, config.clip_threshold, config.loss_reduction) == \
        (25, 1, "adagrad", 0.1, "constant", "value", 5.0, "sum")
    assert (config.sample_every, objects["task"].sample_length) == (100, 200)
    with pytest.raises(ConfigError, match="model=lstm cannot run experiment=min_char_rnn"):
        objects_from_config(compose("experiment=min_char_rnn", "model=lstm"))


@pytest.mark.parametrize("truncation, state, steps", [(1, 4, 5000), (5, 4, 1000), (10, 16, 500)])
def test_the_published_echo_preset_is_one_pass_over_a_million_steps(compose, truncation, state,
                                                                      steps):
    from rnnlab.app.schema import objects_from_config
    objects = objects_from_config(compose("experiment=r2rt_published",
                                          f"r2rt=bptt{truncation}_one_epoch"))
    config, task = objects["train"], objects["task"]
    assert (config.bptt, objects["model"].hidden_size, config.steps) == (truncation, state, steps)
    assert config.steps * config.bptt * config.batch_size == task.train_steps == 1_000_000
    assert (config.optimiser, config.learning_rate, config.schedule, config.clip,
            config.loss_reduction, config.recent_steps) == \
        ("adagrad", 0.1, "constant", "none", "mean", 250)


def test_a_summed_loss_run_logs_like_the_notes(caplog):
    stream, test = echo_stream()
    model = RNN(hidden_size=4, seed=0).build(1, 2)
    config = TrainConfig(steps=20, bptt=5, batch_size=4, loss_reduction="sum", log_every=10)
    with caplog.at_level("INFO", logger="rnnlab.training"):
        history = train(model, stream, config, test).history
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [f"iter {row['step']}, loss {row['smooth_loss']:.6f} (per character: train "
                     f"{row['train_loss']:.4f}, test {row['test_loss']:.4f})"
                     for row in history[1:]]


def test_a_39_character_sentence_trains_with_a_window_of_5(tmp_path):
    """The notes' tiny example size: 34 training pairs, one stream, windows of 5; the RNN
    learns the sentence (its training loss falls far below ln V) and the run writes its tables."""
    text = "a small cat sat on the warm red mat ok."
    (tmp_path / "cat.txt").write_text(text, encoding="utf-8")
    task = CharsTask(source="file", path=str(tmp_path / "cat.txt"), sample_length=20)
    config = TrainConfig(steps=300, bptt=5, batch_size=1, optimiser="adagrad", learning_rate=0.1,
                         schedule="constant", loss_reduction="sum", log_every=10)
    result = run_experiment(RNN(hidden_size=32), task, seed=0, train=config,
                            out_dir=tmp_path / "run")
    assert result.metrics["theory_uniform"] == pytest.approx(math.log(len(set(text))))
    assert not result.metrics["diverged"]
    assert result.metrics["train_loss"] < 0.25 * result.metrics["theory_uniform"]
    assert len(pd.read_csv(tmp_path / "run" / "gradients.csv")) > 0
