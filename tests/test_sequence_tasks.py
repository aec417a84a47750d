"""The sequence tasks (adding, copy, binary_addition): the layout of their episodes, data that
follow each definition, theory levels against Monte-Carlo and exhaustive estimates, and scores."""

import math

import numpy as np
import pytest

from rnnlab.tasks import TASKS, AddingTask, BinaryAdditionTask, CopyTask
from rnnlab.tasks.base import UNSCORED_CLASS
from rnnlab.tasks.binary_addition import carry_probabilities
from rnnlab.tasks.information import entropy
from rnnlab.validation import ConfigError

SMALL = [AddingTask(length=7, sequences=30, test_sequences=11),
         CopyTask(symbols=3, delay=4, alphabet=5, sequences=30, test_sequences=11),
         BinaryAdditionTask(bits=5, sequences=30, test_sequences=11)]
IDS = ["adding", "copy", "binary_addition"]


def per_sequence(array: np.ndarray, length: int) -> np.ndarray:
    return array.reshape(-1, length, *array.shape[1:])


def plug_in_conditional_entropy(target: np.ndarray, *conditions: np.ndarray) -> float:
    """H(target | conditions) in nats from the counts of the observed (conditions, target)
    (all small non-negative integers)."""
    def joint_entropy(*columns):
        key = np.zeros(target.size, dtype=np.int64)
        for column in columns:
            column = np.asarray(column).astype(np.int64).ravel()
            key = key * (column.max() + 1) + column
        counts = np.bincount(key)
        return entropy(counts[counts > 0])
    return joint_entropy(*conditions, target) - joint_entropy(*conditions)


# ------------------------------------------------------------------ the layout, for all three
def test_the_three_tasks_are_registered_by_name():
    assert (TASKS["adding"], TASKS["copy"], TASKS["binary_addition"]) == (
        AddingTask, CopyTask, BinaryAdditionTask)


@pytest.mark.parametrize("task", SMALL, ids=IDS)
def test_whole_sequences_lie_end_to_end_training_first(task):
    length = task.episode_length
    assert length == {"adding": 7, "copy": 3 + 4 + 3, "binary_addition": 6}[task.name]
    assert task.split() == (30 * length, 11 * length) and task.series_length() == 41 * length
    data = task.make_data(np.random.default_rng(0))
    assert data.episode_length == length and data.train_length == 30 * length
    assert len(data.inputs) == len(data.targets) == 41 * length
    # the training part is the first draw, the test part the next one from the same generator
    rng = np.random.default_rng(0)
    for part, count in ((slice(0, 30 * length), 30), (slice(30 * length, None), 11)):
        inputs, targets = task.draw(count, rng)
        assert inputs.shape[:2] == targets.shape[:2] == (count, length)
        np.testing.assert_array_equal(per_sequence(data.inputs[part], length), inputs)
        np.testing.assert_array_equal(per_sequence(data.targets[part], length), targets)


@pytest.mark.parametrize("task", SMALL, ids=IDS)
def test_shapes_and_dtypes_match_dimensions_and_kind(task):
    data = task.make_data(np.random.default_rng(1))
    inputs_size, outputs_size = task.dimensions()
    steps = task.series_length()
    if task.is_classification:
        assert data.targets.shape == (steps,) and data.targets.dtype == np.int64
        assert data.classes == task.labels() and len(data.classes) == outputs_size
        assert 0 <= data.targets.min() and data.targets.max() < outputs_size
        assert task.primary_metric == "test_cross_entropy"
    else:
        assert data.targets.shape == (steps, outputs_size) and data.targets.dtype == np.float64
        assert data.classes is None and task.primary_metric == "test_mse"
    if data.inputs.ndim == 1:   # class indices meaning one-hot vectors of size D_in
        assert data.inputs.dtype == np.int64 and data.inputs.max() < inputs_size
    else:
        assert data.inputs.shape == (steps, inputs_size) and data.inputs.dtype == np.float64


@pytest.mark.parametrize("task", SMALL, ids=IDS)
def test_the_training_sequences_do_not_depend_on_the_test_count(task):
    more = type(task)(**{**vars(task), "test_sequences": 40})
    a, b = (t.make_data(np.random.default_rng(5)) for t in (task, more))
    np.testing.assert_array_equal(a.u_train, b.u_train)
    np.testing.assert_array_equal(a.y_train, b.y_train)


