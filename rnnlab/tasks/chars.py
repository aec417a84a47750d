"""Character-level language modelling: read a text one character at a time, predict the next.

The text of N characters c_0 ... c_{N-1} becomes T = N - 1 pairs: input c_t (an index into the
vocabulary, meaning a one-hot vector), target c_{t+1} (an index). The first ``train_length`` pairs
train, the rest test. The vocabulary (``SeriesData.classes``, known before the data is made) is
``vocabulary`` in its own order where set (it holds every character the source can write, each
once, and may hold unused ones), else the source's characters in sorted order: the text's for
``file``, e h l o for ``hello``, the grammar's for ``words``, the first ``alphabet_size`` letters
for ``markov`` (which refuses a ``vocabulary``). Metric: cross-entropy in nats per character.

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
- ``words``: ``length`` characters of English-like prose from the word grammar of
  :mod:`rnnlab.tasks.grammar` (sentences of a few patterns over ~40 nouns, ~30 verbs in three
  tenses, ~25 adjectives, names; capitals, commas, full stops, question marks, a newline between
  paragraphs; 49 characters). Words, their order and agreement are learnable; which word comes
  next is random.
- ``file``: the UTF-8 text of ``path`` (relative to the working directory; a leading byte-order
  mark is dropped; the file's length replaces ``length``).

A text needs at least 3 characters (a training and a test pair) and 2 distinct;
:meth:`CharsTask.check_training_length` says how many a training run needs.

Theory (:meth:`CharsTask.theory`, nats per character, worst to best; per window of W steps the
loss is W times these, e.g. an untrained model on 80 characters: 25 ln 80 = 109.55 per 25 steps):

    uniform       ln V                                   (a model at initialisation: all equal)
    unigram       H_1 = -sum_c p(c) ln p(c)              (p: character frequencies of the
                                                          training targets; no context used)
    entropy_rate  h = sum_s pi(s) H(P(. | s)),           (markov: the generating chain, exact;
                  H(P(. | s)) = -sum_c P(c|s) ln P(c|s)   pi its stationary distribution on the
                                                          V^k contexts s, pi P = pi)

For ``hello`` the entropy rate is the conditional entropy of the next character given the two
before it over one period (0: the source is periodic); for ``file`` and ``words`` only the first
two levels.
A model at h has learnt the source; a unigram model has learnt only which characters are common.

Design: an experiment calls ``data = task.make_data(rng)`` and then ``task.theory(data)``.
``make_data`` keeps the chain it drew as the learned attribute ``task.chain_`` (scikit-learn
style: trailing underscore, not a dataclass field, so not a config key and not part of equality or
repr); ``theory`` reads it, or takes ``chain=`` explicitly. The chain is drawn from ``rng`` before
the text, so the same seed gives the same chain whatever ``length`` is (and ``words`` draws its
sentences in fixed batches, so a shorter text is a prefix of a longer one).

Samples (:meth:`CharsTask.samples`): the model reads a seed text (``prime``, or one character),
then draws ``length`` characters one at a time, c ~ softmax(logits / temperature), each fed back.
"""

import hashlib
import math
import numbers
import stat
import string
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

import numpy as np
from tqdm import tqdm

from rnnlab.losses import softmax
from rnnlab.resources import Need
from rnnlab.tasks import grammar
from rnnlab.tasks.base import SeriesData, Task, split_rules
from rnnlab.tasks.information import conditional_entropy, entropy
from rnnlab.tasks.markov import MarkovChain, random_markov_chain
from rnnlab.validation import ConfigError, Range, at_least, check_integer, positive, require

SOURCES = ("file", "hello", "markov", "words")
MIN_CHARACTERS = 3       # 2 pairs: one trains, one tests
MAX_SAMPLE = 1_000_000   # characters sampled after training (each is one forward step)
SAMPLE_BAR = 10_000      # a sample this long shows a progress bar (a short one would flicker)
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


def _missing(text: str, classes) -> str:
    """The characters of ``text`` that are not in ``classes``, sorted ('' if none)."""
    return "".join(sorted(set(text) - set(classes)))


def _indices(text: str, classes) -> np.ndarray:
    """Indices (int64) of ``text``'s characters in ``classes`` (single characters, any order):
    a binary search in the sorted codes, mapped back through their argsort."""
    vocabulary = _codes("".join(classes))
    order = np.argsort(vocabulary, kind="stable")
    ranked, codes = vocabulary[order], _codes(text)
    found = np.minimum(np.searchsorted(ranked, codes), len(ranked) - 1)
    if np.any(codes != ranked[found]):
        raise ValueError(f"characters {_missing(text, classes)!r} are not in the vocabulary")
    return order[found].astype(np.int64)


