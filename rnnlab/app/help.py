"""``python -m rnnlab --help`` and ``--version``.

The help is Hydra's ``hydra/help`` with rnnlab's own template: what rnnlab is, every model, task
and experiment preset with one line each (taken from the modules' docstrings and the presets'
opening comments, so it cannot drift from them), examples, and where the rest is.
``--hydra-help`` still shows Hydra's own options.
"""

import importlib.metadata
import importlib.resources
import re
import sys

from hydra.core.config_store import ConfigStore

from rnnlab.models import MODELS
from rnnlab.tasks import TASKS


EXAMPLES = """\
  python -m rnnlab model=esn task=sine                 an echo state network, the default run
  python -m rnnlab model=lstm task=chars               train an LSTM by BPTT on generated text
  python -m rnnlab model=rnn task=echo train.bptt=5    the echo task with truncation 5
  python -m rnnlab experiment=gradient_flow model=rnn  gradient norms across lags and radii
  python -m rnnlab -m experiment=esn_radius            a sweep; it ends in a report page
  python -m rnnlab.report outputs/multirun/DAY/TIME    the report of a sweep folder, again"""


def version() -> str:
    try:
        return importlib.metadata.version("rnnlab")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def first_sentence(text: str) -> str:
    """The first sentence of a docstring or comment, on one line (a full stop followed by a
    capital ends it: "Le et al. 2015" does not)."""
    paragraph = text.strip().split("\n\n")[0]
    flat = " ".join(line.strip() for line in paragraph.splitlines())
    return re.split(r"(?<=\.)\s+(?=[A-Z])", flat, maxsplit=1)[0].rstrip(".")


def cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 3].rstrip(" ,;:(") + "..."


def preset_line(path) -> str:
    """A preset's opening comment, after its ``@package`` line and its command line(s)."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        text = line.lstrip("#").strip()
        if text.startswith(("@package", "python -m")) or (not lines and not text):
            continue
        lines.append(text)
    return first_sentence("\n".join(lines)) if lines else ""


def listing(entries: dict[str, str], width: int = 100) -> str:
    column = max(map(len, entries)) + 2
    return "\n".join(f"  {name:<{column}}{cut(line, width - 2 - column)}"
                     for name, line in entries.items())


def template() -> str:
    models = {name: first_sentence(sys.modules[cls.__module__].__doc__)
              for name, cls in MODELS.items()}
    tasks = {name: first_sentence(sys.modules[cls.__module__].__doc__)
             for name, cls in TASKS.items()}
    folder = importlib.resources.files("rnnlab.conf") / "experiment"   # conf/ ships as rnnlab.conf
    presets = {path.name.removesuffix(".yaml"): preset_line(path)
               for path in sorted(folder.iterdir(), key=lambda path: path.name)
               if path.name.endswith(".yaml")}
    return f"""\
rnnlab {version()}: experiments on how recurrent networks learn. RNNs, LSTMs and GRUs trained
by exact, hand-written backpropagation through time; echo state networks and NVARs; gradient
norms across time steps, spectral-radius sweeps, memory capacity, Lyapunov exponents, and
measured losses against each task's theory. Every run writes CSV tables and plots to its folder.

Usage:
  python -m rnnlab [model=NAME] [task=NAME] [experiment=NAME] [seed=N] [GROUP.KEY=VALUE ...]
  python -m rnnlab -m KEY=V1,V2 ...       a sweep: one run per combination, then a report

Models (model=):
{listing(models)}

Tasks (task=):
{listing(tasks)}

Experiments (experiment=, default train):
{listing(presets)}

Examples:
{EXAMPLES}

Settings: model.KEY, task.KEY, train.KEY (BPTT), gradient_flow.KEY, esn_sweep.KEY, seed.
Every key and its default: python -m rnnlab [model=...] [task=...] --cfg job
Hydra's own options (launchers, sweepers, tab completion): python -m rnnlab --hydra-help
"""


def register_help() -> None:
    """Store the template as ``hydra/help: rnnlab`` (conf/config.yaml selects it)."""
    ConfigStore.instance().store(group="hydra/help", name="rnnlab", node={
        "app_name": "rnnlab", "header": "", "footer": "", "template": template()})
