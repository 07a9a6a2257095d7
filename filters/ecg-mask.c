/*
 * ecg-mask: choose which lead x time patches of each record are hidden.
 *
 *   ecg-mask [-f] [-o file] [-D p] [-p patch] [-r ratio] [-S scheme] [-s seed] [file]
 *
 * Adds `mask`, a uint8 tensor [leads, NT] (NT = samples / patch): 0 for a
 * visible patch, 1 for a hidden one the model reconstructs, 2 for a hidden
 * patch of a missing lead (never a target).  Every record gets the same
 * number of visible patches, round(leads * NT * (1 - ratio)) rounded half
 * away from zero, drawn among non-missing patches only.  The draw depends
 * on (seed, id) alone, not on order or sharding.  -D p (lead dropout)
 * first hides each non-missing lead whole with probability p (a target,
 * 1), giving leads back in random order while fewer patches than the
 * visible count remain; the visible patches are drawn among the others.
 */
#include <getopt.h>
#include <math.h>

#include "cli/filter.h"
#include "core/rng.h"

#define USAGE "ecg-mask [-f] [-o file] [-D p] [-p patch] [-r ratio] [-S random|lead|time] " \
	"[-s seed] [file]"
#define MAXLEADS 64
#define MAXPATCH 4096

enum scheme { RANDOM, LEAD, TIME };

struct opts {
	int patch;
	double ratio, drop;
	enum scheme scheme;
	uint64_t seed;
};

/*
 * Mark nvis of the patches listed in order[] (candidates, best first)
 * visible; order[] holds only non-missing patches.
 */
