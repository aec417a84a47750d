"""The architecture, pinned: layers import only downhill, no cycles, Hydra only at the edge,
analyses never write, one reservoir kernel, no block of code written twice."""

import ast
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

import rnnlab.models.reservoir as reservoir
from rnnlab import ESN, MackeyGlassTask, lyapunov_exponent, memory_capacity, sweep

PACKAGE = Path(__file__).resolve().parents[1] / "rnnlab"
UTILITIES = {"validation", "spectral", "ridge", "losses", "optimisers", "tables", "plots",
             "resources"}
# layer -> the layers it may import from (itself included)
ALLOWED = {
    "utilities": {"utilities"},
    "models": {"utilities", "models"},
    "tasks": {"utilities", "tasks"},
    "training": {"utilities", "tasks", "training"},
    "analyses": {"utilities", "models", "tasks", "training", "analyses"},
    "experiments": {"utilities", "models", "tasks", "training", "analyses", "experiments"},
    "report": {"utilities", "report"},
    "app": {"utilities", "models", "tasks", "training", "analyses", "experiments", "report",
            "app"},
    "corpus": {"utilities", "tasks", "corpus"},
    "sample": {"utilities", "models", "tasks", "training", "experiments", "sample"},
    "face": {"utilities", "models", "tasks", "training", "analyses", "experiments", "report",
             "app", "face"},
}


def layer(module: str) -> str:
    """rnnlab.models.esn -> models; rnnlab.tables -> utilities; rnnlab / rnnlab.__main__ -> face."""
    parts = module.split(".")[1:]
    if not parts or parts[0] == "__main__":
        return "face"
    return "utilities" if parts[0] in UTILITIES else parts[0]


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(path: Path, package: str, known: dict | None = None) -> set[str]:
    """Every module named by an import anywhere in the file (function-level ones too);
    ``from a import b`` names a.b where that is a module of ``known``, else a."""
    named = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            named |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:   # relative: resolve against the importing package
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                named.add(full if known is not None and full in known else base)
    return named


@pytest.fixture(scope="module")
def graph():
    table = modules()
    edges = {}
    for name, path in table.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        edges[name] = {m for m in imports(path, package, table) if m in table and m != name}
    return edges


def test_every_import_runs_downhill(graph):
    assert "rnnlab.models.reservoir" in graph["rnnlab.analyses.esn_sweep"]   # the graph is read
    upward = [f"{source} -> {target}" for source, targets in graph.items() for target in targets
              if layer(target) not in ALLOWED[layer(source)]]
    assert upward == []


def test_there_are_no_import_cycles(graph):
    state, cycles = {}, []

    def visit(node, path):
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_only_the_app_imports_hydra_or_omegaconf():
    outside = [f"{name}: {sorted(found)}" for name, path in modules().items()
               if not name.startswith("rnnlab.app")
               for found in [{m for m in imports(path, name) if m.split(".")[0] in
                              ("hydra", "omegaconf")}] if found]
    assert outside == []


WRITERS = {"to_csv", "savefig", "write_text", "write_bytes", "mkdir", "write_table", "save"}


