# Entry points for people: `make demo` and `make test` do all the set-up
# (Debian packages, build) on a fresh Debian 12 machine as root.
JOBS ?= $(shell nproc)
CTEST_ARGS ?=

.PHONY: all deps build demo test test-dev test-asan test-fuzz build-release format format-check clean

all: build

deps:
	scripts/install-deps

build: deps
	cmake --preset dev >/dev/null
	cmake --build build/dev -j$(JOBS)

demo: build
	scripts/demo

# The whole suite: unit, netns and fuzz replays in the dev build, the same
# under ASan+UBSan, then each libFuzzer target for a bounded time.
test: deps format-check test-dev test-asan test-fuzz build-release
	@echo "make test: all suites passed"

test-dev:
	cmake --preset dev >/dev/null
	cmake --build build/dev -j$(JOBS)
	ctest --preset dev $(CTEST_ARGS)

test-asan:
	cmake --preset asan >/dev/null
	cmake --build build/asan -j$(JOBS)
	ctest --preset asan $(CTEST_ARGS)

test-fuzz:
	cmake --preset fuzz >/dev/null
	cmake --build build/fuzz -j$(JOBS) --target fuzzers
	ctest --preset fuzz $(CTEST_ARGS)

# The optimised build has warnings of its own (-O2 flow analysis).
build-release:
	cmake --preset release >/dev/null
	cmake --build build/release -j$(JOBS)

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

format-check:
	git ls-files '*.c' '*.h' | xargs clang-format --dry-run -Werror

clean:
	rm -rf build
