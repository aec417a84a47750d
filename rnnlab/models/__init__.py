"""Models, by the name used on the command line (``model=NAME``)."""

from rnnlab.models.esn import ESN

MODELS = {cls.name: cls for cls in (ESN,)}
