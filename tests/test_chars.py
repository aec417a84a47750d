import dataclasses
import math

import numpy as np
import pytest

from rnnlab.tasks import markov
from rnnlab.tasks.chars import CharsTask
from rnnlab.tasks.information import conditional_entropy
from rnnlab.tasks.markov import MarkovChain, random_markov_chain
from rnnlab.validation import ConfigError


def data_rng(seed):
    return np.random.default_rng(seed).spawn(2)[1]  # how a run draws its data stream


def apply_chain(chain: MarkovChain, pi: np.ndarray) -> np.ndarray:
    """pi P on contexts, spelled out: context s emitting c moves to (s V) mod V^k + c."""
    moved = np.zeros_like(pi)
    for s in range(chain.contexts):
        for c in range(chain.size):
            moved[(s * chain.size) % chain.contexts + c] += pi[s] * chain.transitions[s, c]
    return moved


def test_markov_entropy_rate_matches_the_conditional_entropy_of_a_long_sample():
    chain = random_markov_chain(8, 2, 0.5, np.random.default_rng(7))
    text = chain.sample(1_000_000, np.random.default_rng(8))
    # independent estimate: counts of (two previous characters, next character)
    cells = np.bincount((text[:-2] * 8 + text[1:-1]) * 8 + text[2:], minlength=8 ** 3)
    joint = cells.reshape(64, 8) / cells.sum()
    context = joint.sum(axis=1, keepdims=True)
    mask = joint > 0
    empirical = -np.sum(joint[mask] * np.log((joint / context)[mask]))
    assert chain.entropy_rate() == pytest.approx(empirical, abs=0.01)


def test_stationary_distribution_sums_to_one_and_is_invariant():
    chain = random_markov_chain(8, 2, 0.5, np.random.default_rng(3))
    pi = chain.stationary_distribution()
    assert pi.sum() == pytest.approx(1.0, abs=1e-12) and pi.min() > 0
    np.testing.assert_allclose(apply_chain(chain, pi), pi, rtol=0, atol=1e-12)


def test_power_iteration_for_many_contexts_agrees_with_the_dense_solve(monkeypatch):
    chain = random_markov_chain(4, 5, 0.5, np.random.default_rng(4))  # 1024 contexts: dense
    dense = chain.stationary_distribution()
    monkeypatch.setattr(markov, "DENSE_CONTEXTS", 10)
    np.testing.assert_allclose(chain.stationary_distribution(), dense, rtol=0, atol=1e-13)


def test_default_chain_levels_are_ordered_entropy_rate_unigram_uniform():
    task = CharsTask()
    levels = task.theory(task.make_data(data_rng(0)))
    assert list(levels) == ["uniform", "unigram", "entropy_rate"]
    assert levels["uniform"] == math.log(8)
    assert levels["entropy_rate"] < levels["unigram"] - 0.3
    assert levels["unigram"] < levels["uniform"]
    assert task.chain_.entropy_rate() == levels["entropy_rate"]


def test_targets_are_inputs_shifted_by_one_and_classes_are_the_sorted_alphabet():
    task = CharsTask(length=1000, train_fraction=0.75)
    data = task.make_data(data_rng(1))
    assert data.inputs.dtype == data.targets.dtype == np.int64
    assert data.inputs.shape == data.targets.shape == (999,)
    np.testing.assert_array_equal(data.targets[:-1], data.inputs[1:])
    assert data.classes == tuple("abcdefgh")
    assert data.train_length == task.train_length == round(0.75 * 999)
    assert data.is_classification


def test_same_seed_gives_identical_data_and_another_seed_other_data():
    first, again, other = (CharsTask(length=2000).make_data(data_rng(s)) for s in (5, 5, 6))
    np.testing.assert_array_equal(first.inputs, again.inputs)
    assert not np.array_equal(first.inputs, other.inputs)


def test_chain_is_drawn_before_the_text_so_length_does_not_change_it():
    short, long = CharsTask(length=500), CharsTask(length=5000)
    short.make_data(data_rng(2)), long.make_data(data_rng(2))
    np.testing.assert_array_equal(short.chain_.transitions, long.chain_.transitions)


