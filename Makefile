# The two commands of the README: `make train` and `make test`. Both set up first (scripts/bootstrap
# is idempotent and quick when everything is in place).
SWIFT ?= swift
ARGS ?=

.PHONY: setup build train test test-tsan bench

setup:
	@scripts/bootstrap

build: setup
	$(SWIFT) build -c release

## Train an agent on the default scenario (basic) with the default budget; pass options with ARGS="...".
train: build
	.build/release/a3c train $(ARGS)

## The whole test suite (real engine included), then the concurrency tests under ThreadSanitizer.
test: setup
	$(SWIFT) build
	$(SWIFT) test
	$(MAKE) test-tsan

## Data-race check: the tests whose names contain "Concurrency" or "concurrent", built with -sanitize=thread.
test-tsan: setup
	$(SWIFT) build --sanitize=thread --scratch-path .build-tsan
	$(SWIFT) test --sanitize=thread --scratch-path .build-tsan --filter "Concurrency|concurrent"

bench: build
	.build/release/a3c bench env --envs 2 --seconds 10
	.build/release/a3c bench nn
	.build/release/a3c bench train --seconds 20
