/* data.c: read the records of the evaluation folds into memory. */
#include <math.h>

#include "eval.h"

const char *const split_names[NSPLIT] = { "train", "val", "test" };

void
ds_opts_init(struct dsopts *o)
{
	memset(o, 0, sizeof *o);
	o->in = "-";
	o->feat = "h";
	o->labfield = "labels";
	o->task = -1;
	o->folds[SPLIT_TRAIN] = 0x1feULL;   /* 1-8 */
	o->folds[SPLIT_VAL] = 1ULL << 9;
	o->folds[SPLIT_TEST] = 1ULL << 10;
}

uint64_t
ds_folds(const char *s, const char *what)
{
	uint64_t m = 0;
	const char *p = s;
	while (*p) {
		char *end;
		long a = strtol(p, &end, 10), b = a;
		if (end == p)
			goto bad;
		p = end;
		if (*p == '-') {
			b = strtol(++p, &end, 10);
			if (end == p)
				goto bad;
			p = end;
		}
		if (a < 0 || b > 63 || a > b)
			goto bad;
		for (long f = a; f <= b; f++)
			m |= 1ULL << f;
		if (*p == ',')
			p++;
		else if (*p)
			goto bad;
	}
	if (m)
		return m;
bad:
	flt_die("%s: not a fold list (such as 1-8 or 1,3,5-7, folds 0 to 63): %s",
	    what, s);
}

const char *
ds_folds_str(uint64_t m, char *buf, size_t cap)
{
	size_t k = 0;
	buf[0] = 0;
	for (int f = 0; f < 64; f++) {
		int g = f;
		if (!((m >> f) & 1))
			continue;
		while (g < 63 && ((m >> (g + 1)) & 1))
			g++;
		if (g > f)
			k += snprintf(buf + k, k < cap ? cap - k : 0, "%s%d-%d",
			    k ? "," : "", f, g);
		else
			k += snprintf(buf + k, k < cap ? cap - k : 0, "%s%d",
			    k ? "," : "", f);
		f = g;
	}
	return buf;
}

void
ds_restrict_opt(struct dsopts *o, int c, const char *arg)
{
	if (c == OPT_TASK_NAME) {
		if (!arg[0])
			flt_die("--task-name: empty");
		o->taskname = arg;
		return;
	}
	if (o->codes && o->exclude != (c == OPT_EXCLUDE_CODES))
		flt_die("--codes and --exclude-codes: give one of them");
	o->codes = arg;
	o->exclude = c == OPT_EXCLUDE_CODES;
}

const char *
ds_task_name(const struct dsopts *o, const char *task)
{
	static char buf[512];
	if (o->taskname)
		return o->taskname;
	if (o->codes == NULL)
		return task;
	snprintf(buf, sizeof buf, "%s:%s%s", task, o->exclude ? "-" : "", o->codes);
	return buf;
}

void
ds_task_json(json_t *root, const struct dsopts *o)
{
	json_object_set_new(root, "label_task", json_string(mrt_labels_task_name(o->task)));
	if (o->codes) {
		json_t *a = json_array();
		for (const char *p = o->codes; *p;) {
			size_t n = strcspn(p, ",");
			json_array_append_new(a, json_stringn(p, n));
			p += n + (p[n] == ',');
		}
		json_object_set_new(root, o->exclude ? "exclude_codes" : "codes", a);
	}
}

/* Die: name (n bytes) of the list of opt is empty or not a class of the task. */
static __attribute__((noreturn)) void
bad_code(const struct ds *ds, const struct dsopts *o, const char *opt,
    const char *name, size_t n)
{
	size_t C = mrt_labels_nclass(ds->L), len = 0;
	char cl[320] = "";
	if (n == 0)
		flt_die("%s: an empty code in %s", opt, o->codes);
	for (size_t j = 0; j < C; j++) {
		const char *c = mrt_labels_name(ds->L, j);
		if (len + strlen(c) + 5 > sizeof cl) {
			strcpy(cl + len, " ...");
			break;
		}
		len += (size_t)snprintf(cl + len, sizeof cl - len, "%s%s", j ? " " : "", c);
	}
	flt_die("%s: %.*s is not a class of task %s (classes: %s)", opt, (int)n, name,
	    mrt_labels_task_name(o->task), cl);
}

/* --codes, --exclude-codes: keep the task's classes named, or the others. */
static void
restrict_task(struct ds *ds, const struct dsopts *o)
{
	const char *opt = o->exclude ? "--exclude-codes" : "--codes", *p = o->codes;
	size_t C = mrt_labels_nclass(ds->L);
	uint8_t *keep;
	int e;
	if (!*p)
		flt_die("%s: no code", opt);
	if ((keep = calloc(C + 1, 1)) == NULL)
		flt_die("out of memory");
	for (;; p++) {
		size_t n = strcspn(p, ",");
		long k = n ? mrt_labels_find(ds->L, p, n) : -1;
		if (k < 0) {
			free(keep);
			bad_code(ds, o, opt, p, n);
		}
		keep[k] = 1;
		if (!p[n])
			break;
		p += n;
	}
	for (size_t k = 0; o->exclude && k < C; k++)
		keep[k] = !keep[k];
	e = mrt_labels_keep(ds->L, keep);
	free(keep);
	if (e != 0)
		flt_die("%s: no class of task %s left", opt, mrt_labels_task_name(o->task));
}

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n ? n : 1)) == NULL)
		flt_die("out of memory");
	return p;
}