@dataclass
class CharsTask(Task):
    source: str = "markov"         # markov (random order-k chain), hello ("hello" repeated),
                                   # words (prose from a word grammar) or file
    path: str = ""                 # source=file: a UTF-8 text file (relative to the working directory)
    vocabulary: str = ""           # the classes in this order ('': the source's characters, sorted)
    alphabet_size: int = 8         # markov: V, the first V lowercase letters
    order: int = 2                 # markov: k, characters of context the next one depends on
    concentration: float = 0.5     # markov: symmetric Dirichlet parameter of each context's row
    length: int = 200_000          # markov, hello, words: characters generated (file: its length)
    train_fraction: float = 0.9    # share of the N - 1 (input, next character) pairs that train
    sample_length: int = 200       # characters drawn from the trained model (samples.txt)
    temperature: float = 1.0       # softmax temperature for that sample (< 1 sharper, > 1 flatter)
    prime: str = ""                # text the model reads before the sample ('': one character)

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
            require(self.vocabulary == "",
                    f"{prefix}vocabulary={self.vocabulary!r} is not allowed: allowed '' for "
                    f"{prefix}source=markov: its alphabet is the first alphabet_size letters")
        pairs = self.text_length(prefix) - 1  # reads and checks the file for source=file
        require(1 <= self.train_length <= pairs - 1,
                f"{prefix}train_fraction={self.train_fraction} leaves {self.train_length} training "
                f"and {pairs - self.train_length} test pairs of {pairs}: allowed a value that "
                f"leaves at least 1 of each")
        classes = self.classes(prefix)        # checks the vocabulary
        missing = _missing(self.prime, classes)
        require(not missing, f"{prefix}prime={self.prime!r} holds {missing!r}, not in the "
                             f"vocabulary: allowed characters of {classes!r}")

    def text_length(self, prefix: str = "task.") -> int:
        """N, the characters of the text (T = N - 1 pairs)."""
        return len(load_text(self.path, prefix)) if self.source == "file" else self.length

    def classes(self, prefix: str = "task.") -> str:
        """The vocabulary in class order, known before the data is made: ``vocabulary`` if set
        (ConfigError, one line, unless it holds each character of the source once), else the
        source's characters sorted (markov: the first alphabet_size letters)."""
        if self.source == "markov":
            return string.ascii_lowercase[:self.alphabet_size]   # as random_markov_chain
        if self.source == "file":
            codes = np.unique(_codes(load_text(self.path, prefix)))
            needed, of = "".join(chr(code) for code in codes.tolist()), "the text"
        elif self.source == "words":
            needed, of = grammar.ALPHABET, "the words grammar"
        elif self.source == "hello":
            needed, of = "".join(sorted(set(HELLO))), "the text"
        else:
            raise ConfigError(f"{prefix}source={self.source} is unknown: allowed "
                              f"{', '.join(SOURCES)}")
        if self.vocabulary == "":
            return needed
        where = f"{prefix}vocabulary={self.vocabulary!r}"
        allowed = f"allowed a string holding every character of {of} once"
        repeated = "".join(sorted(c for c, count in Counter(self.vocabulary).items() if count > 1))
        require(not repeated, f"{where} holds {repeated!r} more than once: {allowed}")
        missing = _missing(needed, self.vocabulary)
        require(not missing, f"{where} lacks {missing!r} of {of}: {allowed}")
        return self.vocabulary

    def dimensions(self) -> tuple[int, int]:
        """V one-hot inputs and V classes (V = len(classes()))."""
        size = len(self.classes())
        return size, size

    def memory_needs(self) -> list[Need]:
        """The text as Python objects while it is drawn or decoded (~64 bytes a character)."""
        key, value = self._length_key()
        return [Need(f"task.{key}", value, "the text", 64 * self.text_length())]

    def _length_key(self) -> tuple[str, object]:
        """The key that sizes the text and its value: path for source=file, else length."""
        return ("path", self.path) if self.source == "file" else ("length", self.length)

    def series_length(self) -> int:
        """T = N - 1 (input, next character) pairs."""
        return self.text_length() - 1

    def minimum_length(self, train_steps: int = 1) -> int:
        """The fewest characters N whose split leaves >= ``train_steps`` training pairs and >= 1
        test pair: the least T = N - 1 with round(f T) >= train_steps and T - round(f T) >= 1
        (f = train_fraction). Both grow with T, so steps from the estimate
        T ~ max((train_steps - 1/2) / f, 1/2 / (1 - f)) make it exact under rounding."""
        fraction = self.train_fraction

        def enough(pairs: int) -> bool:
            train = int(round(fraction * pairs))   # as Task.split
            return train >= train_steps and pairs - train >= 1

        pairs = max(MIN_CHARACTERS - 1,
                    math.ceil(max((train_steps - 0.5) / fraction, 0.5 / (1 - fraction))))
        while not enough(pairs):
            pairs += 1
        while pairs > MIN_CHARACTERS - 1 and enough(pairs - 1):
            pairs -= 1
        return pairs + 1

    def check_training_length(self, train_steps: int, needed_for: str,
                              prefix: str = "task.") -> None:
        """Raise ConfigError (one line) unless the split leaves >= ``train_steps`` training pairs
        and a test pair. ``needed_for`` says why those steps, e.g. "train.bptt=25 x
        train.batch_size=2 = 50 training steps"; the message names the key that sizes the text
        (task.path or task.length) and the least number of characters that would do."""
        check_integer(train_steps, "train_steps", at_least(1))
        train, test = self.split()
        if train >= train_steps and test >= 1:
            return
        key, value = self._length_key()
        raise ConfigError(f"{prefix}{key}={value!r} is too short: it has "
                          f"{self.text_length(prefix)} characters; allowed at least "
                          f"{self.minimum_length(train_steps)} "
                          f"({needed_for}, with {prefix}train_fraction={self.train_fraction}, and "
                          f"1 test step)")

    def make_data(self, rng: np.random.Generator) -> SeriesData:
        """Inputs: character indices (T,) int64; targets: the next character's index."""
        self.chain_ = None
        classes = tuple(self.classes())   # ConfigError for an unknown source
        if self.source == "markov":
            self.chain_ = random_markov_chain(self.alphabet_size, self.order, self.concentration, rng)
            indices = self.chain_.sample(self.length, rng)
        else:
            if self.source == "hello":
                text = (HELLO * (self.length // len(HELLO) + 1))[:self.length]
            elif self.source == "words":
                text = grammar.generate(self.length, rng)
            else:
                text = load_text(self.path)
            indices = _indices(text, classes)
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

    def samples(self, model, data: SeriesData, rng: np.random.Generator, state=None,
                first: int | None = None, prime: str | None = None, length: int | None = None,
                temperature: float | None = None) -> str:
        """The seed text, then ``length`` characters of the model's free run, each drawn as
        c ~ softmax(logits / temperature) (rng.choice) and fed back as the next input.

        The seed is ``prime`` (default ``self.prime``): from ``state`` (the state of one sequence,
        e.g. RNN h (1, H), LSTM (h, c); None: zeros) the model reads all but its last character
        (model.run), and the last starts the free run (model.generate). Without a prime the seed
        is the character index ``first`` (default: the test part's first input). Defaults:
        length = sample_length, temperature = self.temperature. Returns seed + drawn characters.
        """
        classes, size = data.classes, len(data.classes)
        prime = self.prime if prime is None else prime
        length = self.sample_length if length is None else length
        temperature = self.temperature if temperature is None else temperature
        check_integer(length, "length", Range(0, MAX_SAMPLE))
        if not (isinstance(temperature, numbers.Real) and 0 < temperature < math.inf):
            raise ValueError(f"temperature={temperature!r} is out of range: allowed a finite "
                             f"number > 0")
        if not isinstance(prime, str):
            raise ValueError(f"prime={prime!r} is not a string: allowed a text of the vocabulary's "
                             f"characters ('' for none)")
        one_hot = np.eye(size)
        if prime:
            missing = _missing(prime, classes)
            if missing:
                raise ValueError(f"prime={prime!r} holds {missing!r}, not in the vocabulary: "
                                 f"allowed characters of {''.join(classes)!r}")
            indices = _indices(prime, classes)
            if len(indices) > 1:
                _, state = model.run(one_hot[indices[:-1]][:, None, :], state)   # (P - 1, 1, V)
            seed, drawn = prime, [int(indices[-1])]
        else:
            first = int(data.inputs[data.train_length]) if first is None else first
            check_integer(first, "first", Range(0, size - 1),
                          f" (an index into the {size} classes)")
            seed, drawn = classes[first], [int(first)]

        def draw(logits):
            drawn.append(int(rng.choice(size, p=softmax(logits / temperature))))

        with tqdm(total=length, desc="sampling", unit="char", leave=False,
                  disable=True if length < SAMPLE_BAR else None) as progress:
            def next_input(t, logits):
                if logits is not None:
                    draw(logits)
                progress.update()
                return one_hot[drawn[-1]]

            outputs, _ = model.generate(length, next_input, state)
            if length:
                draw(outputs[-1])   # the last step's output gives the last character
        return seed + self.decode(drawn[1:], data)

    @staticmethod
    def encode(text: str, data: SeriesData) -> np.ndarray:
        """Indices (int64) of ``text``'s characters in ``data.classes`` (in any order)."""
        return _indices(text, data.classes)

    @staticmethod
    def decode(indices, data: SeriesData) -> str:
        """The text spelled by character ``indices`` into ``data.classes``."""
        classes = data.classes
        return "".join(classes[i] for i in np.asarray(indices, dtype=np.int64).ravel().tolist())
