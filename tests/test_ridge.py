"""The ridge solve of the normal equations: LAPACK's Cholesky, its condition estimate, one-norm."""

import logging
import warnings

import numpy as np
import pytest
import scipy.linalg

from rnnlab.ridge import DivergedFeatures, solve_normal_equations, symmetric_one_norm


def collinear_gram(rows=1000, features=50, seed=0):
    """X^T X and X^T Y with X's features 10 and 11 equal but for 1e-9 of another: nearly
    singular, as a noise-free reservoir's can be."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, features))
    X[:, 10] = X[:, 11] + 1e-9 * X[:, 12]
    return X.T @ X, X.T @ rng.standard_normal((rows, 2))


def test_ill_conditioned_equations_are_solved_as_scipy_solves_them_and_logged_once(caplog):
    gram, cross = collinear_gram()
    penalised = gram + 1e-12 * np.eye(len(gram))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        expected = scipy.linalg.solve(penalised, cross, assume_a="pos")
    (scipy_warning,) = caught                           # scipy's own: rcond = ...
    rcond = float(str(scipy_warning.message).rsplit("= ", 1)[1].rstrip("."))
    with caplog.at_level(logging.WARNING, logger="rnnlab.ridge"), warnings.catch_warnings():
        warnings.simplefilter("error")                  # no Python warning reaches the user
        weights = solve_normal_equations(gram.T.copy(), cross, 1e-12)
    np.testing.assert_array_equal(weights, expected)    # same factorisation, same bytes
    (record,) = caplog.records
    assert f"reciprocal condition number {rcond:.2g} at ridge penalty 1e-12" in record.message


def test_a_well_conditioned_solve_logs_nothing(caplog):
    gram, cross = collinear_gram()
    with caplog.at_level(logging.WARNING, logger="rnnlab.ridge"):
        weights = solve_normal_equations(gram.T.copy(), cross, 1.0)
    np.testing.assert_allclose(weights, np.linalg.solve(gram + np.eye(len(gram)), cross),
                               rtol=1e-10)
    assert caplog.records == []


def test_equations_that_are_not_positive_definite_raise_linalg_error():
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        solve_normal_equations(-np.eye(3), np.ones((3, 1)), 0.5)


@pytest.mark.parametrize("rows", [1, 7, 512])
def test_the_one_norm_reads_only_the_upper_triangle(rows):
    rng = np.random.default_rng(1)
    full = rng.standard_normal((20, 20))
    full = full + full.T
    upper = np.triu(full) + np.tril(rng.standard_normal((20, 20)) * 100, -1)  # junk below
    assert symmetric_one_norm(upper, rows) == pytest.approx(np.abs(full).sum(axis=0).max(),
                                                            rel=1e-12)


def test_diverged_features_are_an_error_not_nan_weights():
    # a linear reservoir past rho = 1 overflows: its Gram matrix is inf/NaN, and LAPACK would
    # return NaN weights (and a condition estimate of 0) without a word
    gram, cross = collinear_gram()
    gram[3, 7] = np.inf
    with pytest.raises(DivergedFeatures, match="the states diverged"):
        solve_normal_equations(gram, cross, 1e-6)
