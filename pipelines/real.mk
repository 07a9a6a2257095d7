# pipelines/real.mk: evaluation and pretraining on the real archives, for
# users who have them (PhysioNet: PTB-XL, MIMIC-IV-ECG, the Challenge
# 2020/2021 sets).  Every record is read at 100 Hz for 10 s (ecg-ingest
# --fs 100 --seconds 10: merit-s and merit-xs); records ecg-ingest cannot
# read are reported on the standard error and left out.
#
#   make ptbxl PTBXL=ptb-xl-1.0.3 [MODEL=ckpt.safetensors] [PTBXL_DIR=results/ptbxl]
#
#     PTBXL_DIR/ptbxl.ecgz         ecg-ingest of the PTB-XL root (the 100 Hz
#                                  files, filename_lr)
#     PTBXL_DIR/enc.ecgz           ecg-encode -m MODEL (h and e)
#     PTBXL_DIR/probe-T.json, .txt merit-eval probe, T = ptbxl-super, -sub,
#                                  -form, -rhythm, -all (PTBXL_TASKS) at
#                                  PTBXL_FRACTIONS (0.01,0.1,1), PTBXL_RUNS
#                                  seeds below 100%, with PTBXL's
#                                  scp_statements.csv
#     PTBXL_DIR/zeroshot-T.json    merit-eval zeroshot -m MODEL on the same
#                                  tasks (PTBXL_ZEROSHOT)
#     PTBXL_DIR/compare.txt        merit-eval compare of all of them
#
#   MODEL is a merit-step checkpoint; by default the one `make pretrain`
#   writes (PRETRAIN_DIR/model.safetensors, pipelines/pretrain.mk), made by
#   these rules when TRAIN is given too.  It is read at 100 Hz, 1000 samples.
#   Folds: PTBXL_TRAIN (1-8), PTBXL_VAL (9), PTBXL_TEST (10).  REAL_BOOT
#   bootstrap resamples (1000), REAL_SEED merit-eval's seed (1), MODEL_NAME
#   the model's row in the tables (merit), THREADS the threads of ecg-encode
#   and merit-eval zeroshot (0: all cores).
#   PTBXL_DIR/model.id names the model the embeddings came from: another
#   MODEL (or a retrained one) re-encodes and re-evaluates.
#
#   make mimic-pretrain MIMIC=mimic-iv-ecg-1.0 [EPOCHS=10] [PRESET=merit-s]
#        [MIMIC_DIR=results/mimic]
#
#     MIMIC_DIR/train.ecgz         ecg-ingest of the MIMIC-IV-ECG root (500 Hz
#                                  records resampled; reports from
#                                  machine_measurements.csv)
#     MIMIC_DIR/vocab.txt          txt-tokenize --learn VOCAB_SIZE
#     MIMIC_DIR/epoch-E…, model.safetensors, log.jsonl
#                                  pipelines/pretrain.mk's rules (its
#                                  merit_tokenize and merit_pretrain
#                                  templates) with all its variables: EPOCHS,
#                                  SEED, PRESET or CONFIG, BATCH, LR, WARMUP,
#                                  LAMBDA_REC, LAMBDA_CMA, THREADS.
#
#   make shift PTBXL=ptb-xl-1.0.3 CHALLENGE=WFDB_Ga [MODEL=…] [SHIFT_DIR=results/shift]
#
#     Distribution shift (MODEL.md): a probe trained on PTB-XL, tested on a
#     PhysioNet Challenge 2020/2021 archive (CPSC2018, Chapman-Shaoxing,
#     Ningbo, Georgia: WFDB records whose '# Dx:' holds SNOMED CT codes)
#     over the classes both have, by pipelines/shift-labels.tsv (SHIFT_LABELS).
#
#     SHIFT_DIR/challenge.ecgz     ecg-ingest of CHALLENGE (a folder of records)
#     SHIFT_DIR/enc-challenge.ecgz ecg-encode -m MODEL
#     SHIFT_DIR/labelmap.json      SHIFT_LABELS as {code: class} (SCP codes
#                                  without a trailing '_', SNOMED CT codes)
#     SHIFT_DIR/shared.ecgz        PTBXL_DIR/enc.ecgz (from the ptbxl rules)
#                                  and the Challenge records without sig, each
#                                  with field shared: its classes of the
#                                  table; the Challenge records get fold
#                                  SHIFT_FOLD (11), the PTB-XL records keep
#                                  theirs
#     SHIFT_DIR/shift.json, .txt   merit-eval probe -t codes -l shared:
#                                  trained on PTB-XL folds SHIFT_TRAIN (1-8),
#                                  chosen on SHIFT_VAL (9), tested on the
#                                  Challenge records (fold SHIFT_FOLD)
#     SHIFT_DIR/ptbxl.json, .txt   the same probe tested on PTB-XL's test
#                                  folds (PTBXL_TEST): the in-distribution
#                                  figure the shift is read against
#     SHIFT_DIR/compare.txt        both, one row each (MODEL_NAME-ptbxl,
#                                  MODEL_NAME-shift)
#
#   The classes are the table's classes present in the PTB-XL training
#   folds; a record without any of them is a negative of every class.
#   SHIFT_FRACTIONS (PTBXL_FRACTIONS) are the training fractions.
#
# tests/real.bats runs all three on the real records of tests/fixtures (six
# PTB-XL records, the MIMIC-IV-ECG layout, Challenge records) with a
# merit-xs model.  merit(7) lists these targets with the others.

