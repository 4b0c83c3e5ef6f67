/*
 * bench/bench_open.c - what opening a big on-disk brain costs: time, memory
 * and the first searches, against rebuilding the brain in memory.
 *
 * Brains (384-d cosine, flat index): 100,000 and 1,000,000 random unit
 * vectors added with brain_add_batch() in batches of 10,000, and 100,000
 * text memories (bench_text's sentences) remembered one by one; built with
 * sync OFF, then brain_close(), which writes the checkpoint.
 *
 * Every measurement runs in a fresh process (fork + exec of this program
 * with --child), so its memory figures are its own; the parent only
 * orchestrates and stays small (its resident size at fork is what
 * ru_maxrss of an exec'd child starts from). For each brain:
 *
 *   build    the on-disk brain (add, then close = checkpoint), file sizes;
 *   open     brain_open() (read-write, NOCREATE) timed with clock_gettime,
 *            VmRSS / RssAnon / RssFile / VmHWM from /proc/self/status after
 *            it; the first brain_search() (k = 10, a random unit vector:
 *            verifies the vector checksums on first use) and the second
 *            (a stored vector, which must come back first); memory after
 *            both; brain_close(); ru_maxrss from wait4(). Warm (the page
 *            cache holds the files, as after the build) and cold (caches
 *            dropped before each run: /proc/sys/vm/drop_caches as root,
 *            else posix_fadvise(DONTNEED) on the brain's files; the
 *            share of the files still cached is shown);
 *   rebuild  the same vectors (or texts) into an in-memory brain: what an
 *            open that re-read and re-indexed everything would cost.
 *
 * Usage: bench_open [--dir DIR] [--sizes 100000,1000000] [--text N]
 *                   [--runs R] [--json PATH] [--keep]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <braincore.h>

#include "bench_files.h"

#include "bench_sentences.h"

#ifndef BENCH_SHARED_DATA_DIR
#define BENCH_SHARED_DATA_DIR "../shared/data"
#endif

#define DIMS 384u
#define BATCH 10000u
#define K 10u
#define SEED UINT64_C(0x6f70656e62656e63)
#define MAX_KV 64
#define MAX_RUNS 16
#define PATH_BYTES 4096

/* ---- small things ------------------------------------------------------ */

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench_open: %s: %s\n", what, why);
	exit(1);
}

/* "a/b" into out[size]; a path that does not fit is fatal. */
static void join(char *out, size_t size, const char *a, const char *b)
{
	int len = snprintf(out, size, "%s/%s", a, b);
	if (len < 0 || (size_t)len >= size)
		die(a, "path too long");
}

static float uniform(uint64_t *s)
{
	return (float)(bench_splitmix64(s) >> 40) * (2.0f / 16777216.0f) - 1.0f;
}

/* Rows [0, rows) of batch `batch`: unit vectors from one deterministic
 * stream per batch. With `keep_last`, only the last row is kept (out holds
 * one row). */
static void gen_stream(uint64_t batch, size_t rows, float *out, int keep_last)
{
	uint64_t s = SEED ^ (batch * UINT64_C(0xd1342543de82ef95));
	for (size_t i = 0; i < rows; i++) {
		float *v = keep_last ? out : out + i * DIMS;
		double sum = 0;
		for (unsigned j = 0; j < DIMS; j++) {
			v[j] = uniform(&s);
			sum += (double)v[j] * (double)v[j];
		}
		float inv = (float)(1.0 / sqrt(sum));
		for (unsigned j = 0; j < DIMS; j++)
			v[j] *= inv;
	}
}

static void gen_rows(uint64_t batch, size_t rows, float *out)
{
	gen_stream(batch, rows, out, 0);
}

/* The stored vector of memory `id` (1-based) of a vector brain, without
 * making its whole batch (which would show in the memory figures). */
static void stored_vector(uint64_t id, float *out)
{
	uint64_t slot = id - 1;
	gen_stream(slot / BATCH, (size_t)(slot % BATCH) + 1, out, 1);
}

/* /proc/self/status fields, in bytes. */
typedef struct mem_status {
	double rss, hwm, anon, file;
} mem_status;

static mem_status read_status(void)
{
	mem_status m = {0, 0, 0, 0};
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return m;
	char line[256];
	while (fgets(line, sizeof line, f)) {
		double kb = 0;
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		kb = strtod(colon + 1, NULL) * 1024.0;
		if (!strncmp(line, "VmRSS:", 6))
			m.rss = kb;
		else if (!strncmp(line, "VmHWM:", 6))
			m.hwm = kb;
		else if (!strncmp(line, "RssAnon:", 8))
			m.anon = kb;
		else if (!strncmp(line, "RssFile:", 8))
			m.file = kb;
	}
	fclose(f);
	return m;
}

static void put(const char *key, double v)
{
	printf("%s %.9g\n", key, v);
}

