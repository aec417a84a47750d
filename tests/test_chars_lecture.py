"""The character model as a lecture uses it: sample from a prime, train on English-like words,
write the text to a file (``python -m rnnlab.corpus``) and train on that file instead."""

import hashlib
import math
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from rnnlab import corpus
from rnnlab.losses import softmax
from rnnlab.models import LSTM, RNN
from rnnlab.tasks import chars, grammar
from rnnlab.tasks.chars import CharsTask
from rnnlab.validation import ConfigError


def data_rng(seed):
    return np.random.default_rng(seed).spawn(2)[1]  # how a run draws its data stream


@pytest.fixture(scope="module")
def hello():
    task = CharsTask(source="hello", length=500)
    return task, task.make_data(None)


def random_model(cls=RNN, size=4, hidden=16):
    """Large random weights: the state, and so each prediction, depends on what was read."""
    return cls(hidden_size=hidden, init_scale=0.5, seed=0).build(size, size)


def reference_sample(model, classes, seed, length, temperature, rng):
    """Step by step with model.run, carrying the state: read the seed's characters, then draw
    ``length`` more, each from softmax(logits / temperature) and fed back."""
    eye, state = np.eye(len(classes)), None
    for index in seed[:-1]:
        _, state = model.run(eye[[index]][:, None, :], state)
    current, drawn = seed[-1], []
    for _ in range(length):
        logits, state = model.run(eye[[current]][:, None, :], state)
        current = int(rng.choice(len(classes), p=softmax(logits[0, 0] / temperature)))
        drawn.append(current)
    return "".join(classes[i] for i in seed + drawn)


# ------------------------------------------------------------------ samples and primes
def test_a_sample_is_the_prime_then_length_drawn_characters(hello):
    task, data = hello
    text = task.samples(random_model(), data, np.random.default_rng(0), prime="hel", length=20)
    assert text.startswith("hel") and len(text) == 3 + 20 and set(text) <= set("ehlo")


@pytest.mark.parametrize("prime, temperature", [("", 1.0), ("h", 1.0), ("hell", 0.7),
                                                ("olleh", 2.0)])
def test_the_sample_matches_a_step_by_step_reference(hello, prime, temperature):
    task, data = hello
    model = random_model()
    seed = [data.classes.index(c) for c in prime] or [int(data.inputs[data.train_length])]
    expected = reference_sample(model, data.classes, seed, 30, temperature,
                                np.random.default_rng(4))
    assert task.samples(model, data, np.random.default_rng(4), prime=prime, length=30,
                        temperature=temperature) == expected


def test_without_a_prime_the_sample_starts_at_the_test_part_with_the_task_s_settings():
    task = CharsTask(source="hello", length=503, sample_length=12, temperature=0.5)
    data = task.make_data(None)
    model = random_model()
    first = int(data.inputs[data.train_length])           # 452 = 2 mod 5: "l"
    expected = reference_sample(model, data.classes, [first], 12, 0.5, np.random.default_rng(1))
    assert task.samples(model, data, np.random.default_rng(1)) == expected
    assert expected[0] == "l" and len(expected) == 13


def test_the_task_s_prime_is_the_default_and_the_same_rng_gives_the_same_sample(hello):
    _, data = hello
    task, model = CharsTask(source="hello", length=500, prime="hell"), random_model()
    first, again = (task.samples(model, data, np.random.default_rng(9)) for _ in range(2))
    assert first == again and first.startswith("hell") and len(first) == 4 + 200
    assert task.samples(model, data, np.random.default_rng(10)) != first


def test_a_prime_changes_the_continuation(hello):
    task, data = hello
    model = random_model()
    primed = task.samples(model, data, np.random.default_rng(5), prime="hell", length=40)
    bare = task.samples(model, data, np.random.default_rng(5), first=data.classes.index("l"),
                        length=40)
    assert primed[4:] != bare[1:]


def test_a_prime_is_read_from_the_given_state_of_an_lstm(hello):
    task, data = hello
    model = random_model(LSTM)
    eye = np.eye(4)
    _, state = model.run(eye[task.encode("he", data)][:, None, :])   # (h, c), each (1, H)
    assert isinstance(state, tuple) and state[0].shape == (1, 16)
    whole = task.samples(model, data, np.random.default_rng(2), prime="hello", length=25)
    rest = task.samples(model, data, np.random.default_rng(2), state=state, prime="llo",
                        length=25)
    assert whole[5:] == rest[3:] and rest.startswith("llo")


