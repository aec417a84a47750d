"""The Hydra app, at the edge of the package: the only code that imports hydra or omegaconf.

- schema.py: structured configs derived from the library's dataclasses, registered in Hydra's
  ConfigStore (conf/ extends them);
- preflight.py: one-line messages for what Hydra cannot compose, and the pre-flight check of
  every job of a grid sweep;
- callbacks.py: the pre-flight callback and the report written at the end of every multirun;
- main.py: the Hydra task function and ``cli()``, the ``rnnlab`` command.
"""