/* Codes of every kept record, NUL-separated, with per-record offsets. */
struct codes {
	char *buf;
	size_t len, cap;
	size_t *start, *count;
};

static void
codes_add(struct codes *c, const char *s, size_t n)
{
	while (c->len + n + 1 > c->cap) {
		c->cap = c->cap ? 2 * c->cap : 4096;
		c->buf = xrealloc(c->buf, c->cap);
	}
	memcpy(c->buf + c->len, s, n);
	c->buf[c->len + n] = 0;
	c->len += n + 1;
}

/* Append the codes of the label field; dies on a malformed field. */
static size_t
read_codes(struct codes *c, mrt_reader *r, const char *path,
    const msgpack_object *rec, const char *field)
{
	const msgpack_object *o = mrt_rec_path(rec, field);
	size_t n = 0;
	if (o == NULL)
		flt_die_rec(r, path, "no field %s", field);
	if (o->type == MSGPACK_OBJECT_MAP) {
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;
			if (k->type != MSGPACK_OBJECT_STR)
				flt_die_rec(r, path, "field %s: a key is not a string",
				    field);
			codes_add(c, k->via.str.ptr, k->via.str.size);
			n++;
		}
	} else if (o->type == MSGPACK_OBJECT_ARRAY) {
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			const msgpack_object *k = &o->via.array.ptr[i];
			if (k->type != MSGPACK_OBJECT_STR)
				flt_die_rec(r, path, "field %s: an element is not a string",
				    field);
			codes_add(c, k->via.str.ptr, k->via.str.size);
			n++;
		}
	} else
		flt_die_rec(r, path, "field %s is not a map or an array", field);
	return n;
}

char *
ds_read_id(const msgpack_object *rec, uint64_t recno)
{
	char buf[256];
	const char *s;
	size_t n;
	int64_t v;
	if (mrt_rec_str(rec, "id", &s, &n) == 0)
		snprintf(buf, sizeof buf, "%.*s", (int)n, s);
	else if (mrt_rec_int(rec, "id", &v) == 0)
		snprintf(buf, sizeof buf, "%lld", (long long)v);
	else
		snprintf(buf, sizeof buf, "#%llu", (unsigned long long)recno);
	return strdup(buf);
}

static void
load_task(struct ds *ds, const struct dsopts *o)
{
	int e = mrt_labels_new(&ds->L, o->task);
	if (e)
		flt_die("%s", mrt_strerror(e));
	if (o->task != MRT_LABELS_CODES) {
		char msg[512];
		FILE *f;
		if (o->scp == NULL)
			flt_die("task %s needs the statements table (--scp scp_statements.csv)",
			    mrt_labels_task_name(o->task));
		if ((f = fopen(o->scp, "r")) == NULL)
			flt_die("%s: %s", o->scp, strerror(errno));
		if ((e = mrt_labels_load_scp(ds->L, f, msg, sizeof msg)) != 0)
			flt_die("%s: %s", o->scp, msg);
		fclose(f);
		mrt_labels_finish(ds->L);
	} else
		for (size_t k = 0; k < o->nclasses; k++)
			if (mrt_labels_add_code(ds->L, o->classes[k], strlen(o->classes[k])) != 0)
				flt_die("out of memory");
}