include pipelines/pretrain.mk

ifndef merit_real_mk
merit_real_mk := 1

MODEL           ?= $(PRETRAIN_DIR)/model.safetensors
MODEL_NAME      ?= merit
REAL_BOOT       ?= 1000
REAL_SEED       ?= 1
PTBXL_DIR       ?= results/ptbxl
PTBXL_TASKS     ?= ptbxl-super ptbxl-sub ptbxl-form ptbxl-rhythm ptbxl-all
PTBXL_ZEROSHOT  ?= $(PTBXL_TASKS)
PTBXL_FRACTIONS ?= 0.01,0.1,1
PTBXL_RUNS      ?= 3
PTBXL_TRAIN     ?= 1-8
PTBXL_VAL       ?= 9
PTBXL_TEST      ?= 10
MIMIC_DIR       ?= results/mimic
SHIFT_DIR       ?= results/shift
SHIFT_LABELS    ?= pipelines/shift-labels.tsv
SHIFT_TRAIN     ?= $(PTBXL_TRAIN)
SHIFT_VAL       ?= $(PTBXL_VAL)
SHIFT_FOLD      ?= 11
SHIFT_FRACTIONS ?= $(PTBXL_FRACTIONS)

real_bin = $(MERIT_BIN)

# real_ingest ROOT: ecg-ingest ROOT to $@ at 100 Hz, 10 s.  Exit 1 with
# the output written means records were skipped (each reported above):
# they are left out.  Without output it is a fatal error.
real_ingest = rm -f $@; $(real_bin)/ecg-ingest --fs 100 --seconds 10 -o $@ $(1) || \
	{ [ $$? -eq 1 ] && [ -e $@ ] && echo "$@: records ecg-ingest skipped (above) are left out" >&2; }; \
	echo "$@: $$($(real_bin)/ecg-cat -c $@) records"

# The model: a file, or made by pretrain.mk's rules; otherwise an error that
# says what to do.
real_model_made = $(or $(wildcard $(MODEL)),$(and $(TRAIN),$(filter $(MODEL),$(PRETRAIN_DIR)/model.safetensors)),$(and $(MIMIC),$(filter $(MODEL),$(MIMIC_DIR)/model.safetensors)))
real_model = $(if $(real_model_made),$(MODEL),real-no-model)

.PHONY: real-no-model real-force
real-no-model:
	@echo "the model $(MODEL) does not exist: train one (make pretrain TRAIN=stream.ecgz, or make mimic-pretrain MIMIC=root, then MODEL=results/mimic/model.safetensors) or name a checkpoint with MODEL=file.safetensors" >&2; exit 2
real-force:

# real_model_id: write $@, DIR/model.id, the model's path, size and time,
# when they change (so that embeddings of another model are remade).  Its
# rule has real-force as a prerequisite, so that it always runs.
real_model_id = id="$(abspath $(MODEL)) $$(stat -c '%s %Y' $(MODEL))"; \
	[ "$$(cat $@ 2>/dev/null)" = "$$id" ] || echo "$$id" > $@

# real_goal TARGET DIR FILES: TARGET makes DIR/compare.txt and shows it
# (the model checked first, before any ingest)
define real_goal
$(1): $$(if $$(real_model_made),,real-no-model) $(2)/compare.txt
	@cat $(2)/compare.txt
	@echo "$(1): results in $(2)/ (compare.txt $(3))"
endef
# real_usage TARGET WHAT: TARGET without its archives
define real_usage
$(1):
	@echo "make $(1) needs $(2) (see pipelines/real.mk)" >&2; exit 2
endef

.PHONY: ptbxl mimic-pretrain shift

