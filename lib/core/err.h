/*
 * err.h: error codes shared by every lib/ module.
 *
 * Library functions return 0 on success and one of these negative codes on
 * failure; they never print and never exit.  Modules that can say more keep
 * a message of their own (for example mrt_reader_errmsg()).
 */
#ifndef MRT_ERR_H
#define MRT_ERR_H

#include <stdarg.h>
#include <stddef.h>

enum {
	MRT_OK       =  0,
	MRT_EIO      = -1,  /* read or write failed (errno says why) */
	MRT_ENOMEM   = -2,  /* allocation failed or size over a limit */
	MRT_EZSTD    = -3,  /* zstd: not zstd, corrupt frame, bad checksum */
	MRT_EMSGPACK = -4,  /* bytes that are not msgpack */
	MRT_ETRUNC   = -5,  /* input ends early (frame, record or trailer) */
	MRT_EFORMAT  = -6,  /* well-formed bytes, wrong structure */
	MRT_EVERSION = -7,  /* newer format version than this code reads */
	MRT_ETYPE    = -8,  /* a field has the wrong type */
	MRT_ERANGE   = -9,  /* a value is out of its allowed range */
	MRT_ENOENT   = -10, /* a required field or file is absent */
	MRT_ESHAPE   = -11, /* tensor shape does not match data or config */
	MRT_EINVAL   = -12, /* bad argument (programmer or user option) */
	MRT_ENUM     = -13, /* non-finite number where a finite one is needed */
};

/* A short English description of an error code ("truncated input"). */
const char *mrt_strerror(int err);

/*
 * The one message formatter of lib/: format into buf[cap] (nothing when buf
 * is NULL or cap is 0, always NUL-terminated otherwise) and return rc, so
 * that `return mrt_errf(msg, cap, MRT_EFORMAT, "...", ...);` reports and
 * fails in one statement.
 */
int mrt_errf(char *buf, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int mrt_verrf(char *buf, size_t cap, int rc, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

#endif