@pytest.mark.parametrize("folder", ["models", "tasks", "analyses"])
def test_models_tasks_and_analyses_never_write_files(folder):
    calls = []
    for path in (PACKAGE / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                mode = next((a.value for a in node.args[1:2] if isinstance(a, ast.Constant)), "")
                if name in WRITERS or (name == "open" and re.search("[wax+]", str(mode))):
                    calls.append(f"{path.name}:{node.lineno} {name}")
    assert calls == []


def test_import_rnnlab_the_report_and_an_analysis_need_no_hydra(tmp_path):
    script = """
import sys
import numpy as np
import rnnlab, rnnlab.report
from rnnlab import (ESN, RNN, EchoTask, GradientFlowConfig, MackeyGlassTask, Stream,
                    measure_gradient_flow, run_experiment, sweep)
task = MackeyGlassTask(length=800, free_run_steps=20)
data = task.make_data(np.random.default_rng(0))
sweep(ESN(units=20, washout=20, seed=0), task, data, [0.5, 1.0])
echo = EchoTask(train_steps=2000, test_steps=1000)
stream = Stream.from_data(echo.make_data(np.random.default_rng(0)), False)
measure_gradient_flow(RNN(hidden_size=4, seed=0), stream, (2000, 3000),
                      GradientFlowConfig(spectral_radii=[1.0], window=12, sequences=4),
                      np.random.default_rng(1))
run_experiment(ESN(units=20, washout=20), task, seed=0)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("hydra", "omegaconf"))
print(loaded)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert list(tmp_path.iterdir()) == []   # out_dir=None: nothing written


# ----------------------------------------------------------------- one kernel per equation
def test_tanh_updates_are_written_only_in_the_recurrent_models():
    writers = sorted(str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                     if "np.tanh(" in path.read_text())
    assert writers == ["models/gru.py", "models/lstm.py", "models/reservoir.py", "models/rnn.py"]


def test_the_esn_the_sweep_and_the_observables_all_advance_through_the_one_kernel(monkeypatch):
    calls = []
    real = reservoir.advance

    def counting(*args, **kwargs):
        calls.append(args[3].shape[1])   # K, the reservoirs advanced together
        return real(*args, **kwargs)

    for module in ("rnnlab.models.esn", "rnnlab.models.reservoir",
                   "rnnlab.analyses.esn_sweep", "rnnlab.analyses.reservoir_dynamics"):
        monkeypatch.setattr(f"{module}.advance", counting)
    task = MackeyGlassTask(length=1000, free_run_steps=30)
    data = task.make_data(np.random.default_rng(0))
    esn = ESN(units=30, spectral_radius=0.9, leak_rate=0.5, washout=30, noise=0.0, seed=2)
    esn.fit(data.u_train, data.y_train)
    esn.predict(data.u_test, data.y_test)
    esn.generate(data.u_test[:30], steps=30)
    assert calls == [1, 1, 1]   # fit, predict, generate: K = 1
    calls.clear()
    table = sweep(esn.with_seed(2), task, data, [0.45, 0.9, 1.8])
    assert calls == [3, 3, 3, 3]   # fit, predict (+ tangents), free run, memory capacity: K = 3
    # the observables on the plain model give the sweep's numbers at its own radius
    row = table[table["spectral_radius"] == 0.9].iloc[0]
    assert lyapunov_exponent(esn, data.u_test, data.y_test) == pytest.approx(
        row["lyapunov_exponent"], rel=1e-9)
    fresh = ESN(units=30, spectral_radius=0.9, leak_rate=0.5, washout=30, noise=0.0,
                seed=np.random.default_rng(2))
    fresh.draw_weights(0, 1)
    rng = np.random.default_rng(2)
    rng.spawn(4)                  # the sweep's memory-capacity stream is the draw's 5th child
    assert memory_capacity(fresh, rng.spawn(1)[0]) == pytest.approx(row["memory_capacity"],
                                                                    rel=1e-9)


# ------------------------------------------------------------------- nothing written twice
def normalised_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, stripped text) of the lines that carry code: no blanks, comments, lone
    brackets or imports (two modules may well import the same five names)."""
    kept = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        text = line.strip()
        if text and not text.startswith("#") and not re.fullmatch(r"[\[\](){},:]*", text) \
                and not re.match(r"(from [\w.]+ )?import [\w.(]", text):
            kept.append((number, text))
    return kept


def test_no_block_of_six_lines_is_repeated_inside_the_package():
    seen, repeated = defaultdict(list), []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = normalised_lines(path)
        for i in range(len(lines) - 5):
            block = tuple(text for _, text in lines[i:i + 6])
            seen[block].append(f"{path.relative_to(PACKAGE)}:{lines[i][0]}")
    repeated = [places for places in seen.values() if len(places) > 1]
    assert repeated == []