def test_a_prime_outside_the_vocabulary_is_refused_naming_the_characters(hello):
    task, data = hello
    with pytest.raises(ValueError) as error:
        task.samples(random_model(), data, np.random.default_rng(0), prime="help me")
    assert str(error.value) == ("prime='help me' holds ' mp', not in the vocabulary: allowed "
                                "characters of 'ehlo'")


@pytest.mark.parametrize("task, message", [
    (CharsTask(source="hello", prime="help"),
     "task.prime='help' holds 'p', not in the vocabulary: allowed characters of 'ehlo'"),
    (CharsTask(alphabet_size=3, prime="abcd"),
     "task.prime='abcd' holds 'd', not in the vocabulary: allowed characters of 'abc'"),
    (CharsTask(source="words", prime="the 1st"),
     "task.prime='the 1st' holds '1', not in the vocabulary: allowed characters of "
     f"{grammar.ALPHABET!r}"),
])
def test_the_task_s_prime_is_checked_with_the_config(task, message):
    with pytest.raises(ConfigError) as error:
        task.check()
    assert str(error.value) == message


def test_a_prime_of_the_vocabulary_passes_the_check():
    CharsTask(source="hello", prime="hello").check()
    CharsTask(source="words", prime="The old king").check()


@pytest.mark.parametrize("arguments, message", [
    ({"length": -1}, "length=-1 is out of range: allowed an integer in [0, 1e+06]"),
    ({"temperature": 0.0}, "temperature=0.0 is out of range: allowed a finite number > 0"),
    ({"first": 4}, "first=4 is out of range: allowed an integer in [0, 3] (an index into the 4 "
                   "classes)"),
    ({"prime": 5}, "prime=5 is not a string: allowed a text of the vocabulary's characters ('' "
                   "for none)"),
])
def test_bad_sample_arguments_are_one_line_value_errors(hello, arguments, message):
    task, data = hello
    with pytest.raises(ValueError) as error:
        task.samples(random_model(), data, np.random.default_rng(0), **arguments)
    assert str(error.value) == message


def test_a_progress_bar_only_for_long_samples(hello, monkeypatch):
    task, data = hello
    seen, real = [], chars.tqdm

    def recording(*args, **kwargs):
        seen.append(kwargs["disable"])
        return real(*args, **{**kwargs, "disable": True})

    monkeypatch.setattr(chars, "SAMPLE_BAR", 30)
    monkeypatch.setattr(chars, "tqdm", recording)
    for length in (0, 29, 30):
        assert len(task.samples(random_model(), data, np.random.default_rng(0), prime="he",
                                length=length)) == 2 + length
    assert seen == [True, True, None]    # None: shown where stderr is a terminal


# ------------------------------------------------------------------ the words source
def test_words_are_deterministic_and_a_shorter_text_is_a_prefix_of_a_longer_one():
    short, long, other = (grammar.generate(n, np.random.default_rng(s))
                          for n, s in ((500, 1), (40_000, 1), (500, 2)))
    assert len(short) == 500 and len(long) == 40_000
    assert long[:500] == short and other != short


def test_words_text_is_made_of_the_grammar_s_words_in_capitalised_sentences():
    text = grammar.generate(20_000, np.random.default_rng(0))
    tokens = text.split()
    known = [token.strip(",.?").lower() in grammar.WORDS for token in tokens[:-1]]  # last: cut
    assert all(known) and len(tokens) > 3000
    starts = [text[i + 2] for i in range(len(text) - 2) if text[i] in ".?" and text[i + 1] == " "]
    assert len(starts) > 300 and all(c.isupper() for c in starts)
    assert text[0].isupper() and 30 < text.count("\n") < 200 and "?" in text and "," in text
    words = text.replace(",", " ").replace(".", " ").replace("?", " ").lower().split()
    after_a = {w2[0] for w1, w2 in zip(words, words[1:]) if w1 == "a"}
    after_an = {w2[0] for w1, w2 in zip(words, words[1:]) if w1 == "an"}
    assert after_a.isdisjoint("aeiou") and after_an and after_an <= set("aeiou")


def test_words_source_has_the_grammar_s_alphabet_and_file_like_theory():
    task = CharsTask(source="words", length=30_000)
    task.check()
    data = task.make_data(data_rng(0))
    assert data.classes == tuple(grammar.ALPHABET) and 40 <= len(grammar.ALPHABET) <= 60
    assert task.dimensions() == (len(grammar.ALPHABET),) * 2
    assert set(task.decode(data.inputs, data)) == set(grammar.ALPHABET)   # all of them in use
    levels = task.theory(data)
    assert list(levels) == ["uniform", "unigram"]
    assert levels["uniform"] == math.log(len(grammar.ALPHABET))
    assert 2.5 < levels["unigram"] < levels["uniform"]


