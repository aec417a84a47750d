"""Ridge regression readout with an unregularised bias.

Solves  min_{w, b} ||Y - b - X w||^2 + beta ||w||^2  by centring X and Y (which removes b from
the penalty) and a Cholesky solve of the normal equations (Xc^T Xc + beta I) w = Xc^T Yc;
then b = mean(Y) - mean(X) w.

The ridge path: with one eigendecomposition Xc^T Xc = V diag(lambda) V^T, every beta's weights
are w(beta) = V diag(1 / (lambda + beta)) V^T Xc^T Yc, so many penalties cost one
factorisation (:func:`ridge_path`), and the one with the least validation error is chosen
without driving the reservoir again (:func:`choose_ridge`).

Streamed (:class:`RidgeAccumulator`): the same problem from rows that arrive chunk by chunk, in
O(F^2) memory. Each chunk is shifted by a reference r (the first chunk's mean) before its
products are added, S = sum (x - r)(x - r)^T, and the centred Gram matrix is recovered at the end
as Xc^T Xc = S - n (m - r)(m - r)^T with m the mean of all rows; since m - r is small, the
correction cancels little (forming X^T X - n m m^T directly loses digits on offset states).
"""

import logging

import numpy as np
import scipy.linalg
import scipy.linalg.blas
import scipy.linalg.lapack

log = logging.getLogger(__name__)


