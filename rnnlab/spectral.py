"""Spectral quantities of recurrent weight matrices: eigenvalues, spectral radius, sigma_max.

Small matrices are handled densely and exactly. Above ``DENSE_LIMIT`` units we use ARPACK
(implicitly restarted Arnoldi / Lanczos) with a fixed start vector, so the numbers are
deterministic, and a tight tolerance, so a rescaled reservoir hits its target radius to ~1e-10.
"""

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg

DENSE_LIMIT = 600  # matrices up to this size: dense LAPACK; above: ARPACK
ARPACK_TOLERANCE = 1e-12


def _dense(matrix) -> np.ndarray:
    return matrix.toarray() if scipy.sparse.issparse(matrix) else np.asarray(matrix)


def _subspace(n: int, wanted: int) -> int:
    """Arnoldi subspace size (ncv). The largest eigenvalues of a random matrix crowd the edge of
    its spectral disk; ARPACK's default ncv = 2k + 1 then converges to the wrong ones."""
    return min(n - 1, max(2 * wanted + 1, wanted + 64))


def eigenvalues(matrix, leading: int | None = None) -> np.ndarray:
    """Eigenvalues sorted by decreasing modulus: all of them, or only the ``leading`` largest.

    matrix: (N, N) dense or sparse. Asking for all eigenvalues of a large matrix is O(N^3).
    """
    n = matrix.shape[0]
    if leading is None or leading >= n - 1 or n <= DENSE_LIMIT:
        values = scipy.linalg.eigvals(_dense(matrix))
    else:
        values = scipy.sparse.linalg.eigs(
            matrix, k=leading, which="LM", v0=np.ones(n), tol=ARPACK_TOLERANCE,
            ncv=_subspace(n, leading), maxiter=100 * n, return_eigenvectors=False,
        )
    values = values[np.argsort(-np.abs(values), kind="stable")]
    return values if leading is None else values[:leading]


def spectral_radius(matrix) -> float:
    """rho(W) = max_i |lambda_i(W)|."""
    if matrix.shape[0] <= DENSE_LIMIT:
        return float(np.max(np.abs(scipy.linalg.eigvals(_dense(matrix)))))
    values = scipy.sparse.linalg.eigs(
        matrix, k=1, which="LM", v0=np.ones(matrix.shape[0]), tol=ARPACK_TOLERANCE,
        ncv=_subspace(matrix.shape[0], 1), maxiter=100 * matrix.shape[0],
        return_eigenvectors=False,
    )
    return float(np.abs(values[0]))


def largest_singular_value(matrix) -> float:
    """sigma_max(W) = ||W||_2, which bounds rho(W) from above."""
    if matrix.shape[0] <= DENSE_LIMIT:
        return float(scipy.linalg.svdvals(_dense(matrix))[0])
    values = scipy.sparse.linalg.svds(
        matrix, k=1, v0=np.ones(matrix.shape[0]), tol=ARPACK_TOLERANCE,
        return_singular_vectors=False,
    )
    return float(values[0])


def effective_spectral_radius(matrix, leak_rate: float) -> float:
    """rho(a W + (1 - a) I): the radius that governs a leaky-integrator reservoir."""
    if leak_rate == 1.0:
        return spectral_radius(matrix)
    identity = scipy.sparse.identity(matrix.shape[0], format="csr")
    if not scipy.sparse.issparse(matrix):
        identity = identity.toarray()
    return spectral_radius(leak_rate * matrix + (1.0 - leak_rate) * identity)


def recurrent_spectra(model, leading: int | None = None) -> dict[str, np.ndarray]:
    """Eigenvalues of each recurrent matrix of a model, by block name, sorted by decreasing
    modulus: RNN {"W_hh": ...}, LSTM {"W_hi", "W_hf", "W_ho", "W_hg"}, ESN {"W": ...}; in the
    matrix's own dtype. ``leading``: only the largest ones (large sparse reservoirs)."""
    return {block: eigenvalues(matrix, leading)
            for block, matrix in model.recurrent_blocks().items()}
