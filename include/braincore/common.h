/*
 * braincore/common.h - basic types and version information.
 *
 * Part of the public API of libbraincore. Compiles alone as C11 and as C++.
 * Prototypes carry no macros so that FFI parsers (cffi, koffi, bindgen) can
 * read them after plain preprocessing.
 */
#ifndef BRAINCORE_COMMON_H
#define BRAINCORE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Version of the headers. brain_version() returns the library's. */
#define BRAIN_VERSION_MAJOR 0
#define BRAIN_VERSION_MINOR 1
#define BRAIN_VERSION_PATCH 0
/** The version as one number: major * 10000 + minor * 100 + patch. */
#define BRAIN_VERSION_NUMBER \
	(BRAIN_VERSION_MAJOR * 10000 + BRAIN_VERSION_MINOR * 100 + BRAIN_VERSION_PATCH)
#define BRAIN_VERSION_STRING "0.1.0"

/**
 * A brain: one memory, with its records, vectors and index.
 *
 * Opaque. Created by brain_open() or brain_create(), released by
 * brain_close() or brain_destroy(). One brain may be used from many threads
 * at once (see docs/threading.md): readers run concurrently, writers are
 * serialized.
 */
typedef struct brain brain_t;

/** Identifier of a memory. Every value except BRAIN_ID_NONE is a valid id. */
typedef uint64_t brain_id;

/** The one value that is never an id ("no id" / "assign one for me"). */
#define BRAIN_ID_NONE UINT64_MAX

/**
 * Version of the library that is running, as BRAIN_VERSION_NUMBER would be
 * for its headers. Bindings compare it with the header they were built from.
 * Returns that number. Thread-safe; never fails.
 */
int brain_version(void);

/**
 * Same as brain_version(), as a static string such as "0.1.0". Returns a
 * static string. Thread-safe; never fails.
 */
const char *brain_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_COMMON_H */
