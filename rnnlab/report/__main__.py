"""``python -m rnnlab.report PATH [--out DIR]``: PATH/report/ (or DIR) receives the tables and
index.html; one line on stdout says what was found. A PATH that is no folder of runs, or an
output folder that cannot be written (DIR under a regular file, unwritable, PATH/report a
regular file, a write failing midway), is one line on stderr, ``rnnlab.report: error: ...``,
exit status 2, and nothing written. Bad run folders are no error: they are ``corrupt`` rows."""

import argparse
import sys
from pathlib import Path

from rnnlab.report.runs import ReportError, collect, counts_line
from rnnlab.report.page import write_report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="rnnlab.report",
                                     description="Aggregate rnnlab run directories into tables.")
    parser.add_argument("path", help="a multirun directory, a run directory, or a folder of them")
    parser.add_argument("--out", default=None, help="output folder (default: PATH/report)")
    args = parser.parse_args(argv)
    path = Path(args.path)
    out_dir = Path(args.out) if args.out is not None else path / "report"
    try:
        collected = collect(path, exclude=out_dir)
        page = write_report(collected, path, out_dir)
    except ReportError as error:
        print(f"rnnlab.report: error: {error}", file=sys.stderr)
        sys.exit(2)
    print(f"{counts_line(collected)} -> {page}")


if __name__ == "__main__":
    main()
