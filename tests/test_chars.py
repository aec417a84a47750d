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
                "short": b"ab" * 10, "one_character": b"a" * 500}[case]
    (tmp_path / "text.txt").write_bytes(contents)
    return str(tmp_path / "text.txt")


@pytest.mark.parametrize("case, expected", [
    ("missing", "does not exist (relative paths are taken from the working directory"),
    ("directory", "is a directory: allowed a UTF-8 text file"),
    ("empty", "is an empty file: allowed a UTF-8 text file of at least 100 characters"),
    ("not_utf8", "is not UTF-8 text: byte 0xff at byte offset 3 (invalid start byte)"),
    ("short", "is too short: it has 20 characters (2 distinct); allowed at least 100 characters "
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
    (CharsTask(source="poems"), "task.source=poems is unknown: allowed file, hello, markov"),
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
