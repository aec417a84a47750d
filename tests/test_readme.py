"""The README's Python examples run as written, one after another in one namespace (as a reader
would paste them), and what the README says of seeds holds."""

import re
from pathlib import Path

import numpy as np

from rnnlab import ESN, SineTask, run_experiment

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_every_python_block_of_the_readme_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                      # the examples write under outputs/
    blocks = python_blocks()
    assert len(blocks) >= 3
    namespace: dict = {}
    for number, block in enumerate(blocks):
        exec(compile(block, f"README.md python block {number + 1}", "exec"), namespace)
    assert (tmp_path / "outputs" / "by-hand" / "metrics.csv").exists()


def test_the_command_lines_seed_is_the_first_child_stream():
    task = SineTask(length=2400, segment_min=200, segment_max=300, settle_steps=50)
    run = run_experiment(ESN(units=60), task, seed=0)
    by_hand = ESN(units=60, seed=np.random.default_rng(0).spawn(3)[0])
    data = task.make_data(np.random.default_rng(0).spawn(3)[1])   # the data's stream
    by_hand.fit(data.u_train, data.y_train)
    assert by_hand.spectral_radius_ == run.metrics["spectral_radius"]
    one_step = by_hand.predict(data.u_test, data.y_test)
    free_run = by_hand.generate(data.u_test)
    assert task.score(data, one_step, free_run)["teacher_forced_nrmse"] == \
        run.metrics["teacher_forced_nrmse"]


def test_the_gallery_shows_every_figure_make_figures_writes_and_each_exists():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "figures", README.parent / "docs" / "figures.py")
    figures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(figures)
    shown = set(re.findall(r"\]\((docs/gallery/[\w.]+\.png)\)", README.read_text()))
    written = {f"docs/gallery/{name}.png" for name in figures.FIGURES}
    assert shown == written
    for path in shown:
        image = (README.parent / path).read_bytes()
        assert image.startswith(b"\x89PNG") and len(image) < 200_000
