/*
 * labels.h: label sets of evaluation tasks.
 *
 * PTB-XL tasks follow scp_statements.csv (MODEL.md): super = diagnostic
 * codes by diagnostic_class, sub = diagnostic codes by diagnostic_subclass,
 * form = codes with form = 1, rhythm = codes with rhythm = 1, all = every
 * code.  The generic task ("codes") has one class per code added to it.
 * Codes are compared without trailing '_' (older PTB-XL releases write
 * "NST_"); class names are kept as the statements table spells them.
 * Classes are sorted by name.
 */
#ifndef MRT_LABELS_H
#define MRT_LABELS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
	MRT_LABELS_SUPER, MRT_LABELS_SUB, MRT_LABELS_FORM, MRT_LABELS_RHYTHM,
	MRT_LABELS_ALL, MRT_LABELS_CODES, MRT_LABELS_NTASK
};

typedef struct mrt_labels mrt_labels;

/* "ptbxl-super" ... "ptbxl-all", "codes": the task, or MRT_EINVAL. */
int mrt_labels_task_parse(const char *name);
const char *mrt_labels_task_name(int task);

int mrt_labels_new(mrt_labels **L, int task);
void mrt_labels_free(mrt_labels *L);

/* One row of scp_statements.csv (strings may be empty, not NULL). */
typedef struct {
	const char *code, *desc, *diag_class, *diag_subclass;
	int diagnostic, form, rhythm;
} mrt_labels_stmt;

/* Add a statement: it joins the classes its task gives it (if any). */
int mrt_labels_add_statement(mrt_labels *L, const mrt_labels_stmt *s);
/*
 * Read scp_statements.csv (columns by name: the unnamed first column or
 * "code", description, diagnostic, form, rhythm, diagnostic_class,
 * diagnostic_subclass).  On error the message goes to err.
 */
int mrt_labels_load_scp(mrt_labels *L, FILE *f, char *err, size_t cap);
/* Generic task: a class for code (no-op if present). */
int mrt_labels_add_code(mrt_labels *L, const char *code, size_t n);
/* Sort the classes by name; call once after adding, before lookups. */
void mrt_labels_finish(mrt_labels *L);

/* The index of class name (n bytes, compared without trailing '_'), or -1. */
long mrt_labels_find(const mrt_labels *L, const char *name, size_t n);
/*
 * Keep only the classes k with keep[k] != 0 (keep has nclass entries; after
 * finish), in their order; the codes of the others map to no class.
 * MRT_EINVAL (nothing changed) if none would be kept.
 */
int mrt_labels_keep(mrt_labels *L, const uint8_t *keep);

size_t mrt_labels_nclass(const mrt_labels *L);
const char *mrt_labels_name(const mrt_labels *L, size_t k);
/* English description (PTB-XL: the statement's, or the class name). */
const char *mrt_labels_desc(const mrt_labels *L, size_t k);
/*
 * Set y[k] = 1 for the class(es) of code (n bytes; y has nclass entries).
 * Returns how many classes the code maps to (0: not in the task).
 */
int mrt_labels_code(const mrt_labels *L, const char *code, size_t n,
    uint8_t *y);

#endif
