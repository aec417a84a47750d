"""A time series, split in time: the training part, then the test part.

Regression tasks (sine, Mackey-Glass) give float targets; classification tasks (echo, chars) give
class indices and name their classes.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SeriesData:
    """The first ``train_length`` steps train, the rest test.

    Regression: inputs (T, D_in) float (D_in may be 0), targets (T, D_out) float.
    Classification: targets (T,) int class indices into ``classes`` (the class labels); inputs are
    (T, D_in) float, or (T,) int indices into ``classes`` meaning one-hot vectors (characters).
    ``free_run_length``: how many test steps a closed-loop (free-running) model is asked to produce.
    """

    inputs: np.ndarray
    targets: np.ndarray
    train_length: int
    free_run_length: int = 0
    classes: tuple | None = None

    @property
    def is_classification(self) -> bool:
        return self.classes is not None

    @property
    def u_train(self) -> np.ndarray:
        return self.inputs[:self.train_length]

    @property
    def y_train(self) -> np.ndarray:
        return self.targets[:self.train_length]

    @property
    def u_test(self) -> np.ndarray:
        return self.inputs[self.train_length:]

    @property
    def y_test(self) -> np.ndarray:
        return self.targets[self.train_length:]


def nrmse(target: np.ndarray, prediction: np.ndarray, scale: float | None = None) -> float:
    """Std-normalised RMSE: sqrt(mean((y - y_hat)^2)) / std(y); 1.0 = predicting the mean.

    ``scale`` replaces std(y), e.g. the std of the whole test series when scoring a short piece.
    """
    target, prediction = np.asarray(target), np.asarray(prediction)
    scale = np.std(target) if scale is None else scale
    return float(np.sqrt(np.mean((target - prediction) ** 2)) / scale)
