"""Sample text from a trained model's checkpoint, without training again.

    python -m rnnlab.sample RUN_DIR [--length N] [--temperature T] [--prime TEXT] [--seed S]
                                    [--state zero|checkpoint]

RUN_DIR is the run directory of a character-level BPTT run (it holds checkpoint.npz and
checkpoint.json). The model is rebuilt from the run's config and the checkpoint's parameters;
``--length``, ``--temperature`` and ``--prime`` default to the run's ``task.sample_length``,
``task.temperature`` and ``task.prime``. ``--state zero`` (the default) starts from the zero
state, as the sample after training does; ``--state checkpoint`` from the state training had
carried into its next window at the checkpoint's step, seeded with the character it read next --
so with the seed printed in samples.txt for that step, it draws the in-training sample again.
The text goes to stdout; a bad argument is one line on stderr and exit status 2.
"""

import argparse
import sys

import numpy as np

from rnnlab.experiments import checkpoints
from rnnlab.models import MODELS
from rnnlab.models.recurrent import select_lanes
from rnnlab.tasks import TASKS
from rnnlab.tasks.base import SeriesData
from rnnlab.validation import ConfigError

STATES = ("zero", "checkpoint")


def sample(run_dir, length: int | None = None, temperature: float | None = None,
           prime: str | None = None, seed: int = 0, state: str = "zero") -> str:
    """The text (see the module docstring); ConfigError (one line naming the argument) for an
    argument or run directory it cannot use."""
    found = checkpoints.load(run_dir, "run_dir")
    if state not in STATES:
        raise ConfigError(f"state={state!r} is not allowed: allowed {', '.join(STATES)}")
    if not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed={seed!r} is out of range: allowed an integer >= 0")
    model, task = _rebuild(found)
    classes = tuple(found.classes)
    length = task.sample_length if length is None else length
    temperature = task.temperature if temperature is None else temperature
    if not isinstance(length, int) or length < 0:
        raise ConfigError(f"length={length!r} is out of range: allowed an integer >= 0")
    if not temperature > 0:
        raise ConfigError(f"temperature={temperature!r} is out of range: allowed > 0")
    carried, first = None, found.seeds["test"]
    if state == "checkpoint":
        parts = found.snapshot.state
        carried = None if not parts else parts[0] if len(parts) == 1 else tuple(parts)
        carried, first = select_lanes(carried, slice(0, 1)), found.seeds["next"]
    data = SeriesData(inputs=np.array([first]), targets=np.array([first]), train_length=0,
                      classes=classes)
    try:
        return task.samples(model, data, np.random.default_rng(seed), state=carried, first=first,
                            prime=("" if state == "checkpoint" else None) if prime is None
                            else prime, length=length, temperature=temperature)
    except ValueError as error:   # e.g. a prime with characters outside the vocabulary
        raise ConfigError(str(error)) from None


def _rebuild(found):
    """The model (with the checkpoint's parameters) and task of the run's config."""
    where = f"run_dir={str(found.run_dir)!r}"
    config = found.config
    model_fields, task_fields = dict(config.get("model", {})), dict(config.get("task", {}))
    model_name, task_name = model_fields.pop("name", None), task_fields.pop("name", None)
    if model_name not in MODELS or MODELS[model_name].family != "recurrent" or \
            found.classes is None or task_name not in TASKS:
        raise ConfigError(f"{where} is not a run of a BPTT model on a text task: allowed the "
                          f"run directory of e.g. model=rnn task=chars")
    model = MODELS[model_name](**model_fields)
    params = found.snapshot.params
    model.build(params[model._input_weight].shape[1], params["W_hy"].shape[0])
    for name, value in params.items():
        model.params[name][...] = value
    return model, TASKS[task_name](**task_fields)


class _Parser(argparse.ArgumentParser):
    def error(self, message):   # one line, not the usage text
        print(f"rnnlab.sample: error: {message}", file=sys.stderr)
        sys.exit(2)


def main(argv=None) -> int:
    parser = _Parser(prog="python -m rnnlab.sample",
                     description="Sample text from a trained model's checkpoint.")
    parser.add_argument("run_dir", help="run directory holding checkpoint.npz and checkpoint.json")
    parser.add_argument("--length", type=int, help="characters to draw (default: the run's "
                                                   "task.sample_length)")
    parser.add_argument("--temperature", type=float, help="softmax temperature (default: the "
                                                          "run's task.temperature)")
    parser.add_argument("--prime", help="text the model reads first (default: the run's "
                                        "task.prime)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draws (default 0)")
    parser.add_argument("--state", default="zero", choices=STATES,
                        help="zero: the zero state; checkpoint: the state training carried at "
                             "the checkpoint, seeded with the next character")
    args = parser.parse_args(argv)
    try:
        text = sample(args.run_dir, args.length, args.temperature, args.prime, args.seed,
                      args.state)
    except ConfigError as error:
        print(f"rnnlab.sample: error: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
