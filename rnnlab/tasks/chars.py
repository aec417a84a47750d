"""Character-level language modelling: read a text one character at a time, predict the next.

The text of N characters c_0 ... c_{N-1} becomes T = N - 1 pairs: input c_t (an index into the
vocabulary, meaning a one-hot vector), target c_{t+1} (an index). The first ``train_length`` pairs
train, the rest test. The vocabulary (``SeriesData.classes``) is the text's distinct characters in
sorted order; for ``markov`` it is the whole alphabet. Metric: cross-entropy in nats per character.

Sources (``source``):

- ``markov`` (default): an order-k Markov chain over the first ``alphabet_size`` lowercase
  letters. Each of the V^k contexts (the previous k characters) has its own next-character
  distribution, drawn from a symmetric Dirichlet(``concentration``). The start context is uniform;
  then ``length`` characters are generated. At the defaults (V = 8, k = 2, concentration 0.5)
  the entropy rate is typically 1.43-1.52 nats, while the unigram entropy stays near ln 8 = 2.079
  (the data rng of seeds 0-5, ``default_rng(seed).spawn(2)[1]``; seed 0: entropy rate 1.4916,
  unigram 2.0735): character frequencies alone say almost nothing, context says a lot, and much
  randomness remains.
- ``hello``: "hello" repeated to ``length`` characters (vocabulary e, h, l, o; the classic
  example: read "hell", predict "ello"). One character of context is ambiguous ("l" -> "l" or
  "o"), two determine the next.
- ``file``: the UTF-8 text of ``path`` (relative to the working directory; a leading byte-order
  mark is dropped; the file's length replaces ``length``).

Theory (:meth:`CharsTask.theory`, nats per character, worst to best; per window of W steps the
loss is W times these, e.g. an untrained model on 80 characters: 25 ln 80 = 109.55 per 25 steps):

    uniform       ln V                                   (a model at initialisation: all equal)
    unigram       H_1 = -sum_c p(c) ln p(c)              (p: character frequencies of the
                                                          training targets; no context used)
    entropy_rate  h = sum_s pi(s) H(P(. | s)),           (markov: the generating chain, exact;
                  H(P(. | s)) = -sum_c P(c|s) ln P(c|s)   pi its stationary distribution on the
                                                          V^k contexts s, pi P = pi)

For ``hello`` the entropy rate is the conditional entropy of the next character given the two
before it over one period (0: the source is periodic); for ``file`` only the first two levels.
A model at h has learnt the source; a unigram model has learnt only which characters are common.

Design: an experiment calls ``data = task.make_data(rng)`` and then ``task.theory(data)``.
``make_data`` keeps the chain it drew as the learned attribute ``task.chain_`` (scikit-learn
style: trailing underscore, not a dataclass field, so not a config key and not part of equality or
repr); ``theory`` reads it, or takes ``chain=`` explicitly. The chain is drawn from ``rng`` before
the text, so the same seed gives the same chain whatever ``length`` is.
"""

import hashlib
import math
import stat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

import numpy as np
from tqdm import tqdm

from rnnlab.losses import softmax
from rnnlab.resources import Need
from rnnlab.tasks.base import SeriesData, Task, split_rules
from rnnlab.tasks.information import conditional_entropy, entropy
from rnnlab.tasks.markov import MarkovChain, random_markov_chain
from rnnlab.validation import ConfigError, Range, at_least, positive, require

SOURCES = ("file", "hello", "markov")
MIN_CHARACTERS = 100     # a shorter text cannot give a useful training and test part
MAX_SAMPLE = 1_000_000   # characters sampled after training (each is one forward step)
MAX_CONTEXTS = 100_000   # alphabet_size**order: the transition table is contexts x alphabet_size
HELLO = "hello"
HELLO_ORDER = 2          # characters of context that determine the next one in "hellohello..."


@lru_cache(maxsize=8)
def _read_text(resolved: str, mtime_ns: int, size: int) -> str:
    """The decoded file, cached by path, modification time and size (so an edit is seen)."""
    return Path(resolved).read_bytes().decode("utf-8-sig")


