# mscr: the two commands of the README are `make run` and `make test`.
SHELL := /bin/bash
SWIFT ?= swift
PORT ?= 8080
RELEASE_BIN = .build/release/mscr

.PHONY: run test deps test-deps build seed serve clean container-test format lint

SWIFT_SOURCES = Sources Tests functions/detect/Sources functions/stock/Sources examples/count-people/Sources examples/count-people/Tests

## Build the release binary, seed the local model repository with the demo models, serve on :$(PORT)
run: deps build seed serve

## Install everything the tests need, then run every test
test: test-deps lint
	$(SWIFT) build --build-tests
	scripts/in-scratch-tmp.sh $(SWIFT) test --skip-build --no-parallel
	MSCR_BINARY=$(CURDIR)/.build/debug/mscr scripts/in-scratch-tmp.sh .venv/bin/python -m pytest -q Tests/Integration
	$(SWIFT) build --package-path examples/count-people --build-tests
	$(SWIFT) test --package-path examples/count-people --skip-build

## Check the formatting (.swift-format); `make format` applies it
lint:
	$(SWIFT) format lint --strict --recursive --parallel $(SWIFT_SOURCES)

format:
	$(SWIFT) format format --in-place --recursive --parallel $(SWIFT_SOURCES)

## Build the image with podman (MSCR_CONTAINER_MODE=full: the whole Dockerfile) and run it
container-test:
	scripts/container-test.sh

deps:
	@scripts/install-deps.sh

test-deps:
	@MSCR_TEST_DEPS=1 scripts/install-deps.sh
	@scripts/setup-venv.sh
	@mkdir -p .build

build:
	$(SWIFT) build -c release --product mscr

seed:
	$(RELEASE_BIN) models seed --repository ./models

serve:
	PORT=$(PORT) MSCR_MODEL_REPOSITORY=$${MSCR_MODEL_REPOSITORY:-./models} $(RELEASE_BIN) serve --log-format text

clean:
	rm -rf .build .venv models
