# The two commands of README.md. Both install what is missing first (tools/install.sh is idempotent).
PY := tools/venv/bin/python
# Tests share 2 cores; each torch process uses one thread unless a test asks for more.
export OMP_NUM_THREADS ?= 1

.PHONY: install test demo clean-demo

install:
	bash tools/install.sh

test: install
	$(PY) -m pytest tests -q --durations=15

demo: install
	bash egs2/librispeech/sttatts1/demo.sh

clean-demo:
	cd egs2/librispeech/sttatts1 && rm -rf corpora data dump exp