def test_the_drawn_chain_is_not_a_config_field_and_leaves_equality_alone():
    task = CharsTask()
    task.make_data(data_rng(0))
    assert "chain_" not in {f.name for f in dataclasses.fields(CharsTask)}
    assert task == CharsTask() and "chain_" not in repr(task)


def test_theory_for_markov_needs_the_chain_from_make_data():
    data = CharsTask(length=200).make_data(data_rng(0))
    with pytest.raises(RuntimeError, match="call make_data first"):
        CharsTask(length=200).theory(data)


def test_hello_is_deterministic_with_vocabulary_ehlo():
    task = CharsTask(source="hello", length=1001, train_fraction=0.5)
    data = task.make_data(data_rng(0))
    assert data.classes == ("e", "h", "l", "o")
    assert task.decode(data.inputs[:10], data) == "hellohello"
    levels = task.theory(data)  # 500 training targets "ellohello...h": 100 whole periods,
    # so the unigram is exactly that of (e, h, l, o) = (0.2, 0.2, 0.4, 0.2)
    assert levels["entropy_rate"] == 0.0
    assert levels["unigram"] == pytest.approx(-3 * 0.2 * math.log(0.2) - 0.4 * math.log(0.4),
                                              abs=1e-12)
    assert levels["uniform"] == math.log(4)


def test_one_character_of_context_leaves_hello_uncertain_after_l():
    # contexts h e l l o: only "l" is ambiguous (-> l or o, 1/2 each), and it is 2 of 5
    period = CharsTask.encode("hello" + "h", CharsTask(source="hello").make_data(None))
    assert conditional_entropy(period, 1, 4) == pytest.approx(0.4 * math.log(2), abs=1e-12)


def test_file_text_round_trips_through_encode_and_decode(tmp_path, monkeypatch):
    text = "To be, or not to be: that is the question.\nWhether 'tis nobler — in the mind — " * 3
    (tmp_path / "corpus.txt").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    task = CharsTask(source="file", path="corpus.txt", length=100)  # length is ignored
    task.check()
    data = task.make_data(data_rng(0))
    assert data.classes == tuple(sorted(set(text)))
    assert task.decode(np.r_[data.inputs, data.targets[-1:]], data) == text
    np.testing.assert_array_equal(task.encode(text, data)[:-1], data.inputs)
    assert data.train_length == task.train_length == round(0.9 * (len(text) - 1))
    assert set(task.theory(data)) == {"uniform", "unigram"}
    with pytest.raises(ValueError, match="not in the vocabulary"):
        task.encode("xyz!", data)


def test_an_edited_file_is_read_again(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("ab" * 100, encoding="utf-8")
    task = CharsTask(source="file", path=str(corpus))
    assert task.text_length() == 200
    corpus.write_text("abc" * 100, encoding="utf-8")
    assert task.text_length() == 300


def bad_file(tmp_path, case):
    if case == "missing":
        return str(tmp_path / "nowhere.txt")
    if case == "directory":
        return str(tmp_path)
    contents = {"empty": b"", "not_utf8": b"abc\xff\xfe" + b"x" * 200,
                "short": b"ab", "one_character": b"a" * 500}[case]
    (tmp_path / "text.txt").write_bytes(contents)
    return str(tmp_path / "text.txt")


@pytest.mark.parametrize("case, expected", [
    ("missing", "does not exist (relative paths are taken from the working directory"),
    ("directory", "is a directory: allowed a UTF-8 text file"),
    ("empty", "is an empty file: allowed a UTF-8 text file of at least 3 characters"),
    ("not_utf8", "is not UTF-8 text: byte 0xff at byte offset 3 (invalid start byte)"),
    ("short", "is too short: it has 2 characters (2 distinct); allowed at least 3 characters "
              "and 2 distinct"),
    ("one_character", "is too short: it has 500 characters (1 distinct)"),
])
def test_bad_file_is_a_one_line_error_naming_the_path(tmp_path, case, expected):
    path = bad_file(tmp_path, case)
    with pytest.raises(ConfigError) as error:
        CharsTask(source="file", path=path).check()
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"task.path={path!r} {expected}")


def test_empty_path_for_a_file_source_is_a_one_line_error():
    with pytest.raises(ConfigError) as error:
        CharsTask(source="file").check()
    assert str(error.value) == ("task.path='' is empty: allowed the path of a UTF-8 text file "
                                "(needed for task.source=file)")


