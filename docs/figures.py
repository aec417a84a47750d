"""Regenerate the README's gallery: ``make figures`` (or ``python docs/figures.py``).

Each figure comes from a real run of the command line below (small settings, ~1 minute in
all), written to a temporary folder; the PNG is then shrunk to GALLERY_WIDTH pixels and kept as
docs/gallery/<name>.png, which the README shows.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image   # pillow: matplotlib's own dependency

GALLERY = Path(__file__).resolve().parent / "gallery"
GALLERY_WIDTH = 900

# name in the gallery -> (the run's command-line overrides, the figure of the run it shows)
FIGURES = {
    "esn_sine_prediction": (["model=esn", "task=sine"], "prediction.png"),
    "esn_mackey_glass_spectrum": (["model=esn", "task=mackey_glass"], "spectrum.png"),
    "esn_memory_function": (["model=esn", "task=memory", "model.units=100"],
                            "memory_function.png"),
    "rnn_echo_gradients": (["model=rnn", "task=echo", "train.bptt=5"], "gradients.png"),
    "rnn_echo_loss": (["model=rnn", "task=echo", "train.bptt=5"], "loss.png"),
    "lstm_echo_training": (["model=lstm", "task=echo", "train.bptt=10"], "training.png"),
    "gradient_flow_toy": (["experiment=gradient_flow_toy"], "gradient_flow.png"),
    "esn_sweep_mackey_glass": (["experiment=esn_sweep", "task=mackey_glass",
                                "model.units=200", "esn_sweep.reservoirs=3"], "sweep.png"),
}


def run(overrides: list[str], folder: Path) -> None:
    command = [sys.executable, "-m", "rnnlab", *overrides, f"hydra.run.dir={folder}"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(overrides)} failed: {done.stderr.strip().splitlines()[-1:]}")


def main() -> None:
    GALLERY.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        runs: dict[tuple, Path] = {}
        for name, (overrides, figure) in FIGURES.items():
            key = tuple(overrides)
            if key not in runs:
                runs[key] = Path(scratch) / f"run{len(runs)}"
                print(f"python -m rnnlab {' '.join(overrides)}", flush=True)
                run(overrides, runs[key])
            image = Image.open(runs[key] / figure)
            height = round(image.height * GALLERY_WIDTH / image.width)
            small = image.convert("RGB").resize((GALLERY_WIDTH, height), Image.LANCZOS)
            small = small.quantize(colors=256)   # a palette: a third of the bytes, same look
            small.save(GALLERY / f"{name}.png", optimize=True)
            print(f"  -> docs/gallery/{name}.png ({figure})")


if __name__ == "__main__":
    main()
