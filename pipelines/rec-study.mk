# make rec-study: the reconstruction study of docs/rec-study.md.
#
# Every run of pipelines/rec-study/variants.tsv (one lever changed from the
# base config) trains a rec-only model on the demo's pretraining records for
# STUDY_STEPS steps, then scores L_rec on validation records (fold 9 of the
# demo's PTB-XL-shaped set, never the test fold) against the predict-zero
# floor and two linear oracles (pipelines/rec-study/oracle.py).  Results:
# STUDY_DIR/summary.tsv (the table) and STUDY_DIR/curves.png (training L_rec
# against step and against compute, one line a run; pipelines/rec-study/cost.sh
# measures each run's seconds per step, interleaved).  STUDY_RUNS names a subset of the runs.

STUDY_DIR    ?= results/rec-study
STUDY_STEPS  ?= 300
STUDY_VAL    ?= 500
STUDY_CONFIG ?= $(DEMO_CONFIG)
STUDY_RUNS   ?=
study_names   = $(if $(STUDY_RUNS),$(STUDY_RUNS),$(shell awk -F'\t' '$$1 !~ /^\#/ && NF {print $$1}' pipelines/rec-study/variants.tsv))
study_uncosted = $(foreach n,$(study_names),$(if $(wildcard $(STUDY_DIR)/$(n)/cost),,$(n)))

.PHONY: rec-study
rec-study: all $(DEMO_DIR)/pretrain.tok.ecgz $(DEMO_DIR)/pretrain.ecgz $(DEMO_DIR)/ptbxl.ecgz
	@mkdir -p $(STUDY_DIR)
	@[ -s $(STUDY_DIR)/val.ecgz ] || { \
	    $(BIN)/ecg-split -F fold -p $(STUDY_DIR)/fold- $(DEMO_DIR)/ptbxl.ecgz && \
	    $(BIN)/ecg-head -n $(STUDY_VAL) $(STUDY_DIR)/fold-9.ecgz > $(STUDY_DIR)/val.ecgz && \
	    rm -f $(STUDY_DIR)/fold-*.ecgz; }
	./pipelines/rec-study/run.sh $(CURDIR)/$(BIN) $(STUDY_DIR) $(STUDY_CONFIG) \
	    $(DEMO_DIR)/pretrain.tok.ecgz $(STUDY_DIR)/val.ecgz $(DEMO_DIR)/pretrain.ecgz \
	    $(STUDY_STEPS) $(DEMO_BATCH) $(DEMO_LR) $(STUDY_RUNS)
	$(if $(study_uncosted),./pipelines/rec-study/cost.sh $(CURDIR)/$(BIN) $(STUDY_DIR) \
	    $(DEMO_DIR)/pretrain.tok.ecgz $(study_uncosted))
	./pipelines/rec-study/curves.sh $(STUDY_DIR)/curves.png $(STUDY_DIR) $(study_names)