@pytest.mark.parametrize("task", SMALL, ids=IDS)
def test_same_seed_same_data(task):
    a, b, c = (task.make_data(np.random.default_rng(seed)) for seed in (3, 3, 4))
    np.testing.assert_array_equal(a.inputs, b.inputs)
    np.testing.assert_array_equal(a.targets, b.targets)
    assert not np.array_equal(a.inputs, c.inputs)


@pytest.mark.parametrize("task", SMALL, ids=IDS)
def test_theory_levels_run_worst_first_down_to_zero(task):
    levels = list(task.theory(None).values())
    assert levels == sorted(levels, reverse=True) and levels[-1] == 0.0 and levels[0] > 0


@pytest.mark.parametrize("task", SMALL, ids=IDS)
def test_memory_needs_name_the_sequence_counts_and_the_length_key(task):
    needs = task.memory_needs()
    assert [need.key for need in needs] == ["task.sequences", "task.test_sequences"]
    assert [need.value for need in needs] == [30, 11]
    assert f"task.{task.length_key}={getattr(task, task.length_key)}" in needs[0].what
    assert needs[0].bytes == pytest.approx(needs[1].bytes * 30 / 11)
    longer = type(task)(**{**vars(task), task.length_key: 2 * getattr(task, task.length_key)})
    assert longer.memory_needs()[0].bytes > needs[0].bytes


@pytest.mark.parametrize("task", SMALL, ids=IDS)
def test_outputs_that_do_not_fit_the_test_part_are_refused(task):
    data = task.make_data(np.random.default_rng(0))
    with pytest.raises(ValueError, match="do not fit the test part"):
        task.sequence_scores(data, np.zeros((len(data.y_test) - 1, task.dimensions()[1])))


# ------------------------------------------------------------------ adding
def test_adding_has_one_marker_in_each_half_and_targets_their_sum_at_the_end():
    task = AddingTask(length=9, sequences=2000, test_sequences=500)
    data = task.make_data(np.random.default_rng(2))
    inputs, targets = per_sequence(data.inputs, 9), per_sequence(data.targets, 9)[..., 0]
    values, markers = inputs[..., 0], inputs[..., 1]
    assert values.min() >= 0 and values.max() < 1
    assert set(np.unique(markers)) == {0.0, 1.0}
    assert np.all(markers[:, :4].sum(axis=1) == 1) and np.all(markers[:, 4:].sum(axis=1) == 1)
    # every position of each half is used (uniform positions)
    assert set(np.argmax(markers[:, :4], axis=1)) == {0, 1, 2, 3}
    assert set(4 + np.argmax(markers[:, 4:], axis=1)) == {4, 5, 6, 7, 8}
    # scored only at the last step, where the target is the sum of the marked values
    assert np.isnan(targets[:, :-1]).all() and np.isfinite(targets[:, -1]).all()
    np.testing.assert_allclose(targets[:, -1], (values * markers).sum(axis=1), rtol=1e-15)


def test_adding_theory_is_the_mse_of_predicting_the_mean_and_of_knowing_one_value():
    task = AddingTask(length=6, sequences=200_000, test_sequences=1)
    levels = task.theory(None)
    assert levels == {"predict_mean": pytest.approx(1 / 6), "one_value": pytest.approx(1 / 12),
                      "exact": 0.0}
    data = task.make_data(np.random.default_rng(7))
    inputs = per_sequence(data.u_train, 6)
    total = per_sequence(data.y_train, 6)[:, -1, 0]
    first = inputs[np.arange(len(inputs)), np.argmax(inputs[:, :3, 1], axis=1), 0]
    assert np.mean((total - 1.0) ** 2) == pytest.approx(levels["predict_mean"], rel=0.01)
    assert np.mean((total - (first + 0.5)) ** 2) == pytest.approx(levels["one_value"], rel=0.01)


def test_adding_scores_the_share_of_sums_within_0_04():
    task = AddingTask(length=4, sequences=1, test_sequences=100_000)
    data = task.make_data(np.random.default_rng(8))
    score = lambda outputs: task.sequence_scores(data, outputs)["test_fraction_within_0_04"]
    assert score(data.y_test) == 1.0                     # the true values (NaN where unscored)
    # predicting the mean 1: P(|y - 1| < 0.04) = 1 - 0.96^2 (y - 1 is triangular on [-1, 1])
    assert score(np.ones_like(data.y_test)) == pytest.approx(1 - 0.96 ** 2, abs=0.003)
    assert score(data.y_test + 0.05) == 0.0
    assert score(np.full_like(data.y_test, np.nan)) == 0.0   # a diverged model solves nothing


