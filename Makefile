# merit: see README.md.  `make` builds bin/, `make check` runs every test.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.SUFFIXES:

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
PKGS    := msgpack libzstd openblas jansson soxr

CFLAGS  ?= -O2 -g
override CFLAGS += -Wall -Wextra -std=c11 -D_GNU_SOURCE -fopenmp -MMD -MP
override CPPFLAGS += -Ilib
CPPFLAGS_PKG = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS_PKG   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS  := -Wl,--as-needed -ldnnl -Wl,--no-as-needed -fopenmp -lm

ifeq ($(SANITIZE),1)
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
VARIANT := san
BIN     := bin-san
else
VARIANT := rel
BIN     := bin
endif
OBJ := build/$(VARIANT)

# lib/FOLDER/*.c make libmerit.a, except lib/cli: the filters' helpers
# (messages, exit, outputs) are linked into each filter and kept out of
# the library, whose functions never print or exit.  lib/README gives
# the layering; `make lint` checks it.
LIB_SRC     := $(filter-out lib/cli/% lib/nn/model.c lib/nn/cap_net.c,$(wildcard lib/*/*.c))
# lib/nn/model.c (the layers and the model) is compiled twice, by its own
# rule below: -DNN_REAL=float into model_f32.o, the model, and
# -DNN_REAL=double into model_f64.o, the reference of the gradient tests.
NN_MODEL    := $(OBJ)/lib/nn/model_f32.o $(OBJ)/lib/nn/model_f64.o
# lib/nn/cap_net.c (the caption decoder's layers) likewise, for its tests.
NN_CAP      := $(OBJ)/lib/nn/cap_net_f32.o $(OBJ)/lib/nn/cap_net_f64.o
LIB_OBJ     := $(LIB_SRC:lib/%.c=$(OBJ)/lib/%.o) $(NN_MODEL) $(NN_CAP)
LIBA        := $(OBJ)/libmerit.a
CLI_SRC     := $(wildcard lib/cli/*.c)
FLT_OBJ     := $(CLI_SRC:lib/%.c=$(OBJ)/lib/%.o)
# A filter is filters/NAME.c, or a folder filters/NAME/ of .c files.
FILTER_C    := $(wildcard filters/*.c)
FILTER_D    := $(patsubst %/,%,$(wildcard filters/*/))
FILTERS     := $(sort $(FILTER_C:filters/%.c=%) $(FILTER_D:filters/%=%))
PROGS       := $(FILTERS:%=$(BIN)/%)
UNIT_SRC    := $(wildcard tests/unit/test_*.c)
UNITS       := $(UNIT_SRC:tests/unit/%.c=$(OBJ)/tests/%)
BENCH_SRC   := $(wildcard bench/*.c)
BENCHES     := $(BENCH_SRC:bench/%.c=$(OBJ)/bench/%)
MAN1        := $(wildcard man/*.1)
MAN5        := $(wildcard formats/*.5)
MAN7        := $(wildcard man/*.7)

.PHONY: all deps check check-one units benches bench clean install lint
all: $(PROGS)

# Installs missing Debian packages as root, or says what to install.
deps:
	@./scripts/deps

$(OBJ)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CPPFLAGS_PKG) $(CFLAGS) -c -o $@ $<

# The float model with -O3 -fno-trapping-math: if-converting the clamps of
# its fast exp lets the GELU and softmax loops vectorise in the AVX2 and
# baseline clones too (at -O2 only the AVX-512 clone does, so an AVX-512
# machine runs as fast either way: 0.7%, within the noise, on this
# project's; elsewhere -O2 is slower and sums softmax rows in another
# order).  Neither option changes IEEE rounding or NaNs (no fast-math).
$(OBJ)/lib/nn/model_f32.o: NN_FLAGS = -DNN_REAL=float -O3 -fno-trapping-math
$(OBJ)/lib/nn/model_f64.o: NN_FLAGS = -DNN_REAL=double
$(NN_MODEL): lib/nn/model.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CPPFLAGS_PKG) $(CFLAGS) $(NN_FLAGS) -c -o $@ $<
$(OBJ)/lib/nn/cap_net_f32.o: NN_FLAGS = -DNN_REAL=float
$(OBJ)/lib/nn/cap_net_f64.o: NN_FLAGS = -DNN_REAL=double
$(NN_CAP): lib/nn/cap_net.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CPPFLAGS_PKG) $(CFLAGS) $(NN_FLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(OBJ)/filters/%.o: filters/%.c | $(OBJ)/filters
	$(CC) $(CPPFLAGS) $(CPPFLAGS_PKG) $(CFLAGS) -c -o $@ $<

# single-file filters
$(FILTER_C:filters/%.c=$(BIN)/%): $(BIN)/%: $(OBJ)/filters/%.o $(FLT_OBJ) $(LIBA) | $(BIN)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(FLT_OBJ) $(LIBA) $(LDLIBS_PKG) $(LDLIBS)

# folder filters
define folder_filter
$(OBJ)/filters/$(1)/%.o: filters/$(1)/%.c
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $$(CPPFLAGS_PKG) $$(CFLAGS) -c -o $$@ $$<
$(BIN)/$(1): $(patsubst filters/$(1)/%.c,$(OBJ)/filters/$(1)/%.o,$(wildcard filters/$(1)/*.c)) $(FLT_OBJ) $(LIBA) | $(BIN)
	$$(CC) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(LIBA) $$(LDLIBS_PKG) $$(LDLIBS)
endef
$(foreach d,$(FILTER_D:filters/%=%),$(eval $(call folder_filter,$(d))))

# merit-step is an MPI program (filters/merit-step/mpi.c): compiled and
# linked by Open MPI's mpicc; without mpirun it runs as one process.
MPICC ?= mpicc
$(OBJ)/filters/merit-step/%.o $(BIN)/merit-step: private CC = $(MPICC)

$(OBJ)/tests/%: tests/unit/%.c $(LIBA) | $(OBJ)/tests
	$(CC) $(CPPFLAGS) $(CPPFLAGS_PKG) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS_PKG) $(LDLIBS)

$(OBJ)/bench/%: bench/%.c $(LIBA) | $(OBJ)/bench
	$(CC) $(CPPFLAGS) $(CPPFLAGS_PKG) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS_PKG) $(LDLIBS)

$(BIN) $(OBJ)/filters $(OBJ)/tests $(OBJ)/bench:
	mkdir -p $@

# `make check`: every C unit test and every bats file, one summary line.
check: deps
	@$(MAKE) -s --no-print-directory all units
	@MERIT_BIN=$(CURDIR)/$(BIN) UNIT_DIR=$(CURDIR)/$(OBJ)/tests ./tests/run

units: $(UNITS)

# `make check-one T=tests/ecg-cat.bats`: one bats file or unit test.
check-one: all units
	@MERIT_BIN=$(CURDIR)/$(BIN) UNIT_DIR=$(CURDIR)/$(OBJ)/tests ./tests/run $(T)

lint: $(LIB_OBJ) $(FLT_OBJ)
	mandoc -Tlint -W warning $(MAN1) $(MAN5) $(MAN7)
	./scripts/layering $(OBJ) $(LIB_OBJ) $(FLT_OBJ)

benches: $(BENCHES)

# the benchmarks also need python3-torch (the PyTorch reference)
bench: export MERIT_BENCH_TORCH = 1
bench: deps all benches
	@MERIT_BIN=$(CURDIR)/$(BIN) BENCH_DIR=$(CURDIR)/$(OBJ)/bench ./bench/run

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 755 $(PROGS) $(DESTDIR)$(PREFIX)/bin
	$(if $(MAN1),install -m 644 $(MAN1) $(DESTDIR)$(PREFIX)/share/man/man1)
	$(if $(MAN5),install -m 644 $(MAN5) $(DESTDIR)$(PREFIX)/share/man/man5)
	$(if $(MAN7),install -m 644 $(MAN7) $(DESTDIR)$(PREFIX)/share/man/man7)

clean:
	rm -rf build bin bin-san

# ---- fuzzing (fuzz/README) ---------------------------------------------------
# `make fuzz FUZZ_SECONDS=N` runs every libFuzzer harness fuzz/fuzz_*.c for N
# seconds; `make fuzz-smoke` runs each over its seeds and saved inputs with
# FUZZ_RUNS runs, and is part of `make check` when clang and its libFuzzer
# runtime are installed.
# The harnesses and a copy of the library are built with clang, ASan and
# UBSan in build/fuzz/; a filter's parser is compiled into its harness with
# main renamed, and flt_die() wrapped (-Wl,--wrap) to return to the harness.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_RUNS    ?= 1000
FUZZ_OBJ     := build/fuzz
FUZZ_FLAGS   := -g -O1 -std=c11 -D_GNU_SOURCE -fopenmp -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined -MMD -MP
FUZZ_SRC     := $(wildcard fuzz/fuzz_*.c)
FUZZERS      := $(FUZZ_SRC:fuzz/%.c=$(FUZZ_OBJ)/%)
FUZZ_LIBA    := $(FUZZ_OBJ)/libmerit-fuzz.a
FUZZ_NN      := $(FUZZ_OBJ)/lib/nn/model_f32.o $(FUZZ_OBJ)/lib/nn/model_f64.o
FUZZ_LIBOBJ  := $(patsubst lib/%.c,$(FUZZ_OBJ)/lib/%.o,$(LIB_SRC) $(CLI_SRC)) $(FUZZ_NN)
# clang with libFuzzer's runtime (Debian: clang, libclang-rt-14-dev)
HAVE_FUZZ_CC := $(wildcard $(shell $(FUZZ_CC) -print-resource-dir 2>/dev/null)/lib/linux/libclang_rt.fuzzer-*.a)

.PHONY: fuzz fuzz-build fuzz-smoke
$(FUZZ_OBJ)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(CPPFLAGS_PKG) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link \
	    -Wno-unknown-pragmas -Wno-pass-failed -c -o $@ $<

# the model, twice, as for libmerit.a
$(FUZZ_OBJ)/lib/nn/model_f32.o: FUZZ_NN_FLAGS = -DNN_REAL=float
$(FUZZ_OBJ)/lib/nn/model_f64.o: FUZZ_NN_FLAGS = -DNN_REAL=double
$(FUZZ_NN): lib/nn/model.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(CPPFLAGS_PKG) $(FUZZ_FLAGS) $(FUZZ_NN_FLAGS) -fsanitize=fuzzer-no-link \
	    -Wno-unknown-pragmas -Wno-pass-failed -c -o $@ $<

$(FUZZ_LIBA): $(FUZZ_LIBOBJ)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_OBJ)/common.o: fuzz/common.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_OBJ)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_OBJ)/common.o $(FUZZ_LIBA)
	$(FUZZ_CC) $(CPPFLAGS) -Ifuzz $(CPPFLAGS_PKG) $(FUZZ_FLAGS) -fsanitize=fuzzer \
	    -Wno-unknown-pragmas -Wl,--wrap=flt_die -o $@ $< $(FUZZ_OBJ)/common.o \
	    $(FUZZ_LIBA) $(LDLIBS_PKG) -ldnnl -lm

$(FUZZ_OBJ)/seed/.done: fuzz/seeds $(PROGS)
	rm -rf $(@D)
	./fuzz/seeds $(@D) $(BIN)
	touch $@

fuzz-build: $(FUZZERS) $(FUZZ_OBJ)/seed/.done

fuzz: fuzz-build
	@FUZZ_OBJ=$(FUZZ_OBJ) ./fuzz/run fuzz $(FUZZ_SECONDS) $(FUZZERS)

fuzz-smoke: fuzz-build
	@FUZZ_OBJ=$(FUZZ_OBJ) ./fuzz/run smoke $(FUZZ_RUNS) $(FUZZERS)

ifneq ($(HAVE_FUZZ_CC),)
check: fuzz-smoke
endif

-include $(filter-out pipelines/caption.mk,$(wildcard pipelines/*.mk)) pipelines/caption.mk
-include $(shell find build -name '*.d' 2>/dev/null)