void
ds_load(struct ds *ds, const struct dsopts *o)
{
	FILE *inf;
	mrt_reader *r = flt_reader(o->in, &inf);
	const msgpack_object *rec;
	struct codes c = { 0 };
	size_t cap = 0, ntrainpos = 0;   /* (notrain: test positives) */
	float *tmp = NULL;

	memset(ds, 0, sizeof *ds);
	if (o->labfield)
		load_task(ds, o);
	while ((rec = flt_next(r, o->in)) != NULL) {
		int64_t fold;
		int s;
		size_t i = ds->n;
		mrt_tensor t;
		if (mrt_rec_int(rec, "fold", &fold) != 0)
			flt_die_rec(r, o->in, "no integer field fold");
		for (s = 0; s < NSPLIT; s++)
			if (fold >= 0 && fold < 64 && ((o->folds[s] >> fold) & 1))
				break;
		if (s == NSPLIT) {
			ds->skipped++;
			continue;
		}
		if (i == cap) {
			cap = cap ? 2 * cap : 1024;
			ds->id = xrealloc(ds->id, cap * sizeof *ds->id);
			ds->fold = xrealloc(ds->fold, cap * sizeof *ds->fold);
			ds->split = xrealloc(ds->split, cap * sizeof *ds->split);
			c.start = xrealloc(c.start, cap * sizeof *c.start);
			c.count = xrealloc(c.count, cap * sizeof *c.count);
			if (ds->d)
				ds->x = xrealloc(ds->x, cap * ds->d * sizeof *ds->x);
		}
		if (o->feat) {
			const msgpack_object *fo = mrt_rec_get(rec, o->feat);
			if (fo == NULL)
				flt_die_rec(r, o->in, "no feature field %s", o->feat);
			if (mrt_obj_tensor(fo, &t) != 0)
				flt_die_rec(r, o->in, "field %s is not a tensor", o->feat);
			if (t.n == 0)
				flt_die_rec(r, o->in, "feature %s is empty", o->feat);
			if (ds->d == 0) {
				ds->d = (size_t)t.n;
				ds->x = xrealloc(ds->x, cap * ds->d * sizeof *ds->x);
			} else if ((size_t)t.n != ds->d)
				flt_die_rec(r, o->in,
				    "feature %s has %lld values, earlier records %zu",
				    o->feat, (long long)t.n, ds->d);
			tmp = ds->x + i * ds->d;
			mrt_tensor_to_f32(&t, tmp);
			for (size_t j = 0; j < ds->d; j++)
				if (!isfinite(tmp[j]))
					flt_die_rec(r, o->in,
					    "feature %s[%zu] is not finite", o->feat, j);
		}
		if (o->labfield) {
			size_t before = c.len, k, nin = 0;
			k = read_codes(&c, r, o->in, rec, o->labfield);
			if (o->task != MRT_LABELS_CODES) {
				/* drop records with no label of the task */
				uint8_t y[1024];
				const char *p = c.buf + before;
				for (size_t j = 0; j < k; j++, p += strlen(p) + 1) {
					memset(y, 0, sizeof y);
					nin += mrt_labels_code(ds->L, p, strlen(p), y) > 0;
				}
				if (nin == 0) {
					c.len = before;
					ds->dropped++;
					continue;
				}
			} else if (s == SPLIT_TRAIN && o->classes == NULL) {
				const char *p = c.buf + before;
				for (size_t j = 0; j < k; j++, p += strlen(p) + 1)
					if (mrt_labels_add_code(ds->L, p, strlen(p)) != 0)
						flt_die("out of memory");
			}
			c.start[i] = before;
			c.count[i] = k;
		}
		ds->id[i] = ds_read_id(rec, mrt_reader_count(r));
		if (ds->id[i] == NULL)
			flt_die("out of memory");
		ds->fold[i] = (int)fold;
		ds->split[i] = s;
		ds->n++;
	}
	flt_reader_done(r, inf);
	if (!o->labfield) {
		free(c.start);
		free(c.count);
		return;
	}
	if (o->task == MRT_LABELS_CODES)
		mrt_labels_finish(ds->L);
	/* after the records were kept or dropped by the whole task */
	if (o->codes)
		restrict_task(ds, o);
	ds->nclass = mrt_labels_nclass(ds->L);
	if (ds->nclass > 1024)
		flt_die("task %s: %zu classes, at most 1024",
		    mrt_labels_task_name(o->task), ds->nclass);
	ds->y = calloc(ds->nclass * ds->n + 1, 1);
	if (ds->y == NULL)
		flt_die("out of memory");
	for (size_t i = 0; i < ds->n; i++) {
		const char *p = c.buf + c.start[i];
		uint8_t y[1024] = { 0 };
		for (size_t j = 0; j < c.count[i]; j++, p += strlen(p) + 1)
			mrt_labels_code(ds->L, p, strlen(p), y);
		for (size_t k = 0; k < ds->nclass; k++) {
			ds->y[k * ds->n + i] = y[k];
			if (ds->split[i] == (o->notrain ? SPLIT_TEST : SPLIT_TRAIN))
				ntrainpos += y[k];
		}
	}
	free(c.buf);
	free(c.start);
	free(c.count);
	if (ntrainpos == 0) {
		char b[256];
		int sp = o->notrain ? SPLIT_TEST : SPLIT_TRAIN;
		flt_die("task %s: no label of the task occurs in the %s folds (%s)",
		    mrt_labels_task_name(o->task), sp == SPLIT_TEST ? "test" : "training",
		    ds_folds_str(o->folds[sp], b, sizeof b));
	}
}

void
ds_free(struct ds *ds)
{
	for (size_t i = 0; i < ds->n; i++)
		free(ds->id[i]);
	free(ds->id);
	free(ds->fold);
	free(ds->split);
	free(ds->x);
	free(ds->y);
	mrt_labels_free(ds->L);
	memset(ds, 0, sizeof *ds);
}

size_t *
ds_split(const struct ds *ds, int s, size_t *n)
{
	size_t *idx = xrealloc(NULL, ds->n * sizeof *idx), k = 0;
	for (size_t i = 0; i < ds->n; i++)
		if (ds->split[i] == s)
			idx[k++] = i;
	*n = k;
	return idx;
}
