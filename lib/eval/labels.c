/* labels.c: task label sets (PTB-XL scp_statements rules, generic codes). */
#include <stdlib.h>
#include <string.h>

#include "io/csv.h"
#include "core/err.h"
#include "eval/labels.h"

struct stmt {
	char *code;     /* without trailing '_' */
	char *cls;      /* class name in this task, NULL when not in it */
	size_t k;       /* class index after finish */
};

struct cls {
	char *name, *desc, *key;   /* key: name without trailing '_' */
};

struct mrt_labels {
	int task;
	struct stmt *st;
	size_t nst, capst;
	struct cls *cl;
	size_t ncl, capcl;
};

static const char *const task_names[MRT_LABELS_NTASK] = {
	"ptbxl-super", "ptbxl-sub", "ptbxl-form", "ptbxl-rhythm", "ptbxl-all",
	"codes",
};

int
mrt_labels_task_parse(const char *name)
{
	for (int t = 0; t < MRT_LABELS_NTASK; t++)
		if (strcmp(name, task_names[t]) == 0)
			return t;
	return MRT_EINVAL;
}

const char *
mrt_labels_task_name(int task)
{
	return task >= 0 && task < MRT_LABELS_NTASK ? task_names[task] : "?";
}

int
mrt_labels_new(mrt_labels **L, int task)
{
	if (task < 0 || task >= MRT_LABELS_NTASK)
		return MRT_EINVAL;
	if ((*L = calloc(1, sizeof **L)) == NULL)
		return MRT_ENOMEM;
	(*L)->task = task;
	return 0;
}

void
mrt_labels_free(mrt_labels *L)
{
	if (L == NULL)
		return;
	for (size_t i = 0; i < L->nst; i++) {
		free(L->st[i].code);
		free(L->st[i].cls);
	}
	for (size_t k = 0; k < L->ncl; k++) {
		free(L->cl[k].name);
		free(L->cl[k].desc);
		free(L->cl[k].key);
	}
	free(L->st);
	free(L->cl);
	free(L);
}

