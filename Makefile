# The two commands of README.md. Both install what is missing first (tools/install.sh is idempotent).
PY := tools/venv/bin/python
# Tests run in 2 pytest-xdist workers (one per core, a test file per worker at a time: a module's
# recipe fixture runs once); each torch process uses one thread unless a test asks for more.
export OMP_NUM_THREADS ?= 1

.PHONY: install test demo clean-demo

install:
	bash tools/install.sh

test: install
	$(PY) -m pytest tests -q -n 2 --dist loadfile --durations=15

demo: install
	bash egs2/librispeech/sttatts1/demo.sh

clean-demo:
	cd egs2/librispeech/sttatts1 && rm -rf corpora data dump exp