def load_text(path: str, prefix: str = "task.") -> str:
    """The UTF-8 text of ``path``; ConfigError (one line naming ``{prefix}path``) if unusable."""
    where = f"{prefix}path={path!r}"
    require(path != "", f"{where} is empty: allowed the path of a UTF-8 text file "
                        f"(needed for {prefix}source=file)")
    file = Path(path)
    try:
        status = file.stat()
    except FileNotFoundError:
        raise ConfigError(f"{where} does not exist (relative paths are taken from the working "
                          f"directory {str(Path.cwd())!r})") from None
    except OSError as error:
        raise ConfigError(f"{where} cannot be read: {error.strerror}") from None
    require(not stat.S_ISDIR(status.st_mode), f"{where} is a directory: allowed a UTF-8 text file")
    require(status.st_size > 0, f"{where} is an empty file: allowed a UTF-8 text file of at "
                                f"least {MIN_CHARACTERS} characters")
    try:
        text = _read_text(str(file.resolve()), status.st_mtime_ns, status.st_size)
    except UnicodeDecodeError as error:
        raise ConfigError(f"{where} is not UTF-8 text: byte 0x{error.object[error.start]:02x} at "
                          f"byte offset {error.start} ({error.reason})") from None
    except OSError as error:
        raise ConfigError(f"{where} cannot be read: {error.strerror}") from None
    distinct = len(set(text))
    require(len(text) >= MIN_CHARACTERS and distinct >= 2,
            f"{where} is too short: it has {len(text)} characters ({distinct} distinct); allowed "
            f"at least {MIN_CHARACTERS} characters and 2 distinct")
    return text


def _codes(text: str) -> np.ndarray:
    """Unicode code points of ``text`` (sorted code points = Python's sorted order of str)."""
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


