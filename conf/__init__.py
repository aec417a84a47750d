"""Hydra config groups, installed as the package ``rnnlab.conf`` (see pyproject.toml)."""
