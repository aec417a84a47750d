"""The frequency generator: produce a sine whose frequency is set by a slowly varying input.

The input u(t) is piecewise constant; each segment draws a frequency f uniformly in
[1 / period_max, 1 / period_min] (cycles per step) and a length uniformly in
[segment_min, segment_max]. u(t) maps f linearly onto [-1, 1]. The target has continuous phase:

    phi(t) = phi(t-1) + 2 pi f(t),    y(t) = amplitude * sin(phi(t)).

A model sees u(t) and, through output feedback, y(t-1). Metrics on the test part:
teacher-forced NRMSE (std-normalised), and for the closed-loop free run, per input segment, the
relative error of the generated frequency (median over segments) and of its amplitude.
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rnnlab.tasks.base import SeriesData, Task, nrmse, split_rules
from rnnlab.validation import Range, at_least, positive, require


@dataclass
class SineTask(Task):
    length: int = 12000            # total steps, train then test
    train_fraction: float = 0.75
    period_min: float = 10.0       # steps per cycle at the highest frequency
    period_max: float = 40.0       # steps per cycle at the lowest frequency
    segment_min: int = 300         # steps per constant-frequency segment
    segment_max: int = 600
    amplitude: float = 0.5
    settle_steps: int = 100        # free-run steps ignored after each frequency change

    name: ClassVar[str] = "sine"
    primary_metric: ClassVar[str] = "teacher_forced_nrmse"
    needs_feedback: ClassVar[bool] = True
    headline: ClassVar[tuple] = ("teacher_forced_nrmse",   # metrics shown in plot titles:
                                 "free_run_frequency_error_median",   # the free run is judged
                                 "free_run_amplitude_error_median")   # by these, not its NRMSE
    rules: ClassVar[dict[str, Range]] = {
        **split_rules(),
        "period_min": at_least(2),   # 2 steps per cycle is the Nyquist limit
        "period_max": at_least(2),
        "segment_min": at_least(1),
        "segment_max": at_least(1),
        "amplitude": positive(),
        "settle_steps": at_least(0),
    }

    def check(self, prefix: str = "task.") -> None:
        super().check(prefix)
        require(self.period_min <= self.period_max,
                f"{prefix}period_min={self.period_min} must be <= {prefix}period_max={self.period_max}")
        require(self.segment_min <= self.segment_max,
                f"{prefix}segment_min={self.segment_min} must be <= "
                f"{prefix}segment_max={self.segment_max}")
        require(self.test_length >= self.segment_max,
                f"{prefix}length={self.length} leaves {self.test_length} test steps; "
                f"allowed: at least segment_max={self.segment_max}")


    def dimensions(self) -> tuple[int, int]:
        return 1, 1

    def input_for(self, frequency):
        """The input value in [-1, 1] that asks for ``frequency`` (cycles per step)."""
        low, high = 1.0 / self.period_max, 1.0 / self.period_min
        return 2.0 * (frequency - low) / (high - low) - 1.0 if high > low else 0.0 * frequency

    def frequency_for(self, value):
        low, high = 1.0 / self.period_max, 1.0 / self.period_min
        return low + (np.asarray(value) + 1.0) * (high - low) / 2.0

    def make_data(self, rng: np.random.Generator) -> SeriesData:
        frequency = np.empty(self.length)
        start = 0
        while start < self.length:
            stop = start + int(rng.integers(self.segment_min, self.segment_max + 1))
            frequency[start:stop] = rng.uniform(1.0 / self.period_max, 1.0 / self.period_min)
            start = stop
        phase = np.cumsum(2.0 * np.pi * frequency)
        return SeriesData(inputs=self.input_for(frequency)[:, None],
                          targets=(self.amplitude * np.sin(phase))[:, None],
                          train_length=self.train_length, free_run_length=self.test_length)

    def score(self, data: SeriesData, teacher_forced: np.ndarray, free_run: np.ndarray) -> dict:
        errors = [self._segment_errors(piece, freq)
                  for piece, freq in self._segments(data.u_test[:, 0], free_run[:, 0])]
        frequency_errors, amplitude_errors = zip(*errors) if errors else ((np.nan,), (np.nan,))
        return {
            "teacher_forced_nrmse": nrmse(data.y_test, teacher_forced),
            "free_run_nrmse": nrmse(data.y_test[:len(free_run)], free_run, scale=np.std(data.y_test)),
            "free_run_frequency_error_median": float(np.median(frequency_errors)),
            "free_run_frequency_error_max": float(np.max(frequency_errors)),
            "free_run_amplitude_error_median": float(np.median(amplitude_errors)),
            "free_run_segments": len(errors),
        }

    def _segments(self, inputs: np.ndarray, outputs: np.ndarray):
        """(output piece after settling, requested frequency) for each constant-input segment."""
        change = np.flatnonzero(np.diff(inputs)) + 1
        for start, stop in zip(np.r_[0, change], np.r_[change, len(inputs)]):
            piece = outputs[start + self.settle_steps:stop]
            frequency = float(self.frequency_for(inputs[start]))
            if len(piece) * frequency >= 3:  # need a few cycles to measure a frequency
                yield piece, frequency

    def _segment_errors(self, piece: np.ndarray, frequency: float) -> tuple[float, float]:
        """Relative errors of the frequency (slope of the unwrapped analytic-signal phase) and of
        the amplitude (sqrt(2) * RMS) of a generated piece of sine."""
        centred = piece - piece.mean()
        if not np.all(np.isfinite(centred)) or np.std(centred) == 0:
            return np.inf, 1.0
        import scipy.signal   # here, not at the top: importing it takes ~1 s of every start
        phase = np.unwrap(np.angle(scipy.signal.hilbert(centred)))
        edge = max(1, len(piece) // 10)  # the Hilbert transform is poor near the ends
        steps = np.arange(len(piece))[edge:-edge]
        measured = np.polyfit(steps, phase[edge:-edge], 1)[0] / (2.0 * np.pi)
        amplitude = np.sqrt(2.0) * np.std(centred)
        return abs(measured - frequency) / frequency, abs(amplitude - self.amplitude) / self.amplitude
