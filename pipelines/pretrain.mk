# pipelines/pretrain.mk: MERIT pretraining as make rules, one target per epoch.
#
#   make pretrain TRAIN=train.ecgz [PRETRAIN_DIR=results/pretrain] [EPOCHS=10]
#        [SEED=0] [PRESET=merit-s | CONFIG=file] [BATCH=64] [LR=3e-4]
#        [WARMUP=steps] [VOCAB_SIZE=4096] [LAMBDA_REC=1] [LAMBDA_CMA=1]
#        [THREADS=0]
#
# TRAIN is a stream of records with sig and report at the preset's rate and
# length (ecg-ingest --fs 100 --seconds 10 for merit-s).  The rules:
#
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
# $(call merit_pretrain,…) (below) defines the same rules for another directory (pipelines/demo.mk trains four models so).

ifndef merit_pretrain_mk
merit_pretrain_mk := 1

MERIT_BIN ?= $(CURDIR)/$(BIN)
# the filters are built first when they are this tree's own
merit_built = $(if $(filter $(abspath $(MERIT_BIN)),$(CURDIR)/$(BIN)),all)
EPOCHS     ?= 10
SEED       ?= 0
PRESET     ?= merit-s
BATCH      ?= 64
LR         ?= 3e-4
VOCAB_SIZE ?= 4096
LAMBDA_REC ?= 1
LAMBDA_CMA ?= 1
THREADS    ?= 0
PRETRAIN_DIR ?= results/pretrain

# options of merit-step --init from the variables above (WARMUP: default 5%
# of the steps, at least 1)
merit_init_opts = $(if $(CONFIG),--config $(CONFIG),--preset $(PRESET)) \
	--lr $(LR) --lambda-rec $(LAMBDA_REC) --lambda-cma $(LAMBDA_CMA) --seed $(SEED)

# merit_info CKPT KEY: a value of merit-step --info (in a recipe)
# (for use inside the define templates below, which $(eval) expands twice)
merit_info = $$$$($(MERIT_BIN)/merit-step --info -m $(1) | awk -F'\t' '$$$$1 == "$(2)" { print $$$$2 }')

# $(call merit_tokenize,OUT,STREAM,VOCAB,CKPT)
define merit_tokenize
$(1): $(2) $(3) $(4) | $(merit_built)
	@echo "tokenize: $$@"
	$(MERIT_BIN)/txt-tokenize -v $(3) --max-len $(call merit_info,$(4),max_len) $(2) > $$@
endef

# $(call merit_epoch,DIR,TOKSTREAM,E,SEED)
define merit_epoch
$(1)/epoch-$(3).safetensors: $(1)/epoch-$(words $(wordlist 2,$(3),$(shell seq $(3)))).safetensors $(2) | $(merit_built)
	@in=$$<; part=$(1)/epoch-$(3).part.safetensors; \
	if [ -e $$$$part ] && [ -e $(1)/epoch-$(3).part.optim.safetensors ]; then \
		in=$$$$part; echo "pretrain $(1): epoch $(3) (resuming)"; \
	else rm -f $(1)/epoch-$(3).jsonl; echo "pretrain $(1): epoch $(3)"; fi; \
	s=$$$$(( $(4) * 1000 + $(3) )); \
	$(MERIT_BIN)/ecg-shuffle -s $$$$s $(2) | \
	$(MERIT_BIN)/ecg-mask -s $$$$s -p $(call merit_info,$$<,patch) \
	    -r $(call merit_info,$$<,mask_ratio) | \
	$(MERIT_BIN)/merit-step -m $$$$in -o $$$$part --threads $(THREADS) \
	    --log $(1)/epoch-$(3).jsonl; \
	mv $(1)/epoch-$(3).part.optim.safetensors $(1)/epoch-$(3).optim.safetensors; \
	mv $$$$part $$@
endef

# $(call merit_pretrain,DIR,TOKSTREAM,STREAM,VOCAB,EPOCHS,SEED,BATCH,INIT-OPTIONS)
# STREAM is the training stream (its records are counted for the schedule);
# TOKSTREAM is STREAM with tok, made by the caller with merit_tokenize from
# DIR/epoch-0 (or any model of the same text size).
define merit_pretrain
$(1)/epoch-0.safetensors: $(4) $(3) | $(merit_built)
	@mkdir -p $(1)
	@echo "pretrain $(1): init"
	@n=$$$$($(MERIT_BIN)/ecg-cat -c $(3)); \
	t=$$$$(( $(5) * (n / $(7)) )); [ $$$$t -ge 1 ] || t=1; \
	w=$$$$(( t / 20 )); [ $$$$w -ge 1 ] || w=1; \
	$(MERIT_BIN)/merit-step --init $(8) --batch $(7) --vocab $(4) --total-steps $$$$t \
	    --warmup $(if $(WARMUP),$(WARMUP),$$$$w) -o $$@
$(foreach e,$(shell seq 1 $(5)),$(eval $(call merit_epoch,$(1),$(2),$(e),$(6))))
$(1)/model.safetensors: $(1)/epoch-$(5).safetensors
	cp $$< $$@
$(1)/log.jsonl: $(1)/epoch-$(5).safetensors
	cat $(foreach e,$(shell seq 1 $(5)),$(1)/epoch-$(e).jsonl) > $$@
endef

.PHONY: pretrain
ifneq ($(TRAIN),)
$(PRETRAIN_DIR)/vocab.txt: $(TRAIN) | $(merit_built)
	@mkdir -p $(PRETRAIN_DIR)
	@echo "tokenizer: learning $(VOCAB_SIZE) entries from $(TRAIN)"
	$(MERIT_BIN)/txt-tokenize --learn $(VOCAB_SIZE) -o $@ $(TRAIN)
$(PRETRAIN_DIR)/train.ecgz: $(TRAIN)
	@mkdir -p $(PRETRAIN_DIR)
	ln -sf $(abspath $(TRAIN)) $@
$(eval $(call merit_tokenize,$(PRETRAIN_DIR)/train.tok.ecgz,$(PRETRAIN_DIR)/train.ecgz,$(PRETRAIN_DIR)/vocab.txt,$(PRETRAIN_DIR)/epoch-0.safetensors))
$(eval $(call merit_pretrain,$(PRETRAIN_DIR),$(PRETRAIN_DIR)/train.tok.ecgz,$(PRETRAIN_DIR)/train.ecgz,$(PRETRAIN_DIR)/vocab.txt,$(EPOCHS),$(SEED),$(BATCH),$(merit_init_opts)))
pretrain: $(PRETRAIN_DIR)/model.safetensors $(PRETRAIN_DIR)/log.jsonl
	@echo "pretrain: $(PRETRAIN_DIR)/model.safetensors (log: $(PRETRAIN_DIR)/log.jsonl)"
else
pretrain:
	@echo "make pretrain needs TRAIN=stream.ecgz (see pipelines/pretrain.mk)" >&2; exit 2
endif

endif
