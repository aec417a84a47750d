"""Ridge regression readout with an unregularised bias.

Solves  min_{w, b} ||Y - b - X w||^2 + beta ||w||^2  by centring X and Y (which removes b from
the penalty) and a Cholesky solve of the normal equations (Xc^T Xc + beta I) w = Xc^T Yc;
then b = mean(Y) - mean(X) w.

The ridge path: with one eigendecomposition Xc^T Xc = V diag(lambda) V^T, every beta's weights
are w(beta) = V diag(1 / (lambda + beta)) V^T Xc^T Yc, so many penalties cost one
factorisation (:func:`ridge_path`), and the one with the least validation error is chosen
without driving the reservoir again (:func:`choose_ridge`).
"""

import numpy as np
import scipy.linalg


def fit_ridge(features: np.ndarray, targets: np.ndarray, ridge: float,
              overwrite_features: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """features: (T, F), targets: (T, D) -> (weights (F, D), bias (D,)).

    overwrite_features: centre ``features`` in place instead of in a copy (saves T*F memory).
    """
    feature_mean = features.mean(axis=0)
    target_mean = targets.mean(axis=0)
    if overwrite_features:
        features -= feature_mean
        centred = features
    else:
        centred = features - feature_mean
    centred_targets = targets - target_mean
    if ridge > 0:
        gram = centred.T @ centred  # (F, F); numpy uses a symmetric rank-k update here
        gram[np.diag_indices_from(gram)] += ridge
        weights = scipy.linalg.solve(gram, centred.T @ centred_targets, assume_a="pos")
    else:  # no regularisation: the minimum-norm least-squares solution
        weights = np.linalg.lstsq(centred, centred_targets, rcond=None)[0]
    bias = target_mean - feature_mean @ weights
    return weights, bias


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
