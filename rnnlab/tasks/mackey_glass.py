"""Mackey-Glass chaotic time series: one-step-ahead prediction and a free run.

    dx/dt = gain * x(t - delay) / (1 + x(t - delay)^exponent) - decay * x(t)

(a = gain = 0.2, b = decay = 0.1, n = exponent = 10, tau = delay = 17: the classic chaotic
setting.) Integrated by RK4 with step ``dt``, the history x(t <= 0) held at ``initial_value``,
the delayed term linearly interpolated at half steps (so the scheme is second order in dt: at
dt = 0.1 the series is within ~1e-4 of the dt -> 0 limit over 300 time units); sampled every time unit after
``discard`` transient samples. No external input: a model sees y(t-1) = x(t-1) by output
feedback and predicts x(t). Metrics: one-step (teacher-forced) NRMSE on the test part, and the
NRMSE of a ``free_run_steps`` closed-loop continuation (both std-normalised). With ``trials`` > 0
also Jaeger's (2001) protocol: ``trials`` independent test lead-ins of ``lead_in`` teacher-forced
steps from the zero state, each followed by a free run of ``free_run_steps`` (84): the error at
the last free-run step over the trials (NRMSE84, ``trial_nrmse_at_horizon``). NOTES: Jaeger's
N = 400, 3000 training steps gave NRMSE84 ~ 2.8e-4 (conf/experiment/mackey_glass_jaeger.yaml).
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rnnlab.resources import FLOAT, Need
from rnnlab.tasks.base import SeriesData, Task, nrmse, split_rules
from rnnlab.validation import Range, at_least, positive, require

JAEGER_HORIZON = 84            # Jaeger (2001): the free-run step scored ...
JAEGER_NRMSE84 = 2.8e-4        # ... and the NRMSE84 published for N = 400, 3000 training steps


def mackey_glass(samples: int, delay: float = 17.0, gain: float = 0.2, decay: float = 0.1,
                 exponent: float = 10.0, initial_value: float = 1.2, dt: float = 0.1,
                 discard: int = 0) -> np.ndarray:
    """The series x(t) at t = discard, discard + 1, ..., shape (samples,)."""
    steps_per_sample = int(round(1.0 / dt))
    lag = int(round(delay / dt))

    def slope(x, x_delayed):
        return gain * x_delayed / (1.0 + x_delayed ** exponent) - decay * x

    total = (samples + discard) * steps_per_sample
    x = np.full(lag + total + 1, float(initial_value))  # x[0..lag] is the constant history
    for i in range(lag, lag + total):
        delayed, delayed_next = x[i - lag], x[i - lag + 1]
        delayed_mid = 0.5 * (delayed + delayed_next)
        k1 = slope(x[i], delayed)
        k2 = slope(x[i] + 0.5 * dt * k1, delayed_mid)
        k3 = slope(x[i] + 0.5 * dt * k2, delayed_mid)
        k4 = slope(x[i] + dt * k3, delayed_next)
        x[i + 1] = x[i] + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return x[lag::steps_per_sample][discard:discard + samples]


@dataclass
class MackeyGlassTask(Task):
    length: int = 6000             # samples, train then test
    train_fraction: float = 0.5
    delay: float = 17.0            # tau
    gain: float = 0.2              # a
    decay: float = 0.1             # b
    exponent: float = 10.0         # n
    initial_value: float = 1.2     # x0, also the constant history
    dt: float = 0.1                # RK4 step (time units); 1/dt samples are integrated per sample
    discard: int = 1000            # transient samples dropped before the series starts
    free_run_steps: int = 84       # closed-loop horizon scored after training
    trials: int = 0                # > 0: Jaeger's protocol, this many independent free runs
    lead_in: int = 1000            # teacher-forced steps from the zero state before each trial

    name: ClassVar[str] = "mackey_glass"
    primary_metric: ClassVar[str] = "one_step_nrmse"
    needs_feedback: ClassVar[bool] = True
    headline: ClassVar[tuple] = ("one_step_nrmse", "free_run_nrmse")  # metrics shown in plot titles
    rules: ClassVar[dict[str, Range]] = {
        **split_rules(),
        "delay": positive(),
        "gain": positive(),
        "decay": positive(),
        "exponent": positive(),
        "initial_value": positive(),
        "dt": Range(0, 1, False, True),
        "discard": at_least(0),
        "free_run_steps": at_least(1),
        "trials": at_least(0),
        "lead_in": at_least(1),
    }

    def check(self, prefix: str = "task.") -> None:
        super().check(prefix)
        require(abs(1.0 / self.dt - round(1.0 / self.dt)) < 1e-9,
                f"{prefix}dt={self.dt} is not allowed: 1/dt must be a whole number")
        require(self.free_run_steps <= self.test_length,
                f"{prefix}free_run_steps={self.free_run_steps} is out of range: allowed <= "
                f"{self.test_length} (the test steps)")
        if self.trials:
            require(self.lead_in + self.free_run_steps <= self.test_length,
                    f"{prefix}lead_in={self.lead_in} is out of range: allowed <= "
                    f"{self.test_length - self.free_run_steps} (the test steps less "
                    f"{prefix}free_run_steps, so that a trial fits in the test part)")


    def dimensions(self) -> tuple[int, int]:
        return 0, 1

    def memory_needs(self) -> list[Need]:
        """The RK4 integration holds 1/dt values per sample, the transient included."""
        steps = (self.length + self.discard) * round(1.0 / self.dt)
        return super().memory_needs() + [
            Need("task.length", self.length, f"the RK4 integration ({round(1 / self.dt)} steps "
                 f"per sample)", FLOAT * steps)]

    def make_data(self, rng: np.random.Generator) -> SeriesData:
        """The series is deterministic; ``rng`` is unused (kept for a uniform task interface)."""
        series = mackey_glass(self.length, self.delay, self.gain, self.decay, self.exponent,
                              self.initial_value, self.dt, self.discard)
        return SeriesData(inputs=np.zeros((self.length, 0)), targets=series[:, None],
                          train_length=self.train_length, free_run_length=self.free_run_steps)

    def score(self, data: SeriesData, teacher_forced: np.ndarray, free_run: np.ndarray) -> dict:
        return {
            "one_step_nrmse": nrmse(data.y_test, teacher_forced),
            "free_run_nrmse": nrmse(data.y_test[:len(free_run)], free_run, scale=np.std(data.y_test)),
        }

    def trial_windows(self, data: SeriesData) -> list[tuple[int, int, int]]:
        """``trials`` windows of lead_in + free_run_steps spread evenly over the test part."""
        span = self.lead_in + self.free_run_steps
        starts = np.linspace(0, len(data.y_test) - span, self.trials).round().astype(int)
        return [(int(s), int(s) + self.lead_in, int(s) + span) for s in starts]

    def score_trials(self, data: SeriesData, runs: np.ndarray) -> dict:
        """Jaeger's NRMSE at the horizon h = free_run_steps (NRMSE84 for h = 84): the error at
        the h-th free-run step, root mean square over the trials, over the std of the test
        series; and the NRMSE over all h steps of all trials."""
        if not len(runs):
            return {}
        targets = np.stack([data.y_test[start:stop] for _, start, stop in self.trial_windows(data)])
        scale = np.std(data.y_test)
        scores = {"trial_nrmse_at_horizon": nrmse(targets[:, -1], runs[:, -1], scale=scale),
                  "trial_nrmse": nrmse(targets, runs, scale=scale), "trials_run": len(runs)}
        if self.free_run_steps == JAEGER_HORIZON:
            scores["reference_trial_nrmse_at_horizon"] = JAEGER_NRMSE84
        return scores
