# pipelines/robust.mk: how one checkpoint's features hold up under shifts
# of the input (issue 15).
#
#   make robust MODEL=ckpt.safetensors [ROBUST_DIR=results/robust]
#        [PTBXL=ptb-xl-1.0.3 [CHALLENGE=WFDB_Ga]]
#
# The records: by default the demo's PTB-XL-shaped set (DEMO_DIR/ptbxl.ecgz,
# made by the demo's rules: ecg-synth --like, 100 Hz); with PTBXL, PTB-XL
# itself (PTBXL_DIR/ptbxl.ecgz of pipelines/real.mk).  The task is
# ROBUST_TASK (ptbxl-super); folds 1-8 train, 9 validation, ROBUST_TEST (10)
# test.  Each shift is a condition:
#
#   leads-S      ecg-encode --leads S (ROBUST_LEADS: I, II, I+II, I+II+V2,
#                limb and 12, '+' for ','): only those leads' tokens
#   noise-K-D    ecg-noise --K D -s ROBUST_SEED (ROBUST_NOISE: baseline
#                wander and EMG at 12 and 0 dB SNR).
#                Powerline noise (mains-D) is not in the default list: 50
#                and 60 Hz are at or above the Nyquist frequency of 100 Hz
#                records (ecg-noise refuses it), and ecg-ingest's
#                anti-aliasing filter removes it from faster records
#                before a 100 Hz model sees them.
#   rate-500     the records at 500 Hz resampled to 100 Hz by ecg-ingest
#                (libsoxr): with PTBXL, its 500 Hz files (ecg-ingest --hr
#                --fs 100); else ecg-synth's 500 Hz rendering of the same
#                rows (same seed), written as WFDB by ecg-export and read
#                back by ecg-ingest --fs 100.  The synthetic 500 Hz records
#                are the same ECGs drawn again at 500 Hz, not a resampling
#                of the 100 Hz ones, so their noise differs too.
#   source shift with CHALLENGE: make shift's probe (pipelines/real.mk),
#                trained on PTB-XL and tested on the Challenge records,
#                over their shared classes (its own columns).
#
# Two protocols, both in use, a column group each of ROBUST_DIR/compare.txt:
#   12-lead-probe  the probe is trained (and its L2 strength and F1
#                  thresholds chosen) on the 12-lead, unshifted features of
#                  the training and validation folds, and tested on the
#                  shifted test fold;
#   own-probe      the probe is retrained on the condition's own features
#                  of every fold.
# Both at 100% of the training folds, one seed, AUROC and F1 with bootstrap
# 95% CIs (ROBUST_BOOT resamples).  The row leads-12 is the reference.
#
# ROBUST_DIR holds raw/ (shifted records), enc/ (features), mix/ (the
# 12-lead-probe streams), eval/ (JSON and text per condition and
# protocol) and compare.txt.  THREADS: ecg-encode's threads.

include pipelines/pretrain.mk
include pipelines/real.mk

ifndef merit_robust_mk
merit_robust_mk := 1

ROBUST_DIR   ?= results/robust
ROBUST_TASK  ?= ptbxl-super
ROBUST_TEST  ?= 10
ROBUST_LEADS ?= I II I+II I+II+V2 limb 12
ROBUST_NOISE ?= bw-12 emg-12 bw-0 emg-0
ROBUST_SEED  ?= 1
ROBUST_BOOT  ?= 1000
ROBUST_RUNS  ?= 1

comma := ,
robust_bin = $(MERIT_BIN)

# robust_rest REF: $@ = the records of REF outside the test fold, in fold
# order (split in a scratch folder); made once per reference and shared by
# every condition's mix
robust_rest = rm -rf $@.d && mkdir -p $@.d && \
	$(robust_bin)/ecg-split -p $@.d/a- $(1) && \
	$(robust_bin)/ecg-cat $$(ls $@.d/a-*.ecgz | grep -v -- '-$(ROBUST_TEST)\.ecgz$$') \
	    > $@.tmp && mv $@.tmp $@ && rm -rf $@.d
# robust_mix REST ENC: $@ = REST (robust_rest's), then ENC's records of the
# test fold
robust_mix = rm -rf $@.d && mkdir -p $@.d && \
	$(robust_bin)/ecg-split -p $@.d/b- $(2) && \
	$(robust_bin)/ecg-cat $(1) $@.d/b-$(ROBUST_TEST).ecgz > $@.tmp && mv $@.tmp $@ && rm -rf $@.d
# robust_probe NAME PROTOCOL SCP BOOT: merit-eval probe of $< to $@ (and .txt)
robust_probe = $(robust_bin)/merit-eval probe -t $(ROBUST_TASK) --scp $(3) -N $(1) \
	--task-name $(2) --fractions 1 -n $(ROBUST_RUNS) -B $(4) -S $(ROBUST_SEED) \
	--test $(ROBUST_TEST) -j $@ $< > $(@:.json=.txt) || { rm -f $@ $(@:.json=.txt); exit 1; }

# the robustness rules of one model on one record set, to be evaluated:
# robust_rules DIR MODEL DATA SCP BOOT CONDITIONS
#   DIR/enc/C.ecgz, DIR/mix/C.ecgz, DIR/eval/C-{12-lead-probe,own-probe}.json
#   for every condition C, and DIR/rest.ecgz (leads-12 outside the test fold)
#   for every condition C of CONDITIONS whose records are DIR/raw/C.ecgz
#   (leads-S conditions read DATA itself)
define robust_rules
$(1)/enc/%.ecgz: $(2) $(call merit_tools,ecg-encode)
	@mkdir -p $$(@D)
	@echo "robust: encoding $$* with $(2)"
	$$(robust_bin)/ecg-encode -m $(2) --threads $$(THREADS) \
	    $$(if $$(filter leads-%,$$*),--leads $$(subst +,$$(comma),$$(patsubst leads-%,%,$$*))) \
	    -o $$@ $$(if $$(filter leads-%,$$*),$(3),$(1)/raw/$$*.ecgz)
