# The project's commands. `make reproduce` and `make test` set up the environment first.
VENV   ?= $(HOME)/.cache/paperlib/venv
PY     := $(VENV)/bin/python
PRESET ?= quick
export VENV

.PHONY: setup reproduce test figures lab clean

setup:            ## create/update the virtual environment (idempotent)
	@bash scripts/setup_env.sh

reproduce: setup  ## run the notebook chain at PRESET (smoke|quick|full|paper), writing results/PRESET/
	$(PY) -m paperlib chain --preset $(PRESET)

test: setup       ## library tests (pytest) and notebook tests (nbval, smoke preset, from a clean results/smoke)
	$(PY) -m pytest tests
	rm -rf results/smoke
	$(PY) -m pytest --nbval-lax --nbval-current-env notebooks
	@$(PY) -c "from paperlib.report.chain import withdrawn_lines; print(*withdrawn_lines('smoke') or ['no notebook skipped a result'], sep='\n')"

figures: setup    ## redraw every figure of results/PRESET/ from its result files, no training
	$(PY) -m paperlib figures --preset $(PRESET)

lab: setup        ## JupyterLab on the notebooks
	$(VENV)/bin/jupyter lab notebooks

clean:            ## remove caches and smoke outputs (keeps results/quick, results/full)
	rm -rf data/processed results/smoke runs .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
