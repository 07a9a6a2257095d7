# pipelines/caption.mk: ECG-conditioned report generation on the demo's
# encoders (merit-caption(1)), scored by merit-eval generate.
#
#   make demo-caption        on the encoders of make demo (DEMO_DIR)
#   make demo-caption-small  on those of make demo-small
#
# For each encoder of DEMO_MODELS, and for the text-only baseline (text:
# --no-ecg, the same decoder without cross-attention), with the same
# decoder (CAPTION_CONFIG), steps, batch, learning rate and seed:
# 1. The decoder's training records: CAPTION_TRAIN records (0: all) of the
#    demo's pretraining stream with tok (folds 1-8 of the PTB-XL-shaped and
#    the findings sets), shuffled; its test records: CAPTION_TEST records
#    (0: all) of fold 10 of both sets.
# 2. merit-caption --encode stores each encoder's memory in the records
#    once (the encoder is frozen), CAPTION_EPOCHS epochs of teacher
#    forcing, each on the records shuffled with its own seed.
# 3. merit-caption --generate (beam CAPTION_BEAM) on the test records,
#    merit-eval generate (--silent DEMO_SILENT) on what it wrote.
# Results in DEMO_DIR/caption: table.txt (every metric of every model with
# its bootstrap interval, merit-eval compare), examples.txt (three test
# reports against what the model with the best finding-level micro-F1
# wrote), and per model its checkpoint, log, generated records and scores.
# Like make demo, DEMO_JOBS jobs at once on DEMO_THREADS threads each.
# This file is included after demo.mk (Makefile), whose variables it uses.

CAPTION_TRAIN  ?= 3000
CAPTION_TEST   ?= 600
CAPTION_EPOCHS ?= 4
CAPTION_BATCH  ?= 32
CAPTION_LR     ?= 3e-3
CAPTION_BEAM   ?= 3
CAPTION_CONFIG ?= pipelines/caption.conf
CAPTION_MODELS  = $(DEMO_MODELS) text
CAPTION_DIR     = $(DEMO_DIR)/caption
# the text-only baseline reads DEMO_MAIN's checkpoint for its tokenizer
# only, and the records without a stored memory
caption_enc     = $(DEMO_DIR)/$(if $(filter text,$(1)),$(DEMO_MAIN),$(1))/model.safetensors
caption_in      = $(CAPTION_DIR)/$(if $(filter text,$(1)),$(2).ecgz,$(1)/$(2).mem.ecgz)

$(CAPTION_DIR)/train.ecgz: $(DEMO_DIR)/pretrain.tok.ecgz $(call merit_tools,ecg-shuffle ecg-head)
	@mkdir -p $(@D)
	@echo "caption: training records"
	$(MERIT_BIN)/ecg-shuffle -s $(DEMO_SEED) $< | \
	    $(MERIT_BIN)/ecg-head $(if $(filter-out 0,$(CAPTION_TRAIN)),-n $(CAPTION_TRAIN),-n 1000000000) > $@
