# pipelines/demo.mk: the main job end to end on data the project makes.
#
#   make demo          the full demo (21 minutes on two cores, measured)
#   make demo-small    the same steps on a small dataset (a few minutes;
#                      part of make check)
#
# 1. Data: ecg-synth --like the shipped PTB-XL metadata (one record per row
#    of ptbxl_database.csv: its real report, folds and label frequencies, a
#    waveform showing its SCP codes; 100 Hz, 10 s), and a findings set of
#    ecg-synth records whose reports never mention the DEMO_SILENT findings
#    (drawn at DEMO_PREVALENCE each and shown in the waveform: fine-grained
#    morphology that reports leave out, the case MERIT is about) and leave
#    out each other finding with probability DEMO_OMIT.
# 2. Pretraining pairs: folds 1-8 of both; a BPE vocabulary learned on them.
# 3. Models, same config, seed and steps: random (the initial weights),
#    rec-only (lambda_cma 0), CMA-only (lambda_rec 0) and MERIT: the list
#    DEMO_MODELS and a demo_model.NAME line each (below), the one place to
#    add a model.
# 4. Evaluation: ecg-encode every record; linear probes on ptbxl-super,
#    ptbxl-form, ptbxl-rhythm and the findings set's two tasks, silent (the
#    DEMO_SILENT codes of truth.findings) and reported (the others), at
#    DEMO_FRACTIONS; zero-shot on ptbxl-super;
#    folds 1-8 train, 9 validation, 10 test.
# 5. Results in DEMO_DIR: compare.txt (the table), the JSON and TSV behind
#    it, and pictures: curves.png, roc.png, map.png, recon.png.
# 6. Lead subsets (issue 15): leads.txt, ptbxl-super at 100% for every
#    model with the test fold encoded from DEMO_LEADS only (ecg-encode
#    --leads; '+' for ','), the probe trained on the 12-lead features of
#    folds 1-9 (make robust's 12-lead-probe protocol, pipelines/robust.mk;
#    only the test fold is re-encoded, so it costs little), and leads-12.

# the templates of pretrain.mk first (includes come in name order)
include pipelines/pretrain.mk

DEMO_PTBXL     ?= tests/fixtures/ptbxl
DEMO_ROWS      ?= 0
DEMO_FINDINGS  ?= 2000
DEMO_OMIT      ?= 0
DEMO_SILENT    ?= 1AVB,LAFB,LVH,IRBBB,LVOLT
DEMO_PREVALENCE ?= 0.25
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
DEMO_LEADS     ?= I II I+II I+II+V2 limb

# The models, in the table's column order.  Adding a model is one word in
# DEMO_MODELS and its demo_model.NAME line below it; its training,
# encodings, probes, zero-shot, column of compare.txt and (if trained) line
# of curves.png and candidacy for roc.png follow.  demo_model.NAME is
#   train [OPTION…]  merit-step --init $(demo_init) OPTION…, DEMO_EPOCHS epochs
#   init-of MODEL    the initial weights of MODEL (a trained one), untrained
# DEMO_MAIN is the model the others are compared against, a trained one:
# map.png and recon.png show it, and its initial checkpoint gives the
# tokenized stream its length (so adding a model retrains no other).
DEMO_MODELS ?= random rec cma merit
DEMO_MAIN   ?= merit
demo_model.random := init-of merit
demo_model.rec    := train --lambda-cma 0
demo_model.cma    := train --lambda-rec 0
demo_model.merit  := train

demo_scp  = $(DEMO_PTBXL)/scp_statements.csv
demo_init = --config $(DEMO_CONFIG) --lr $(DEMO_LR) --seed $(DEMO_SEED)

