"""The report: aggregate run directories into tidy tables and one page (no Hydra import).

    python -m rnnlab.report PATH [--out DIR]      # a multirun directory, a run, or a folder of them

- :mod:`~rnnlab.report.runs`: read every run directory (run.json, status.txt, overrides,
  metrics, long tables; a bad one is a ``corrupt`` row, never an error) and write runs.csv,
  summary.csv, training.csv, gradients.csv;
- :mod:`~rnnlab.report.page`: index.html, self-contained, with the settings that ran (sweep.json)
  and plots chosen by what varied; the whole report is written all or nothing;
- ``__main__.py``: the command line.

Every multirun of the command line ends by writing its report (a Hydra callback in
:mod:`rnnlab.app.callbacks` calls this package).
"""

from rnnlab.report.runs import (Collected, ReportError, collect, counts_line, summarise,
                                   write_report_tables)
from rnnlab.report.page import write_report

__all__ = ["Collected", "ReportError", "collect", "counts_line", "summarise",
           "write_report_tables", "write_report"]
