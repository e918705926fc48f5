# Parley: the operator interface of SPEC §6.  `make demo` and `make test` work
# on a fresh Debian 12 machine: they install what is missing first.

BUILD     := $(CURDIR)/build
PYTHON    := /usr/bin/python3
JOBS      ?= 2
PARLEY_PORT ?= 8080
export PARLEY_PORT

.PHONY: all deps build engine module demo stop test unit integration bench fuzz clean

all: build

deps:
	scripts/deps.sh

build: deps
	$(MAKE) engine module

# `engine` builds only what runs (the parley binary); the unit tests are built by
# `unit`, so `make demo` does not wait for them.
CONFIGURE_ENGINE := cmake -S engine -B $(BUILD)/engine -DCMAKE_BUILD_TYPE=RelWithDebInfo

engine:
	$(CONFIGURE_ENGINE)
	cmake --build $(BUILD)/engine -j$(JOBS) --target parley
	@# a rename, not an overwrite: a running demo engine keeps its binary
	cp $(BUILD)/engine/parley $(BUILD)/parley.new && mv -f $(BUILD)/parley.new $(BUILD)/parley

module:
	scripts/build-module.sh $(CURDIR) $(BUILD)

demo: build
	$(PYTHON) scripts/parley_stack.py up --demo --dir $(CURDIR)/var --port $(PARLEY_PORT)

stop:
	$(PYTHON) scripts/parley_stack.py down --dir $(CURDIR)/var

test: build
	$(MAKE) unit integration

unit:
	$(CONFIGURE_ENGINE)
	cmake --build $(BUILD)/engine -j$(JOBS) --target parley_tests
	ctest --test-dir $(BUILD)/engine --output-on-failure -j$(JOBS)

# axe-core for the browser tests' accessibility audit, from npm (pinned major)
AXE := $(BUILD)/npm/node_modules/axe-core/axe.min.js

integration: $(AXE)
	$(PYTHON) -m pytest -q t

$(AXE):
	npm install --silent --no-audit --no-fund --prefix $(BUILD)/npm axe-core@4

# the engine benchmark's mock upstream and load generator (bench/engine/), and
# the retrieval benchmark (bench/retrieval/: the engine's vector indexes and FAISS)
BENCH_TOOLS := $(BUILD)/bench/mock_upstream $(BUILD)/bench/loadgen $(BUILD)/bench/relay $(BUILD)/bench/retrieval_bench

bench: build $(BENCH_TOOLS)
	bench/run

$(BUILD)/bench/%: bench/engine/%.cpp $(wildcard bench/engine/*.hpp)
	@mkdir -p $(@D)
	g++ -std=c++20 -O2 -Wall -Wextra -o $@ $< -lpthread

RETRIEVAL_BENCH_SOURCES := bench/retrieval/retrieval_bench.cpp \
	$(addprefix engine/src/rag/,exact_index.cpp hnsw_index.cpp hashing_embedder.cpp text.cpp)

$(BUILD)/bench/retrieval_bench: $(RETRIEVAL_BENCH_SOURCES) $(wildcard engine/src/rag/*.hpp)
	@mkdir -p $(@D)
	g++ -std=c++20 -O2 -Wall -Wextra -Iengine/src -o $@ $(RETRIEVAL_BENCH_SOURCES) \
		-lfaiss -fopenmp -llapack -lblas -lstemmer -lpthread

# libFuzzer harnesses of the module's token and context code (not in test)
FUZZ_SECONDS ?= 60
fuzz: module
	fuzz/deps
	fuzz/run $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD)