# demo_kind NAME: train or init-of;  demo_opts NAME: train's options;
# demo_source NAME: init-of's model
demo_kind   = $(firstword $(or $(demo_model.$(1)),$(error DEMO_MODELS: $(1) has no demo_model.$(1) (pipelines/demo.mk))))
demo_opts   = $(filter-out train,$(demo_model.$(1)))
demo_source = $(lastword $(demo_model.$(1)))
demo_is     = $(foreach m,$(2),$(if $(filter $(1),$(call demo_kind,$(m))),$(m)))
demo_trained = $(call demo_is,train,$(DEMO_MODELS))
demo_copies  = $(call demo_is,init-of,$(DEMO_MODELS))
# the models whose rules are made: the list's trained ones, DEMO_MAIN and
# the models init-of ones are copied from
demo_train_set = $(sort $(demo_trained) $(DEMO_MAIN) $(foreach c,$(demo_copies),$(call demo_source,$(c))))
# every model's result files: the silent and reported findings first, then
# the PTB-XL tasks and zero-shot (compare.txt's rows, in this order)
demo_json = $(foreach m,$(DEMO_MODELS),$(foreach t,silent reported $(DEMO_TASKS) zeroshot,$(DEMO_DIR)/eval/$(m)-$(t).json))
comma := ,
demo_prev = $(subst $(eval) ,$(comma),$(foreach c,$(subst $(comma), ,$(DEMO_SILENT)),$(c)=$(DEMO_PREVALENCE)))

$(foreach m,$(DEMO_MODELS),$(if $(filter train init-of,$(call demo_kind,$(m))),,$(error demo_model.$(m): not train or init-of (pipelines/demo.mk))))
$(foreach m,$(demo_copies),$(if $(filter train,$(call demo_kind,$(call demo_source,$(m)))),,$(error demo_model.$(m): $(call demo_source,$(m)) is not a trained model)))
$(if $(filter train,$(call demo_kind,$(DEMO_MAIN))),,$(error DEMO_MAIN: $(DEMO_MAIN) is not a trained model))

# --- the data ---------------------------------------------------------------
$(DEMO_DIR)/ptbxl.ecgz: $(DEMO_PTBXL)/ptbxl_database.csv $(call merit_tools,ecg-synth)
	@mkdir -p $(@D)
	@echo "demo: synthesising the PTB-XL-shaped dataset"
	$(MERIT_BIN)/ecg-synth --like $< --fs 100 --seconds 10 -s $(DEMO_SEED) \
	    $(if $(filter-out 0,$(DEMO_ROWS)),-n $(DEMO_ROWS)) > $@
$(DEMO_DIR)/findings.ecgz: $(call merit_tools,ecg-synth)
	@mkdir -p $(@D)
	@echo "demo: synthesising $(DEMO_FINDINGS) records whose reports never mention $(DEMO_SILENT)"
	$(MERIT_BIN)/ecg-synth -n $(DEMO_FINDINGS) --fs 100 --seconds 10 --omit $(DEMO_OMIT) \
	    $(if $(DEMO_SILENT),--silent $(DEMO_SILENT) --prevalence $(demo_prev)) \
	    -s $$(( $(DEMO_SEED) + 1000 )) > $@
