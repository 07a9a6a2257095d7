/*
 * fuzz_labels: ecg-ingest's labels, from PTB-XL scp_codes and from
 * Challenge "# Dx:" header comments.  filters/ecg-ingest.c is compiled into
 * this harness with its main renamed (flt_die() returns here, see
 * common.c).
 *
 * Input: the first line is an scp_codes field; every other line is a
 * header comment of a record without signals.  The labels of each are
 * packed as ecg-ingest packs them (pack_meta) and unpacked again.
 *
 * Oracles, on the labels and label_abbr maps: keys are unique; each key is
 * a whole code of the input (never a piece of a longer one), so it is
 * valid UTF-8 when the input is.
 */
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/filter.h"
#include "common.h"

#define main ecg_ingest_main
#include "../filters/ecg-ingest.c"
#undef main

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Is key a whole item of text: between [start , : blank] and [, blank end]? */
static int
whole_item(const char *text, size_t n, const char *key, size_t kl)
{
	for (size_t i = 0; kl && i + kl <= n; i++) {
		if (memcmp(text + i, key, kl) != 0)
			continue;
		if (i > 0 && !strchr(",: \t\v\f\r\n{'\"", text[i - 1]))
			continue;
		if (i + kl < n && !strchr(", \t\v\f\r\n'\"", text[i + kl]))
			continue;
		return 1;
	}
	return 0;
}

static void
check_map(const msgpack_object *rec, const char *field, const char *text, size_t n)
{
	const msgpack_object *m = mrt_rec_get(rec, field);
	if (m == NULL)
		return;
	FZ_ASSERT(m->type == MSGPACK_OBJECT_MAP, "%s is not a map", field);
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;
		FZ_ASSERT(k->type == MSGPACK_OBJECT_STR, "%s: key not a string", field);
		for (uint32_t j = 0; j < i; j++) {
			const msgpack_object *o = &m->via.map.ptr[j].key;
			FZ_ASSERT(o->via.str.size != k->via.str.size ||
			    memcmp(o->via.str.ptr, k->via.str.ptr, k->via.str.size) != 0,
			    "%s: key %.*s twice", field, (int)k->via.str.size,
			    k->via.str.ptr);
		}
		FZ_ASSERT(whole_item(text, n, k->via.str.ptr, k->via.str.size),
		    "%s: key '%.*s' is not a code of the input", field,
		    (int)k->via.str.size, k->via.str.ptr);
		if (fz_utf8(text, n))
			FZ_ASSERT(fz_utf8(k->via.str.ptr, k->via.str.size),
			    "%s: key not UTF-8", field);
	}
}

/* Pack m's labels as a record and check its maps. */
static void
check_meta(const struct meta *m, const char *text, size_t n)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	size_t off = 0;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, meta_nfields(m));
	FZ_ASSERT(pack_meta(&pk, m) == 0, "pack_meta");
	msgpack_unpacked_init(&u);
	FZ_ASSERT(msgpack_unpack_next(&u, sb.data, sb.size, &off) ==
	    MSGPACK_UNPACK_SUCCESS && off == sb.size, "unpack");
	check_map(&u.data, "labels", text, n);
	check_map(&u.data, "label_abbr", text, n);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dxmap dx[2] = { { "164889003", "AF" }, { "426783006", "NSR" } };
	static struct ctx c;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t l1 = nl ? (size_t)(nl - data) : size;
	char *scp = malloc(l1 + 1), *hea = malloc(2 * size + 16);
	size_t k = 0;
	struct meta m;
	mrt_wfdb *w = NULL;
	int isdx;
	FZ_ASSERT(scp && hea, "out of memory");
	memcpy(scp, data, l1);
	scp[l1] = 0;
	c.dx = dx;
	c.ndx = 2;
	fz_die_set = 1;
	if (setjmp(fz_die_jmp))
		FZ_ASSERT(0, "flt_die: %s", fz_die_msg);

	meta_init(&m, "ptbxl");
	if (mrt_csv_pydict(scp, add_label, &m) == 0) {
		/* the keys as the dict parser unescapes them (\x is x) */
		char *u = malloc(l1 + 1);
		size_t un = 0;
		FZ_ASSERT(u != NULL, "out of memory");
		for (size_t i = 0; i < l1; i++)
			u[un++] = scp[i] == '\\' && i + 1 < l1 ? scp[++i] : scp[i];
		check_meta(&m, u, un);
		free(u);
	}
	meta_clear(&m);

	k = (size_t)sprintf(hea, "r 0\n");
	for (const uint8_t *p = nl ? nl + 1 : data + size; p < data + size;) {
		const uint8_t *e = memchr(p, '\n', (size_t)(data + size - p));
		size_t len = e ? (size_t)(e - p) : (size_t)(data + size - p);
		hea[k++] = '#';
		memcpy(hea + k, p, len);
		k += len;
		hea[k++] = '\n';
		p += len + 1;
	}
	meta_init(&m, NULL);
	if (mrt_wfdb_open(&w, fz_write("r.hea", hea, k)) == 0) {
		char why[128];
		if (comment_meta(&c, &m, w, &isdx, why, sizeof why) == 0)
			check_meta(&m, (const char *)data, size);
		else
			FZ_ASSERT(why[0], "refused without a reason");
	}
	meta_clear(&m);
	mrt_wfdb_free(w);
	fz_die_set = 0;
	fz_clear();
	free(scp);
	free(hea);
	return 0;
}
