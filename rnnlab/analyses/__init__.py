"""Analyses: arrays and models in, numbers and tables (DataFrames) out; they never see a path.

- :mod:`~rnnlab.analyses.gradient_flow`: gradient and Jacobian norms across lags over a grid of
  spectral radii of an RNN's or LSTM's recurrent matrix (``GradientFlowConfig``);
- :mod:`~rnnlab.analyses.esn_sweep`: an ESN over a grid of spectral radii, leak rates and input
  scalings, all advancing together through the one reservoir kernel (``ESNSweepConfig``);
- :mod:`~rnnlab.analyses.reservoir_dynamics`: observables of a reservoir that take the model --
  memory function and capacity, largest Lyapunov exponent, effective spectral radius;
- :mod:`~rnnlab.analyses.scoring`: measured values beside reference levels.

The experiments (:mod:`rnnlab.experiments`) call these and write what they return.
"""

from rnnlab.analyses.esn_sweep import ESNSweepConfig, sweep
from rnnlab.analyses.gradient_flow import GradientFlowConfig, gradient_flow, measure_gradient_flow
from rnnlab.analyses.reservoir_dynamics import (effective_spectral_radii, lyapunov_exponent,
                                                memory_capacity, memory_function)
from rnnlab.analyses.scoring import first_zero_crossing, theory_metrics

__all__ = ["ESNSweepConfig", "sweep", "GradientFlowConfig", "gradient_flow",
           "measure_gradient_flow", "memory_function", "memory_capacity", "lyapunov_exponent",
           "effective_spectral_radii", "theory_metrics", "first_zero_crossing"]
