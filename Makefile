# Two commands on a fresh machine with python3 and make:
#   make run   -- set up .venv, install rnnlab, run the default experiment (ESN on the sine task)
#   make test  -- set up .venv with the test extra, run the test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: run test bench figures clean

# setuptools warns on every editable install that a folder named like the package (rnnlab/ here,
# which is the package itself) may take precedence in this directory: true and harmless, so the
# installs below do not print it.
QUIET_BUILD := PYTHONWARNINGS=ignore::UserWarning

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(PY) pyproject.toml
	$(QUIET_BUILD) $(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(QUIET_BUILD) $(PY) -m pip install --quiet -e '.[test,sweep,slurm,optuna]'
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed
	$(QUIET_BUILD) $(PY) -m pip install --quiet -e '.[bench]'
	touch $@

run: $(VENV)/.installed
	$(PY) -m rnnlab model=esn task=sine

test: $(VENV)/.installed-test
	$(PY) -m pytest -q -n auto

bench: $(VENV)/.installed-bench
	$(PY) benchmarks/esn_mackey_glass.py
	$(PY) benchmarks/bptt.py

figures: $(VENV)/.installed   # the README's gallery, from real runs (docs/gallery/)
	$(PY) docs/figures.py

clean:
	rm -rf $(VENV) build *.egg-info