static void put_status(const char *prefix, mem_status m)
{
	char key[64];
	snprintf(key, sizeof key, "%s_rss", prefix);
	put(key, m.rss);
	snprintf(key, sizeof key, "%s_hwm", prefix);
	put(key, m.hwm);
	snprintf(key, sizeof key, "%s_anon", prefix);
	put(key, m.anon);
	snprintf(key, sizeof key, "%s_file", prefix);
	put(key, m.file);
}

/* ---- texts (bench_text's: STS-B sentences, else synthetic) ------------- */

typedef struct corpus {
	char **s;
	size_t n, cap;
	char source[PATH_BYTES + 128];
} corpus;

static void corpus_add(corpus *c, const char *s, size_t len)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 1024;
		char **p = realloc(c->s, c->cap * sizeof *p);
		if (!p)
			die("corpus", "out of memory");
		c->s = p;
	}
	char *copy = malloc(len + 1);
	if (!copy)
		die("corpus", "out of memory");
	memcpy(copy, s, len);
	copy[len] = '\0';
	c->s[c->n++] = copy;
}

/* A set of strings, for removing duplicates. */
typedef struct strset {
	const char **slot;
	size_t cap, n;
} strset;

static uint64_t fnv(const char *s, size_t len)
{
	uint64_t h = UINT64_C(1469598103934665603);
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * UINT64_C(1099511628211);
	return h;
}

/* True if s[0..len) was new (and is now in the set, as c's copy). */
static int strset_add(strset *set, corpus *c, const char *s, size_t len)
{
	if (set->n * 2 >= set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 4096;
		const char **slot = calloc(cap, sizeof *slot);
		if (!slot)
			die("corpus", "out of memory");
		for (size_t i = 0; i < set->cap; i++) {
			if (!set->slot[i])
				continue;
			size_t j = (size_t)fnv(set->slot[i], strlen(set->slot[i])) & (cap - 1);
			while (slot[j])
				j = (j + 1) & (cap - 1);
			slot[j] = set->slot[i];
		}
		free(set->slot);
		set->slot = slot;
		set->cap = cap;
	}
	size_t j = (size_t)fnv(s, len) & (set->cap - 1);
	while (set->slot[j]) {
		if (strlen(set->slot[j]) == len && !memcmp(set->slot[j], s, len))
			return 0;
		j = (j + 1) & (set->cap - 1);
	}
	corpus_add(c, s, len);
	set->slot[j] = c->s[c->n - 1];
	set->n++;
	return 1;
}

static const char *shared_data_dir(void)
{
	const char *env = getenv("BRAINCORE_SHARED_DATA");
	return env && *env ? env : BENCH_SHARED_DATA_DIR;
}

static void synthetic(corpus *c, strset *set, size_t n)
{
	uint64_t s = 42;
	char buf[256];
	while (c->n < n) {
		size_t len = bench_sentence(&s, buf, sizeof buf);
		strset_add(set, c, buf, len);
	}
}

static void load_corpus(corpus *c)
{
	strset set = {NULL, 0, 0};
	memset(c, 0, sizeof *c);
	char path[PATH_BYTES];
	snprintf(path, sizeof path, "%s/stsb/sts-train.csv", shared_data_dir());
	FILE *f = fopen(path, "r");
	if (f) {
		char *line = NULL;
		size_t cap = 0;
		ssize_t got;
		while ((got = getline(&line, &cap, f)) > 0) {
			size_t len = (size_t)got;
			while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
				line[--len] = '\0';
			/* columns 6 and 7 (tab-separated) */
			size_t col = 0, start = 0;
			for (size_t i = 0; i <= len; i++) {
				if (i < len && line[i] != '\t')
					continue;
				if ((col == 5 || col == 6) && i > start)
					strset_add(&set, c, line + start, i - start);
				col++;
				start = i + 1;
			}
		}
		free(line);
		fclose(f);
	}
	if (c->n >= 1000) {
		snprintf(c->source, sizeof c->source, "%s (%zu distinct sentences)", path, c->n);
	} else {
		for (size_t i = 0; i < c->n; i++)
			free(c->s[i]);
		c->n = 0;
		set.n = 0;
		memset(set.slot, 0, set.cap * sizeof *set.slot);
		synthetic(c, &set, 12000);
		snprintf(c->source, sizeof c->source, "synthetic (%s not found), %zu sentences", path,
		         c->n);
	}
	free(set.slot);
}

/* The i-th memory text: distinct sentences first, then two joined. */
static const char *memory_text(const corpus *c, size_t i, char *buf, size_t size)
{
	size_t u = c->n;
	if (i < u)
		return c->s[i];
	size_t a = i % u, round = i / u;
	snprintf(buf, size, "%s %s", c->s[a], c->s[(a + round * 1237) % u]);
	return buf;
}

/* ---- children ------------------------------------------------------------ */

static brain_options options(int sync, unsigned flags)
{
	brain_options o;
	if (brain_options_init(&o, BRAIN_OPTIONS_VERSION))
		die("brain_options_init", brain_errmsg());
	o.dimensions = DIMS;
	o.sync = sync;
	o.flags = flags;
	return o;
}

