/* common.c: scratch files, flt_die() for filters' parsers, heap counters. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sanitizer/allocator_interface.h>

#include "common.h"

jmp_buf fz_die_jmp;
int fz_die_set;
char fz_die_msg[1024];

#define MARK "\x01" "FILE "
#define MARKLEN 6

static char dir[256];
static char written[16][48];
static int nwritten;

static void
rmdir_all(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

const char *
fz_dir(void)
{
	if (dir[0] == 0) {
		const char *t = getenv("TMPDIR");
		struct stat st;
		if (t == NULL || *t == 0)
			t = stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp";
		snprintf(dir, sizeof dir, "%s/merit-fuzz.XXXXXX", t);
		if (mkdtemp(dir) == NULL) {
			perror("fuzz: mkdtemp");
			abort();
		}
		atexit(rmdir_all);
	}
	return dir;
}

const char *
fz_write(const char *name, const void *p, size_t n)
{
	static char path[512];
	int fd;
	snprintf(path, sizeof path, "%s/%s", fz_dir(), name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n) || close(fd) != 0) {
		perror(path);
		abort();
	}
	if (nwritten < 16 && strlen(name) < sizeof written[0])
		snprintf(written[nwritten++], sizeof written[0], "%s", name);
	return path;
}

void
fz_clear(void)
{
	char p[512];
	for (int i = 0; i < nwritten; i++) {
		snprintf(p, sizeof p, "%s/%s", fz_dir(), written[i]);
		unlink(p);
	}
	nwritten = 0;
}

static int
good_name(const char *s, size_t n)
{
	if (n == 0 || n > 40 || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' ||
		    s[i] == '-'))
			return 0;
	return 1;
}

int
fz_files(const uint8_t *data, size_t n, const char *first)
{
	const uint8_t *p = data, *end = data + n;
	char name[48];
	int count = 0;
	snprintf(name, sizeof name, "%s", first);
	while (count < 12) {
		const uint8_t *next = memmem(p, (size_t)(end - p), MARK, MARKLEN), *nl;
		const uint8_t *stop = next ? next : end;
		if (name[0]) {
			fz_write(name, p, (size_t)(stop - p));
			count++;
		}
		if (next == NULL)
			break;
		nl = memchr(next, '\n', (size_t)(end - next));
		if (nl == NULL)
			break;
		name[0] = 0;
		next += MARKLEN;
		if (good_name((const char *)next, (size_t)(nl - next)))
			snprintf(name, sizeof name, "%.*s", (int)(nl - next),
			    (const char *)next);
		p = nl + 1;
	}
	return count;
}

/* The filters' flt_die(), linked with -Wl,--wrap=flt_die. */
__attribute__((noreturn)) void
__wrap_flt_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fz_die_msg, sizeof fz_die_msg, fmt, ap);
	va_end(ap);
	if (!fz_die_set) {
		fprintf(stderr, "flt_die outside a harness: %s\n", fz_die_msg);
		abort();
	}
	fz_die_set = 0;
	longjmp(fz_die_jmp, 1);
}

/* ---- heap counters -------------------------------------------------------- */

static size_t heap_now, heap_peak;

static void
on_malloc(const volatile void *p, size_t n)
{
	size_t now;
	(void)p;
	now = __atomic_add_fetch(&heap_now, n, __ATOMIC_RELAXED);
	if (now > __atomic_load_n(&heap_peak, __ATOMIC_RELAXED))
		__atomic_store_n(&heap_peak, now, __ATOMIC_RELAXED);
}

static void
on_free(const volatile void *p)
{
	if (p != NULL)
		__atomic_sub_fetch(&heap_now,
		    __sanitizer_get_allocated_size((const void *)p), __ATOMIC_RELAXED);
}

/* Before any harness runs: the heap hooks, and stream writers that
 * compress in the calling thread (a worker thread a run costs more than
 * the run). */
__attribute__((constructor)) static void
fz_start(void)
{
	__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
	setenv("MERIT_ZSTD_THREADS", "0", 1);
}

void
fz_heap_reset(void)
{
	__atomic_store_n(&heap_peak, __atomic_load_n(&heap_now, __ATOMIC_RELAXED),
	    __ATOMIC_RELAXED);
}

size_t
fz_heap_now(void)
{
	return __atomic_load_n(&heap_now, __ATOMIC_RELAXED);
}

size_t
fz_heap_peak(void)
{
	return __atomic_load_n(&heap_peak, __ATOMIC_RELAXED);
}

int
fz_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned c = p[i];
		size_t k;
		uint32_t v;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 2, v = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			k = 3, v = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 4, v = c & 0x07;
		else
			return 0;
		if (i + k > n)
			return 0;
		for (size_t j = 1; j < k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return 0;
			v = v << 6 | (p[i + j] & 0x3f);
		}
		if ((k == 3 && v < 0x800) || (k == 4 && (v < 0x10000 || v > 0x10ffff)) ||
		    (v >= 0xd800 && v <= 0xdfff))
			return 0;
		i += k;
	}
	return 1;
}