# ------------------------------------------------------------------ copy
def test_copy_reads_symbols_waits_for_the_cue_and_recalls_them_in_order():
    task = CopyTask(symbols=4, delay=6, alphabet=8, sequences=3000, test_sequences=10)
    k, recall, blank, cue = 4, 4 + 6, 8, 9
    data = task.make_data(np.random.default_rng(3))
    inputs, targets = per_sequence(data.inputs, 14), per_sequence(data.targets, 14)
    symbols = inputs[:, :k]
    assert set(np.unique(symbols)) == set(range(8))
    assert np.all(inputs[:, k:recall - 1] == blank) and np.all(inputs[:, recall - 1] == cue)
    assert np.all(inputs[:, recall:] == blank)
    np.testing.assert_array_equal(targets[:, recall:], symbols)   # each held k + delay steps
    assert np.all(targets[:, :recall] == blank)
    assert not np.any(data.targets == UNSCORED_CLASS)             # every step is scored
    assert task.dimensions() == (10, 9) and data.classes[-1] == "blank"


def test_copy_memoryless_level_is_k_ln_alphabet_per_step_and_its_plug_in_estimate():
    task = CopyTask(sequences=20_000, test_sequences=1)
    assert task.episode_length == 20 + 2 * 5
    assert task.theory(None) == {"memoryless": pytest.approx(5 * math.log(8) / 30),
                                 "perfect_recall": 0.0}
    # the best predictor knowing only the step: H(target | step) from the generated targets
    targets = per_sequence(task.make_data(np.random.default_rng(4)).y_train, 30)
    steps = np.broadcast_to(np.arange(30), targets.shape)
    assert plug_in_conditional_entropy(targets, steps) == pytest.approx(
        task.theory(None)["memoryless"], abs=1e-3)


def test_copy_scores_recall_per_symbol_and_per_sequence():
    task = CopyTask(symbols=2, delay=3, alphabet=4, sequences=1, test_sequences=20_000)
    data = task.make_data(np.random.default_rng(5))
    perfect = np.eye(5)[data.y_test]                                 # one-hot logits
    assert task.sequence_scores(data, perfect) == {"test_recall_accuracy": 1.0,
                                                   "test_sequence_accuracy": 1.0}
    # equal logits: argmax picks class 0, right where the symbol due is 0 (1/4 of them)
    due = per_sequence(data.y_test, 7)[:, -2:]
    scores = task.sequence_scores(data, np.zeros_like(perfect))
    assert scores == {"test_recall_accuracy": np.mean(due == 0),
                      "test_sequence_accuracy": np.mean(np.all(due == 0, axis=1))}
    assert scores["test_recall_accuracy"] == pytest.approx(1 / 4, abs=0.01)
    assert scores["test_sequence_accuracy"] == pytest.approx(1 / 16, abs=0.005)
    wrong = perfect.copy()
    wrong[6::7] = np.nan                  # the last recall step of every sequence diverged
    assert task.sequence_scores(data, wrong) == {"test_recall_accuracy": 0.5,
                                                 "test_sequence_accuracy": 0.0}


# ------------------------------------------------------------------ binary addition
def test_binary_addition_targets_are_the_bits_of_the_integer_sum():
    task = BinaryAdditionTask(bits=20, sequences=5000, test_sequences=1)
    data = task.make_data(np.random.default_rng(6))
    inputs, targets = per_sequence(data.inputs, 21), per_sequence(data.targets, 21)
    assert set(np.unique(inputs)) == {0.0, 1.0} and np.all(inputs[:, -1] == 0)
    weights = 2 ** np.arange(21, dtype=np.int64)
    a, b = (inputs[..., j].astype(np.int64) @ weights for j in (0, 1))
    np.testing.assert_array_equal(targets @ weights, a + b)
    assert a.max() > 2 ** 19 and b.min() < 2 ** 12                 # the addends span the range


def test_carry_probabilities_follow_the_closed_form():
    t = np.arange(11)
    np.testing.assert_allclose(carry_probabilities(10), 0.5 - 0.5 ** (t + 1), rtol=0, atol=1e-15)