/* Fill brain b with n memories of `kind` ("vec" or "text"); the time spent
 * in the library goes to *add_s. */
static void fill(brain_t *b, const char *kind, uint64_t n, double *add_s)
{
	*add_s = 0;
	if (!strcmp(kind, "vec")) {
		float *rows = malloc((size_t)BATCH * DIMS * sizeof *rows);
		uint64_t *ids = malloc(BATCH * sizeof *ids);
		if (!rows || !ids)
			die("fill", "out of memory");
		for (uint64_t done = 0, batch = 0; done < n; batch++) {
			size_t m = (size_t)(n - done < BATCH ? n - done : BATCH);
			gen_rows(batch, m, rows);
			for (size_t i = 0; i < m; i++)
				ids[i] = done + i + 1;
			double t0 = now_s();
			if (brain_add_batch(b, ids, rows, m))
				die("brain_add_batch", brain_errmsg());
			*add_s += now_s() - t0;
			done += m;
		}
		free(rows);
		free(ids);
		return;
	}
	corpus c;
	load_corpus(&c);
	fprintf(stderr, "bench_open: texts: %s\n", c.source);
	char buf[8192];
	double t0 = now_s();
	for (uint64_t i = 0; i < n; i++)
		if (brain_remember(b, memory_text(&c, (size_t)i, buf, sizeof buf), 0.5f))
			die("brain_remember", brain_errmsg());
	*add_s = now_s() - t0;
	for (size_t i = 0; i < c.n; i++)
		free(c.s[i]);
	free(c.s);
}

static int child_build(const char *kind, uint64_t n, const char *dir)
{
	brain_options o = options(BRAIN_SYNC_OFF, 0);
	brain_t *b = NULL;
	double t0 = now_s();
	if (brain_open(dir, &o, &b))
		die("brain_open", brain_errmsg());
	put("create_s", now_s() - t0);
	double add_s = 0;
	t0 = now_s();
	fill(b, kind, n, &add_s);
	put("fill_s", now_s() - t0);
	put("add_s", add_s);
	brain_stats st;
	brain_stats_init(&st, BRAIN_STATS_VERSION);
	brain_get_stats(b, &st);
	put("memories", (double)st.memories);
	put("checkpoints", (double)st.checkpoints);
	put("wal_bytes", (double)st.wal_bytes);
	t0 = now_s();
	if (brain_close(b))
		die("brain_close", brain_errmsg());
	put("close_s", now_s() - t0);
	put_status("end", read_status());
	return 0;
}

static void random_query(uint64_t seed, float *q)
{
	uint64_t s = seed;
	double sum = 0;
	for (unsigned j = 0; j < DIMS; j++) {
		q[j] = uniform(&s);
		sum += (double)q[j] * (double)q[j];
	}
	for (unsigned j = 0; j < DIMS; j++)
		q[j] = (float)((double)q[j] / sqrt(sum));
}

/* Two searches: a random query, then a stored vector (vec brains: must be
 * found first) or another random query (text brains). */
static void searches(brain_t *b, const char *kind, uint64_t n, const char *prefix)
{
	float q[DIMS];
	uint64_t ids[K];
	float dist[K];
	size_t found = 0;
	char key[64];
	random_query(SEED + 1, q);
	double t0 = now_s();
	if (brain_search(b, q, K, ids, dist, &found))
		die("brain_search", brain_errmsg());
	snprintf(key, sizeof key, "%s1_s", prefix);
	put(key, now_s() - t0);
	if (found != K)
		die("brain_search", "found fewer than k");
	uint64_t want = n / 2 + 7;
	if (!strcmp(kind, "vec"))
		stored_vector(want, q);
	else
		random_query(SEED + 2, q);
	t0 = now_s();
	if (brain_search(b, q, K, ids, dist, &found))
		die("brain_search", brain_errmsg());
	snprintf(key, sizeof key, "%s2_s", prefix);
	put(key, now_s() - t0);
	if (!strcmp(kind, "vec") && (found != K || ids[0] != want))
		die("brain_search", "a stored vector was not found first");
}

static int child_open(const char *kind, uint64_t n, const char *dir)
{
	brain_options o = options(BRAIN_SYNC_FULL, BRAIN_OPEN_NOCREATE);
	brain_t *b = NULL;
	put_status("start", read_status());
	double t0 = now_s();
	if (brain_open(dir, &o, &b))
		die("brain_open", brain_errmsg());
	put("open_s", now_s() - t0);
	put_status("open", read_status());
	if (brain_count(b) != n)
		die("brain_open", "the brain does not hold the memories it was built with");
	searches(b, kind, n, "search");
	put_status("search", read_status());
	brain_stats st;
	brain_stats_init(&st, BRAIN_STATS_VERSION);
	brain_get_stats(b, &st);
	put("index_bytes", (double)st.index_bytes);
	t0 = now_s();
	if (brain_close(b))
		die("brain_close", brain_errmsg());
	put("close_s", now_s() - t0);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	put("self_maxrss", (double)ru.ru_maxrss * 1024.0);
	put("majflt", (double)ru.ru_majflt);
	put("minflt", (double)ru.ru_minflt);
	return 0;
}

