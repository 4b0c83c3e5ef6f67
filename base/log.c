/*
 * base/log.c - the log hook. The library never prints; it formats a message
 * only when a callback is installed and the level is enabled.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "base/base.h"

static pthread_mutex_t g_log_lock = PTHREAD_MUTEX_INITIALIZER;
static brain_log_fn g_log_fn;
static void *g_log_payload;
/* -1 while no callback is installed, so the fast check fails at once. */
static atomic_int g_log_level_effective = -1;
static int g_log_level = BRAIN_LOG_WARN;

BRAIN_EXPORT void brain_set_log(brain_log_fn fn, void *payload)
{
	pthread_mutex_lock(&g_log_lock);
	g_log_fn = fn;
	g_log_payload = payload;
	atomic_store(&g_log_level_effective, fn ? g_log_level : -1);
	pthread_mutex_unlock(&g_log_lock);
}

BRAIN_EXPORT int brain_set_log_level(int level)
{
	if (level < BRAIN_LOG_ERROR || level > BRAIN_LOG_DEBUG)
		return brain__err(BRAIN_ERANGE, "set_log_level: level %d is not in [%d, %d]", level,
		                  BRAIN_LOG_ERROR, BRAIN_LOG_DEBUG);
	pthread_mutex_lock(&g_log_lock);
	g_log_level = level;
	atomic_store(&g_log_level_effective, g_log_fn ? level : -1);
	pthread_mutex_unlock(&g_log_lock);
	return BRAIN_OK;
}

bool brain__log_enabled(int level)
{
	return level <= atomic_load_explicit(&g_log_level_effective, memory_order_relaxed);
}

void brain__log(int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* The callback runs under the lock so that brain_set_log() returning
	 * means the old callback will not be called any more. */
	pthread_mutex_lock(&g_log_lock);
	if (g_log_fn && level <= g_log_level)
		g_log_fn(level, line, g_log_payload);
	pthread_mutex_unlock(&g_log_lock);
}