# --- make ptbxl ------------------------------------------------------------
ifneq ($(PTBXL),)
real_scp = $(PTBXL)/scp_statements.csv
real_folds = --train $(PTBXL_TRAIN) --val $(PTBXL_VAL) --test $(PTBXL_TEST)

$(PTBXL_DIR)/ptbxl.ecgz: $(PTBXL)/ptbxl_database.csv $(call merit_tools,ecg-ingest ecg-cat)
	@mkdir -p $(@D)
	@echo "ptbxl: ingesting $(PTBXL) at 100 Hz, 10 s"
	@$(call real_ingest,$(PTBXL))
$(PTBXL_DIR)/model.id: $(real_model) real-force
	@mkdir -p $(@D)
	@$(real_model_id)
$(PTBXL_DIR)/enc.ecgz: $(PTBXL_DIR)/ptbxl.ecgz $(PTBXL_DIR)/model.id $(call merit_tools,ecg-encode)
	@echo "ptbxl: encoding with $(MODEL)"
	$(real_bin)/ecg-encode -m $(MODEL) --threads $(THREADS) -o $@ $<
$(PTBXL_DIR)/probe-%.json: $(PTBXL_DIR)/enc.ecgz $(real_scp) $(call merit_tools,merit-eval)
	@echo "ptbxl: linear probe $*"
	$(real_bin)/merit-eval probe -t $* -s $(real_scp) -N $(MODEL_NAME) \
	    -f $(PTBXL_FRACTIONS) -n $(PTBXL_RUNS) -B $(REAL_BOOT) -S $(REAL_SEED) \
	    $(real_folds) -j $@ $< > $(@:.json=.txt) || { rm -f $(@:.json=.txt); exit 1; }
$(PTBXL_DIR)/zeroshot-%.json: $(PTBXL_DIR)/enc.ecgz $(real_scp) $(PTBXL_DIR)/model.id $(call merit_tools,merit-eval)
	@echo "ptbxl: zero-shot $*"
	$(real_bin)/merit-eval zeroshot -m $(MODEL) -t $* -s $(real_scp) -N $(MODEL_NAME) \
	    -B $(REAL_BOOT) -S $(REAL_SEED) --val $(PTBXL_VAL) --test $(PTBXL_TEST) --threads $(THREADS) \
	    -j $@ $< > $(@:.json=.txt) || { rm -f $(@:.json=.txt); exit 1; }
real_ptbxl_json = $(PTBXL_TASKS:%=$(PTBXL_DIR)/probe-%.json) \
	$(PTBXL_ZEROSHOT:%=$(PTBXL_DIR)/zeroshot-%.json)
$(PTBXL_DIR)/compare.txt: $(real_ptbxl_json) $(call merit_tools,merit-eval)
	$(real_bin)/merit-eval compare $(real_ptbxl_json) > $@
$(eval $(call real_goal,ptbxl,$(PTBXL_DIR),probe-*.json|txt zeroshot-*.json|txt))
else
$(eval $(call real_usage,ptbxl,PTBXL=/path/to/ptb-xl))
endif

# --- make mimic-pretrain ---------------------------------------------------
ifneq ($(MIMIC),)
$(MIMIC_DIR)/train.ecgz: $(MIMIC)/record_list.csv $(call merit_tools,ecg-ingest ecg-cat)
	@mkdir -p $(@D)
	@echo "mimic: ingesting $(MIMIC) at 100 Hz, 10 s"
	@$(call real_ingest,$(MIMIC))
$(MIMIC_DIR)/vocab.txt: $(MIMIC_DIR)/train.ecgz $(call merit_tools,txt-tokenize)
	@echo "tokenizer: learning $(VOCAB_SIZE) entries from $<"
	$(real_bin)/txt-tokenize --learn $(VOCAB_SIZE) -o $@ $<
$(eval $(call merit_tokenize,$(MIMIC_DIR)/train.tok.ecgz,$(MIMIC_DIR)/train.ecgz,$(MIMIC_DIR)/vocab.txt,$(MIMIC_DIR)/epoch-0.safetensors))
$(eval $(call merit_pretrain,$(MIMIC_DIR),$(MIMIC_DIR)/train.tok.ecgz,$(MIMIC_DIR)/train.ecgz,$(MIMIC_DIR)/vocab.txt,$(EPOCHS),$(SEED),$(BATCH),$(merit_init_opts)))
mimic-pretrain: $(MIMIC_DIR)/model.safetensors $(MIMIC_DIR)/log.jsonl
	@echo "mimic-pretrain: $(MIMIC_DIR)/model.safetensors (log: $(MIMIC_DIR)/log.jsonl)"