def fit_ridge(features: np.ndarray, targets: np.ndarray, ridge: float,
              overwrite_features: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """features: (T, F), targets: (T, D) -> (weights (F, D), bias (D,)).

    overwrite_features: centre ``features`` in place instead of in a copy (saves T*F memory).
    """
    with np.errstate(over="ignore", invalid="ignore"):  # diverged features: the solve says so
        feature_mean = features.mean(axis=0)
        target_mean = targets.mean(axis=0)
        if overwrite_features:
            features -= feature_mean
            centred = features
        else:
            centred = features - feature_mean
        centred_targets = targets - target_mean
        if ridge > 0:
            gram = centred.T @ centred  # (F, F); numpy uses a symmetric rank-k update here,
            # and mirrors it: exactly symmetric, so its transpose, Fortran-ordered as LAPACK
            # wants it, is the same matrix without a copy
            cross = centred.T @ centred_targets
    if ridge > 0:
        weights = solve_normal_equations(gram.T, cross, ridge)
    else:  # no regularisation: the minimum-norm least-squares solution
        weights = np.linalg.lstsq(centred, centred_targets, rcond=None)[0]
    bias = target_mean - feature_mean @ weights
    return weights, bias


class DivergedFeatures(np.linalg.LinAlgError):
    """The features reached infinity or NaN (a reservoir past its stable range): nothing to
    solve. A LinAlgError, so that whoever treats a failed solve as a NaN result does here too."""


def solve_normal_equations(gram: np.ndarray, cross: np.ndarray, ridge: float) -> np.ndarray:
    """w = (Xc^T Xc + ridge I)^-1 Xc^T Yc from gram (F, F; its upper triangle, as LAPACK sees
    it) and cross (F, D), by Cholesky (``gram`` is overwritten); ridge 0: the minimum-norm
    solution of the normal equations. Ill-conditioned equations (LAPACK's estimate of the
    reciprocal condition number below machine precision) are solved all the same and logged
    in one line; a matrix that is not positive definite raises numpy.linalg.LinAlgError, one
    that is not finite :class:`DivergedFeatures`."""
    if ridge == 0:
        return scipy.linalg.lstsq(gram, cross)[0]
    gram[np.diag_indices_from(gram)] += ridge
    norm = symmetric_one_norm(gram)
    if not (np.isfinite(norm) and np.all(np.isfinite(cross))):
        raise DivergedFeatures("the readout's features reached infinity or NaN (the states "
                               "diverged): no readout to fit")
    factor, info = scipy.linalg.lapack.dpotrf(gram, lower=False, overwrite_a=True, clean=False)
    if info != 0:
        raise np.linalg.LinAlgError(f"the ridge normal equations are not positive definite "
                                    f"(Cholesky pivot {info}, penalty {ridge:g})")
    weights, _ = scipy.linalg.lapack.dpotrs(factor, cross, lower=False)
    rcond, _ = scipy.linalg.lapack.dpocon(factor, norm, uplo="U")
    if rcond < np.finfo(float).eps:
        log.warning("ridge readout: ill-conditioned normal equations (reciprocal condition "
                    "number %.2g at ridge penalty %g, below machine precision): solved all the "
                    "same; a larger penalty makes the weights less sensitive to rounding",
                    rcond, ridge)
    return weights


def symmetric_one_norm(matrix: np.ndarray, rows: int = 512) -> float:
    """max_j sum_i |a_ij| of the symmetric matrix whose upper triangle ``matrix`` (F, F) holds
    (the other triangle is not read), ``rows`` rows at a time (no F x F copy)."""
    F = matrix.shape[0]
    sums = np.zeros(F)
    for start in range(0, F, rows):
        block = np.abs(np.triu(matrix[start:start + rows], k=start))  # a_ij, i in block, j >= i
        sums += block.sum(axis=0)                                    # the upper part of column j
        block[:, start:start + rows][np.diag_indices(len(block))] = 0.0
        sums[start:start + rows] += block.sum(axis=1)                # the part below (a_ji, j > i)
    return float(sums.max())


def ridge_path(features: np.ndarray, targets: np.ndarray, ridges,
               validation: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The validation NRMSE (std-normalised, pooled over the outputs) of the ridge solution for
    each penalty in ``ridges``: fitted on features (T, F) / targets (T, D), scored on
    validation = (features (V, F), targets (V, D)); one eigendecomposition for all. (R,)"""
    feature_mean, target_mean = features.mean(axis=0), targets.mean(axis=0)
    centred = features - feature_mean
    eigenvalues, vectors = np.linalg.eigh(centred.T @ centred)     # Xc^T Xc = V diag(l) V^T
    projected = vectors.T @ (centred.T @ (targets - target_mean))  # V^T Xc^T Yc (F, D)
    valid_features, valid_targets = validation
    rotated = (valid_features - feature_mean) @ vectors           # (V, F)
    scale = np.sqrt(np.mean(np.var(valid_targets, axis=0)))
    errors = []
    for ridge in ridges:
        prediction = rotated @ (projected / (np.maximum(eigenvalues, 0.0) + ridge)[:, None])
        residual = valid_targets - target_mean - prediction
        errors.append(np.sqrt(np.mean(residual ** 2)) / scale)
    return np.array(errors)


def choose_ridge(features: np.ndarray, targets: np.ndarray, ridges,
                 validation_fraction: float) -> tuple[float, np.ndarray]:
    """(the penalty of least validation NRMSE, the NRMSE of every penalty): the last
    ``validation_fraction`` of the rows validates, the rest fits (:func:`ridge_path`)."""
    split = len(features) - max(1, int(round(validation_fraction * len(features))))
    errors = ridge_path(features[:split], targets[:split], ridges,
                        (features[split:], targets[split:]))
    finite = np.where(np.isfinite(errors), errors, np.inf)
    return float(ridges[int(np.argmin(finite))]), errors


class RidgeAccumulator:
    """The ridge problem of :func:`fit_ridge`, accumulated from chunks of rows (module
    docstring): :meth:`add` each chunk (features (n, F), targets (n, D)) in order, then
    :meth:`solve` once. The same chunks in the same order give the same bytes.

    Memory: two (F, F) matrices, the running sum and the next chunk's product (numpy's
    symmetric rank-k update, which releases the GIL: another thread can drive the reservoir
    meanwhile), one with a single chunk; the solve corrects and factorises the sum in place."""

    def __init__(self):
        self.rows = 0
        self.solved = False

    def add(self, features: np.ndarray, targets: np.ndarray) -> None:
        if self.solved:
            raise RuntimeError("this accumulator has been solved: its Gram matrix was "
                               "factorised in place; start a new one")
        if len(features) == 0:
            return
        first = self.rows == 0
        if first:
            self.feature_shift, self.target_shift = features.mean(axis=0), targets.mean(axis=0)
            F, D = features.shape[1], targets.shape[1]
            self.cross, self.feature_sum, self.target_sum = np.zeros((F, D)), np.zeros(F), np.zeros(D)
        shifted = features - self.feature_shift
        shifted_targets = targets - self.target_shift
        if first:                                           # sum (x-r)(x-r)^T starts here
            self.gram, self.product = shifted.T @ shifted, None
        else:
            if self.product is None:
                self.product = np.empty_like(self.gram)
            self.gram += np.matmul(shifted.T, shifted, out=self.product)
        self.cross += shifted.T @ shifted_targets
        self.feature_sum += shifted.sum(axis=0)
        self.target_sum += shifted_targets.sum(axis=0)
        self.rows += len(features)

    def solve(self, ridge: float) -> tuple[np.ndarray, np.ndarray]:
        """(weights (F, D), bias (D,)), as :func:`fit_ridge` of all the rows added."""
        if self.rows == 0:
            raise ValueError("no rows were added: allowed at least one row to fit")
        if self.solved:
            raise RuntimeError("this accumulator has been solved already: solve once")
        self.solved = True
        feature_offset = self.feature_sum / self.rows      # m - r
        target_offset = self.target_sum / self.rows
        self.product = None
        # - n (m - r)(m - r)^T by BLAS's rank-1 update, in place on the upper triangle of the
        # (symmetric) sum seen in Fortran order, the triangle the Cholesky solve reads
        gram = scipy.linalg.blas.dsyr(-float(self.rows), feature_offset, a=self.gram.T,
                                      overwrite_a=True)
        cross = self.cross - self.rows * np.outer(feature_offset, target_offset)
        if ridge == 0:                                     # lstsq reads the whole matrix
            gram = np.triu(gram) + np.triu(gram, 1).T
        weights = solve_normal_equations(gram, cross, ridge)
        bias = (self.target_shift + target_offset) - (self.feature_shift + feature_offset) @ weights
        return weights, bias
