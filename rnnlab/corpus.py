"""``python -m rnnlab.corpus OUT``: write the text of a generated chars source to a file.

    python -m rnnlab.corpus OUT [--characters N] [--seed S] [--source words|markov|hello]

The text is ``CharsTask(source=..., length=N).make_data(default_rng(S).spawn(2)[1])`` spelled out
(the first input, then every target): the data stream a run with ``seed=S`` draws, so
``task=chars task.source=words task.length=N seed=S`` trains on exactly the text of the file
(``task.source=file task.path=OUT``). It is written as UTF-8, atomically, and one line goes to
stdout: the path, the characters, the distinct characters and the SHA-256 of the file (the
task's ``source_digest`` when it is read back). A bad argument is one line on stderr naming it,
its value and what is allowed; exit status 2, nothing written.
"""

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

from rnnlab.tables import atomic_path
from rnnlab.tasks.chars import MIN_CHARACTERS, CharsTask
from rnnlab.validation import Range, check_integer

SOURCES = ("words", "markov", "hello")
MAX_CHARACTERS = 100_000_000   # ~64 bytes a character while the text is drawn: ~6 GiB
PROGRAM = "rnnlab.corpus"


class Refused(Exception):
    """A bad command line: its message is the one line shown."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):   # argparse's own errors (unknown or missing arguments): one line
        raise Refused(message)


def corpus_text(source: str, characters: int, seed: int) -> str:
    """The ``characters`` characters of ``source`` that a run with ``seed`` trains and tests on."""
    task = CharsTask(source=source, length=characters)
    task.check()
    data = task.make_data(np.random.default_rng(seed).spawn(2)[1])
    return task.decode(np.r_[data.inputs[:1], data.targets], data)


def _integer(text: str, name: str, allowed: Range) -> int:
    """``text`` as an integer in ``allowed``; Refused (one line) otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise Refused(f"{name}={text!r} is not an integer: allowed an integer {allowed}") from None
    try:
        check_integer(value, name, allowed)
    except ValueError as error:
        raise Refused(str(error)) from None
    return value


def _destination(text: str) -> Path:
    """OUT as a path whose folder exists and that is not a folder itself; Refused otherwise."""
    path = Path(text)
    if text == "" or path.is_dir():
        raise Refused(f"OUT={text!r} is a directory: allowed the path of a file to write")
    if not path.parent.is_dir():
        raise Refused(f"OUT={text!r} is in a folder that does not exist ({str(path.parent)!r}): "
                      f"allowed a path in an existing folder")
    return path


def parse(argv: list[str] | None = None) -> tuple[Path, int, int, str]:
    """(OUT, characters, seed, source) from the command line; Refused for a bad argument."""
    parser = _Parser(prog=f"python -m {PROGRAM}", description="Write the text of a generated "
                     "chars source (the data a run with --seed draws) to OUT as UTF-8.")
    parser.add_argument("out", metavar="OUT", help="the file to write (its folder must exist)")
    parser.add_argument("--characters", default="1000000", metavar="N",
                        help=f"characters of text, >= {MIN_CHARACTERS} (default 1000000)")
    parser.add_argument("--seed", default="0", metavar="S", help="the run's seed (default 0)")
    parser.add_argument("--source", default="words", help=f"one of {', '.join(SOURCES)} "
                                                          f"(default words)")
    arguments = parser.parse_args(argv)
    characters = _integer(arguments.characters, "--characters", Range(MIN_CHARACTERS,
                                                                      MAX_CHARACTERS))
    seed = _integer(arguments.seed, "--seed", Range(0))
    if arguments.source not in SOURCES:
        raise Refused(f"--source={arguments.source!r} is not allowed: allowed "
                      f"{', '.join(SOURCES)}")
    return _destination(arguments.out), characters, seed, arguments.source


def write(out: Path, text: str) -> str:
    """Write ``text`` to ``out`` as UTF-8, atomically; its SHA-256 (Refused if it cannot be)."""
    data = text.encode("utf-8")
    try:
        with atomic_path(out) as temporary:
            temporary.write_bytes(data)
    except OSError as error:
        raise Refused(f"OUT={str(out)!r} cannot be written: {error.strerror}") from None
    return hashlib.sha256(data).hexdigest()


def main(argv: list[str] | None = None) -> int:
    """Write the corpus and print its line; the exit status (0; 2 for a bad argument, 130 on
    Ctrl-C)."""
    try:
        out, characters, seed, source = parse(argv)
        text = corpus_text(source, characters, seed)
        digest = write(out, text)
    except Refused as refusal:
        print(f"{PROGRAM}: error: {refusal}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted, nothing written", file=sys.stderr)
        return 130
    print(f"{out}: {len(text)} characters, {len(set(text))} distinct, sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
