"""Ridge regression readout with an unregularised bias.

Solves  min_{w, b} ||Y - b - X w||^2 + beta ||w||^2  by centring X and Y (which removes b from
the penalty) and a Cholesky solve of the normal equations (Xc^T Xc + beta I) w = Xc^T Yc;
then b = mean(Y) - mean(X) w.
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
