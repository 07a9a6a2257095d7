# pipelines/demo.mk: the main job end to end on data the project makes.
#
#   make demo          the full demo (about 20 minutes on two cores)
#   make demo-small    the same steps on a small dataset (a few minutes;
#                      part of make check)
#
# 1. Data: ecg-synth --like the shipped PTB-XL metadata (one record per row
#    of ptbxl_database.csv: its real report, folds and label frequencies, a
#    waveform showing its SCP codes; 100 Hz, 10 s), and a findings set of
#    ecg-synth records whose reports leave out each finding with probability
#    DEMO_OMIT, the case MERIT is about.
# 2. Pretraining pairs: folds 1-8 of both; a BPE vocabulary learned on them.
# 3. Models, same config, seed and steps: random (the initial weights),
#    rec-only (lambda_cma 0), CMA-only (lambda_rec 0) and MERIT.
# 4. Evaluation: ecg-encode every record; linear probes on ptbxl-super,
#    ptbxl-form, ptbxl-rhythm and the findings (truth.findings, including
#    those the reports omit) at DEMO_FRACTIONS; zero-shot on ptbxl-super;
#    folds 1-8 train, 9 validation, 10 test.
# 5. Results in DEMO_DIR: compare.txt (the table), the JSON and TSV behind
#    it, and pictures: curves.png, roc.png, map.png, recon.png.

# the templates of pretrain.mk first (includes come in name order)
include pipelines/pretrain.mk

DEMO_PTBXL     ?= tests/fixtures/ptbxl
DEMO_ROWS      ?= 0
DEMO_FINDINGS  ?= 2000
DEMO_OMIT      ?= 0.5
DEMO_EPOCHS    ?= 2
DEMO_BATCH     ?= 64
DEMO_LR        ?= 1e-3
DEMO_SEED      ?= 1
DEMO_CONFIG    ?= pipelines/demo.conf
DEMO_VOCAB     ?= 2048
DEMO_FRACTIONS ?= 0.01,0.1,1
DEMO_RUNS      ?= 3
DEMO_BOOT      ?= 1000
DEMO_TASKS     ?= ptbxl-super ptbxl-form ptbxl-rhythm
DEMO_DIR       ?= results/demo

demo_models := random rec cma merit
demo_bin     = $(MERIT_BIN)
demo_scp     = $(DEMO_PTBXL)/scp_statements.csv
demo_init    = --config $(DEMO_CONFIG) --lr $(DEMO_LR) --seed $(DEMO_SEED)

# demo_rules DIR: every rule of one demo run in DIR
define demo_rules
$(1)/ptbxl.ecgz: $(DEMO_PTBXL)/ptbxl_database.csv | $(merit_built)
	@mkdir -p $(1)
	@echo "demo: synthesising the PTB-XL-shaped dataset"
	$(demo_bin)/ecg-synth --like $$< --fs 100 --seconds 10 -s $(DEMO_SEED) \
	    $(if $(filter-out 0,$(DEMO_ROWS)),-n $(DEMO_ROWS)) > $$@
$(1)/findings.ecgz: | $(merit_built)
	@mkdir -p $(1)
	@echo "demo: synthesising $(DEMO_FINDINGS) records whose reports omit findings"
	$(demo_bin)/ecg-synth -n $(DEMO_FINDINGS) --fs 100 --seconds 10 --omit $(DEMO_OMIT) \
	    -s $(shell echo $$(($(DEMO_SEED) + 1000))) > $$@
