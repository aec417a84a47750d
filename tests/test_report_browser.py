"""The sweep report opens in a real headless browser: every image decodes, the tables render."""

import re
import shutil
import subprocess

import pandas as pd
import pytest

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--virtual-time-budget=5000", "--dump-dom"]


@pytest.fixture
def chromium():
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no Chromium on this machine: `apt-get install chromium` (Debian) to run the "
                    "browser test; .ci/run installs it")
    return browser


def test_sweep_report_renders_every_image_and_table_in_chromium(cli, chromium, tmp_path):
    result = cli("-m", "model=rnn,lstm", "task=echo", "train.bptt=2,5", "train.steps=30",
                 "task.train_steps=4000", "task.test_steps=1000", "hydra.sweep.dir=sweep")
    assert result.returncode == 0, result.stderr
    page = tmp_path / "sweep/report/index.html"
    assert page.exists()
    dom = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                          page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    body = re.search(r"<body([^>]*)>", dom).group(1)
    attributes = dict(re.findall(r'data-([a-z-]+)="(\d+)"', body))
    summary = pd.read_csv(tmp_path / "sweep/report/summary.csv")
    assert int(attributes["images-total"]) >= 3          # metric vs bptt, training, gradients
    assert attributes["images-loaded"] == attributes["images-total"]
    assert int(attributes["table-rows"]) >= len(summary) == 4
    assert "test_cross_entropy against train.bptt" in dom and "theory_lags_3_8" in dom
