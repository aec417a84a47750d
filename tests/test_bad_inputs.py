"""Bad command lines, one family after another: each is refused with exit status 2 and one line
on stderr naming the key, the value and what is allowed -- no traceback, nothing written.

Each case is a process of its own (`make test` spreads them over the cores with pytest-xdist).
"""

import subprocess
import sys

import pytest

# (arguments, a piece of the message that names what is wrong)
CASES = {
    # values out of range, of the wrong type, unknown keys and choices
    "range": (["model.leak_rate=1.5"], "model.leak_rate=1.5 is out of range: allowed in (0, 1]"),
    "zero units": (["model.units=0"], "model.units=0 is out of range: allowed >= 1"),
    "type": (["model.units=abc"], "model.units=abc is not allowed: Value 'abc'"),
    "unknown key": (["model.nope=3"], "model.nope is not a key of this config: allowed units"),
    "added key": (["+model.foo=1"], "model.foo is not a key of model=esn: allowed units"),
    "added root key": (["+foo=1"], "foo is not a key of this config: allowed blas_threads"),
    "unknown model": (["model=transformer"],
                      "model=transformer is unknown: allowed esn, gru, lstm, nvar, rnn"),
    "unknown task": (["task=weather"], "task=weather is unknown: allowed adding, binary_addition"),
    "unparsable": (["model.units=1=2"], "model.units=1=2 cannot be parsed"),
    "negative seed": (["seed=-1"], "seed=-1 is out of range: allowed >= 0"),
    "unknown kind": (["kind=nonsense"], "kind='nonsense' is not allowed: allowed one of train"),
    "infinite": (["model.spectral_radius=inf"], "model.spectral_radius=inf is out of range"),
    "not a number": (["model.ridge=nan"], "model.ridge=nan is out of range: allowed >= 0"),
    "fraction": (["task.train_fraction=1.5"], "task.train_fraction=1.5 is out of range"),
    "two keys": (["task.period_min=50"], "task.period_min=50.0 must be <= task.period_max=40.0"),
    "washout": (["model.washout=99999"], "model.washout=99999 is out of range: allowed < 9000"),
    "no feedback": (["model.feedback_scaling=0"], "model.feedback_scaling=0.0 is out of range "
                                                   "for task=sine"),
    "density": (["model.connectivity=0.0"], "model.connectivity=0.0 is out of range"),
    "threads": (["blas_threads=-1"], "blas_threads=-1 is out of range: allowed an integer >= 0"),
    "window": (["model=rnn", "task=echo", "train.bptt=0"], "train.bptt=0 is out of range"),
    "optimiser": (["model=rnn", "task=echo", "train.optimiser=nadam"],
                  "train.optimiser='nadam' is not allowed: allowed one of sgd"),
    "divergence": (["model=rnn", "task=echo", "train.divergence_factor=-1"],
                   "train.divergence_factor=-1.0 is out of range: allowed >= 0"),
    "interpolation": (["model.units=${nope}"], "model.units cannot be resolved: Interpolation "
                                               "key 'nope' not found"),
    # memory and time bounds, checked before anything is allocated
    "long series": (["task.length=1000000000000"], "task.length=1000000000000 needs about"),
    "long lag": (["task=echo", "task.lags=[10000000000]", "task.effects=[0.5]"],
                 "task.lags=[10000000000] needs about 74.5 GiB"),
    "wide rnn": (["model=rnn", "task=echo", "model.hidden_size=100000"],
                 "model.hidden_size=100000 needs about"),
    "wide reservoir": (["model.units=200000"], "model.units=200000 needs about"),
    "long sample": (["model=rnn", "task=chars", "task.sample_length=100000000"],
                    "task.sample_length=100000000 is out of range: allowed in [1, 1e+06]"),
    # data files
    "missing file": (["model=lstm", "task=chars", "task.source=file", "task.path=missing.txt"],
                     "task.path='missing.txt' does not exist"),
    "empty file": (["model=lstm", "task=chars", "task.source=file", "task.path=empty.txt"],
                   "task.path='empty.txt' is an empty file"),
    "binary file": (["model=lstm", "task=chars", "task.source=file", "task.path=binary.bin"],
                    "task.path='binary.bin' is not UTF-8 text: byte 0xff"),
    "directory": (["model=lstm", "task=chars", "task.source=file", "task.path=folder"],
                  "task.path='folder' is a directory"),
    "short file": (["model=lstm", "task=chars", "task.source=file", "task.path=short.txt"],
                   "task.path='short.txt' is too short: it has 50 characters; allowed at least "
                   "712 (train.bptt=10 x train.batch_size=64 = 640 training steps"),
    "short for notes": (["experiment=min_char_rnn", "task.path=tiny.txt"],
                        "task.path='tiny.txt' is too short: it has 20 characters; allowed at "
                        "least 29 (train.bptt=25 x train.batch_size=1 = 25 training steps, with "
                        "task.train_fraction=0.9, and 1 test step)"),
    "no test part": (["model=rnn", "task=chars", "task.source=file", "task.path=text.txt",
                      "task.train_fraction=0.9999"],
                     "task.train_fraction=0.9999 leaves 999 training and 0 test pairs"),
    "reduction": (["model=rnn", "task=echo", "train.loss_reduction=max"],
                  "train.loss_reduction='max' is not allowed: allowed one of mean, sum"),
    "sample echo": (["model=rnn", "task=echo", "train.sample_every=10"],
                    "train.sample_every=10 is not allowed for task=echo: allowed 0"),
    "init from": (["model=rnn", "task=echo", "train.init_from=nowhere"],
                  "train.init_from='nowhere' is not a directory"),
    "init from empty": (["model=rnn", "task=echo", "train.init_from=folder"],
                        "train.init_from='folder' holds no checkpoint"),
    "vocabulary": (["model=rnn", "task=chars", "task.source=hello", "task.vocabulary=hel"],
                   "task.vocabulary='hel' lacks 'o' of the text"),
    "prime": (["model=rnn", "task=chars", "task.prime=xyz"], "task.prime='xyz' holds"),
    # experiments and presets
    "preset model": (["-m", "experiment=esn_radius", "model=rnn"],
                     "model=rnn cannot run experiment=esn_radius: it is written for model=esn"),
    "preset key": (["experiment=gradient_flow", "model=esn"],
                   "model.hidden_size is not a key of this config, but a config file sets it"),
    "sweep model": (["kind=esn_sweep", "model=rnn"], "model=rnn cannot run kind=esn_sweep"),
    "sweep task": (["kind=esn_sweep", "task=echo"], "task=echo cannot run kind=esn_sweep"),
    "flow model": (["kind=gradient_flow", "model=esn"], "model=esn cannot run kind=gradient_flow"),
    "flow window": (["kind=gradient_flow", "model=rnn", "gradient_flow.window=1"],
                    "gradient_flow.window=1 is out of range: allowed >= 2"),
    "leak list": (["-m", "experiment=esn_sweep", "esn_sweep.leak_rates=[2.0]"],
                  "esn_sweep.leak_rates=[2.0] is out of range: allowed a non-empty list of "
                  "numbers, each in (0, 1]"),
    "radius list": (["experiment=esn_sweep", "esn_sweep.spectral_radii=[inf]"],
                    "esn_sweep.spectral_radii=[inf] is out of range"),
    "empty list": (["experiment=esn_sweep", "esn_sweep.spectral_radii=[]"],
                   "esn_sweep.spectral_radii=[] is out of range"),
    "flow radii": (["kind=gradient_flow", "model=rnn", "task=echo", "gradient_flow.spectral_radii=[-1]"],
                   "gradient_flow.spectral_radii=[-1.0] is out of range"),
    # sweeps, launchers, output folders
    "swept group key": (["-m", "model=rnn,lstm", "model.hidden_size=8"],
                        "model.hidden_size is not a key of every choice of model=rnn,lstm: write "
                        "++model.hidden_size=... to set it"),
    "grid value": (["-m", "model.leak_rate=0.5,2"], "model.leak_rate=2.0 is out of range"),
    "grid interval": (["-m", "model.spectral_radius=interval(0.5,1.5)"],
                      "needs a sweeper that samples intervals"),
    "launcher": (["-m", "hydra/launcher=nonexistent", "seed=0,1"],
                 "hydra/launcher=nonexistent is unknown: allowed basic, joblib"),
    "sweeper": (["-m", "hydra/sweeper=nonexistent", "seed=0,1"],
                "hydra/sweeper=nonexistent is unknown: allowed basic, optuna"),
    "processes": (["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=0", "seed=0,1"],
                  "hydra.launcher.n_jobs=0 is not allowed: allowed a positive number"),
    "empty run dir": (["hydra.run.dir="], "hydra.run.dir='' is not allowed: allowed a folder other "
                                          "than the working directory"),
    "here run dir": (["hydra.run.dir=."], "hydra.run.dir='.' is not allowed"),
    "empty sweep dir": (["-m", "hydra.sweep.dir=", "seed=0,1"], "hydra.sweep.dir='' is not allowed"),
    "other flags": (["--config-dir", "extra_conf", "model.leak_rate=2"],
                    "model.leak_rate=2.0 is out of range"),
}


def run(arguments, folder):
    return subprocess.run([sys.executable, "-m", "rnnlab", *arguments], cwd=folder,
                          capture_output=True, text=True, timeout=300)


def case_folder(folder):
    """A folder holding the data files the cases name."""
    (folder / "short.txt").write_text("xy" * 25)
    (folder / "tiny.txt").write_text("the quick brown fox.")
    (folder / "text.txt").write_text("abcdefghij" * 100)
    (folder / "empty.txt").write_text("")
    (folder / "binary.bin").write_bytes(b"\xff\xfe\x00bad")
    (folder / "folder").mkdir()
    (folder / "extra_conf").mkdir()
    return folder


def test_there_are_enough_cases():
    assert len(CASES) >= 50


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_bad_command_line_is_one_line_exit_2_and_leaves_nothing(tmp_path, name):
    folder = case_folder(tmp_path)
    result = run(CASES[name][0], folder)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rnnlab: error: ")
    assert CASES[name][1] in lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    written = {p.name for p in folder.iterdir()} - {"short.txt", "tiny.txt", "text.txt",
                                                   "empty.txt", "binary.bin", "folder",
                                                   "extra_conf"}
    assert written == set()