else
$(eval $(call real_usage,mimic-pretrain,MIMIC=/path/to/mimic-iv-ecg))
endif

# --- make shift ------------------------------------------------------------
ifneq ($(and $(PTBXL),$(CHALLENGE)),)
# the record's classes of the table: field shared (a sorted array)
real_shared = del(.sig) | .shared = ([(.labels // {}) | if type == "object" then keys[] else .[] end \
	| rtrimstr("_") | $$m[0][.] // empty] | unique)

# the table as {code: class}
real_labelmap = [inputs | select(startswith("\#") or startswith("class\t") | not) | split("\t") \
	| select(length >= 3) | .[0] as $$c | ((.[1] | split(" ") | map(rtrimstr("_"))) \
	+ (.[2] | split(" "))) | .[] | select(length > 0) | {key: ., value: $$c}] | from_entries

$(SHIFT_DIR)/labelmap.json: $(SHIFT_LABELS)
	@mkdir -p $(@D)
	jq -R -n '$(real_labelmap)' < $< > $@
$(SHIFT_DIR)/challenge.ecgz: $(CHALLENGE) $(call merit_tools,ecg-ingest ecg-cat)
	@mkdir -p $(@D)
	@echo "shift: ingesting $(CHALLENGE) at 100 Hz, 10 s"
	@$(call real_ingest,$(CHALLENGE))
$(SHIFT_DIR)/model.id: $(real_model) real-force
	@mkdir -p $(@D)
	@$(real_model_id)
$(SHIFT_DIR)/enc-challenge.ecgz: $(SHIFT_DIR)/challenge.ecgz $(SHIFT_DIR)/model.id $(call merit_tools,ecg-encode)
	@echo "shift: encoding $< with $(MODEL)"
	$(real_bin)/ecg-encode -m $(MODEL) --threads $(THREADS) -o $@ $<
$(SHIFT_DIR)/shared.ecgz: $(PTBXL_DIR)/enc.ecgz $(SHIFT_DIR)/enc-challenge.ecgz $(SHIFT_DIR)/labelmap.json \
    $(call merit_tools,ecg-dump ecg-pack)
	@echo "shift: the classes of $(SHIFT_LABELS); Challenge records in fold $(SHIFT_FOLD)"
	{ $(real_bin)/ecg-dump -a $(PTBXL_DIR)/enc.ecgz | \
	      jq -c --slurpfile m $(SHIFT_DIR)/labelmap.json '$(real_shared)'; \
	  $(real_bin)/ecg-dump -a $(SHIFT_DIR)/enc-challenge.ecgz | \
	      jq -c --slurpfile m $(SHIFT_DIR)/labelmap.json '$(real_shared) | .fold = $(SHIFT_FOLD)'; \
	} | $(real_bin)/ecg-pack -o $@
# shift_probe NAME TESTFOLDS
real_shift_probe = $(real_bin)/merit-eval probe -t codes -l shared -N $(MODEL_NAME)-$(1) \
	-f $(SHIFT_FRACTIONS) -n $(PTBXL_RUNS) -B $(REAL_BOOT) -S $(REAL_SEED) \
	--train $(SHIFT_TRAIN) --val $(SHIFT_VAL) --test $(2) -j $@ $< > $(@:.json=.txt) || { rm -f $(@:.json=.txt); exit 1; }
$(SHIFT_DIR)/shift.json: $(SHIFT_DIR)/shared.ecgz $(call merit_tools,merit-eval)
	@echo "shift: probe trained on PTB-XL ($(SHIFT_TRAIN)), tested on $(CHALLENGE)"
	$(call real_shift_probe,shift,$(SHIFT_FOLD))
$(SHIFT_DIR)/ptbxl.json: $(SHIFT_DIR)/shared.ecgz $(call merit_tools,merit-eval)
	@echo "shift: the same probe tested on PTB-XL ($(PTBXL_TEST))"
	$(call real_shift_probe,ptbxl,$(PTBXL_TEST))
$(SHIFT_DIR)/compare.txt: $(SHIFT_DIR)/ptbxl.json $(SHIFT_DIR)/shift.json $(call merit_tools,merit-eval)
	$(real_bin)/merit-eval compare $(SHIFT_DIR)/ptbxl.json $(SHIFT_DIR)/shift.json > $@
$(eval $(call real_goal,shift,$(SHIFT_DIR),shift.json|txt ptbxl.json|txt))
else
$(eval $(call real_usage,shift,PTBXL=/path/to/ptb-xl and CHALLENGE=/path/to/challenge-records))
endif

endif