static int child_rebuild(const char *kind, uint64_t n)
{
	brain_options o = options(BRAIN_SYNC_FULL, 0);
	brain_t *b = NULL;
	if (brain_open(NULL, &o, &b))
		die("brain_open", brain_errmsg());
	double add_s = 0;
	fill(b, kind, n, &add_s);
	put("add_s", add_s);
	put_status("built", read_status());
	searches(b, kind, n, "search");
	put_status("search", read_status());
	brain_stats st;
	brain_stats_init(&st, BRAIN_STATS_VERSION);
	brain_get_stats(b, &st);
	put("index_bytes", (double)st.index_bytes);
	brain_close(b);
	return 0;
}

static int child_main(int argc, char **argv)
{
	/* --child build|open KIND N DIR, --child rebuild KIND N */
	if (argc < 5)
		die("--child", "bad arguments");
	const char *what = argv[2], *kind = argv[3];
	uint64_t n = strtoull(argv[4], NULL, 10);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(what, "build") && argc == 6)
		return child_build(kind, n, argv[5]);
	if (!strcmp(what, "open") && argc == 6)
		return child_open(kind, n, argv[5]);
	if (!strcmp(what, "rebuild"))
		return child_rebuild(kind, n);
	die("--child", "bad arguments");
	return 2;
}

/* ---- the parent ---------------------------------------------------------- */

typedef struct kv {
	char key[48];
	double v;
} kv;

typedef struct run {
	kv kv[MAX_KV];
	int n;
} run;

static double get(const run *r, const char *key)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->kv[i].key, key))
			return r->kv[i].v;
	return (double)NAN;
}

static void set(run *r, const char *key, double v)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->kv[i].key, key)) {
			r->kv[i].v = v;
			return;
		}
	if (r->n == MAX_KV)
		return;
	snprintf(r->kv[r->n].key, sizeof r->kv[r->n].key, "%s", key);
	r->kv[r->n++].v = v;
}

/* Run this program with args (NULL-terminated) in a fresh process, read its
 * "key value" lines into *out, and its ru_maxrss (from wait4) as
 * "wait_maxrss". Returns 0, or -1 if the child failed. */