@pytest.mark.parametrize("task, message", [
    (CharsTask(source="poems"), "task.source=poems is unknown: allowed file, hello, markov, "
                                "words"),
    (CharsTask(alphabet_size=27), "task.alphabet_size=27 is out of range: allowed in [2, 26]"),
    (CharsTask(alphabet_size=10, order=6),
     "task.order=6 is out of range for task.alphabet_size=10: allowed <= 5 "
     "(alphabet_size**order <= 100000 contexts)"),
    (CharsTask(concentration=0.01), "task.concentration=0.01 is out of range: allowed >= 0.1"),
    (CharsTask(temperature=0.0), "task.temperature=0.0 is out of range: allowed > 0"),
    (CharsTask(length=100, train_fraction=0.999),
     "task.train_fraction=0.999 leaves 99 training and 0 test pairs of 99: allowed a value that "
     "leaves at least 1 of each"),
])
def test_chars_range_errors_name_key_value_and_allowed(task, message):
    with pytest.raises(ConfigError) as error:
        task.check()
    assert str(error.value) == message


def test_defaults_pass_the_check():
    CharsTask().check()
    CharsTask(source="hello").check()


# ------------------------------------------------------------------ vocabulary: the class order
def test_a_vocabulary_sets_the_class_order_and_encode_decode_follow_it(tmp_path):
    text = "the quick brown fox jumps over the lazy dog."
    (tmp_path / "fox.txt").write_text(text, encoding="utf-8")
    vocabulary = "zyxwvutsrqponmlkjihgfedcba .!"          # reversed, with an unused '!'
    task = CharsTask(source="file", path=str(tmp_path / "fox.txt"), vocabulary=vocabulary)
    task.check()
    data = task.make_data(data_rng(0))
    assert data.classes == tuple(vocabulary) and task.dimensions() == (29, 29)
    assert data.inputs[0] == vocabulary.index("t") and data.targets[0] == vocabulary.index("h")
    expected = np.array([vocabulary.index(c) for c in text])        # by hand, character by character
    np.testing.assert_array_equal(task.encode(text, data), expected)
    assert task.decode(task.encode(text, data), data) == text
    assert task.theory(data)["uniform"] == math.log(29)             # the unused class counts in V


def test_hello_with_a_vocabulary_keeps_its_entropy_rate_and_text():
    task = CharsTask(source="hello", length=1000, vocabulary="olhe")
    task.check()
    data = task.make_data(None)
    assert data.classes == ("o", "l", "h", "e")
    assert task.decode(data.inputs[:7], data) == "hellohe"
    assert data.inputs[:5].tolist() == [2, 3, 1, 1, 0]
    assert task.theory(data)["entropy_rate"] == 0.0


def test_hello_shorter_than_a_period_still_has_the_four_classes():
    task = CharsTask(source="hello", length=3, train_fraction=0.5)
    task.check()
    data = task.make_data(None)
    assert data.classes == tuple("ehlo") and task.dimensions() == (4, 4)
    assert task.decode(np.r_[data.inputs, data.targets[-1:]], data) == "hel"


@pytest.mark.parametrize("task, message", [
    (CharsTask(source="hello", vocabulary="hel"),
     "task.vocabulary='hel' lacks 'o' of the text: allowed a string holding every character of "
     "the text once"),
    (CharsTask(source="hello", vocabulary="helol"),
     "task.vocabulary='helol' holds 'l' more than once: allowed a string holding every character "
     "of the text once"),
    (CharsTask(source="words", vocabulary="abc"),
     "task.vocabulary='abc' lacks '\\n ,.?ABCDEFGHIJLMNORSTWYZdefghiklmnopqrstuvwxy' of the words "
     "grammar: allowed a string holding every character of the words grammar once"),
    (CharsTask(vocabulary="abcdefgh"),
     "task.vocabulary='abcdefgh' is not allowed: allowed '' for task.source=markov: its alphabet "
     "is the first alphabet_size letters"),
])
def test_a_bad_vocabulary_is_a_one_line_error_naming_it(task, message):
    with pytest.raises(ConfigError) as error:
        task.check()
    assert str(error.value) == message


