# Shortcuts for tasks.py, which needs nothing but Python 3.11+ (see README.md).
# ENV picks the environment of cdk.json: make deploy ENV=prod
ENV ?= sandbox
PYTHON ?= python3
export PATH := $(CURDIR)/.venv/bin:$(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: install synth test demo lint cfn-lint bench bench-scale ci diff deploy destroy clean

install:
	$(PYTHON) tasks.py install

synth:
	$(PYTHON) tasks.py synth $(ENV)

test:
	$(PYTHON) tasks.py test

demo:
	$(PYTHON) tasks.py demo

lint:
	$(PYTHON) tasks.py lint

cfn-lint:
	$(PYTHON) tasks.py cfn-lint

bench:
	$(PYTHON) tasks.py bench

bench-scale:
	$(PYTHON) tasks.py bench-scale

ci:
	bash .ci/run

diff: install
	$(PYTHON) tasks.py diff $(ENV)

deploy: install
	$(PYTHON) tasks.py deploy $(ENV)

destroy: install
	cdk destroy --all -c env=$(ENV)

clean:
	rm -rf cdk.out cdk.out.* .pytest_cache .mypy_cache .ruff_cache
