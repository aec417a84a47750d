"""The chunked ESN fit (model.chunk_steps): the same states as one pass, the Gram matrix summed
chunk by chunk in O(N^2) memory (rnnlab.ridge.RidgeAccumulator), and chunked driving in predict,
lead_in and generate."""

import numpy as np
import pytest

from rnnlab import ESN, ConfigError, MackeyGlassTask
from rnnlab.ridge import RidgeAccumulator, fit_ridge


def series(steps=700, seed=0):
    rng = np.random.default_rng(seed)
    u = rng.uniform(-1, 1, (steps, 2))
    y = np.column_stack([np.sin(np.cumsum(u[:, 0]) / 5), np.roll(u[:, 1], 3)])
    return u, y


def test_accumulated_ridge_equals_the_one_pass_solution_on_offset_rows():
    rng = np.random.default_rng(1)
    features = rng.normal(size=(3000, 30)) + 5.0            # far from zero: the shift matters
    targets = features @ rng.normal(size=(30, 2)) + 0.1 * rng.normal(size=(3000, 2))
    for ridge in (1e-4, 0.0):
        weights, bias = fit_ridge(features, targets, ridge)
        accumulator = RidgeAccumulator()
        for start in range(0, 3000, 449):                  # chunks that do not divide the rows
            accumulator.add(features[start:start + 449], targets[start:start + 449])
        chunked_weights, chunked_bias = accumulator.solve(ridge)
        assert np.abs(chunked_weights - weights).max() < 1e-10 * np.abs(weights).max()
        assert np.abs(chunked_bias - bias).max() < 1e-9


def test_an_empty_accumulator_refuses_to_solve():
    with pytest.raises(ValueError, match="no rows were added"):
        RidgeAccumulator().solve(1e-6)


@pytest.mark.parametrize("chunk", [2, 64, 250, 699])
def test_chunked_fit_reaches_the_same_state_and_readout_as_one_pass(chunk):
    u, y = series()
    settings = dict(units=60, washout=130, noise=1e-3, feedback_scaling=0.5, ridge=1e-6, seed=3)
    whole = ESN(**settings).fit(u, y)
    chunked = ESN(chunk_steps=chunk, **settings).fit(u, y)
    assert np.array_equal(chunked.state_, whole.state_)    # the same states, bit for bit
    assert np.array_equal(chunked.last_output_, whole.last_output_)
    scale = np.abs(whole.W_out_).max()
    assert np.abs(chunked.W_out_ - whole.W_out_).max() < 1e-7 * scale
    test_u, test_y = series(200, seed=5)
    assert np.allclose(chunked.predict(test_u, test_y), whole.predict(test_u, test_y),
                       rtol=0, atol=1e-8)


def test_chunked_fit_is_deterministic():
    u, y = series()
    first = ESN(units=50, chunk_steps=97, seed=4).fit(u, y)
    second = ESN(units=50, chunk_steps=97, seed=4).fit(u, y)
    assert first.W_out_.tobytes() == second.W_out_.tobytes()


def test_chunked_predict_lead_in_and_generate_equal_one_pass_bit_for_bit():
    u, y = series()
    esn = ESN(units=50, feedback_scaling=0.3, seed=2).fit(u, y)
    test_u, test_y = series(301, seed=7)
    fitted = esn.state_, esn.last_output_

    def outputs():
        esn.state_, esn.last_output_ = fitted               # lead_in moves them: start over
        return (esn.predict(test_u, test_y), esn.generate(test_u),
                esn.lead_in(test_u[:121], test_y[:121]).state_)

    whole = outputs()
    esn.chunk_steps = 40                                     # 301 = 7 x 40 + 21; 121: 80 + 41
    chunked = outputs()
    for a, b in zip(chunked, whole):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("setting", [{"readout": "rls"}, {"ridge_path": [1e-8, 1e-6]}])
def test_chunk_steps_is_refused_where_the_states_must_be_kept(setting):
    with pytest.raises(ConfigError, match=r"ESN\.chunk_steps=100 is not allowed with ESN\."):
        ESN(chunk_steps=100, **setting).check()


def test_chunked_memory_estimate_counts_one_chunk_not_the_series():
    task = MackeyGlassTask()
    (inputs, outputs), (train, test) = task.dimensions(), task.split()
    whole = {need.key: need.bytes for need in ESN(units=500).memory_needs(
        inputs, outputs, 100 * train, test)}
    chunked = {need.key: need.bytes for need in ESN(units=500, chunk_steps=1000).memory_needs(
        inputs, outputs, 100 * train, test)}
    assert "series" in whole and "series" not in chunked
    assert chunked["model.chunk_steps"] == 4 * 8 * (inputs + 500) * 1000
    assert chunked["model.chunk_steps"] < whole["series"] / 50


def test_chunked_fit_gives_the_same_bytes_on_one_thread_as_on_two(monkeypatch):
    u, y = series()
    overlapped = ESN(units=50, chunk_steps=97, seed=4).fit(u, y)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")               # no second thread: in turn
    in_turn = ESN(units=50, chunk_steps=97, seed=4).fit(u, y)
    assert overlapped.W_out_.tobytes() == in_turn.W_out_.tobytes()
