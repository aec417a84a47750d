"""Record the metrics.csv of every golden case through the command line.

    python tests/golden/record.py                 # the small cases -> tests/golden/metrics.json
    python tests/golden/record.py --full OUT.json # the full-size default runs (minutes)

Values are kept as the text metrics.csv holds (exact), without ``wall_time_s``; beside them the
SHA-256 of every other table the run wrote (to check bit-identical tables on one machine).
"""

import argparse
import csv
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from cases import CASES, FULL  # noqa: E402

IGNORED = {"wall_time_s"}


def read_metrics(path: Path) -> dict:
    with open(path, newline="") as file:
        (row,) = csv.DictReader(file)
    return {key: value for key, value in row.items() if key not in IGNORED}


def record(cases: dict) -> dict:
    found = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, overrides in cases.items():
            run_dir = Path(scratch) / name
            result = subprocess.run([sys.executable, "-m", "rnnlab", *overrides,
                                     f"hydra.run.dir={run_dir}"],
                                    capture_output=True, text=True, cwd=scratch)
            if result.returncode != 0:
                raise SystemExit(f"{name} failed:\n{result.stderr}")
            tables = {table.name: hashlib.sha256(table.read_bytes()).hexdigest()
                      for table in sorted(run_dir.glob("*.csv")) if table.name != "metrics.csv"}
            found[name] = {"metrics": read_metrics(run_dir / "metrics.csv"), "tables": tables}
            print(name, "recorded", file=sys.stderr)
    return found


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", metavar="OUT", help="record the full-size runs into OUT")
    args = parser.parse_args()
    cases, out = (FULL, Path(args.full)) if args.full else (CASES, HERE / "metrics.json")
    out.write_text(json.dumps(record(cases), indent=1, sort_keys=True) + "\n")
