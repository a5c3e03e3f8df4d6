# The two commands of the README: `make train` and `make test`. Both set up first (scripts/bootstrap
# is idempotent and quick when everything is in place).
SWIFT ?= swift
ARGS ?=
# Every SwiftPM command runs with a TMPDIR of its own, removed afterwards: the Swift driver leaves an
# empty /tmp/TemporaryDirectory.* per invocation otherwise (see scripts/with-own-tmpdir).
SWIFTPM = scripts/with-own-tmpdir $(SWIFT)

.PHONY: setup build train test test-tsan bench

setup:
	@scripts/bootstrap

build: setup
	$(SWIFTPM) build -c release

## Train an agent on the default scenario (basic) with the default budget; pass options with ARGS="...".
train: build
	.build/release/a3c train $(ARGS)

## The whole test suite (real engine included), then the concurrency tests under ThreadSanitizer.
test: setup
	$(SWIFTPM) build
	$(SWIFTPM) test
	$(MAKE) test-tsan

## Data-race check: the tests whose names contain "Concurrency" or "concurrent", built with -sanitize=thread.
test-tsan: setup
	$(SWIFTPM) build --sanitize=thread --scratch-path .build-tsan
	$(SWIFTPM) test --sanitize=thread --scratch-path .build-tsan --filter "Concurrency|concurrent"

bench: build
	.build/release/a3c bench env --envs 2 --seconds 10
	.build/release/a3c bench nn
	.build/release/a3c bench train --seconds 20