def test_a_million_characters_of_words_are_cut_exactly_and_a_shorter_text_is_a_prefix():
    text = grammar.generate(1_000_000, np.random.default_rng(0))
    assert len(text) == 1_000_000
    assert grammar.generate(5_000, np.random.default_rng(0)) == text[:5_000]


# ------------------------------------------------------------------ python -m rnnlab.corpus
def cli(arguments, folder):
    return subprocess.run([sys.executable, "-m", "rnnlab.corpus", *arguments], cwd=folder,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def command_lines(tmp_path_factory):
    """A good and a bad command line, each in a folder of its own, run side by side."""
    cases = {"good": ["words.txt", "--characters", "5000", "--seed", "3"],
             "bad": ["words.txt", "--characters", "2"]}
    folders = {name: tmp_path_factory.mktemp(name) for name in cases}
    with ThreadPoolExecutor(len(cases)) as pool:
        results = dict(zip(cases, pool.map(lambda name: cli(cases[name], folders[name]), cases)))
    return {name: (results[name], folders[name]) for name in cases}


def test_the_corpus_is_the_text_a_run_with_that_seed_trains_on(command_lines, monkeypatch):
    result, folder = command_lines["good"]
    assert result.returncode == 0 and result.stderr == ""
    written = (folder / "words.txt").read_bytes()
    digest = hashlib.sha256(written).hexdigest()
    text = written.decode("utf-8")
    assert result.stdout == f"words.txt: 5000 characters, {len(set(text))} distinct, sha256 {digest}\n"
    run = CharsTask(source="words", length=5000)
    data = run.make_data(data_rng(3))
    assert run.decode(np.r_[data.inputs[:1], data.targets], data) == text
    monkeypatch.chdir(folder)
    from_file = CharsTask(source="file", path="words.txt", vocabulary=grammar.ALPHABET)
    from_file.check()
    assert from_file.source_digest() == digest
    np.testing.assert_array_equal(from_file.make_data(data_rng(0)).inputs, data.inputs)
    assert [p.name for p in folder.iterdir()] == ["words.txt"]   # no temporary file left


def test_a_bad_corpus_command_line_is_one_line_exit_2_and_writes_nothing(command_lines):
    result, folder = command_lines["bad"]
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == ("rnnlab.corpus: error: --characters=2 is out of range: allowed an "
                             "integer in [3, 1e+08]\n")
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("arguments, message", [
    (["OUT.txt", "--characters", "abc"],
     "--characters='abc' is not an integer: allowed an integer in [3, 1e+08]"),
    (["OUT.txt", "--characters=1000000000"],
     "--characters=1000000000 is out of range: allowed an integer in [3, 1e+08]"),
    (["OUT.txt", "--seed", "-1"], "--seed=-1 is out of range: allowed an integer >= 0"),
    (["OUT.txt", "--source", "file"], "--source='file' is not allowed: allowed words, markov, "
                                      "hello"),
    (["."], "OUT='.' is a directory: allowed the path of a file to write"),
    (["missing/OUT.txt"], "OUT='missing/OUT.txt' is in a folder that does not exist ('missing'): "
                          "allowed a path in an existing folder"),
    ([], "the following arguments are required: OUT"),
    (["OUT.txt", "--lines", "3"], "unrecognized arguments: --lines 3"),
])
def test_bad_corpus_arguments_are_one_line_naming_the_argument(arguments, message, tmp_path,
                                                               monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert corpus.main(arguments) == 2
    captured = capsys.readouterr()
    assert captured.err == f"rnnlab.corpus: error: {message}\n" and captured.out == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("source, characters, distinct", [("hello", 12, 4), ("markov", 300, 8)])
def test_the_corpus_of_other_sources(source, characters, distinct, tmp_path, capsys):
    out = tmp_path / "text.txt"
    assert corpus.main([str(out), "--source", source, "--characters", str(characters)]) == 0
    text = out.read_text(encoding="utf-8")
    assert len(text) == characters and len(set(text)) == distinct
    assert text == corpus.corpus_text(source, characters, 0)
    assert capsys.readouterr().out.startswith(f"{out}: {characters} characters, {distinct} distinct")
    if source == "hello":
        assert text == "hellohellohe"