@dataclass
class CharsTask(Task):
    source: str = "markov"         # markov (random order-k chain), hello ("hello" repeated) or file
    path: str = ""                 # source=file: a UTF-8 text file (relative to the working directory)
    alphabet_size: int = 8         # markov: V, the first V lowercase letters
    order: int = 2                 # markov: k, characters of context the next one depends on
    concentration: float = 0.5     # markov: symmetric Dirichlet parameter of each context's row
    length: int = 200_000          # markov, hello: characters generated (file: the file's length)
    train_fraction: float = 0.9    # share of the N - 1 (input, next character) pairs that train
    sample_length: int = 200       # characters sampled from the trained model (samples.txt)
    temperature: float = 1.0       # softmax temperature for that sample (< 1 sharper, > 1 flatter)

    name: ClassVar[str] = "chars"
    primary_metric: ClassVar[str] = "test_cross_entropy"
    is_classification: ClassVar[bool] = True
    headline: ClassVar[tuple] = ("test_cross_entropy",)  # metrics shown in plot titles
    rules: ClassVar[dict[str, Range]] = {
        "alphabet_size": Range(2, 26),
        "order": at_least(1),
        # >= 0.1: smaller values make numpy's Dirichlet draws contain exact zeros, and a chain
        # with forbidden transitions may be reducible (then it has no unique entropy rate)
        "concentration": at_least(0.1),
        **split_rules(MIN_CHARACTERS),
        "sample_length": Range(1, MAX_SAMPLE),   # one forward step each: ~10 us to 1 ms
        "temperature": positive(),
    }

    chain_ = None  # set by make_data for source=markov: the MarkovChain that generated the text

    def check(self, prefix: str = "task.") -> None:
        super().check(prefix)
        require(self.source in SOURCES,
                f"{prefix}source={self.source} is unknown: allowed {', '.join(SOURCES)}")
        if self.source == "markov":
            contexts, max_order = 1, 0
            while contexts * self.alphabet_size <= MAX_CONTEXTS:
                contexts, max_order = contexts * self.alphabet_size, max_order + 1
            require(self.order <= max_order,
                    f"{prefix}order={self.order} is out of range for "
                    f"{prefix}alphabet_size={self.alphabet_size}: allowed <= {max_order} "
                    f"(alphabet_size**order <= {MAX_CONTEXTS} contexts)")
        pairs = self.text_length(prefix) - 1  # reads and checks the file for source=file
        require(1 <= self.train_length <= pairs - 1,
                f"{prefix}train_fraction={self.train_fraction} leaves {self.train_length} training "
                f"and {pairs - self.train_length} test pairs of {pairs}: allowed a value that "
                f"leaves at least 1 of each")

    def text_length(self, prefix: str = "task.") -> int:
        """N, the characters of the text (T = N - 1 pairs)."""
        return len(load_text(self.path, prefix)) if self.source == "file" else self.length

    def dimensions(self) -> tuple[int, int]:
        """V one-hot inputs and V classes (V: the alphabet, or the file's distinct characters)."""
        if self.source == "markov":
            size = self.alphabet_size
        elif self.source == "hello":
            size = len(set(HELLO))
        else:
            size = len(set(load_text(self.path)))
        return size, size

    def memory_needs(self) -> list[Need]:
        """The text as Python objects while it is drawn or decoded (~64 bytes a character)."""
        key = "task.path" if self.source == "file" else "task.length"
        value = self.path if self.source == "file" else self.length
        return [Need(key, value, "the text", 64 * self.text_length())]

    def series_length(self) -> int:
        """T = N - 1 (input, next character) pairs."""
        return self.text_length() - 1

    def make_data(self, rng: np.random.Generator) -> SeriesData:
        """Inputs: character indices (T,) int64; targets: the next character's index."""
        self.chain_ = None
        if self.source == "markov":
            self.chain_ = random_markov_chain(self.alphabet_size, self.order, self.concentration, rng)
            indices, classes = self.chain_.sample(self.length, rng), tuple(self.chain_.alphabet)
        else:
            if self.source == "hello":
                text = (HELLO * (self.length // len(HELLO) + 1))[:self.length]
            elif self.source == "file":
                text = load_text(self.path)
            else:
                raise ConfigError(f"task.source={self.source} is unknown: allowed {', '.join(SOURCES)}")
            vocabulary = np.unique(_codes(text))
            indices = np.searchsorted(vocabulary, _codes(text)).astype(np.int64)
            classes = tuple(chr(code) for code in vocabulary)
        return SeriesData(inputs=indices[:-1], targets=indices[1:],
                          train_length=self.train_length, classes=classes)

    def theory(self, data: SeriesData, chain: MarkovChain | None = None) -> dict[str, float]:
        """Reference losses in nats per character, worst to best (see the module docstring).

        For source=markov the chain is ``chain`` or else ``self.chain_`` from make_data.
        """
        size = len(data.classes)
        levels = {"uniform": math.log(size),
                  "unigram": entropy(np.bincount(data.y_train, minlength=size))}
        if self.source == "markov":
            chain = self.chain_ if chain is None else chain
            if chain is None:
                raise RuntimeError("theory() for source=markov needs the chain: call make_data "
                                   "first or pass chain=")
            if tuple(chain.alphabet) != tuple(data.classes):
                raise ValueError(f"the chain's alphabet {chain.alphabet!r} does not match the "
                                 f"data's classes {data.classes}")
            levels["entropy_rate"] = chain.entropy_rate()
        elif self.source == "hello":
            period = self.encode(HELLO + HELLO[:HELLO_ORDER], data)  # one period, wrapped around
            levels["entropy_rate"] = conditional_entropy(period, HELLO_ORDER, size)
        return levels

    def source_digest(self) -> str | None:
        if self.source != "file":
            return None
        return hashlib.sha256(load_text(self.path).encode("utf-8")).hexdigest()

    def samples(self, model, data: SeriesData, rng: np.random.Generator) -> str:
        """``sample_length`` characters from the trained model's free run: p = softmax(logits /
        temperature), each draw fed back as the next input; from the zero state, starting with
        the first character of the test part."""
        classes, drawn = len(data.classes), [int(data.inputs[data.train_length])]

        def next_input(t, logits):
            if logits is not None:
                drawn.append(int(rng.choice(classes, p=softmax(logits / self.temperature))))
            return np.eye(classes)[drawn[-1]]

        with tqdm(total=self.sample_length, desc="sampling", unit="char", disable=None,
                  leave=False) as progress:
            def counted(t, logits):
                progress.update()
                return next_input(t, logits)

            model.generate(self.sample_length, counted)
        return self.decode(drawn[:self.sample_length], data)

    @staticmethod
    def encode(text: str, data: SeriesData) -> np.ndarray:
        """Indices (int64) of ``text``'s characters in ``data.classes``."""
        vocabulary = np.array([ord(c) for c in data.classes], dtype=np.uint32)
        codes = _codes(text)
        indices = np.minimum(np.searchsorted(vocabulary, codes), len(vocabulary) - 1)
        unknown = codes != vocabulary[indices]
        if np.any(unknown):
            missing = "".join(sorted({chr(code) for code in codes[unknown]}))
            raise ValueError(f"characters {missing!r} are not in the vocabulary")
        return indices.astype(np.int64)

    @staticmethod
    def decode(indices, data: SeriesData) -> str:
        """The text spelled by character ``indices`` into ``data.classes``."""
        classes = data.classes
        return "".join(classes[i] for i in np.asarray(indices, dtype=np.int64).ravel().tolist())