static void
take(uint8_t *mask, const int *order, int nvis)
{
	for (int i = 0; i < nvis; i++)
		mask[order[i]] = 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		FLT_OPT_FORCE, FLT_OPT_OUTPUT,
		{ "patch", required_argument, NULL, 'p' },
		{ "ratio", required_argument, NULL, 'r' },
		{ "scheme", required_argument, NULL, 'S' },
		{ "drop-leads", required_argument, NULL, 'D' },
		FLT_OPT_SEED, FLT_OPT_END
	};
	struct opts op = { 50, 0.75, 0, RANDOM, 0 };
	const char *out = NULL, *in;
	static const char *const skip[] = { "mask", NULL };
	int c, force = 0;
	struct flt_io io;
	mrt_reader *r;
	mrt_writer *w;

	flt_init(argv[0]);
	while ((c = flt_getopt(argc, argv, "D:fo:p:r:S:s:", lo, USAGE)) != -1) {
		switch (c) {
		case 'f': force = 1; break;
		case 'o': out = optarg; break;
		case 'p': op.patch = (int)flt_num(optarg, 1, 100000, "-p"); break;
		case 'r': op.ratio = flt_real(optarg, 0, 1, "-r"); break;
		case 'D': op.drop = flt_real(optarg, 0, 1, "-D"); break;
		case 'S':
			if (strcmp(optarg, "random") == 0) op.scheme = RANDOM;
			else if (strcmp(optarg, "lead") == 0) op.scheme = LEAD;
			else if (strcmp(optarg, "time") == 0) op.scheme = TIME;
			else flt_die("-S: unknown scheme %s (random, lead, time)", optarg);
			break;
		case 's': op.seed = (uint64_t)flt_num(optarg, 0, LLONG_MAX, "-s"); break;
		default: flt_usage(USAGE);
		}
	}
	in = flt_input(argc, argv, USAGE);
	flt_io_open(&io, in, out, force);
	r = io.r;
	w = io.w;
	for (const msgpack_object *rec; (rec = flt_next(r, in)) != NULL;) {
		static uint8_t mask[MAXLEADS * MAXPATCH];
		static int order[MAXLEADS * MAXPATCH], lorder[MAXLEADS], torder[MAXPATCH];
		int missing[MAXLEADS] = { 0 }, off[MAXLEADS], dl[MAXLEADS];
		const msgpack_object *lf = mrt_rec_get(rec, "leads"),
		    *mf = mrt_rec_get(rec, "missing");
		const char *id;
		size_t idn;
		mrt_tensor sig;
		mrt_rng rng;
		int L, NT, np, nvis, avail = 0, k = 0;
		int64_t shape[2];

		if (mrt_rec_str(rec, "id", &id, &idn) != 0)
			flt_die_rec(r, in, "no string field id (the mask is drawn from it)");
		if (mrt_rec_tensor(rec, "sig", &sig) != 0 || sig.ndim != 2)
			flt_die_rec(r, in, "no field sig of shape [leads, samples]");
		L = (int)sig.shape[0];
		if (L < 1 || L > MAXLEADS)
			flt_die_rec(r, in, "sig has %d leads (1 to %d allowed)", L, MAXLEADS);
		if (sig.shape[1] % op.patch != 0 || sig.shape[1] / op.patch > MAXPATCH ||
		    sig.shape[1] == 0)
			flt_die_rec(r, in, "%lld samples are not a multiple of the patch (%d)",
			    (long long)sig.shape[1], op.patch);
		NT = (int)(sig.shape[1] / op.patch);
		np = L * NT;
		/* missing leads by name, against the leads field */
		if (mf != NULL && mf->type == MSGPACK_OBJECT_ARRAY && mf->via.array.size > 0) {
			if (lf == NULL || lf->type != MSGPACK_OBJECT_ARRAY ||
			    (int)lf->via.array.size != L)
				flt_die_rec(r, in, "missing leads given but no leads field of %d names", L);
			for (uint32_t m = 0; m < mf->via.array.size; m++) {
				const msgpack_object *mn = &mf->via.array.ptr[m];
				int found = 0;
				for (int l = 0; l < L; l++) {
					const msgpack_object *ln = &lf->via.array.ptr[l];
					if (mn->type == MSGPACK_OBJECT_STR && ln->type == MSGPACK_OBJECT_STR &&
					    mn->via.str.size == ln->via.str.size &&
					    memcmp(mn->via.str.ptr, ln->via.str.ptr, mn->via.str.size) == 0)
						missing[l] = found = 1;
				}
				if (!found)
					flt_die_rec(r, in, "missing lead %.*s is not in leads",
					    mn->type == MSGPACK_OBJECT_STR ? (int)mn->via.str.size : 1,
					    mn->type == MSGPACK_OBJECT_STR ? mn->via.str.ptr : "?");
			}
		}
		nvis = (int)floor(np * (1 - op.ratio) + 0.5);   /* half away from zero */
		for (int l = 0; l < L; l++)
			avail += missing[l] ? 0 : NT;
		if (avail < nvis)
			flt_die_rec(r, in, "%d non-missing patches, fewer than the %d visible ones",
			    avail, nvis);
		for (int p = 0; p < np; p++)
			mask[p] = missing[p / NT] ? 2 : 1;
		mrt_rng_seed(&rng, mrt_rng_hash(op.seed, id, idn));
		/* off: leads the visible patches are not drawn from (missing,
		 * or dropped by -D: a dropped lead's patches stay targets) */
		memcpy(off, missing, sizeof off);
		if (op.drop > 0) {
			int nd = 0;
			for (int l = 0; l < L; l++)
				if (!missing[l] && mrt_rng_uniform(&rng) < op.drop) {
					off[l] = 1;
					dl[nd++] = l;
					avail -= NT;
				}
			mrt_rng_shuffle(&rng, dl, (size_t)nd, sizeof *dl);
			for (int i = 0; i < nd && avail < nvis; i++) {
				off[dl[i]] = 0;
				avail += NT;
			}
		}
		switch (op.scheme) {
		case RANDOM:
			for (int p = 0; p < np; p++)
				if (!off[p / NT])
					order[k++] = p;
			mrt_rng_shuffle(&rng, order, (size_t)k, sizeof *order);
			break;
		case LEAD:      /* whole leads in random order */
			for (int l = 0; l < L; l++)
				lorder[l] = l;
			mrt_rng_shuffle(&rng, lorder, (size_t)L, sizeof *lorder);
			for (int i = 0; i < L; i++) {
				int l = lorder[i], t0 = k;
				if (off[l])
					continue;
				for (int t = 0; t < NT; t++)
					order[k++] = l * NT + t;
				/* a lead cut short by the count: random patches of it */
				if (k > nvis && t0 < nvis)
					mrt_rng_shuffle(&rng, order + t0, (size_t)NT, sizeof *order);
			}
			break;
		case TIME: {    /* one contiguous visible time block */
			int cols = 0, start;
			for (int l = 0; l < L; l++)
				cols += !off[l];
			start = (int)mrt_rng_below(&rng, (uint64_t)NT);
			for (int t = 0; t < NT; t++)
				torder[t] = (start + t) % NT;
			for (int i = 0; i < NT; i++) {
				int t = torder[i], t0 = k;
				for (int l = 0; l < L; l++)
					if (!off[l])
						order[k++] = l * NT + t;
				if (k > nvis && t0 < nvis)
					mrt_rng_shuffle(&rng, order + t0, (size_t)cols, sizeof *order);
			}
			break;
		}
		}
		take(mask, order, nvis);
		shape[0] = L;
		shape[1] = NT;
		flt_check_write(mrt_writer_copy(w, rec, skip, 1), out);
		flt_check_write(mrt_pack_kv_tensor(mrt_writer_packer(w), "mask", MRT_U8,
		    2, shape, mask), out);
		flt_check_write(mrt_writer_end(w), out);
	}
	flt_io_done(&io);
	return 0;
}
