import subprocess
import sys

import hydra
import pytest
from hydra import initialize_config_module

from rnnlab.app.schema import register_configs


@pytest.fixture
def compose():
    """compose("model.units=10", ...) -> the config the CLI would build from those overrides."""
    register_configs()

    def _compose(*overrides):
        with initialize_config_module(version_base="1.3", config_module="rnnlab.conf"):
            return hydra.compose("config", overrides=list(overrides))
    return _compose


@pytest.fixture
def cli(tmp_path):
    """cli(*args) runs `python -m rnnlab ARGS` in a scratch working directory."""
    def _cli(*args, cwd=tmp_path, env=None):
        return subprocess.run([sys.executable, "-m", "rnnlab", *args], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=300)
    return _cli
