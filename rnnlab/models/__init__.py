"""Models (plain numpy, no files): a reservoir family and a family trained by exact BPTT.

- ``reservoir``: :class:`ESN` (esn.py), a fixed random reservoir and a readout fitted by ridge
  regression or learned online (RLS, FORCE: readouts.py); the state update is the one kernel in
  reservoir.py, which advances K reservoirs at once (a sweep).
  :class:`NVAR` (nvar.py), next-generation reservoir computing: no reservoir, time-delayed inputs
  and their quadratic monomials under a ridge readout.
- ``recurrent``: :class:`RNN` (rnn.py), :class:`LSTM` (lstm.py) and :class:`GRU` (gru.py), each
  its forward and backward pass side by side, sharing the initialisation, readout and loss
  (recurrent.py).

Every model: ``predict`` is the teacher-forced (or input-driven) output, ``generate`` the free
run, ``recurrent_blocks()`` its recurrent matrices. Listed by the name used on the command line
(``model=NAME``); a model's ``family`` says how an experiment trains it.
"""

from rnnlab.models.esn import ESN
from rnnlab.models.gru import GRU
from rnnlab.models.lstm import LSTM
from rnnlab.models.nvar import NVAR
from rnnlab.models.rnn import RNN

MODELS = {cls.name: cls for cls in (ESN, NVAR, RNN, LSTM, GRU)}


def choices(family: str) -> str:
    """The command-line choices of one family, e.g. "model=rnn, model=lstm, model=gru"."""
    return ", ".join(f"model={name}" for name, cls in MODELS.items() if cls.family == family)