def sums_of_every_pair(bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The 4^bits sequences of (a_t, b_t) and bit t of a + b, from integer addition."""
    a, b = np.divmod(np.arange(4 ** bits), 2 ** bits)
    t = np.arange(bits + 1)
    inputs = np.stack([(a[:, None] >> t) & 1, (b[:, None] >> t) & 1], axis=-1)
    inputs[:, -1] = 0
    return inputs, ((a + b)[:, None] >> t) & 1


@pytest.mark.parametrize("bits", [1, 3, 5])
def test_binary_addition_theory_equals_exhaustive_enumeration(bits):
    """Every (a, b) once: the plug-in conditional entropies are then the exact ones."""
    inputs, targets = sums_of_every_pair(bits)
    steps = np.broadcast_to(np.arange(bits + 1), targets.shape)
    levels = BinaryAdditionTask(bits=bits).theory(None)
    assert plug_in_conditional_entropy(targets, inputs[..., 0], inputs[..., 1]) == pytest.approx(
        levels["input_only"], abs=1e-12)
    assert plug_in_conditional_entropy(targets, steps, inputs[..., 0], inputs[..., 1]) == \
        pytest.approx(levels["memoryless"], abs=1e-12)
    assert levels["exact"] == 0.0


def test_binary_addition_theory_matches_an_estimate_from_generated_data():
    task = BinaryAdditionTask(sequences=100_000, test_sequences=1)
    levels = task.theory(None)
    assert levels == {"input_only": pytest.approx(0.667569277, abs=1e-9),
                      "memoryless": pytest.approx(0.596927279, abs=1e-9), "exact": 0.0}
    data = task.make_data(np.random.default_rng(9))
    inputs, targets = per_sequence(data.u_train, 9), per_sequence(data.y_train, 9)
    steps = np.broadcast_to(np.arange(9), targets.shape)
    assert plug_in_conditional_entropy(targets, inputs[..., 0], inputs[..., 1]) == pytest.approx(
        levels["input_only"], abs=2e-3)
    assert plug_in_conditional_entropy(targets, steps, inputs[..., 0], inputs[..., 1]) == \
        pytest.approx(levels["memoryless"], abs=2e-3)


def test_binary_addition_scores_bits_and_whole_sums():
    task = BinaryAdditionTask(bits=2, sequences=1, test_sequences=50_000)
    data = task.make_data(np.random.default_rng(10))
    perfect = np.eye(2)[data.y_test]
    assert task.sequence_scores(data, perfect) == {"test_bit_accuracy": 1.0,
                                                   "test_sum_accuracy": 1.0}
    # equal logits predict 0 everywhere: right where the bit is 0 -- P = 1/2 at t < n and
    # 1 - p_n for the final carry -- and for the whole sum only when a + b = 0 (P = 4^-n)
    scores = task.sequence_scores(data, np.zeros_like(perfect))
    expected_bits = (2 * 0.5 + 1 - carry_probabilities(2)[-1]) / 3
    assert scores["test_bit_accuracy"] == pytest.approx(expected_bits, abs=0.005)
    assert scores["test_sum_accuracy"] == pytest.approx(1 / 16, abs=0.005)
    flipped = perfect[:, ::-1].copy()
    assert task.sequence_scores(data, flipped) == {"test_bit_accuracy": 0.0,
                                                   "test_sum_accuracy": 0.0}


# ------------------------------------------------------------------ bad values
@pytest.mark.parametrize("task, message", [
    (AddingTask(length=3), "task.length=3 is out of range: allowed >= 4"),
    (AddingTask(length=10.5), "task.length=10.5 is out of range: allowed an integer >= 4"),
    (AddingTask(sequences=0), "task.sequences=0 is out of range: allowed >= 1"),
    (CopyTask(test_sequences=True), "task.test_sequences=True is out of range: allowed an "
                                    "integer >= 1"),
    (CopyTask(symbols=0), "task.symbols=0 is out of range: allowed >= 1"),
    (CopyTask(delay=0), "task.delay=0 is out of range: allowed >= 1"),
    (CopyTask(alphabet=1), "task.alphabet=1 is out of range: allowed >= 2"),
    (BinaryAdditionTask(bits=0), "task.bits=0 is out of range: allowed >= 1"),
])
def test_bad_values_are_one_line_config_errors(task, message):
    with pytest.raises(ConfigError) as error:
        task.check()
    assert str(error.value) == message


@pytest.mark.parametrize("cls", [AddingTask, CopyTask, BinaryAdditionTask], ids=IDS)
def test_the_defaults_pass_their_checks(cls):
    cls().check()
