# pipelines/pretrain.mk: MERIT pretraining as make rules, one target per epoch.
#
#   make pretrain TRAIN=train.ecgz [PRETRAIN_DIR=results/pretrain] [EPOCHS=10]
#        [SEED=0] [PRESET=merit-s | CONFIG=file] [BATCH=64] [LR=3e-4]
#        [WARMUP=steps] [VOCAB_SIZE=4096] [LAMBDA_REC=1] [LAMBDA_CMA=1]
#        [THREADS=0] [PRECISION=auto] [FILTER='ecg-filter options'] [MASK='ecg-mask options']
#        [NP=ranks [MPIRUN='mpirun options'] [HOSTFILE=file]]
#
# NP=N runs each epoch as an MPI job of N ranks (merit-step(1), RUNNING ON
# A CLUSTER): MPIRUN -np N [--hostfile HOSTFILE] with each rank running the
# epoch's ecg-shuffle | ecg-mask | merit-step itself on the same TOKSTREAM
# (a shared filesystem, or the same file at the same path on every node);
# BATCH is the global batch (a multiple of NP), THREADS the threads of a
# rank.  The checkpoints are the same whatever NP (to rounding; bit for bit
# with merit-step --ordered-reduce and --chunks, see merit-step(1)).
#
# TRAIN is a stream of records with sig and report at the preset's rate and
# length (ecg-ingest --fs 100 --seconds 10 for merit-s).  The rules:
#
#   DIR/train.ecgz            TRAIN, or with FILTER (ecg-filter's options, e.g.
#                             '--band 0.67,40') TRAIN through ecg-filter
#   DIR/vocab.txt             txt-tokenize --learn on TRAIN's reports
#   DIR/train.tok.ecgz        TRAIN with tok (the checkpoint's max_len)
#   DIR/epoch-0.safetensors   merit-step --init (total steps = EPOCHS x batches)
#   DIR/epoch-E.safetensors   ecg-shuffle -s S_E | ecg-mask -s S_E | merit-step
#                             -m epoch-(E-1) (S_E = SEED * 1000 + E)
#   DIR/model.safetensors     the last epoch (a copy)
#
# Epoch E trains into epoch-E.part.safetensors and renames it when the epoch
# is complete.  An interrupted epoch (Ctrl-C, SIGTERM) leaves its .part pair
# and the next `make` resumes it where it stopped, bit-identically.  Each
# epoch logs to DIR/epoch-E.jsonl (merit-step --log); DIR/log.jsonl is all
# of them in order.
#
# The filters each rule runs are its prerequisites: a rebuilt merit-step
# (or txt-tokenize, ecg-shuffle, ecg-mask) remakes the epochs it made.  The
# recipes are pipelines/epoch.sh's; the rules here only say what depends on
# what.  $(call merit_pretrain,…) (below) defines the same rules for another
# directory (pipelines/demo.mk trains its DEMO_MODELS so, real.mk MIMIC-IV-ECG).

ifndef merit_pretrain_mk
merit_pretrain_mk := 1

MERIT_BIN ?= $(CURDIR)/$(BIN)
EPOCHS     ?= 10
SEED       ?= 0
PRESET     ?= merit-s
BATCH      ?= 64
LR         ?= 3e-4
VOCAB_SIZE ?= 4096
LAMBDA_REC ?= 1
LAMBDA_CMA ?= 1
THREADS    ?= 0
# merit-step --precision: bf16 where the CPU has it (merit-step(1))
PRECISION  ?= auto
PRETRAIN_DIR ?= results/pretrain
# more ecg-mask options for every epoch, e.g. MASK='-D 0.5' (lead dropout,
# ecg-mask(1)); not in the checkpoint: give the same MASK to every epoch
MASK       ?=
NP         ?= 1
# (Open MPI's mpirun kills the ranks 1 s after a SIGTERM by default: 60 s
# gives rank 0 the time to save the interrupted epoch's .part pair)
MPIRUN     ?= mpirun --mca odls_base_sigkill_timeout 60
HOSTFILE   ?=

# NP > 1 needs mpirun: said before anything is made
ifneq ($(filter-out 0 1,$(NP)),)
ifneq ($(filter pretrain %.safetensors,$(or $(MAKECMDGOALS),all)),)
ifeq ($(shell command -v $(firstword $(MPIRUN)) 2>/dev/null),)
$(error make pretrain NP=$(NP): no $(firstword $(MPIRUN)) on PATH; install Open MPI (Debian: apt-get install openmpi-bin libopenmpi-dev) or give MPIRUN='/path/to/mpirun options')
endif
endif
endif

# merit_tools NAME…: the filters a rule runs, as its prerequisites, so
# that a rebuilt filter remakes what it made: this tree's $(BIN)/NAME
# (which the Makefile builds) when MERIT_BIN is this tree's, else
# MERIT_BIN/NAME.
merit_own   = $(filter $(abspath $(MERIT_BIN)),$(CURDIR)/$(BIN))
merit_tools = $(addprefix $(if $(merit_own),$(BIN),$(MERIT_BIN))/,$(1))