def test_a_file_vocabulary_must_hold_the_file_s_characters(tmp_path):
    (tmp_path / "t.txt").write_text("to be or not\nto be", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        CharsTask(source="file", path=str(tmp_path / "t.txt"), vocabulary="tobe r").check()
    assert str(error.value).startswith("task.vocabulary='tobe r' lacks '\\nn' of the text")


# ------------------------------------------------------------------ small texts
def test_a_39_character_text_is_accepted(tmp_path):
    text = "a small cat sat on the warm red mat ok."
    assert len(text) == 39
    (tmp_path / "cat.txt").write_text(text, encoding="utf-8")
    task = CharsTask(source="file", path=str(tmp_path / "cat.txt"))
    task.check()
    data = task.make_data(data_rng(0))
    assert (data.train_length, len(data.targets)) == (round(0.9 * 38), 38)
    task.check_training_length(34, "34 training steps")


@pytest.mark.parametrize("source", ["hello", "markov", "words"])
def test_three_characters_are_the_least_a_generated_text_may_have(source):
    CharsTask(source=source, length=3, train_fraction=0.5).check()
    with pytest.raises(ConfigError) as error:
        CharsTask(source=source, length=2).check()
    assert str(error.value) == "task.length=2 is out of range: allowed >= 3"


def brute_force_minimum(train_fraction, train_steps):
    """The least N whose split (Task.split on a task of length N) passes, found by counting."""
    length = 3
    while True:
        train, test = CharsTask(source="hello", length=length, train_fraction=train_fraction).split()
        if train >= train_steps and test >= 1:
            return length
        length += 1


@pytest.mark.parametrize("train_fraction", [0.01, 0.1, 0.25, 1 / 3, 0.5, 0.7, 0.9, 0.95, 0.999])
@pytest.mark.parametrize("train_steps", [1, 2, 5, 50, 137])
def test_the_minimum_length_is_exact_under_rounding(train_fraction, train_steps):
    minimum = CharsTask(source="hello", train_fraction=train_fraction).minimum_length(train_steps)
    assert minimum == brute_force_minimum(train_fraction, train_steps)
    CharsTask(source="hello", length=minimum, train_fraction=train_fraction) \
        .check_training_length(train_steps, "steps")
    with pytest.raises(ConfigError):
        CharsTask(source="hello", length=minimum - 1, train_fraction=train_fraction) \
            .check_training_length(train_steps, "steps")


def test_half_way_fractions_round_to_even_as_the_split_does():
    # 0.5 * 5 = 2.5 rounds to 2 (round half to even): 5 pairs leave only 2 training pairs
    task = CharsTask(source="hello", train_fraction=0.5)
    assert task.minimum_length(3) == 7 and brute_force_minimum(0.5, 3) == 7


def test_too_short_for_training_names_the_path_its_length_and_the_least_that_would_do(tmp_path):
    (tmp_path / "tiny.txt").write_text("abcde" * 6, encoding="utf-8")
    task = CharsTask(source="file", path=str(tmp_path / "tiny.txt"))
    task.check()
    with pytest.raises(ConfigError) as error:
        task.check_training_length(50, "train.bptt=25 x train.batch_size=2 = 50 training steps")
    assert str(error.value) == (
        f"task.path={str(tmp_path / 'tiny.txt')!r} is too short: it has 30 characters; allowed at "
        f"least 56 (train.bptt=25 x train.batch_size=2 = 50 training steps, with "
        f"task.train_fraction=0.9, and 1 test step)")
    # 56 characters: 0.9 * 55 = 49.5 rounds half to even, to 50 training pairs
    assert round(0.9 * 55) == 50 and round(0.9 * 54) == 49


def test_too_short_for_training_names_the_length_of_a_generated_text():
    with pytest.raises(ConfigError) as error:
        CharsTask(source="words", length=20, train_fraction=0.5).check_training_length(
            12, "train.bptt=12 x train.batch_size=1 = 12 training steps", prefix="chars.")
    assert str(error.value) == (
        "chars.length=20 is too short: it has 20 characters; allowed at least 24 (train.bptt=12 x "
        "train.batch_size=1 = 12 training steps, with chars.train_fraction=0.5, and 1 test step)")
    # 24 characters, 23 pairs: 0.5 * 23 = 11.5 rounds half to even, to 12 training pairs
