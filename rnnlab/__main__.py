"""``python -m rnnlab ...``: the command line (rnnlab.app.main)."""

from rnnlab.app.main import cli

if __name__ == "__main__":
    cli()
