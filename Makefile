# kiln's entry points. `make demo` and `make test` work on a fresh clone: they install missing
# Debian packages, configure (CMake preset, Ninja, ccache when present), build, then act.
#
#   make              build everything (build/release)
#   make test         build, then run the test suite with ctest
#   make demo         build, then build LeNet through the API, save its plan, run it with kiln
#   make deps         install missing packages only
#   make format       clang-format every C++ file in place; format-check only reports
#   make clean        remove build/release and build/demo
#
# Variables: PRESET=debug (a preset of CMakePresets.json), JOBS=N (default: nproc).

PRESET ?= release
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CLANG_FORMAT ?= clang-format

BUILD_DIR := build/$(PRESET)
BIN := $(BUILD_DIR)/bin
DEMO_DIR := build/demo
DEMO_PLAN := $(DEMO_DIR)/lenet.plan
FORMAT_DIRS := $(wildcard include src tools tests samples bench)
FIND_CXX := find $(FORMAT_DIRS) -type f \( -name '*.h' -o -name '*.hpp' -o -name '*.cpp' \
  -o -name '*.cc' -o -name '*.cu' -o -name '*.cuh' \) -print0

.DEFAULT_GOAL := build
.PHONY: deps configure build test demo format format-check clean help

deps:
	@scripts/install-deps

# Configure once; after that ninja re-runs CMake by itself whenever a CMakeLists.txt changes.
# The touch keeps make from configuring again when CMake leaves build.ninja as it was.
$(BUILD_DIR)/build.ninja: CMakePresets.json | deps
	cmake --preset $(PRESET)
	@touch $@

# Explicit reconfigure (e.g. after installing an optional dependency).
configure: deps
	cmake --preset $(PRESET)

build: $(BUILD_DIR)/build.ninja
	cmake --build --preset $(PRESET) --parallel $(JOBS)

# --no-tests=error: a suite that finds no tests is a broken suite, not a passing one.
test: build
	ctest --preset $(PRESET) --parallel $(JOBS) --no-tests=error

# The demo needs only the sample and the command, not the test binaries.
demo: $(BUILD_DIR)/build.ninja
	cmake --build --preset $(PRESET) --parallel $(JOBS) --target lenet_api kiln_cli
	@mkdir -p $(DEMO_DIR)
	$(BIN)/lenet_api --saveEngine=$(DEMO_PLAN)
	$(BIN)/kiln exec --loadEngine=$(DEMO_PLAN) --duration=1

format: deps
	$(FIND_CXX) | xargs -0 -r $(CLANG_FORMAT) -i

format-check: deps
	$(FIND_CXX) | xargs -0 -r $(CLANG_FORMAT) --dry-run -Werror

clean:
	rm -rf $(BUILD_DIR) $(DEMO_DIR)

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))
