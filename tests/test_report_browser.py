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
    assert "test_cross_entropy against train.bptt" in dom
    # the echo task's theory levels are the same in every row: said once, above the table
    assert "Theory levels, the same for every row: no lag 0.6616" in dom
    assert "lags 3 8 0.4545" in dom and "theory_lags_3_8" not in dom
    assert int(attributes["run-rows"]) == 4


def render(chromium, page, profile) -> str:
    return subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", page.as_uri()],
                          capture_output=True, text=True, timeout=120).stdout


def test_a_sweep_over_tasks_has_a_headline_per_task_and_a_table_whose_links_resolve(
        cli, chromium, tmp_path):
    result = cli("-m", "model=esn", "task=sine,mackey_glass", "model.units=40", "seed=0,1",
                 "hydra.sweep.dir=sweep")
    assert result.returncode == 0, result.stderr
    page = tmp_path / "sweep/report/index.html"
    dom = render(chromium, page, tmp_path / "profile")
    body = re.search(r"<body([^>]*)>", dom).group(1)
    headlines = re.search(r'data-headlines="([^"]*)"', body).group(1).split()
    assert headlines == ["sine:teacher_forced_nrmse", "mackey_glass:one_step_nrmse"]
    assert re.search(r'data-run-rows="(\d+)"', body).group(1) == "4"
    links = re.findall(r'href="([^"]+)"', dom)
    assert len(links) >= 4 * 5                      # each run's folder and its files
    for link in links:
        assert (page.parent / link).exists(), link
    # each run's own headline metric in its own column: sine rows have no one-step NRMSE
    table = dom[dom.index("class=\"runs sortable\""):]
    assert table.count("<tr>") == 5