$(1)/pretrain.ecgz: $(1)/ptbxl.ecgz $(1)/findings.ecgz
	@echo "demo: pretraining pairs from folds 1-8"
	@rm -rf $(1)/split && mkdir -p $(1)/split
	$(demo_bin)/ecg-split -p $(1)/split/ptbxl- $(1)/ptbxl.ecgz
	$(demo_bin)/ecg-split -p $(1)/split/findings- $(1)/findings.ecgz
	$(demo_bin)/ecg-cat $$$$(for f in 1 2 3 4 5 6 7 8; do \
	    ls $(1)/split/*-$$$$f.ecgz 2>/dev/null || true; done) > $$@
	@rm -rf $(1)/split
$(1)/vocab.txt: $(1)/pretrain.ecgz
	@echo "demo: learning the tokenizer"
	$(demo_bin)/txt-tokenize --learn $(DEMO_VOCAB) -o $$@ $$<

$(call merit_tokenize,$(1)/pretrain.tok.ecgz,$(1)/pretrain.ecgz,$(1)/vocab.txt,$(1)/merit/epoch-0.safetensors)
$(call merit_pretrain,$(1)/merit,$(1)/pretrain.tok.ecgz,$(1)/pretrain.ecgz,$(1)/vocab.txt,$(DEMO_EPOCHS),$(DEMO_SEED),$(DEMO_BATCH),$(demo_init))
$(call merit_pretrain,$(1)/rec,$(1)/pretrain.tok.ecgz,$(1)/pretrain.ecgz,$(1)/vocab.txt,$(DEMO_EPOCHS),$(DEMO_SEED),$(DEMO_BATCH),$(demo_init) --lambda-cma 0)
$(call merit_pretrain,$(1)/cma,$(1)/pretrain.tok.ecgz,$(1)/pretrain.ecgz,$(1)/vocab.txt,$(DEMO_EPOCHS),$(DEMO_SEED),$(DEMO_BATCH),$(demo_init) --lambda-rec 0)
$(1)/random/model.safetensors: $(1)/merit/epoch-0.safetensors
	@mkdir -p $(1)/random
	cp $$< $$@

$(1)/compare.txt: $(foreach m,$(demo_models),$(1)/eval/$(m).done)
	@echo "demo: comparing"
	$(demo_bin)/merit-eval compare -t $(foreach m,$(demo_models),$(1)/eval/$(m)-*.json) > $$@
$(1)/curves.png: $(foreach m,rec cma merit,$(1)/$(m)/log.jsonl)
	pipelines/plot/plot.sh curves $$@ $(foreach m,rec cma merit,$(m)=$(1)/$(m)/log.jsonl)
# the ROC curves of the model with the best ptbxl-super AUROC at 100%
$(1)/roc.png: $(foreach m,$(demo_models),$(1)/eval/$(m).done)
	best=$$$$(for m in $(demo_models); do \
	    echo "$$$$(jq '.summary[] | select(.setting == "100%" and .metric == "AUROC") | .value' \
	        $(1)/eval/$$$$m-ptbxl-super.json) $$$$m"; done | sort -g | tail -n 1 | cut -d' ' -f2); \
	test -n "$$$$best" && \
	pipelines/plot/plot.sh roc $$@ $(1)/eval/$$$$best-ptbxl-super.roc.tsv \
	    "$$$$best (best ptbxl-super AUROC): linear probe, ptbxl-super (test fold)"
$(1)/map.tsv: $(1)/enc/merit-findings.ecgz | $(merit_built)
	@echo "demo: 2-D map of the findings set's embeddings"
	$(demo_bin)/ecg-tsne -F h -L truth.findings -s $(DEMO_SEED) -o $$@ $$<
$(1)/map.png: $(1)/map.tsv
	pipelines/plot/plot.sh map $$@ $$<
$(1)/recon.json: $(1)/merit/model.safetensors $(1)/findings.ecgz | $(merit_built)
	@echo "demo: one ECG, its masked patches and the reconstruction"
	$(demo_bin)/ecg-head -n 1 $(1)/findings.ecgz | $(demo_bin)/ecg-mask -s $(DEMO_SEED) | \
	    $(demo_bin)/ecg-encode -m $(1)/merit/model.safetensors --recon | \
	    $(demo_bin)/ecg-dump -a > $$@
$(1)/recon.png: $(1)/recon.json
	pipelines/plot/plot.sh recon $$@ $$<
endef

# demo_model_rules DIR MODEL: embeddings and evaluation of one model
define demo_model_rules
$(1)/enc/$(2)-%.ecgz: $(1)/%.ecgz $(1)/$(2)/model.safetensors | $(merit_built)
	@mkdir -p $(1)/enc
	@echo "demo: encoding $$* with $(2)"
	$(demo_bin)/ecg-encode -m $(1)/$(2)/model.safetensors $$< > $$@
$(1)/eval/$(2).done: $(1)/enc/$(2)-ptbxl.ecgz $(1)/enc/$(2)-findings.ecgz
	@mkdir -p $(1)/eval
	@set -e; for t in $(DEMO_TASKS); do \
		echo "demo: $(2): linear probe $$$$t"; \
		$(demo_bin)/merit-eval probe -t $$$$t --scp $(demo_scp) -N $(2) --fractions $(DEMO_FRACTIONS) \
		    -n $(DEMO_RUNS) -B $(DEMO_BOOT) -S $(DEMO_SEED) -j $(1)/eval/$(2)-$$$$t.json \
		    --roc $(1)/eval/$(2)-$$$$t.roc.tsv $(1)/enc/$(2)-ptbxl.ecgz > $(1)/eval/$(2)-$$$$t.txt; \
	done
	@echo "demo: $(2): linear probe on the findings (reports omit half of them)"
	$(demo_bin)/merit-eval probe -t codes -l truth.findings -N $(2) --fractions $(DEMO_FRACTIONS) \
	    -n $(DEMO_RUNS) -B $(DEMO_BOOT) -S $(DEMO_SEED) -j $(1)/eval/$(2)-findings.json \
	    $(1)/enc/$(2)-findings.ecgz > $(1)/eval/$(2)-findings.txt
	@echo "demo: $(2): zero-shot ptbxl-super"
	$(demo_bin)/merit-eval zeroshot -m $(1)/$(2)/model.safetensors -t ptbxl-super --scp $(demo_scp) \
	    -N $(2) -B $(DEMO_BOOT) -S $(DEMO_SEED) -j $(1)/eval/$(2)-zeroshot.json \
	    $(1)/enc/$(2)-ptbxl.ecgz > $(1)/eval/$(2)-zeroshot.txt
	touch $$@
endef

demo_outputs = $(addprefix $(1)/,compare.txt curves.png roc.png map.png recon.png)

$(eval $(call demo_rules,$(DEMO_DIR)))
$(foreach m,$(demo_models),$(eval $(call demo_model_rules,$(DEMO_DIR),$(m))))

.PHONY: demo demo-small
demo: deps
	@$(MAKE) --no-print-directory $(call demo_outputs,$(DEMO_DIR))
	@cat $(DEMO_DIR)/compare.txt
	@echo "demo: results in $(DEMO_DIR)/ (compare.txt, curves.png, roc.png, map.png, recon.png)"

# the small run: the first 1500 PTB-XL rows, 600 findings records, tiny model
DEMO_SMALL_DIR ?= results/demo-small
demo_small_vars = DEMO_DIR=$(DEMO_SMALL_DIR) DEMO_ROWS=1500 DEMO_FINDINGS=600 \
	DEMO_EPOCHS=2 DEMO_BATCH=32 DEMO_VOCAB=512 DEMO_CONFIG=pipelines/demo-small.conf \
	DEMO_RUNS=2 DEMO_BOOT=200 DEMO_LR=2e-3
demo-small:
	@$(MAKE) --no-print-directory $(demo_small_vars) $(call demo_outputs,$(DEMO_SMALL_DIR))
	@cat $(DEMO_SMALL_DIR)/compare.txt
	@echo "demo-small: results in $(DEMO_SMALL_DIR)/ (compare.txt, curves.png, roc.png, map.png, recon.png)"