$(DEMO_DIR)/pretrain.ecgz: $(DEMO_DIR)/ptbxl.ecgz $(DEMO_DIR)/findings.ecgz $(call merit_tools,ecg-split ecg-cat)
	@echo "demo: pretraining pairs from folds 1-8"
	@rm -rf $(@D)/split && mkdir -p $(@D)/split
	$(MERIT_BIN)/ecg-split -p $(@D)/split/ptbxl- $(DEMO_DIR)/ptbxl.ecgz
	$(MERIT_BIN)/ecg-split -p $(@D)/split/findings- $(DEMO_DIR)/findings.ecgz
	$(MERIT_BIN)/ecg-cat $$(for f in 1 2 3 4 5 6 7 8; do \
	    ls $(@D)/split/*-$$f.ecgz 2>/dev/null || true; done) > $@
	@rm -rf $(@D)/split
$(DEMO_DIR)/vocab.txt: $(DEMO_DIR)/pretrain.ecgz $(call merit_tools,txt-tokenize)
	@echo "demo: learning the tokenizer"
	$(MERIT_BIN)/txt-tokenize --learn $(DEMO_VOCAB) -o $@ $<

# --- the models (pipelines/pretrain.mk's templates) ---------------------------
$(eval $(call merit_tokenize,$(DEMO_DIR)/pretrain.tok.ecgz,$(DEMO_DIR)/pretrain.ecgz,$(DEMO_DIR)/vocab.txt,$(DEMO_DIR)/$(DEMO_MAIN)/epoch-0.safetensors))
$(foreach m,$(demo_train_set),$(eval \
    $(call merit_pretrain,$(DEMO_DIR)/$(m),$(DEMO_DIR)/pretrain.tok.ecgz,$(DEMO_DIR)/pretrain.ecgz,$(DEMO_DIR)/vocab.txt,$(DEMO_EPOCHS),$(DEMO_SEED),$(DEMO_BATCH),$(demo_init) $(call demo_opts,$(m)))))

# a changed config makes new models
$(foreach m,$(demo_train_set),$(DEMO_DIR)/$(m)/epoch-0.safetensors): $(DEMO_CONFIG)

# demo_copy NAME SOURCE: model NAME is SOURCE's initial weights
define demo_copy
$(DEMO_DIR)/$(1)/model.safetensors: $(DEMO_DIR)/$(2)/epoch-0.safetensors
	@mkdir -p $(DEMO_DIR)/$(1)
	cp $(DEMO_DIR)/$(2)/epoch-0.safetensors $(DEMO_DIR)/$(1)/model.safetensors
endef
$(foreach m,$(demo_copies),$(eval $(call demo_copy,$(m),$(call demo_source,$(m)))))

# --- evaluation: demo_model_rules NAME, the embeddings and results of a model
define demo_model_rules
$(DEMO_DIR)/enc/$(1)-ptbxl.ecgz $(DEMO_DIR)/enc/$(1)-findings.ecgz: $(DEMO_DIR)/enc/$(1)-%.ecgz: \
    $(DEMO_DIR)/%.ecgz $(DEMO_DIR)/$(1)/model.safetensors $(call merit_tools,ecg-encode)
	@mkdir -p $(DEMO_DIR)/enc
	@echo "demo: encoding $$* with $(1)"
	$(MERIT_BIN)/ecg-encode -m $(DEMO_DIR)/$(1)/model.safetensors --threads $(THREADS) \
	    --precision $(PRECISION) $$< > $$@
$(DEMO_TASKS:%=$(DEMO_DIR)/eval/$(1)-%.json): $(DEMO_DIR)/eval/$(1)-%.json: \
    $(DEMO_DIR)/enc/$(1)-ptbxl.ecgz $(demo_scp) $(call merit_tools,merit-eval)
	@mkdir -p $(DEMO_DIR)/eval
	@echo "demo: $(1): linear probe $$*"
	$(MERIT_BIN)/merit-eval probe -t $$* --scp $(demo_scp) -N $(1) --fractions $(DEMO_FRACTIONS) \
	    -n $(DEMO_RUNS) -B $(DEMO_BOOT) -S $(DEMO_SEED) -j $$@ \
	    --roc $(DEMO_DIR)/eval/$(1)-$$*.roc.tsv $$< > $(DEMO_DIR)/eval/$(1)-$$*.txt
$(DEMO_DIR)/eval/$(1)-silent.json $(DEMO_DIR)/eval/$(1)-reported.json: $(DEMO_DIR)/eval/$(1)-%.json: \
    $(DEMO_DIR)/enc/$(1)-findings.ecgz $(call merit_tools,merit-eval)
	@mkdir -p $(DEMO_DIR)/eval
	@echo "demo: $(1): linear probe on the $$* findings"
	$(MERIT_BIN)/merit-eval probe -t codes -l truth.findings -N $(1) --fractions $(DEMO_FRACTIONS) \
	    -n $(DEMO_RUNS) -B $(DEMO_BOOT) -S $(DEMO_SEED) --task-name $$* \
	    --$$(subst reported,exclude-codes,$$(subst silent,codes,$$*)) $(DEMO_SILENT) \
	    -j $$@ $$< > $(DEMO_DIR)/eval/$(1)-$$*.txt
$(DEMO_DIR)/eval/$(1)-zeroshot.json: $(DEMO_DIR)/enc/$(1)-ptbxl.ecgz $(DEMO_DIR)/$(1)/model.safetensors \
    $(demo_scp) $(call merit_tools,merit-eval)
	@mkdir -p $(DEMO_DIR)/eval
	@echo "demo: $(1): zero-shot ptbxl-super"
	$(MERIT_BIN)/merit-eval zeroshot -m $(DEMO_DIR)/$(1)/model.safetensors -t ptbxl-super --scp $(demo_scp) \
	    -N $(1) -B $(DEMO_BOOT) -S $(DEMO_SEED) -j $$@ \
	    $$< > $(DEMO_DIR)/eval/$(1)-zeroshot.txt
endef
$(foreach m,$(DEMO_MODELS),$(eval $(call demo_model_rules,$(m))))

# --- lead subsets: demo_leads_rules NAME --------------------------------------
# the test fold alone, encoded from each subset, then the records of the
# 12-lead encoding outside it (leads/rest/NAME.ecgz, split once per model)
# before it (robust_rest and robust_mix of pipelines/robust.mk)
$(DEMO_DIR)/ptbxl-test.ecgz: $(DEMO_DIR)/ptbxl.ecgz $(call merit_tools,ecg-split)
	rm -rf $@.d && mkdir -p $@.d
	$(MERIT_BIN)/ecg-split -p $@.d/f- $<
	mv $@.d/f-10.ecgz $@ && rm -rf $@.d
define demo_leads_rules
$(DEMO_DIR)/leads/rest/$(1).ecgz: $(DEMO_DIR)/enc/$(1)-ptbxl.ecgz $(call merit_tools,ecg-split ecg-cat)
	@mkdir -p $$(@D)
	@$$(call robust_rest,$$<)
$(DEMO_DIR)/leads/$(1)-%.ecgz: $(DEMO_DIR)/ptbxl-test.ecgz $(DEMO_DIR)/leads/rest/$(1).ecgz \
    $(DEMO_DIR)/$(1)/model.safetensors $(call merit_tools,ecg-encode ecg-split ecg-cat)
	@mkdir -p $(DEMO_DIR)/leads
	@echo "demo: $(1): the test fold from leads $$*"
	$(MERIT_BIN)/ecg-encode -m $(DEMO_DIR)/$(1)/model.safetensors --threads $(THREADS) \
	    --leads $$(subst +,$$(comma),$$*) \
	    -o $$@.test.ecgz $$<
	@$$(call robust_mix,$(DEMO_DIR)/leads/rest/$(1).ecgz,$$@.test.ecgz) && rm -f $$@.test.ecgz
$(DEMO_DIR)/leads/$(1)-12.ecgz: $(DEMO_DIR)/enc/$(1)-ptbxl.ecgz
	@mkdir -p $(DEMO_DIR)/leads
	ln -sf ../enc/$(1)-ptbxl.ecgz $$@
$(DEMO_DIR)/leads/$(1)-%.json: $(DEMO_DIR)/leads/$(1)-%.ecgz $(demo_scp) $(call merit_tools,merit-eval)
	$(MERIT_BIN)/merit-eval probe -t ptbxl-super --scp $(demo_scp) -N $(1) --task-name leads-$$* \
	    --fractions 1 -n 1 -B $(DEMO_BOOT) -S $(DEMO_SEED) -j $$@ $$< > $$(@:.json=.txt)
endef
$(foreach m,$(DEMO_MODELS),$(eval $(call demo_leads_rules,$(m))))
demo_leads_json = $(foreach s,$(DEMO_LEADS) 12,$(foreach m,$(DEMO_MODELS),$(DEMO_DIR)/leads/$(m)-$(s).json))
$(DEMO_DIR)/leads.txt: $(demo_leads_json) $(call merit_tools,merit-eval)
	$(MERIT_BIN)/merit-eval compare -t $(demo_leads_json) > $@

# --- the table and the pictures ----------------------------------------------
$(DEMO_DIR)/compare.txt: $(demo_json) $(call merit_tools,merit-eval)
	@echo "demo: comparing"
	$(MERIT_BIN)/merit-eval compare -t $(demo_json) > $@
$(DEMO_DIR)/curves.png: $(demo_trained:%=$(DEMO_DIR)/%/log.jsonl)
	pipelines/plot/plot.sh curves $@ $(foreach m,$(demo_trained),$(m)=$(DEMO_DIR)/$(m)/log.jsonl)
# the ROC curves of the model with the best ptbxl-super AUROC at 100%
# (of equal ones, the last by name)
demo_best = [inputs | [(.summary[] | select(.setting == "100%" and .metric == "AUROC") | .value), .model]] \
	| sort | last | .[1]
$(DEMO_DIR)/roc.png: $(DEMO_MODELS:%=$(DEMO_DIR)/eval/%-ptbxl-super.json)
	best=$$(jq -enr '$(demo_best)' $^); \
	pipelines/plot/plot.sh roc $@ $(DEMO_DIR)/eval/$$best-ptbxl-super.roc.tsv \
	    "$$best (best ptbxl-super AUROC): linear probe, ptbxl-super (test fold)"
$(DEMO_DIR)/map.tsv: $(DEMO_DIR)/enc/$(DEMO_MAIN)-findings.ecgz $(call merit_tools,ecg-tsne)
	@echo "demo: 2-D map of the findings set's embeddings"
	$(MERIT_BIN)/ecg-tsne -F h -L truth.findings -s $(DEMO_SEED) -o $@ $<
$(DEMO_DIR)/map.png: $(DEMO_DIR)/map.tsv
	pipelines/plot/plot.sh map $@ $<
# validation L_rec (issue 13): DEMO_VAL_REC records of the validation fold
# 9, masked once (seed 999), reconstructed by each model and scored by
# pipelines/rec-study/oracle.py against the predict-zero level and the
# linear same-time oracle fitted on training records; rec-val.tsv is the
# table (model, L_rec, predict-zero, ratio, oracle_pop).
DEMO_VAL_REC ?= 500
$(DEMO_DIR)/val-rec.ecgz: $(DEMO_DIR)/ptbxl.ecgz $(call merit_tools,ecg-split ecg-head ecg-mask)
	@rm -rf $(@D)/val-split && mkdir -p $(@D)/val-split
	$(MERIT_BIN)/ecg-split -p $(@D)/val-split/f- $<
	$(MERIT_BIN)/ecg-head -n $(DEMO_VAL_REC) $(@D)/val-split/f-9.ecgz | $(MERIT_BIN)/ecg-mask -s 999 > $@
	@rm -rf $(@D)/val-split
$(DEMO_DIR)/val-fit.json: $(DEMO_DIR)/pretrain.ecgz $(call merit_tools,ecg-head ecg-dump)
	$(MERIT_BIN)/ecg-head -n 400 $< | $(MERIT_BIN)/ecg-dump -a > $@
$(DEMO_DIR)/eval/%-lrec.json: $(DEMO_DIR)/%/model.safetensors $(DEMO_DIR)/val-rec.ecgz $(DEMO_DIR)/val-fit.json \
    pipelines/rec-study/oracle.py $(call merit_tools,ecg-encode ecg-dump)
	@mkdir -p $(@D)
	@echo "demo: $*: validation L_rec"
	$(MERIT_BIN)/ecg-encode -m $< --threads $(THREADS) --recon $(DEMO_DIR)/val-rec.ecgz | $(MERIT_BIN)/ecg-dump -a > $@.dump
	/usr/bin/python3 pipelines/rec-study/oracle.py $@.dump --fit $(DEMO_DIR)/val-fit.json --model \
	    --target $$($(MERIT_BIN)/merit-step --info -m $< | awk '$$1 == "train.raw_target" && $$2 == 1 {r = 1} END {print r ? "raw" : "norm"}') > $@.tmp
	@rm -f $@.dump
	mv $@.tmp $@
$(DEMO_DIR)/rec-val.tsv: $(DEMO_MODELS:%=$(DEMO_DIR)/eval/%-lrec.json)
	{ printf 'model\tval_L_rec\tpredict_zero\tratio\toracle_pop\n'; \
	  for m in $(DEMO_MODELS); do jq -r --arg m $$m '[$$m, .model, .zero, (.model / .zero * 1000 | round / 1000), .oracle_pop] | @tsv' \
	      $(DEMO_DIR)/eval/$$m-lrec.json; done; } > $@.tmp && mv $@.tmp $@
$(DEMO_DIR)/recon.json: $(DEMO_DIR)/$(DEMO_MAIN)/model.safetensors $(DEMO_DIR)/findings.ecgz \
    $(call merit_tools,ecg-head ecg-mask ecg-encode ecg-dump)
	@echo "demo: one ECG, its masked patches and the reconstruction"
	$(MERIT_BIN)/ecg-head -n 1 $(DEMO_DIR)/findings.ecgz | $(MERIT_BIN)/ecg-mask -s $(DEMO_SEED) | \
	    $(MERIT_BIN)/ecg-encode -m $< --recon | $(MERIT_BIN)/ecg-dump -a > $@
$(DEMO_DIR)/recon.png: $(DEMO_DIR)/recon.json
	pipelines/plot/plot.sh recon $@ $<

demo_outputs = $(addprefix $(1)/,compare.txt rec-val.tsv leads.txt curves.png roc.png map.png recon.png)

# DEMO_JOBS jobs at once (make -j), each on DEMO_THREADS threads (THREADS
# of merit-step and ecg-encode, OpenMP's and OpenBLAS's for the rest): two
# single-threaded jobs keep two cores busier than one job on two threads
# (measured: two merit-step runs on one thread each train 1.22x the samples
# of one on two, bf16), and one job's single-threaded parts (probes,
# pictures, ecg-shuffle | ecg-mask) overlap the other's.  On a terminal the
# two trainings share merit-step's progress line.
DEMO_JOBS    ?= 2
DEMO_THREADS ?= 1
demo_par = -j$(DEMO_JOBS) THREADS=$(DEMO_THREADS) OMP_NUM_THREADS=$(DEMO_THREADS) \
	OPENBLAS_NUM_THREADS=$(DEMO_THREADS)

.PHONY: demo demo-small
demo: deps
	@$(MAKE) --no-print-directory $(demo_par) $(call demo_outputs,$(DEMO_DIR))
	@cat $(DEMO_DIR)/compare.txt
	@echo "validation L_rec (fold 9, $(DEMO_VAL_REC) records):"; cat $(DEMO_DIR)/rec-val.tsv
	@cat $(DEMO_DIR)/leads.txt
	@echo "demo: results in $(DEMO_DIR)/ (compare.txt, rec-val.tsv, leads.txt, curves.png, roc.png, map.png, recon.png)"

# the small run: the first 1500 PTB-XL rows, 600 findings records, tiny model
DEMO_SMALL_DIR ?= results/demo-small
demo_small_vars = DEMO_DIR=$(DEMO_SMALL_DIR) DEMO_ROWS=1500 DEMO_FINDINGS=600 \
	DEMO_EPOCHS=2 DEMO_BATCH=32 DEMO_VOCAB=512 DEMO_CONFIG=pipelines/demo-small.conf \
	DEMO_RUNS=2 DEMO_BOOT=200 DEMO_LR=2e-3 DEMO_LEADS='I limb'
demo-small:
	@$(MAKE) --no-print-directory $(demo_par) $(demo_small_vars) $(call demo_outputs,$(DEMO_SMALL_DIR))
	@cat $(DEMO_SMALL_DIR)/compare.txt $(DEMO_SMALL_DIR)/rec-val.tsv
	@cat $(DEMO_SMALL_DIR)/leads.txt
	@echo "demo-small: results in $(DEMO_SMALL_DIR)/ (compare.txt, rec-val.tsv, leads.txt, curves.png, roc.png, map.png, recon.png)"
