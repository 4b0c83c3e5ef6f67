/*
 * tests/test_util.h - small helpers shared by the tests.
 */
#ifndef BRAIN_TEST_UTIL_H
#define BRAIN_TEST_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TEST_MIN(a, b) ((a) < (b) ? (a) : (b))

/* Deterministic pseudo-random numbers (splitmix64), so failures replay. */
typedef struct test_rng {
	uint64_t state;
} test_rng;

static inline uint64_t test_rng_next(test_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static inline double test_rng_unit(test_rng *r)
{
	return (double)(test_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform float in [lo, hi). */
static inline float test_rng_float(test_rng *r, float lo, float hi)
{
	return lo + (hi - lo) * (float)test_rng_unit(r);
}

/* Directory of the shared evaluation data, or NULL if it is absent (tests
 * then skip). BRAINCORE_SHARED_DATA overrides the configured path. */
static inline const char *test_shared_data_dir(void)
{
	const char *dir = getenv("BRAINCORE_SHARED_DATA");
	if (!dir || !*dir)
		dir = BRAIN_SHARED_DATA_DIR;
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return NULL;
	return dir;
}

/* Run this test program (argv0) again as `argv0 flag` with BRAINCORE_SIMD
 * set to value (NULL: unset) and read what it prints into buf. NULL if it
 * cannot be run or does not exit 0 (tests then skip). */
static inline const char *test_run_self_simd(const char *argv0, const char *flag,
                                             const char *value, char *buf, size_t size)
{
	int fds[2];
	if (!argv0 || size == 0 || pipe(fds) != 0)
		return NULL;
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		if (value)
			setenv("BRAINCORE_SIMD", value, 1);
		else
			unsetenv("BRAINCORE_SIMD");
		execl(argv0, argv0, flag, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	size_t len = 0;
	ssize_t got;
	while (len + 1 < size && (got = read(fds[0], buf + len, size - 1 - len)) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		len += (size_t)got;
	}
	buf[len] = '\0';
	close(fds[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return NULL;
	return buf;
}

/* Remove path and everything under it (a missing path is fine). 0 or -1. */
static inline int test_remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int rc = 0;
	struct dirent *de;
	char sub[4096];
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) >= (int)sizeof sub ||
		    test_remove_tree(sub) != 0)
			rc = -1;
	}
	closedir(d);
	if (rmdir(path) != 0)
		rc = -1;
	return rc;
}

/* Copy the regular file `from` to `to` (created or truncated). 0 or -1. */
static inline int test_copy_file(const char *from, const char *to, mode_t mode)
{
	int in = open(from, O_RDONLY);
	if (in < 0)
		return -1;
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC, mode & 0777);
	if (out < 0) {
		close(in);
		return -1;
	}
	char buf[65536];
	int rc = 0;
	for (;;) {
		ssize_t n = read(in, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -1 : 0;
			break;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				rc = -1;
				break;
			}
			off += w;
		}
		if (rc)
			break;
	}
	close(in);
	if (close(out) != 0)
		rc = -1;
	return rc;
}

/* Copy directory `from` (regular files and subdirectories) to `to`. A
 * missing `from` copies nothing. 0 or -1. */
static inline int test_copy_tree(const char *from, const char *to)
{
	struct stat st;
	if (lstat(from, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISREG(st.st_mode))
		return test_copy_file(from, to, st.st_mode);
	if (!S_ISDIR(st.st_mode))
		return 0;
	if (mkdir(to, 0700) != 0 && errno != EEXIST)
		return -1;
	DIR *d = opendir(from);
	if (!d)
		return -1;
	int rc = 0;
	struct dirent *de;
	char a[4096], b[4096];
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(a, sizeof a, "%s/%s", from, de->d_name) >= (int)sizeof a ||
		    snprintf(b, sizeof b, "%s/%s", to, de->d_name) >= (int)sizeof b ||
		    test_copy_tree(a, b) != 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

#endif /* BRAIN_TEST_UTIL_H */
