"""The echo task: data follow the definition, and the theory levels are the Bayes predictors' losses."""

import numpy as np
import pytest

from rnnlab.tasks.echo import EchoTask, theoretical_cross_entropy
from rnnlab.validation import ConfigError


def test_default_theory_levels_match_the_published_numbers():
    levels = EchoTask().theory()
    assert list(levels) == ["no_lag", "lag_3", "lags_3_8"]
    np.testing.assert_allclose(list(levels.values()), [0.661563, 0.519167, 0.454454], atol=1e-6)


def test_data_follow_the_definition():
    task = EchoTask(train_steps=300_000, test_steps=100)
    data = task.make_data(np.random.default_rng(0))
    x, y = data.inputs[:, 0].astype(int), data.targets
    t = np.arange(8, len(y))
    for x3 in (0, 1):
        for x8 in (0, 1):
            rows = t[(x[t - 3] == x3) & (x[t - 8] == x8)]
            assert y[rows].mean() == pytest.approx(min(1.0, 0.5 + 0.5 * x3 - 0.25 * x8), abs=0.01)
    assert x.mean() == pytest.approx(0.5, abs=0.01)


def test_each_level_is_the_loss_of_the_best_predictor_knowing_those_lags():
    """Score the Bayes predictors on sampled data (an estimate independent of the enumeration)."""
    task = EchoTask(train_steps=400_000, test_steps=100)
    data = task.make_data(np.random.default_rng(1))
    x, y = data.inputs[:, 0], data.targets
    x3, x8 = np.roll(x, 3), np.roll(x, 8)   # the first 8 steps wrap around; negligible
    predictors = {"no_lag": np.full(len(y), 0.625),
                  "lag_3": np.where(x3 == 1, 0.875, 0.375),
                  "lags_3_8": np.clip(0.5 + 0.5 * x3 - 0.25 * x8, 1e-12, 1 - 1e-12)}
    for label, level in task.theory().items():
        q = predictors[label]
        measured = -np.mean(np.where(y == 1, np.log(q), np.log(1 - q)))
        assert measured == pytest.approx(level, abs=0.004), label


def test_clipping_enters_the_theory():
    """With effects pushing P(Y=1) past 1, knowing both lags gives 0 loss where it is certain."""
    assert theoretical_cross_entropy(0.9, [0.5], known=1) == pytest.approx(
        0.5 * -(0.9 * np.log(0.9) + 0.1 * np.log(0.1)))
    assert theoretical_cross_entropy(0.5, [], known=0) == pytest.approx(np.log(2))


def test_same_seed_same_data():
    a, b, c = (EchoTask(train_steps=1000, test_steps=100).make_data(np.random.default_rng(s))
               for s in (0, 0, 1))
    assert np.array_equal(a.targets, b.targets) and not np.array_equal(a.targets, c.targets)


@pytest.mark.parametrize("fields, message", [
    ({"lags": [3, 3], "effects": [0.1, 0.1]}, "task.lags=[3, 3] is out of range: allowed distinct lags >= 1"),
    ({"lags": [3], "effects": [0.1, 0.2]}, "task.lags=[3] and task.effects=[0.1, 0.2] must have the same length"),
    ({"base": 1.5}, "task.base=1.5 is out of range: allowed in [0, 1]"),
])
def test_bad_settings_are_refused_with_one_line(fields, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        EchoTask(**fields).check()