static int spawn(char *const args[], run *out)
{
	memset(out, 0, sizeof *out);
	int fd[2];
	if (pipe(fd))
		die("pipe", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		die("fork", strerror(errno));
	if (pid == 0) {
		close(fd[0]);
		if (dup2(fd[1], STDOUT_FILENO) < 0)
			_exit(127);
		close(fd[1]);
		execv("/proc/self/exe", args);
		fprintf(stderr, "bench_open: exec: %s\n", strerror(errno));
		_exit(127);
	}
	close(fd[1]);
	FILE *f = fdopen(fd[0], "r");
	if (!f)
		die("fdopen", strerror(errno));
	char line[256];
	while (fgets(line, sizeof line, f)) {
		char key[48];
		double v;
		if (sscanf(line, "%47s %lf", key, &v) == 2)
			set(out, key, v);
	}
	fclose(f);
	int status = 0;
	struct rusage ru;
	memset(&ru, 0, sizeof ru);
	while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
		;
	set(out, "wait_maxrss", (double)ru.ru_maxrss * 1024.0);
	set(out, "wait_majflt", (double)ru.ru_majflt);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median_of(const run *runs, int n, const char *key)
{
	double v[MAX_RUNS];
	int m = 0;
	for (int i = 0; i < n; i++) {
		double x = get(&runs[i], key);
		if (!isnan(x))
			v[m++] = x;
	}
	if (!m)
		return (double)NAN;
	qsort(v, (size_t)m, sizeof *v, cmp_double);
	return m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
}


/* Files of a brain directory. */
typedef struct dir_files {
	double ckpt, wal, other, allocated; /* bytes; allocated = st_blocks */
	char ckpt_name[64];
	double cached; /* bytes of the files in the page cache (mincore) */
} dir_files;

static double cached_bytes(const char *path, double size)
{
	if (size <= 0)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	void *p = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return 0;
	long page = sysconf(_SC_PAGESIZE);
	size_t pages = ((size_t)size + (size_t)page - 1) / (size_t)page;
	unsigned char *vec = malloc(pages);
	double in = 0;
	if (vec && mincore(p, (size_t)size, vec) == 0)
		for (size_t i = 0; i < pages; i++)
			in += (vec[i] & 1) ? (double)page : 0;
	free(vec);
	munmap(p, (size_t)size);
	return in;
}

static dir_files list_files(const char *dir)
{
	dir_files r;
	memset(&r, 0, sizeof r);
	DIR *d = opendir(dir);
	if (!d)
		return r;
	struct dirent *e;
	while ((e = readdir(d))) {
		char p[PATH_BYTES];
		struct stat st;
		join(p, sizeof p, dir, e->d_name);
		if (lstat(p, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		double size = (double)st.st_size;
		r.allocated += (double)st.st_blocks * 512.0;
		r.cached += cached_bytes(p, size);
		if (!strncmp(e->d_name, "ckpt-", 5)) {
			r.ckpt += size;
			if (strlen(e->d_name) < sizeof r.ckpt_name)
				memcpy(r.ckpt_name, e->d_name, strlen(e->d_name) + 1);
		} else if (!strcmp(e->d_name, "wal")) {
			r.wal += size;
		} else {
			r.other += size;
		}
	}
	closedir(d);
	return r;
}

/* Evict the brain's files from the page cache. Returns the method used. */
static const char *drop_cache(const char *dir)
{
	sync();
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t w = write(fd, "3\n", 2);
		close(fd);
		if (w == 2)
			return "drop_caches";
	}
	DIR *d = opendir(dir);
	if (!d)
		return "none";
	struct dirent *e;
	while ((e = readdir(d))) {
		char p[PATH_BYTES];
		join(p, sizeof p, dir, e->d_name);
		int f = open(p, O_RDONLY | O_CLOEXEC);
		if (f < 0)
			continue;
		fdatasync(f);
		posix_fadvise(f, 0, 0, POSIX_FADV_DONTNEED);
		close(f);
	}
	closedir(d);
	return "fadvise(DONTNEED)";
}

static const char *fs_name(unsigned long type)
{
	switch (type) {
	case 0xEF53ul: return "ext2/3/4";
	case 0x01021994ul: return "tmpfs";
	case 0x858458F6ul: return "ramfs";
	case 0x58465342ul: return "xfs";
	case 0x9123683Eul: return "btrfs";
	case 0x794C7630ul: return "overlayfs";
	default: return "other";
	}
}

static int in_memory_fs(unsigned long type)
{
	return type == 0x01021994ul || type == 0x858458F6ul;
}

/* --dir, $BRAINCORE_BENCH_DIR, $TMPDIR, /tmp: the first that is not in
 * memory; else the build tree (the directory of this program). */
static void pick_dir(const char *given, char *out, size_t size, char *fs, size_t fs_size)
{
	const char *cand[4];
	int n = 0;
	if (given)
		cand[n++] = given;
	const char *e = getenv("BRAINCORE_BENCH_DIR");
	if (e && *e)
		cand[n++] = e;
	e = getenv("TMPDIR");
	if (e && *e)
		cand[n++] = e;
	cand[n++] = "/tmp";
	for (int i = 0; i < n; i++) {
		struct statfs s;
		if (statfs(cand[i], &s) != 0)
			continue;
		if (in_memory_fs((unsigned long)s.f_type)) {
			fprintf(stderr, "bench_open: %s is %s (in memory): not used\n", cand[i],
			        fs_name((unsigned long)s.f_type));
			continue;
		}
		snprintf(out, size, "%s", cand[i]);
		snprintf(fs, fs_size, "%s", fs_name((unsigned long)s.f_type));
		return;
	}
	char exe[PATH_BYTES];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (len <= 0)
		die("readlink /proc/self/exe", strerror(errno));
	exe[len] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	snprintf(out, size, "%s", exe);
	struct statfs s;
	snprintf(fs, fs_size, "%s",
	         statfs(out, &s) == 0 ? fs_name((unsigned long)s.f_type) : "unknown");
}

/* ---- formatting ---------------------------------------------------------- */

/* Formatted values live in a ring of buffers, enough for one table row. */
static char *ring(void)
{
	static char bufs[32][48];
	static unsigned next;
	return bufs[next++ % 32];
}

static const char *T(double s)
{
	char *buf = ring();
	if (isnan(s))
		snprintf(buf, 48, "-");
	else if (s < 1e-3)
		snprintf(buf, 48, "%.1f us", s * 1e6);
	else if (s < 1.0)
		snprintf(buf, 48, "%.2f ms", s * 1e3);
	else
		snprintf(buf, 48, "%.2f s", s);
	return buf;
}

static const char *B(double b)
{
	char *buf = ring();
	if (isnan(b))
		snprintf(buf, 48, "-");
	else if (b >= 1e9)
		snprintf(buf, 48, "%.2f GB", b / 1e9);
	else if (b >= 1e6)
		snprintf(buf, 48, "%.1f MB", b / 1e6);
	else if (b >= 1e3)
		snprintf(buf, 48, "%.1f kB", b / 1e3);
	else
		snprintf(buf, 48, "%.0f B", b);
	return buf;
}

/* ---- one brain ----------------------------------------------------------- */

typedef struct result {
	char name[64];
	const char *kind;
	uint64_t n;
	int done;
	char skipped[256];
	run build, rebuild;
	dir_files files;
	run warm[MAX_RUNS], cold[MAX_RUNS];
	int nwarm, ncold;
	const char *cold_method;
	double cached_before_cold; /* share of the files cached before a cold run (max) */
	int ckpt_rewritten;        /* an open's close wrote a new checkpoint */
} result;

static void measure(result *r, const char *base, int runs)
{
	char dir[PATH_BYTES], nbuf[32];
	join(dir, sizeof dir, base, r->name);
	snprintf(nbuf, sizeof nbuf, "%llu", (unsigned long long)r->n);
	char *kind = (char *)(uintptr_t)r->kind;

	/* room: the image, the log and a checkpoint's new image side by side */
	double need = (double)r->n * (DIMS * 4.0 + 200.0) * 3.0 + 512e6;
	struct statvfs vfs;
	if (statvfs(base, &vfs) == 0 && (double)vfs.f_bavail * (double)vfs.f_frsize < need) {
		snprintf(r->skipped, sizeof r->skipped, "needs %.1f GB free, has %.1f GB", need / 1e9,
		         (double)vfs.f_bavail * (double)vfs.f_frsize / 1e9);
		return;
	}
	bench_remove_tree(dir);
	fprintf(stderr, "bench_open: %s: building in %s\n", r->name, dir);
	char *build[] = {(char *)(uintptr_t)"bench_open", (char *)(uintptr_t)"--child",
	                 (char *)(uintptr_t)"build", kind, nbuf, dir, NULL};
	if (spawn(build, &r->build)) {
		snprintf(r->skipped, sizeof r->skipped, "the build failed");
		bench_remove_tree(dir);
		return;
	}
	r->files = list_files(dir);
	char *open_args[] = {(char *)(uintptr_t)"bench_open", (char *)(uintptr_t)"--child",
	                     (char *)(uintptr_t)"open", kind, nbuf, dir, NULL};
	for (int i = 0; i < runs; i++) {
		fprintf(stderr, "bench_open: %s: warm open %d/%d\n", r->name, i + 1, runs);
		if (spawn(open_args, &r->warm[r->nwarm]) == 0)
			r->nwarm++;
		dir_files now = list_files(dir);
		if (strcmp(now.ckpt_name, r->files.ckpt_name))
			r->ckpt_rewritten = 1;
	}
	for (int i = 0; i < runs; i++) {
		r->cold_method = drop_cache(dir);
		dir_files before = list_files(dir);
		double total = before.ckpt + before.wal + before.other;
		double share = total > 0 ? before.cached / total : 0;
		if (share > r->cached_before_cold)
			r->cached_before_cold = share;
		fprintf(stderr, "bench_open: %s: cold open %d/%d (%s, %.1f%% of the files cached)\n",
		        r->name, i + 1, runs, r->cold_method, share * 100.0);
		if (spawn(open_args, &r->cold[r->ncold]) == 0)
			r->ncold++;
	}
	fprintf(stderr, "bench_open: %s: rebuilding in memory\n", r->name);
	char *rebuild[] = {(char *)(uintptr_t)"bench_open", (char *)(uintptr_t)"--child",
	                   (char *)(uintptr_t)"rebuild", kind, nbuf, NULL};
	if (spawn(rebuild, &r->rebuild))
		fprintf(stderr, "bench_open: %s: the rebuild failed\n", r->name);
	r->done = 1;
}

static void print_tables(result *res, int nres, int runs, FILE *out)
{
	fprintf(out, "\nBuild (sync OFF, then brain_close = checkpoint) and files on disk:\n\n");
	fprintf(out, "| brain | memories | build: add | build: close | checkpoints during build | "
	             "checkpoint file | wal | total on disk | rebuild in memory (add) | rebuild "
	             "VmHWM |\n");
	fprintf(out, "|---|---|---|---|---|---|---|---|---|---|\n");
	for (int i = 0; i < nres; i++) {
		result *r = &res[i];
		if (!r->done) {
			fprintf(out, "| %s | %llu | skipped: %s | | | | | | | |\n", r->name,
			        (unsigned long long)r->n, r->skipped);
			continue;
		}
		fprintf(out, "| %s | %llu | %s | %s | %.0f | %s | %s | %s | %s | %s |\n", r->name,
		        (unsigned long long)r->n, T(get(&r->build, "add_s")),
		        T(get(&r->build, "close_s")), get(&r->build, "checkpoints"), B(r->files.ckpt),
		        B(r->files.wal), B(r->files.ckpt + r->files.wal + r->files.other),
		        T(get(&r->rebuild, "add_s")), B(get(&r->rebuild, "built_hwm")));
	}
	fprintf(out, "\nOpen, each in a fresh process (median of %d runs):\n\n", runs);
	fprintf(out, "| brain | cache | brain_open | VmRSS after open (anon + file) | VmHWM after "
	             "open | 1st search | 2nd search | VmRSS after searches (anon + file) | "
	             "ru_maxrss | open + 1st search | rebuild / (open + 1st search) |\n");
	fprintf(out, "|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (int i = 0; i < nres; i++) {
		result *r = &res[i];
		if (!r->done)
			continue;
		for (int c = 0; c < 3; c++) {
			const run *rs = c == 0 ? r->warm : r->cold;
			int n = c == 0 ? r->nwarm : r->ncold;
			const char *label = c == 0 ? "warm" : r->cold_method;
			if (c == 2) {
				/* the rebuilt in-memory brain, for reference */
				rs = &r->rebuild;
				n = 1;
				label = "rebuilt in memory";
			}
			if (n == 0)
				continue;
			double open_s = c == 2 ? (double)NAN : median_of(rs, n, "open_s");
			double first = median_of(rs, n, "search1_s");
			double to_first = c == 2 ? (double)NAN : open_s + first;
			const char *pre = c == 2 ? "built" : "open";
			char k_rss[32], k_hwm[32], k_anon[32], k_file[32];
			snprintf(k_rss, sizeof k_rss, "%s_rss", pre);
			snprintf(k_hwm, sizeof k_hwm, "%s_hwm", pre);
			snprintf(k_anon, sizeof k_anon, "%s_anon", pre);
			snprintf(k_file, sizeof k_file, "%s_file", pre);
			char ratio[32] = "-";
			if (c != 2)
				snprintf(ratio, sizeof ratio, "%.1f",
				         get(&r->rebuild, "add_s") / to_first);
			fprintf(out, "| %s | %s | %s | %s (%s + %s) | %s | %s | %s | %s (%s + %s) | %s | %s "
			             "| %s |\n",
			        r->name, label, T(open_s), B(median_of(rs, n, k_rss)),
			        B(median_of(rs, n, k_anon)), B(median_of(rs, n, k_file)),
			        B(median_of(rs, n, k_hwm)), T(first), T(median_of(rs, n, "search2_s")),
			        B(median_of(rs, n, "search_rss")), B(median_of(rs, n, "search_anon")),
			        B(median_of(rs, n, "search_file")), B(median_of(rs, n, "wait_maxrss")),
			        T(to_first), ratio);
		}
	}
}

static void print_json(result *res, int nres, const char *path, const char *base,
                       const char *fs, int runs)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "bench_open: cannot write %s: %s\n", path, strerror(errno));
		return;
	}
	fprintf(f, "{\n  \"program\": \"bench_open\",\n  \"dir\": \"%s\",\n  \"filesystem\": "
	           "\"%s\",\n  \"runs\": %d,\n  \"brains\": [\n",
	        base, fs, runs);
	for (int i = 0; i < nres; i++) {
		result *r = &res[i];
		fprintf(f, "    {\"name\": \"%s\", \"memories\": %llu", r->name,
		        (unsigned long long)r->n);
		if (!r->done) {
			fprintf(f, ", \"skipped\": \"%s\"}%s\n", r->skipped, i + 1 < nres ? "," : "");
			continue;
		}
		fprintf(f, ", \"files\": {\"checkpoint\": %.0f, \"wal\": %.0f, \"other\": %.0f, "
		           "\"allocated\": %.0f}",
		        r->files.ckpt, r->files.wal, r->files.other, r->files.allocated);
		const run *sets[] = {&r->build, &r->rebuild};
		const char *names[] = {"build", "rebuild"};
		for (int s = 0; s < 2; s++) {
			fprintf(f, ", \"%s\": {", names[s]);
			for (int k = 0; k < sets[s]->n; k++)
				fprintf(f, "%s\"%s\": %.9g", k ? ", " : "", sets[s]->kv[k].key,
				        isnan(sets[s]->kv[k].v) ? 0.0 : sets[s]->kv[k].v);
			fprintf(f, "}");
		}
		for (int c = 0; c < 2; c++) {
			const run *rs = c ? r->cold : r->warm;
			int n = c ? r->ncold : r->nwarm;
			fprintf(f, ", \"%s\": {", c ? "cold" : "warm");
			if (c)
				fprintf(f, "\"method\": \"%s\", \"cached_share_before\": %.4f, ",
				        r->cold_method ? r->cold_method : "none", r->cached_before_cold);
			fprintf(f, "\"runs\": %d", n);
			if (n)
				for (int k = 0; k < rs[0].n; k++)
					fprintf(f, ", \"%s\": %.9g", rs[0].kv[k].key,
					        median_of(rs, n, rs[0].kv[k].key));
			fprintf(f, "}");
		}
		fprintf(f, "}%s\n", i + 1 < nres ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	fclose(f);
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: bench_open [--dir DIR] [--sizes N,N...] [--text N] [--runs R]\n"
	        "                  [--json PATH] [--keep]\n"
	        "  --dir DIR      where the brains are built (default: $TMPDIR or /tmp unless\n"
	        "                 in memory, else the build tree)\n"
	        "  --sizes LIST   vector brains to build (default 100000,1000000)\n"
	        "  --text N       a brain of N text memories too (default 100000; 0: none)\n"
	        "  --runs R       fresh-process opens per cache state, median shown (default 5)\n"
	        "  --json PATH    also write the figures as JSON to PATH\n"
	        "  --keep         leave the brains on disk (default: removed)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--child"))
		return child_main(argc, argv);

	const char *dir_arg = NULL, *json = NULL;
	char sizes_buf[256] = "100000,1000000";
	uint64_t text_n = 100000;
	int runs = 5, keep = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--keep")) {
			keep = 1;
			continue;
		}
		if (!v)
			usage();
		if (!strcmp(a, "--dir"))
			dir_arg = v;
		else if (!strcmp(a, "--sizes"))
			snprintf(sizes_buf, sizeof sizes_buf, "%s", v);
		else if (!strcmp(a, "--text"))
			text_n = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--runs"))
			runs = atoi(v);
		else if (!strcmp(a, "--json"))
			json = v;
		else
			usage();
		i++;
	}
	if (runs < 1 || runs > MAX_RUNS)
		usage();

	char base_dir[PATH_BYTES], fs[32], base[PATH_BYTES], leaf[64];
	pick_dir(dir_arg, base_dir, sizeof base_dir, fs, sizeof fs);
	snprintf(leaf, sizeof leaf, "bench_open.%ld", (long)getpid());
	join(base, sizeof base, base_dir, leaf);
	if (mkdir(base, 0700) != 0)
		die(base, strerror(errno));

	result res[16];
	int nres = 0;
	memset(res, 0, sizeof res);
	for (char *tok = strtok(sizes_buf, ","); tok && nres < 15; tok = strtok(NULL, ",")) {
		uint64_t n = strtoull(tok, NULL, 10);
		if (!n)
			continue;
		res[nres].kind = "vec";
		res[nres].n = n;
		if (n % 1000000 == 0)
			snprintf(res[nres].name, sizeof res[nres].name, "vec-%lluM",
			         (unsigned long long)(n / 1000000));
		else if (n % 1000 == 0)
			snprintf(res[nres].name, sizeof res[nres].name, "vec-%lluK",
			         (unsigned long long)(n / 1000));
		else
			snprintf(res[nres].name, sizeof res[nres].name, "vec-%llu", (unsigned long long)n);
		nres++;
	}
	if (text_n) {
		res[nres].kind = "text";
		res[nres].n = text_n;
		snprintf(res[nres].name, sizeof res[nres].name, "text-%lluK",
		         (unsigned long long)(text_n / 1000));
		nres++;
	}

	printf("bench_open: opening on-disk brains (384-d cosine, flat index, built-in embedder)\n");
	printf("  dir:      %s (%s)\n", base, fs);
	printf("  vectors:  random unit vectors, brain_add_batch() of %u; texts: bench_text's "
	       "sentences (STS-B if %s/stsb exists), brain_remember()\n",
	       BATCH, shared_data_dir());
	printf("  open:     brain_open(read-write, NOCREATE) in a fresh process (fork + exec), "
	       "then brain_search(k = %u) twice: a random query (the first verifies the "
	       "vectors' checksums), then a stored vector\n",
	       K);
	printf("  memory:   /proc/self/status after open and after the searches; ru_maxrss of the "
	       "child from wait4()\n");
	printf("  uid:      %ld (cold cache: %s)\n", (long)getuid(),
	       getuid() == 0 ? "drop_caches, else fadvise" : "posix_fadvise(DONTNEED)");
	double load[3];
	if (getloadavg(load, 3) == 3)
		printf("  load:     %.2f %.2f %.2f at start\n", load[0], load[1], load[2]);
	fflush(stdout);

	double t0 = now_s();
	for (int i = 0; i < nres; i++) {
		measure(&res[i], base, runs);
		char dir[PATH_BYTES];
		join(dir, sizeof dir, base, res[i].name);
		if (!keep)
			bench_remove_tree(dir);
	}
	if (!keep)
		bench_remove_tree(base);
	if (getloadavg(load, 3) == 3)
		printf("  load:     %.2f %.2f %.2f at end (%.0f s)\n", load[0], load[1], load[2],
		       now_s() - t0);

	print_tables(res, nres, runs, stdout);
	int failed = 0;
	for (int i = 0; i < nres; i++) {
		result *r = &res[i];
		if (!r->done)
			continue;
		if (r->ncold)
			printf("\n%s: before each cold open, at most %.1f%% of the files were in the page "
			       "cache (%s).",
			       r->name, r->cached_before_cold * 100.0, r->cold_method);
		if (r->ckpt_rewritten)
			printf("\n%s: NOTE: closing a brain that was only opened and searched wrote a new "
			       "checkpoint.",
			       r->name);
		if (r->nwarm < runs || r->ncold < runs || isnan(get(&r->rebuild, "add_s"))) {
			printf("\n%s: FAILED runs (see stderr).", r->name);
			failed = 1;
		}
	}
	printf("\n\nVmRSS anon = heap and private copies; file = pages of the mapped checkpoint "
	       "(shared with the page cache, reclaimable). rebuild = the same memories added to an "
	       "in-memory brain (vectors: brain_add_batch; texts: brain_remember, embedding "
	       "included).\n");
	if (keep)
		printf("brains kept in %s\n", base);
	if (json)
		print_json(res, nres, json, base, fs, runs);
	return failed;
}
