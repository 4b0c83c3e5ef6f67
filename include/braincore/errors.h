/*
 * braincore/errors.h - error codes, error messages and the log hook.
 *
 * Every fallible call returns int: 0 (BRAIN_OK) on success or one of the
 * negative codes below. The numbers are pinned forever: a code is never
 * renumbered or reused; new codes are only appended.
 *
 * Besides the code, the failing call leaves a message with the detail (the
 * value that was wrong, the limit it broke) in thread-local storage, read
 * with brain_errmsg(). The library never prints: diagnostics go to the log
 * callback installed with brain_set_log().
 */
#ifndef BRAINCORE_ERRORS_H
#define BRAINCORE_ERRORS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The one list of error codes: X(NAME, value, "description").
 * It generates enum brain_error, brain_error_name() and brain_strerror().
 */
#define BRAIN_ERROR_LIST(X)                                                        \
	X(OK, 0, "success")                                                            \
	X(EINVAL, -1, "invalid argument")                                              \
	X(ENOMEM, -2, "out of memory")                                                 \
	X(ENULL, -3, "a required pointer argument is NULL")                            \
	X(EEMPTY, -4, "text is empty or has nothing to index")                         \
	X(EUTF8, -5, "text is not valid UTF-8")                                        \
	X(ETOOLONG, -6, "text is longer than the brain's limit")                       \
	X(EDIM, -7, "vector dimension does not match the brain")                       \
	X(ENONFINITE, -8, "vector contains NaN or infinity")                           \
	X(EZEROVEC, -9, "vector has zero length and no direction")                     \
	X(ERANGE, -10, "value out of range")                                           \
	X(ENOTFOUND, -11, "no memory with that id")                                    \
	X(EEXISTS, -12, "a memory with that id already exists")                        \
	X(EBUFSIZE, -13, "output buffer too small")                                    \
	X(ENOEMBEDDER, -14, "the brain has no embedder for text")                      \
	X(EEMBEDDER, -15, "the embedder callback failed")                              \
	X(EGENERATOR, -16, "the generator callback failed")                            \
	X(EVERSION, -17, "unsupported version of a struct")                            \
	X(EPARAM, -18, "unknown parameter")                                            \
	X(EFULL, -19, "the brain is at its capacity")                                  \
	X(ENOTSUP, -20, "operation not supported")                                     \
	X(ESTATE, -21, "operation not allowed in the current state")                   \
	X(EBUSY, -22, "resource is in use")                                            \
	X(EINTERNAL, -23, "internal error (a bug in braincore; please report it)")      \
	X(EIO, -24, "input/output error from the file system")                        \
	X(ECORRUPT, -25, "a file of the brain is damaged")                             \
	X(ENOSPC, -26, "no space left on the device")                                  \
	X(EMISMATCH, -27, "the brain on disk was made with different options")         \
	X(EREADONLY, -28, "the brain is open read-only")                             \
	X(EJSON, -29, "metadata is not a valid JSON object of supported values")      \
	X(EFILTER, -30, "the filter is not valid (syntax or types)")                   \
	X(ETYPE, -31, "a metadata value does not have its field's type")

/** Error codes. Pinned: values never change. */
enum brain_error {
#define BRAIN__ERROR_ENUM(name, value, text) BRAIN_##name = value,
	BRAIN_ERROR_LIST(BRAIN__ERROR_ENUM)
#undef BRAIN__ERROR_ENUM
	BRAIN__ERROR_LIST_END = 1 /* not an error code; keeps the list open-ended */
};

/**
 * Short English description of an error code ("out of memory").
 * Returns a static string; an unknown code gives "unknown error".
 * Thread-safe; never fails.
 */
const char *brain_strerror(int code);

/**
 * Name of an error code without the prefix, as written in the source
 * ("ENOMEM" for BRAIN_ENOMEM, "OK" for 0), for logs and bindings that map
 * codes to exceptions. Unknown codes give "UNKNOWN". Static string.
 * Returns a static string. Thread-safe.
 */
const char *brain_error_name(int code);

/**
 * Detail message of the most recent failed call made by this thread, such as
 * "vector dimension 128 does not match brain dimension 384".
 *
 * Never NULL: "" when this thread has seen no error. The string lives in
 * thread-local storage and stays valid until this thread's next call into
 * the library. Successful calls do not clear it; check return codes first.
 */
const char *brain_errmsg(void);

/**
 * Code of the most recent failed call made by this thread (BRAIN_OK if
 * none). Useful after the calls that return a pointer (brain_create(),
 * brain_recall()), where NULL means failure.
 */
int brain_errcode(void);

/** Log levels for the log callback. */
enum brain_log_level {
	BRAIN_LOG_ERROR = 0,
	BRAIN_LOG_WARN = 1,
	BRAIN_LOG_INFO = 2,
	BRAIN_LOG_DEBUG = 3
};

/**
 * Log callback: level is one of enum brain_log_level, message a NUL-terminated
 * UTF-8 line without a trailing newline, valid only during the call. May be
 * called from any thread that uses the library, and concurrently; it must not
 * call back into the library.
 */
typedef void (*brain_log_fn)(int level, const char *message, void *payload);

/**
 * Install the process-wide log callback; NULL removes it. Without a callback
 * the library logs nothing at all. Thread-safe: a message being delivered
 * while the callback is replaced goes to one of the two, complete.
 * Returns nothing.
 */
void brain_set_log(brain_log_fn fn, void *payload);

/**
 * Most verbose level delivered to the log callback (default BRAIN_LOG_WARN).
 * Messages above it are not even formatted, so a quiet level costs nothing.
 * Returns 0, or BRAIN_ERANGE if level is not one of enum brain_log_level.
 * Thread-safe.
 */
int brain_set_log_level(int level);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_ERRORS_H */