# the recipes (pipelines/epoch.sh says what each does)
merit_sh = pipelines/epoch.sh -b $(MERIT_BIN) -t $(THREADS) -p $(PRECISION) \
	$(if $(MASK),-M '$(MASK)') -n $(NP) -r '$(MPIRUN)' \
	$(if $(HOSTFILE),-H $(HOSTFILE))

# options of merit-step --init from the variables above (WARMUP: default 5%
# of the steps, at least 1)
merit_init_opts = $(if $(CONFIG),--config $(CONFIG),--preset $(PRESET)) \
	--lr $(LR) --lambda-rec $(LAMBDA_REC) --lambda-cma $(LAMBDA_CMA) --seed $(SEED)

# $(call merit_tokenize,OUT,STREAM,VOCAB,CKPT): STREAM with tok, CKPT's max_len
define merit_tokenize
$(1): $(2) $(3) $(4) $(call merit_tools,txt-tokenize merit-step)
	@$(merit_sh) tokenize $(1) $(2) $(3) $(4)
endef

# $(call merit_epoch,DIR,TOKSTREAM,E,PREV,SEED): epoch E, from epoch PREV
define merit_epoch
$(1)/epoch-$(3).safetensors: $(1)/epoch-$(4).safetensors $(2) $(call merit_tools,ecg-shuffle ecg-mask merit-step)
	@$(merit_sh) train $(1)/epoch-$(3).safetensors $(1)/epoch-$(4).safetensors $(2) $(5) $(3)
endef

# $(call merit_epochs,DIR,TOKSTREAM,SEED,LIST): the rules of the epochs in
# LIST (1 2 … N); the epoch before E is word E of "0 LIST".
merit_epochs = $(foreach e,$(4),$(eval $(call merit_epoch,$(1),$(2),$(e),$(word $(e),0 $(4)),$(3))))

# $(call merit_pretrain,DIR,TOKSTREAM,STREAM,VOCAB,EPOCHS,SEED,BATCH,INIT-OPTIONS)
# STREAM is the training stream (its records are counted for the schedule);
# TOKSTREAM is STREAM with tok, made by the caller with merit_tokenize from
# DIR/epoch-0 (or any model of the same text size).
define merit_pretrain
$(1)/epoch-0.safetensors: $(4) $(3) $(call merit_tools,ecg-cat merit-step)
	@$(merit_sh) init $(1)/epoch-0.safetensors $(3) $(4) $(5) $(7) $(or $(WARMUP),auto) $(8)
$(call merit_epochs,$(1),$(2),$(6),$(shell seq 1 $(5)))
$(1)/model.safetensors: $(1)/epoch-$(5).safetensors
	cp $(1)/epoch-$(5).safetensors $(1)/model.safetensors
$(1)/log.jsonl: $(1)/epoch-$(5).safetensors
	cat $(foreach e,$(shell seq 1 $(5)),$(1)/epoch-$(e).jsonl) > $(1)/log.jsonl
endef

.PHONY: pretrain
ifneq ($(TRAIN),)
$(PRETRAIN_DIR)/vocab.txt: $(TRAIN) $(call merit_tools,txt-tokenize)
	@mkdir -p $(PRETRAIN_DIR)
	@echo "tokenizer: learning $(VOCAB_SIZE) entries from $(TRAIN)"
	$(MERIT_BIN)/txt-tokenize --learn $(VOCAB_SIZE) -o $@ $(TRAIN)
ifneq ($(FILTER),)
$(PRETRAIN_DIR)/train.ecgz: $(TRAIN) $(call merit_tools,ecg-filter)
	@mkdir -p $(PRETRAIN_DIR)
	@echo "filter: ecg-filter $(FILTER) $(TRAIN)"
	$(MERIT_BIN)/ecg-filter $(FILTER) -o $@ $(TRAIN)
else
$(PRETRAIN_DIR)/train.ecgz: $(TRAIN)
	@mkdir -p $(PRETRAIN_DIR)
	ln -sf $(abspath $(TRAIN)) $@
endif
$(eval $(call merit_tokenize,$(PRETRAIN_DIR)/train.tok.ecgz,$(PRETRAIN_DIR)/train.ecgz,$(PRETRAIN_DIR)/vocab.txt,$(PRETRAIN_DIR)/epoch-0.safetensors))
$(eval $(call merit_pretrain,$(PRETRAIN_DIR),$(PRETRAIN_DIR)/train.tok.ecgz,$(PRETRAIN_DIR)/train.ecgz,$(PRETRAIN_DIR)/vocab.txt,$(EPOCHS),$(SEED),$(BATCH),$(merit_init_opts)))
pretrain: $(PRETRAIN_DIR)/model.safetensors $(PRETRAIN_DIR)/log.jsonl
	@echo "pretrain: $(PRETRAIN_DIR)/model.safetensors (log: $(PRETRAIN_DIR)/log.jsonl)"
else
pretrain:
	@echo "make pretrain needs TRAIN=stream.ecgz (see pipelines/pretrain.mk)" >&2; exit 2
endif

endif
