"""Models, by the name used on the command line (``model=NAME``)."""

from rnnlab.models.esn import ESN
from rnnlab.models.lstm import LSTM
from rnnlab.models.rnn import RNN

MODELS = {cls.name: cls for cls in (ESN, RNN, LSTM)}