/* Copy of s[0..n) without trailing '_'. */
static char *
strip(const char *s, size_t n)
{
	char *p;
	while (n > 0 && s[n - 1] == '_')
		n--;
	if ((p = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

static int
same(const char *key, const char *s, size_t n)
{
	while (n > 0 && s[n - 1] == '_')
		n--;
	return strlen(key) == n && memcmp(key, s, n) == 0;
}

static long
find_class(const mrt_labels *L, const char *s, size_t n)
{
	for (size_t k = 0; k < L->ncl; k++)
		if (same(L->cl[k].key, s, n))
			return (long)k;
	return -1;
}

static int
add_class(mrt_labels *L, const char *name, const char *desc)
{
	struct cls *c;
	if (find_class(L, name, strlen(name)) >= 0)
		return 0;
	if (L->ncl == L->capcl) {
		size_t cap = L->capcl ? 2 * L->capcl : 32;
		struct cls *p = realloc(L->cl, cap * sizeof *p);
		if (p == NULL)
			return MRT_ENOMEM;
		L->cl = p;
		L->capcl = cap;
	}
	c = &L->cl[L->ncl];
	c->name = strdup(name);
	c->desc = strdup(desc);
	c->key = strip(name, strlen(name));
	if (!c->name || !c->desc || !c->key) {
		free(c->name);
		free(c->desc);
		free(c->key);
		return MRT_ENOMEM;
	}
	L->ncl++;
	return 0;
}

int
mrt_labels_add_code(mrt_labels *L, const char *code, size_t n)
{
	char *s = malloc(n + 1);
	int e;
	if (s == NULL)
		return MRT_ENOMEM;
	memcpy(s, code, n);
	s[n] = 0;
	e = add_class(L, s, s);
	free(s);
	return e;
}

int
mrt_labels_add_statement(mrt_labels *L, const mrt_labels_stmt *s)
{
	const char *cls = NULL, *desc = s->desc;
	struct stmt *st;
	int e;
	switch (L->task) {
	case MRT_LABELS_SUPER:
		if (s->diagnostic && s->diag_class[0])
			cls = desc = s->diag_class;
		break;
	case MRT_LABELS_SUB:
		if (s->diagnostic && s->diag_subclass[0])
			cls = desc = s->diag_subclass;
		break;
	case MRT_LABELS_FORM:
		cls = s->form ? s->code : NULL;
		break;
	case MRT_LABELS_RHYTHM:
		cls = s->rhythm ? s->code : NULL;
		break;
	case MRT_LABELS_ALL:
		cls = s->code;
		break;
	default:
		return MRT_EINVAL;
	}
	if (L->nst == L->capst) {
		size_t cap = L->capst ? 2 * L->capst : 128;
		struct stmt *p = realloc(L->st, cap * sizeof *p);
		if (p == NULL)
			return MRT_ENOMEM;
		L->st = p;
		L->capst = cap;
	}
	st = &L->st[L->nst];
	st->code = strip(s->code, strlen(s->code));
	st->cls = cls ? strdup(cls) : NULL;
	st->k = 0;
	if (st->code == NULL || (cls && st->cls == NULL)) {
		free(st->code);
		free(st->cls);
		return MRT_ENOMEM;
	}
	L->nst++;
	if (cls && (e = add_class(L, cls, desc)) != 0)
		return e;
	return 0;
}

static int
cmp_cls(const void *a, const void *b)
{
	return strcmp(((const struct cls *)a)->name, ((const struct cls *)b)->name);
}

void
mrt_labels_finish(mrt_labels *L)
{
	if (L->ncl > 1)
		qsort(L->cl, L->ncl, sizeof *L->cl, cmp_cls);
	for (size_t i = 0; i < L->nst; i++)
		if (L->st[i].cls)
			L->st[i].k = (size_t)find_class(L, L->st[i].cls,
			    strlen(L->st[i].cls));
}

long
mrt_labels_find(const mrt_labels *L, const char *name, size_t n)
{
	return find_class(L, name, n);
}

int
mrt_labels_keep(mrt_labels *L, const uint8_t *keep)
{
	size_t j = 0, n = 0;
	for (size_t k = 0; k < L->ncl; k++)
		n += keep[k] != 0;
	if (n == 0)
		return MRT_EINVAL;
	for (size_t k = 0; k < L->ncl; k++)
		if (keep[k])
			L->cl[j++] = L->cl[k];
		else {
			free(L->cl[k].name);
			free(L->cl[k].desc);
			free(L->cl[k].key);
		}
	L->ncl = j;
	for (size_t i = 0; i < L->nst; i++) {
		struct stmt *st = &L->st[i];
		long k = st->cls ? find_class(L, st->cls, strlen(st->cls)) : -1;
		if (k < 0) {
			free(st->cls);
			st->cls = NULL;
		} else
			st->k = (size_t)k;
	}
	return 0;
}

size_t
mrt_labels_nclass(const mrt_labels *L)
{
	return L->ncl;
}

const char *
mrt_labels_name(const mrt_labels *L, size_t k)
{
	return L->cl[k].name;
}

const char *
mrt_labels_desc(const mrt_labels *L, size_t k)
{
	return L->cl[k].desc;
}

int
mrt_labels_code(const mrt_labels *L, const char *code, size_t n, uint8_t *y)
{
	if (L->task == MRT_LABELS_CODES) {
		long k = find_class(L, code, n);
		if (k < 0)
			return 0;
		y[k] = 1;
		return 1;
	}
	for (size_t i = 0; i < L->nst; i++)
		if (same(L->st[i].code, code, n)) {
			if (L->st[i].cls == NULL)
				return 0;
			y[L->st[i].k] = 1;
			return 1;
		}
	return 0;
}

static int
flag(const char *s)
{
	return s[0] && strtod(s, NULL) != 0;
}

int
mrt_labels_load_scp(mrt_labels *L, FILE *f, char *err, size_t cap)
{
	static const char *const need[] = { "description", "diagnostic", "form",
	    "rhythm", "diagnostic_class", "diagnostic_subclass" };
	mrt_csv *c;
	size_t nh;
	int ci[6], code, e;
	if ((e = mrt_csv_open(&c, f)) != 0) {
		snprintf(err, cap, "%s", mrt_strerror(e));
		return e;
	}
	if ((e = mrt_csv_header(c)) != 0) {
		snprintf(err, cap, "%s", e == MRT_ETRUNC ? "no header line" :
		    mrt_csv_errmsg(c));
		e = e == MRT_ETRUNC ? MRT_EFORMAT : e;
		goto out;
	}
	nh = mrt_csv_nfields(c);
	code = mrt_csv_col(c, "code") >= 0 ? mrt_csv_col(c, "code") :
	    mrt_csv_col(c, "");
	if (code < 0) {
		snprintf(err, cap, "no code column (named \"code\" or unnamed)");
		e = MRT_EFORMAT;
		goto out;
	}
	for (int j = 0; j < 6; j++)
		if ((ci[j] = mrt_csv_col(c, need[j])) < 0) {
			snprintf(err, cap, "no column %s", need[j]);
			e = MRT_EFORMAT;
			goto out;
		}
	while ((e = mrt_csv_next(c)) == 1) {
		mrt_labels_stmt st;
		if (mrt_csv_nfields(c) != nh) {
			snprintf(err, cap, "line %llu: %zu fields, header has %zu",
			    (unsigned long long)mrt_csv_line(c),
			    mrt_csv_nfields(c), nh);
			e = MRT_EFORMAT;
			goto out;
		}
		st.code = mrt_csv_field(c, (size_t)code);
		st.desc = mrt_csv_field(c, (size_t)ci[0]);
		st.diagnostic = flag(mrt_csv_field(c, (size_t)ci[1]));
		st.form = flag(mrt_csv_field(c, (size_t)ci[2]));
		st.rhythm = flag(mrt_csv_field(c, (size_t)ci[3]));
		st.diag_class = mrt_csv_field(c, (size_t)ci[4]);
		st.diag_subclass = mrt_csv_field(c, (size_t)ci[5]);
		if (st.code[0] == 0) {
			snprintf(err, cap, "line %llu: empty code",
			    (unsigned long long)mrt_csv_line(c));
			e = MRT_EFORMAT;
			goto out;
		}
		if ((e = mrt_labels_add_statement(L, &st)) != 0) {
			snprintf(err, cap, "%s", mrt_strerror(e));
			goto out;
		}
	}
	if (e < 0) {
		snprintf(err, cap, "%s", mrt_csv_errmsg(c));
		goto out;
	}
	if (L->nst == 0) {
		snprintf(err, cap, "no statement");
		e = MRT_EFORMAT;
	}
out:
	mrt_csv_free(c);
	return e;
}
