"""Golden numbers: every model x task pair and every experiment preset (small versions, listed in
tests/golden/cases.py) still gives the metrics.csv that the code gave when they were recorded
(tests/golden/record.py, run before the package was restructured).

Recorded and compared on the same kind of machine; the tolerance (relative 1e-6) only absorbs
last-bit differences between BLAS builds, which ridge readouts and training amplify. On the
machine that recorded them the values are equal to the last digit.
"""

import csv
import json
import math
from pathlib import Path

import pytest

from golden.cases import CASES
from rnnlab.app.schema import objects_from_config
from rnnlab.experiments import run_experiment

GOLDEN = json.loads((Path(__file__).parent / "golden" / "metrics.json").read_text())


def same_value(recorded: str, measured: str) -> bool:
    if recorded == measured:
        return True
    try:
        a, b = float(recorded), float(measured)
    except ValueError:
        return False
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)


def test_every_case_has_recorded_numbers():
    assert set(CASES) == set(GOLDEN)


@pytest.mark.parametrize("name", sorted(CASES))
def test_metrics_equal_the_recorded_ones(name, compose, tmp_path):
    objects = objects_from_config(compose(*CASES[name]))
    run_experiment(**objects, out_dir=tmp_path)
    with open(tmp_path / "metrics.csv", newline="") as file:
        (measured,) = csv.DictReader(file)
    recorded = GOLDEN[name]["metrics"]
    differing = {key: (value, measured.get(key)) for key, value in recorded.items()
                 if key not in measured or not same_value(value, measured[key])}
    assert not differing