$(foreach c,$(filter-out leads-%,$(6)),$(1)/enc/$(c).ecgz: $(1)/raw/$(c).ecgz
)$(foreach c,$(filter leads-%,$(6)),$(1)/enc/$(c).ecgz: $(3)
)$(1)/rest.ecgz: $(1)/enc/leads-12.ecgz $(call merit_tools,ecg-split ecg-cat)
	@$$(call robust_rest,$$<)
$(1)/mix/%.ecgz: $(1)/rest.ecgz $(1)/enc/%.ecgz $(call merit_tools,ecg-split ecg-cat)
	@mkdir -p $$(@D)
	@$$(call robust_mix,$(1)/rest.ecgz,$(1)/enc/$$*.ecgz)
$(1)/eval/%-12-lead-probe.json: $(1)/mix/%.ecgz $(4) $(call merit_tools,merit-eval)
	@mkdir -p $$(@D)
	@echo "robust: $$*, the 12-lead probe"
	$$(call robust_probe,$$*,12-lead-probe,$(4),$(5))
$(1)/eval/%-own-probe.json: $(1)/enc/%.ecgz $(4) $(call merit_tools,merit-eval)
	@mkdir -p $$(@D)
	@echo "robust: $$*, a probe retrained on its features"
	$$(call robust_probe,$$*,own-probe,$(4),$(5))
endef

robust_conditions = $(ROBUST_LEADS:%=leads-%) $(ROBUST_NOISE:%=noise-%) rate-500
robust_json = $(foreach c,$(robust_conditions),$(ROBUST_DIR)/eval/$(c)-12-lead-probe.json \
	$(ROBUST_DIR)/eval/$(c)-own-probe.json)

# the records: PTB-XL with PTBXL, else the demo's
ifneq ($(PTBXL),)
robust_data = $(PTBXL_DIR)/ptbxl.ecgz
robust_scp  = $(PTBXL)/scp_statements.csv
$(ROBUST_DIR)/raw/rate-500.ecgz: $(PTBXL)/ptbxl_database.csv $(call merit_tools,ecg-ingest ecg-cat)
	@mkdir -p $(@D)
	@echo "robust: PTB-XL's 500 Hz records resampled to 100 Hz"
	@$(call real_ingest,--hr $(PTBXL))
else
robust_meta = INDEX($$m[]; .id) as $$i | inputs | $$i[.id] + {fs, leads, sig, gain, baseline, missing}
robust_data = $(DEMO_DIR)/ptbxl.ecgz
robust_scp  = $(DEMO_PTBXL)/scp_statements.csv
# the demo's rows at 500 Hz through WFDB and ecg-ingest --fs 100; the
# fields WFDB does not carry (labels, fold, report...) from the 500 Hz
# stream, by id (the index made once: jq -n and inputs, not once a record)
$(ROBUST_DIR)/raw/rate-500.ecgz: $(DEMO_PTBXL)/ptbxl_database.csv \
    $(call merit_tools,ecg-synth ecg-export ecg-ingest ecg-dump ecg-pack)
	@mkdir -p $(@D)
	@echo "robust: the demo's records at 500 Hz, resampled to 100 Hz by ecg-ingest"
	rm -rf $@.d && mkdir -p $@.d/wfdb
	$(robust_bin)/ecg-synth --like $< --fs 500 --seconds 10 -s $(DEMO_SEED) \
	    $(if $(filter-out 0,$(DEMO_ROWS)),-n $(DEMO_ROWS)) > $@.d/500.ecgz
	$(robust_bin)/ecg-dump $@.d/500.ecgz | jq -c 'del(.sig, .gain, .baseline, .fs)' > $@.d/meta.jsonl
	$(robust_bin)/ecg-export --wfdb $@.d/wfdb $@.d/500.ecgz
	$(robust_bin)/ecg-ingest --fs 100 --seconds 10 -o $@.d/100.ecgz $@.d/wfdb
	$(robust_bin)/ecg-dump -a $@.d/100.ecgz | \
	    jq -nc --slurpfile m $@.d/meta.jsonl '$(robust_meta)' | \
	    $(robust_bin)/ecg-pack -o $@
	rm -rf $@.d
endif

$(ROBUST_DIR)/raw/noise-%.ecgz: $(robust_data) $(call merit_tools,ecg-noise)
	@mkdir -p $(@D)
	@echo "robust: ecg-noise --$(subst -, at ,$*) dB"
	$(robust_bin)/ecg-noise --$(word 1,$(subst -, ,$*)) $(word 2,$(subst -, ,$*)) \
	    -s $(ROBUST_SEED) -o $@ $<

$(eval $(call robust_rules,$(ROBUST_DIR),$(MODEL),$(robust_data),$(robust_scp),$(ROBUST_BOOT),$(robust_conditions)))

robust_shift = $(if $(and $(PTBXL),$(CHALLENGE)),$(SHIFT_DIR)/shift.json $(SHIFT_DIR)/ptbxl.json)
$(ROBUST_DIR)/compare.txt: $(robust_json) $(robust_shift) $(call merit_tools,merit-eval)
	$(robust_bin)/merit-eval compare $(robust_json) $(robust_shift) > $@

.PHONY: robust
robust: $(if $(wildcard $(MODEL)),,real-no-model) $(ROBUST_DIR)/compare.txt
	@cat $(ROBUST_DIR)/compare.txt
	@echo "robust: results in $(ROBUST_DIR)/ (compare.txt, eval/*.json|txt)"

endif