$(CAPTION_DIR)/test.ecgz: $(DEMO_DIR)/ptbxl.ecgz $(DEMO_DIR)/findings.ecgz $(call merit_tools,ecg-split ecg-cat ecg-shuffle ecg-head)
	@mkdir -p $(@D)
	@echo "caption: test records (fold 10)"
	@rm -rf $(@D)/split && mkdir -p $(@D)/split
	$(MERIT_BIN)/ecg-split -p $(@D)/split/ptbxl- $(DEMO_DIR)/ptbxl.ecgz
	$(MERIT_BIN)/ecg-split -p $(@D)/split/findings- $(DEMO_DIR)/findings.ecgz
	$(MERIT_BIN)/ecg-cat $(@D)/split/*-10.ecgz | $(MERIT_BIN)/ecg-shuffle -s $(DEMO_SEED) | \
	    $(MERIT_BIN)/ecg-head $(if $(filter-out 0,$(CAPTION_TEST)),-n $(CAPTION_TEST),-n 1000000000) > $@
	@rm -rf $(@D)/split

# caption_rules NAME: the decoder on encoder NAME (text: no ECG)
define caption_rules
$(CAPTION_DIR)/$(1)/init.safetensors: $(call caption_enc,$(1)) $(CAPTION_DIR)/train.ecgz $(CAPTION_CONFIG) $(call merit_tools,merit-caption ecg-cat)
	@mkdir -p $$(@D)
	n=$$$$($(MERIT_BIN)/ecg-cat -c $(CAPTION_DIR)/train.ecgz); \
	steps=$$$$(( $(CAPTION_EPOCHS) * (n / $(CAPTION_BATCH)) )); \
	$(MERIT_BIN)/merit-caption --init -m $$< --config $(CAPTION_CONFIG) $(if $(filter text,$(1)),--no-ecg) \
	    --batch $(CAPTION_BATCH) --lr $(CAPTION_LR) --total-steps $$$$steps \
	    --warmup $$$$(( steps / 20 + 1 )) -s $(DEMO_SEED) -o $$@
$(CAPTION_DIR)/$(1)/%.mem.ecgz: $(CAPTION_DIR)/%.ecgz $(CAPTION_DIR)/$(1)/init.safetensors $(call merit_tools,merit-caption)
	@echo "caption: $(1): the encoder's memory of the $$* records"
	$(MERIT_BIN)/merit-caption --encode -m $(CAPTION_DIR)/$(1)/init.safetensors --batch $(CAPTION_BATCH) \
	    --threads $(THREADS) $$< > $$@
$(CAPTION_DIR)/$(1)/model.safetensors: $(CAPTION_DIR)/$(1)/init.safetensors $(call caption_in,$(1),train) $(call merit_tools,merit-caption ecg-shuffle)
	@echo "caption: $(1): training, $(CAPTION_EPOCHS) epochs"
	rm -f $(CAPTION_DIR)/$(1)/log.jsonl
	prev=$$<; for e in $$$$(seq 1 $(CAPTION_EPOCHS)); do \
	    $(MERIT_BIN)/ecg-shuffle -s $$$$(( $(DEMO_SEED) * 1000 + e )) $(call caption_in,$(1),train) | \
	    $(MERIT_BIN)/merit-caption -m $$$$prev -o $(CAPTION_DIR)/$(1)/epoch-$$$$e.safetensors \
	        --threads $(THREADS) --log $(CAPTION_DIR)/$(1)/log.jsonl; \
	    prev=$(CAPTION_DIR)/$(1)/epoch-$$$$e.safetensors; done; \
	cp $$$$prev $$@
$(CAPTION_DIR)/$(1)/gen.ecgz: $(CAPTION_DIR)/$(1)/model.safetensors $(call caption_in,$(1),test) $(call merit_tools,merit-caption)
	@echo "caption: $(1): generating the test reports"
	$(MERIT_BIN)/merit-caption --generate -m $$< --beam $(CAPTION_BEAM) --batch $(CAPTION_BATCH) \
	    --threads $(THREADS) \
	    $(call caption_in,$(1),test) > $$@
$(CAPTION_DIR)/$(1)/scores.json: $(CAPTION_DIR)/$(1)/gen.ecgz $(call merit_tools,merit-eval)
	@echo "caption: $(1): scoring"
	$(MERIT_BIN)/merit-eval generate -N $(1) -B $(DEMO_BOOT) -S $(DEMO_SEED) \
	    $(if $(DEMO_SILENT),--silent $(DEMO_SILENT)) -j $$@ $$< > $(CAPTION_DIR)/$(1)/scores.txt
endef
$(foreach m,$(CAPTION_MODELS),$(eval $(call caption_rules,$(m))))

$(CAPTION_DIR)/table.txt: $(CAPTION_MODELS:%=$(CAPTION_DIR)/%/scores.json) $(call merit_tools,merit-eval)
	$(MERIT_BIN)/merit-eval compare -t $(CAPTION_MODELS:%=$(CAPTION_DIR)/%/scores.json) > $@
# three test records of the model with the best finding-level micro-F1
caption_best = [inputs | [(.summary[] | select(.setting == "findings" and .metric == "micro-F1") | .value), .model]] \
	| sort | last | .[1]
$(CAPTION_DIR)/examples.txt: $(CAPTION_MODELS:%=$(CAPTION_DIR)/%/scores.json) $(call merit_tools,ecg-dump ecg-head)
	best=$$(jq -enr '$(caption_best)' $(CAPTION_MODELS:%=$(CAPTION_DIR)/%/scores.json)); \
	{ echo "model $$best (best finding-level micro-F1), the first three test records"; \
	  $(MERIT_BIN)/ecg-head -n 3 $(CAPTION_DIR)/$$best/gen.ecgz | $(MERIT_BIN)/ecg-dump -a | \
	  jq -r '"\nid:        \(.id)\nfindings:  \(.truth.findings | join(" "))\nreference: \(.report)\ngenerated: \(.gen)"'; } > $@

.PHONY: demo-caption demo-caption-small
demo-caption: deps
	@$(MAKE) --no-print-directory $(demo_par) $(CAPTION_DIR)/table.txt $(CAPTION_DIR)/examples.txt
	@cat $(CAPTION_DIR)/table.txt $(CAPTION_DIR)/examples.txt
demo-caption-small:
	@$(MAKE) --no-print-directory $(demo_small_vars) CAPTION_TRAIN=0 CAPTION_TEST=0 CAPTION_EPOCHS=8 \
	    CAPTION_BATCH=16 demo-caption
