#include <stdio.h>

#include "core/err.h"

const char *
mrt_strerror(int err)
{
	switch (err) {
	case MRT_OK:       return "success";
	case MRT_EIO:      return "input/output error";
	case MRT_ENOMEM:   return "out of memory or over a size limit";
	case MRT_EZSTD:    return "zstd error";
	case MRT_EMSGPACK: return "not msgpack";
	case MRT_ETRUNC:   return "truncated input";
	case MRT_EFORMAT:  return "malformed input";
	case MRT_EVERSION: return "unsupported format version";
	case MRT_ETYPE:    return "wrong type";
	case MRT_ERANGE:   return "value out of range";
	case MRT_ENOENT:   return "not found";
	case MRT_ESHAPE:   return "shape mismatch";
	case MRT_EINVAL:   return "invalid argument";
	case MRT_ENUM:     return "non-finite number";
	}
	return "unknown error";
}

int
mrt_verrf(char *buf, size_t cap, int rc, const char *fmt, va_list ap)
{
	if (buf && cap)
		vsnprintf(buf, cap, fmt, ap);
	return rc;
}

int
mrt_errf(char *buf, size_t cap, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	mrt_verrf(buf, cap, rc, fmt, ap);
	va_end(ap);
	return rc;
}
