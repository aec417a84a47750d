"""Lorenz-63: one-step prediction of a chaotic 3-D flow, and how long a free run stays valid.

    dx/dt = sigma (y - x),    dy/dt = x (rho - z) - y,    dz/dt = x y - beta z

(sigma = 10, rho = 28, beta = 8/3: the classic chaotic setting.) Integrated by RK4 with step
``dt``, sampled every step, from a start drawn uniformly in [-10, 10]^2 x [10, 40] (``rng``: each
seed its own trajectory) after ``discard`` transient samples. No external input: a model sees
y(t-1) by output feedback and predicts y(t).

Metrics on the test part:

- ``one_step_nrmse``: teacher-forced, sqrt(mean_t ||y - y_hat||^2 / sum_j var(y_j));
- the free run of ``free_run_steps`` from where fitting ended, with the normalised error
  E(t) = ||y(t) - y_hat(t)|| / sqrt(mean_t ||y(t)||^2) (Pathak et al. 2018); the valid
  prediction time is the time before E first exceeds ``valid_threshold`` (0.4): ``valid_time``
  in model time units, ``valid_lyapunov_times`` in units of 1 / lambda_max;
- ``lyapunov_exponent``: lambda_max of the task's own equations, measured by carrying a
  tangent vector through the RK4 map (Benettin's method) -- about 0.906 per time unit in the
  literature -- from which one Lyapunov time is 1 / lambda_max (~1.1 time units).
"""

import functools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rnnlab.tasks.base import SeriesData, Task, nrmse, split_rules
from rnnlab.validation import Range, at_least, positive, require

LYAPUNOV_PAIRS = 16            # trajectories whose growth rates lambda_max averages ...
LYAPUNOV_TIME_UNITS = 100.0    # ... each over this time
LYAPUNOV_TRANSIENT = 20.0      # time units first run onto the attractor


def lorenz_rate(state: np.ndarray, sigma: float, rho: float, beta: float) -> np.ndarray:
    """d(x, y, z)/dt of states (..., 3)."""
    x, y, z = state[..., 0], state[..., 1], state[..., 2]
    return np.stack([sigma * (y - x), x * (rho - z) - y, x * y - beta * z], axis=-1)


def rk4_step(state: np.ndarray, dt: float, rate) -> np.ndarray:
    """One classical Runge-Kutta step of dx/dt = rate(x)."""
    k1 = rate(state)
    k2 = rate(state + 0.5 * dt * k1)
    k3 = rate(state + 0.5 * dt * k2)
    k4 = rate(state + dt * k3)
    return state + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def lorenz(samples: int, start, dt: float = 0.02, sigma: float = 10.0, rho: float = 28.0,
           beta: float = 8.0 / 3.0, discard: int = 0) -> np.ndarray:
    """The trajectory from ``start`` (3,), every ``dt``, after ``discard`` samples: (samples, 3)."""
    rate = functools.partial(lorenz_rate, sigma=sigma, rho=rho, beta=beta)
    state = np.asarray(start, dtype=np.float64)
    for _ in range(discard):
        state = rk4_step(state, dt, rate)
    series = np.empty((samples, 3))
    for t in range(samples):
        series[t] = state
        state = rk4_step(state, dt, rate)
    return series


