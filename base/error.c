/*
 * base/error.c - error codes, names and the thread-local detail message.
 */
#include <stdio.h>
#include <string.h>

#include "base/base.h"

#define ERRMSG_SIZE 1024

static _Thread_local int tls_code;
static _Thread_local char tls_msg[ERRMSG_SIZE];

BRAIN_EXPORT const char *brain_strerror(int code)
{
	switch (code) {
#define X(name, value, text)                                                    \
	case value:                                                                 \
		return text;
		BRAIN_ERROR_LIST(X)
#undef X
	default:
		return "unknown error";
	}
}

BRAIN_EXPORT const char *brain_error_name(int code)
{
	switch (code) {
#define X(name, value, text)                                                    \
	case value:                                                                 \
		return #name;
		BRAIN_ERROR_LIST(X)
#undef X
	default:
		return "UNKNOWN";
	}
}

BRAIN_EXPORT const char *brain_errmsg(void)
{
	return tls_msg;
}

BRAIN_EXPORT int brain_errcode(void)
{
	return tls_code;
}

int brain__err(int code, const char *fmt, ...)
{
	/* Formatted aside first: an argument may be brain_errmsg() itself, when
	 * a message wraps the one a lower layer left. */
	char msg[ERRMSG_SIZE];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	memcpy(tls_msg, msg, sizeof msg);
	tls_code = code;
	return code;
}

int brain__err_context(int code, const char *prefix)
{
	char old[ERRMSG_SIZE];
	memcpy(old, tls_msg, sizeof old);
	snprintf(tls_msg, sizeof tls_msg, "%s%s", prefix, old);
	tls_code = code;
	return code;
}

int brain__err_prefix(int code, const char *verb)
{
	if (code == BRAIN_OK)
		return code;
	size_t n = strlen(verb);
	if (strncmp(tls_msg, verb, n) == 0 && tls_msg[n] == ':')
		return code;
	char prefix[64];
	snprintf(prefix, sizeof prefix, "%s: ", verb);
	return brain__err_context(code, prefix);
}

int brain__oom(size_t bytes, const char *what)
{
	return brain__err(BRAIN_ENOMEM, "out of memory: %zu bytes for %s", bytes, what);
}