@functools.lru_cache(maxsize=16)
def largest_lyapunov_exponent(dt: float = 0.02, sigma: float = 10.0, rho: float = 28.0,
                              beta: float = 8.0 / 3.0) -> float:
    """lambda_max per time unit of the RK4-integrated flow (Benettin's method): LYAPUNOV_PAIRS
    trajectories, each with a neighbour at distance d0 = 1e-8, advance together; after each
    step every neighbour is pulled back to distance d0 along its separation, and lambda is the
    mean of ln(d / d0) / dt over LYAPUNOV_TIME_UNITS of each (after LYAPUNOV_TRANSIENT)."""
    rate = functools.partial(lorenz_rate, sigma=sigma, rho=rho, beta=beta)
    starts = np.random.default_rng(0).uniform([-10.0, -10.0, 10.0], [10.0, 10.0, 40.0],
                                              (LYAPUNOV_PAIRS, 3))
    for _ in range(int(round(LYAPUNOV_TRANSIENT / dt))):
        starts = rk4_step(starts, dt, rate)
    distance = 1e-8
    pairs = np.stack([starts, starts + distance / np.sqrt(3.0)], axis=1)   # (pairs, 2, 3)
    steps = int(round(LYAPUNOV_TIME_UNITS / dt))
    log_growth = 0.0
    for _ in range(steps):
        pairs = rk4_step(pairs, dt, rate)
        separation = pairs[:, 1] - pairs[:, 0]
        grown = np.linalg.norm(separation, axis=1)
        log_growth += np.log(grown / distance).sum()
        pairs[:, 1] = pairs[:, 0] + separation * (distance / grown)[:, None]
    return float(log_growth / (LYAPUNOV_PAIRS * steps * dt))


def valid_steps(target: np.ndarray, prediction: np.ndarray, threshold: float) -> int:
    """The number of free-run steps before E(t) = ||y - y_hat|| / sqrt(mean ||y||^2) first
    exceeds ``threshold`` (all of them if it never does; a NaN counts as exceeding)."""
    scale = np.sqrt(np.mean(np.sum(target ** 2, axis=1)))
    error = np.linalg.norm(target - prediction, axis=1) / scale
    beyond = ~(error <= threshold)
    return int(np.argmax(beyond)) if beyond.any() else len(error)


@dataclass
class LorenzTask(Task):
    length: int = 20000            # samples, train then test
    train_fraction: float = 0.5
    dt: float = 0.02               # RK4 step and sampling interval (time units)
    sigma: float = 10.0
    rho: float = 28.0
    beta: float = 8.0 / 3.0
    discard: int = 1000            # transient samples dropped before the series starts
    free_run_steps: int = 1000     # closed-loop horizon scored after training (20 time units)
    valid_threshold: float = 0.4   # E(t) above this ends the valid prediction time

    name: ClassVar[str] = "lorenz"
    primary_metric: ClassVar[str] = "one_step_nrmse"
    needs_feedback: ClassVar[bool] = True
    headline: ClassVar[tuple] = ("one_step_nrmse", "valid_lyapunov_times")
    rules: ClassVar[dict[str, Range]] = {
        **split_rules(),
        "dt": Range(0, 0.1, False, True),
        "sigma": positive(),
        "rho": positive(),
        "beta": positive(),
        "discard": at_least(0),
        "free_run_steps": at_least(1),
        "valid_threshold": positive(),
    }

    def check(self, prefix: str = "task.") -> None:
        super().check(prefix)
        require(self.free_run_steps <= self.test_length,
                f"{prefix}free_run_steps={self.free_run_steps} is out of range: allowed <= "
                f"{self.test_length} (the test steps)")

    def dimensions(self) -> tuple[int, int]:
        return 0, 3

    def make_data(self, rng: np.random.Generator) -> SeriesData:
        start = rng.uniform([-10.0, -10.0, 10.0], [10.0, 10.0, 40.0])
        series = lorenz(self.length, start, self.dt, self.sigma, self.rho, self.beta,
                        self.discard)
        return SeriesData(inputs=np.zeros((self.length, 0)), targets=series,
                          train_length=self.train_length, free_run_length=self.free_run_steps)

    def score(self, data: SeriesData, teacher_forced: np.ndarray, free_run: np.ndarray) -> dict:
        exponent = largest_lyapunov_exponent(self.dt, self.sigma, self.rho, self.beta)
        valid = valid_steps(data.y_test[:len(free_run)], free_run, self.valid_threshold)
        return {"one_step_nrmse": nrmse(data.y_test, teacher_forced),
                "valid_time": valid * self.dt,
                "valid_lyapunov_times": valid * self.dt * exponent,
                "lyapunov_exponent": exponent}
