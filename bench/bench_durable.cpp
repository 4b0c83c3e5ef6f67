// bench/bench_durable.cpp - durable write throughput of an on-disk brain,
// against SQLite in WAL mode holding the same rows, in the same run.
//
// Not a Google Benchmark program: the fsync-bound configurations take
// seconds per run, so each configuration is run a few times (--reps,
// default 5), braincore and SQLite interleaved, alternating which goes
// first, and the median wall time per write is reported.
//
// Rows: the memory texts of bench_text (STS-B training sentences when
// ../shared/data is present, else a synthetic generator; beyond the
// distinct sentences, two joined) and their 384-d vectors from the
// built-in embedder: an in-memory brain remembers the texts first, in the
// same order, and brain_get_vector() gives the vectors SQLite stores, so
// both sides store identical bytes (checked after every one-thread
// brain_remember() run).
//
// braincore: a new on-disk brain per run (384-d cosine, built-in embedder,
// flat index), sync FULL, NORMAL (background fsync every 100 ms) or OFF:
//   remember          brain_remember() of each text (embedding included);
//   remember_ex+vec   brain_remember_ex() with the precomputed vector (no
//                     embedding: what SQLite's row costs, text and vector);
//   2 threads         two threads remembering half each (FULL: group commit);
//   add_batch(100)    brain_add_batch() of 100 vectors (no text);
//   in memory         remember and remember_ex+vec into an in-memory brain:
//                     what the disk adds, by difference (no peer).
// SQLite: a new database per run, journal_mode=WAL, synchronous=FULL /
// NORMAL / OFF, table mem(id INTEGER PRIMARY KEY, text TEXT, vec BLOB), one
// prepared INSERT per row; autocommit (one row per transaction), two
// connections in two threads (busy_timeout), or 100 rows per transaction.
//
// Timed: the writes only. Opening and creating are not; closing (a
// braincore checkpoint of everything, an SQLite WAL checkpoint) is timed
// separately and shown in its own column. Writes per run: 10,000 where
// every write waits for an fsync (--n-sync), 30,000 otherwise (--n-fast):
// about 50 MB of log, under BRAIN_PARAM_CHECKPOINT_WAL_BYTES (64 MiB), so
// no background checkpoint runs meanwhile (more writes: the table's last
// column counts them).
#include "bench_common.h"

#include <braincore.h>

#ifdef BENCH_HAVE_SQLITE
#include <sqlite3.h>
#endif

#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

namespace {

using bench::json_escape;
using bench::now_s;

const uint32_t kDims = 384;
const size_t kBatch = 100;

struct Rows {
	std::vector<std::string> texts;
	std::vector<float> vecs; // n * kDims, from the built-in embedder
	std::vector<uint64_t> ids; // 1..n
	size_t text_bytes = 0;
};

// Texts, and their vectors from an in-memory brain remembering them in
// order (what an on-disk brain remembering them in order computes).
bool make_rows(size_t n, Rows &r, std::string &err)
{
	r.texts.resize(n);
	r.ids.resize(n);
	for (size_t i = 0; i < n; i++) {
		r.texts[i] = bench::memory_text(i);
		r.text_bytes += r.texts[i].size();
		r.ids[i] = i + 1;
	}
	r.vecs.resize(n * kDims);
	brain_t *b = nullptr;
	if (brain_open(nullptr, nullptr, &b)) {
		err = std::string("brain_open: ") + brain_errmsg();
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		brain_id id = 0;
		if (brain_remember_ex(b, r.texts[i].c_str(), nullptr, 0.5f, &id) ||
		    brain_get_vector(b, id, &r.vecs[i * kDims])) {
			err = std::string("preparing vectors: ") + brain_errmsg();
			brain_close(b);
			return false;
		}
		if (id != i + 1) {
			err = "preparing vectors: unexpected id";
			brain_close(b);
			return false;
		}
	}
	brain_close(b);
	return true;
}

// ---- the directory ---------------------------------------------------------

std::string fs_name(long type)
{
	switch ((unsigned long)type) {
	case 0xEF53ul: return "ext2/3/4";
	case 0x01021994ul: return "tmpfs";
	case 0x858458F6ul: return "ramfs";
	case 0x58465342ul: return "xfs";
	case 0x9123683Eul: return "btrfs";
	case 0x794C7630ul: return "overlayfs";
	case 0x2FC12FC1ul: return "zfs";
	case 0xF2F52010ul: return "f2fs";
	default: {
		char buf[32];
		std::snprintf(buf, sizeof buf, "fs 0x%lx", (unsigned long)type);
		return buf;
	}
	}
}

bool in_memory_fs(long type)
{
	return (unsigned long)type == 0x01021994ul || (unsigned long)type == 0x858458F6ul;
}

std::string exe_dir()
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n <= 0)
		return ".";
	buf[n] = '\0';
	std::string p(buf);
	size_t slash = p.rfind('/');
	return slash == std::string::npos ? "." : p.substr(0, slash);
}

// Where the brains and databases go: --dir, $BRAINCORE_BENCH_DIR, $TMPDIR,
// /tmp - unless that is in memory (tmpfs), which would not measure the
// disk: then the build tree (where this program lies).
std::string pick_dir(const std::string &given, std::string &fs, std::string &why)
{
	std::vector<std::pair<std::string, std::string>> c;
	if (!given.empty())
		c.push_back({given, "--dir"});
	const char *e = std::getenv("BRAINCORE_BENCH_DIR");
	if (e && *e)
		c.push_back({e, "$BRAINCORE_BENCH_DIR"});
	e = std::getenv("TMPDIR");
	if (e && *e)
		c.push_back({e, "$TMPDIR"});
	c.push_back({"/tmp", "/tmp"});
	why.clear();
	for (const auto &d : c) {
		struct statfs s;
		if (statfs(d.first.c_str(), &s) != 0)
			continue;
		if (in_memory_fs((long)s.f_type)) {
			why += d.second + " (" + d.first + ") is " + fs_name((long)s.f_type) + "; ";
			continue;
		}
		fs = fs_name((long)s.f_type);
		why += "from " + d.second;
		return d.first;
	}
	std::string d = exe_dir();
	struct statfs s;
	fs = statfs(d.c_str(), &s) == 0 ? fs_name((long)s.f_type) : "?";
	why += "the build tree";
	return d;
}

void remove_tree(const std::string &path)
{
	DIR *d = opendir(path.c_str());
	if (d) {
		while (struct dirent *e = readdir(d)) {
			if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, ".."))
				continue;
			std::string p = path + "/" + e->d_name;
			struct stat st;
			if (lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
				remove_tree(p);
			else
				unlink(p.c_str());
		}
		closedir(d);
	}
	rmdir(path.c_str());
}

// ---- one run ----------------------------------------------------------------

struct Outcome {
	double write_s = 0; // the timed writes
	double close_s = 0;
	double checkpoints = -1; // braincore: background checkpoints during the writes
	std::string error;
};

enum class BcOp { remember, remember_vec, add_batch };

Outcome run_braincore(const std::string &dir, const Rows &rows, size_t n, int sync, BcOp op,
                      int threads)
{
	Outcome o;
	brain_options opts;
	brain_options_init(&opts, BRAIN_OPTIONS_VERSION);
	opts.dimensions = kDims;
	opts.sync = sync;
	brain_t *b = nullptr;
	if (brain_open(dir.empty() ? nullptr : dir.c_str(), &opts, &b)) {
		o.error = std::string("brain_open: ") + brain_errmsg();
		return o;
	}
	std::vector<std::string> errors((size_t)threads);
	auto work = [&](int t) {
		size_t from = n * (size_t)t / (size_t)threads, to = n * (size_t)(t + 1) / (size_t)threads;
		int rc = 0;
		if (op == BcOp::add_batch) {
			for (size_t i = from; rc == 0 && i < to; i += kBatch)
				rc = brain_add_batch(b, &rows.ids[i], &rows.vecs[i * kDims],
				                     std::min(kBatch, to - i));
		} else {
			for (size_t i = from; rc == 0 && i < to; i++)
				rc = op == BcOp::remember
				             ? brain_remember(b, rows.texts[i].c_str(), 0.5f)
				             : brain_remember_ex(b, rows.texts[i].c_str(),
				                                 &rows.vecs[i * kDims], 0.5f, nullptr);
		}
		if (rc)
			errors[(size_t)t] = brain_errmsg();
	};
	double t0 = now_s();
	if (threads == 1) {
		work(0);
	} else {
		std::vector<std::thread> pool;
		for (int t = 0; t < threads; t++)
			pool.emplace_back(work, t);
		for (std::thread &th : pool)
			th.join();
	}
	o.write_s = now_s() - t0;
	for (const std::string &e : errors)
		if (!e.empty() && o.error.empty())
			o.error = e;
	if (o.error.empty() && brain_count(b) != n)
		o.error = "brain_count " + std::to_string(brain_count(b)) + ", expected " +
		          std::to_string(n);
	// Same bytes as SQLite stores: one thread remembered in order.
	if (o.error.empty() && op == BcOp::remember && threads == 1) {
		std::vector<float> v(kDims);
		for (size_t i = 0; i < n; i++) {
			if (brain_get_vector(b, rows.ids[i], v.data()) ||
			    std::memcmp(v.data(), &rows.vecs[i * kDims], kDims * sizeof(float)) != 0) {
				o.error = "the vector of memory " + std::to_string(i + 1) +
				          " differs from the one SQLite stores";
				break;
			}
		}
	}
	brain_stats st;
	brain_stats_init(&st, BRAIN_STATS_VERSION);
	if (brain_get_stats(b, &st) == 0 && st.on_disk)
		o.checkpoints = (double)st.checkpoints;
	t0 = now_s();
	int rc = brain_close(b);
	o.close_s = now_s() - t0;
	if (rc && o.error.empty())
		o.error = std::string("brain_close: ") + brain_errmsg();
	return o;
}

#ifdef BENCH_HAVE_SQLITE

struct Sq {
	sqlite3 *db = nullptr;
	sqlite3_stmt *ins = nullptr;
	~Sq() { close(); }
	int close()
	{
		sqlite3_finalize(ins);
		ins = nullptr;
		int rc = sqlite3_close(db);
		db = nullptr;
		return rc;
	}
};

bool sq_open(Sq &s, const std::string &path, int sync, std::string &err)
{
	const char *pragma = sync == BRAIN_SYNC_FULL     ? "PRAGMA synchronous=FULL"
	                     : sync == BRAIN_SYNC_NORMAL ? "PRAGMA synchronous=NORMAL"
	                                                 : "PRAGMA synchronous=OFF";
	if (sqlite3_open_v2(path.c_str(), &s.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	                    nullptr) != SQLITE_OK ||
	    sqlite3_busy_timeout(s.db, 60000) != SQLITE_OK ||
	    sqlite3_exec(s.db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr) != SQLITE_OK ||
	    sqlite3_exec(s.db, pragma, nullptr, nullptr, nullptr) != SQLITE_OK ||
	    sqlite3_exec(s.db,
	                 "CREATE TABLE IF NOT EXISTS mem(id INTEGER PRIMARY KEY, text TEXT, vec BLOB)",
	                 nullptr, nullptr, nullptr) != SQLITE_OK ||
	    sqlite3_prepare_v2(s.db, "INSERT INTO mem(id, text, vec) VALUES (?1, ?2, ?3)", -1,
	                       &s.ins, nullptr) != SQLITE_OK) {
		err = std::string("sqlite: ") + (s.db ? sqlite3_errmsg(s.db) : "out of memory");
		return false;
	}
	return true;
}

bool sq_insert(Sq &s, const Rows &rows, size_t i, std::string &err)
{
	const std::string &t = rows.texts[i];
	sqlite3_bind_int64(s.ins, 1, (sqlite3_int64)rows.ids[i]);
	sqlite3_bind_text(s.ins, 2, t.data(), (int)t.size(), SQLITE_STATIC);
	sqlite3_bind_blob(s.ins, 3, &rows.vecs[i * kDims], (int)(kDims * sizeof(float)),
	                  SQLITE_STATIC);
	int rc = sqlite3_step(s.ins);
	sqlite3_reset(s.ins);
	if (rc != SQLITE_DONE) {
		err = std::string("sqlite insert: ") + sqlite3_errmsg(s.db);
		return false;
	}
	return true;
}

bool sq_exec(Sq &s, const char *sql, std::string &err)
{
	if (sqlite3_exec(s.db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
		err = std::string("sqlite ") + sql + ": " + sqlite3_errmsg(s.db);
		return false;
	}
	return true;
}

// batch 1: autocommit; else `batch` rows per BEGIN ... COMMIT.
Outcome run_sqlite(const std::string &path, const Rows &rows, size_t n, int sync, size_t batch,
                   int threads)
{
	Outcome o;
	std::vector<Sq> conns((size_t)threads);
	for (Sq &s : conns)
		if (!sq_open(s, path, sync, o.error))
			return o;
	std::vector<std::string> errors((size_t)threads);
	auto work = [&](int t) {
		Sq &s = conns[(size_t)t];
		std::string &err = errors[(size_t)t];
		size_t from = n * (size_t)t / (size_t)threads, to = n * (size_t)(t + 1) / (size_t)threads;
		for (size_t i = from; err.empty() && i < to; i += batch) {
			size_t end = std::min(to, i + batch);
			if (batch > 1 && !sq_exec(s, "BEGIN", err))
				break;
			for (size_t j = i; j < end; j++)
				if (!sq_insert(s, rows, j, err))
					break;
			if (batch > 1 && err.empty())
				sq_exec(s, "COMMIT", err);
		}
	};
	double t0 = now_s();
	if (threads == 1) {
		work(0);
	} else {
		std::vector<std::thread> pool;
		for (int t = 0; t < threads; t++)
			pool.emplace_back(work, t);
		for (std::thread &th : pool)
			th.join();
	}
	o.write_s = now_s() - t0;
	for (const std::string &e : errors)
		if (!e.empty() && o.error.empty())
			o.error = e;
	if (o.error.empty()) {
		sqlite3_stmt *st = nullptr;
		sqlite3_int64 count = -1;
		if (sqlite3_prepare_v2(conns[0].db, "SELECT count(*) FROM mem", -1, &st, nullptr) ==
		            SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			count = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (count != (sqlite3_int64)n)
			o.error = "sqlite count(*) " + std::to_string(count) + ", expected " +
			          std::to_string(n);
	}
	t0 = now_s();
	int rc = SQLITE_OK;
	for (size_t i = conns.size(); i-- > 0;) {
		int r = conns[i].close();
		if (r != SQLITE_OK)
			rc = r;
	}
	o.close_s = now_s() - t0;
	if (rc != SQLITE_OK && o.error.empty())
		o.error = std::string("sqlite3_close: ") + sqlite3_errstr(rc);
	return o;
}

#endif

// ---- configurations ----------------------------------------------------------

struct Config {
	std::string group;  // compared within a group
	std::string impl;   // "braincore..." or "sqlite..."
	bool ours = true;
	size_t n = 0;
	std::function<Outcome(const std::string &dir)> run;
	std::vector<double> write_s, close_s, checkpoints;
	std::string error;
};

double median(std::vector<double> v)
{
	if (v.empty())
		return 0;
	std::sort(v.begin(), v.end());
	size_t m = v.size() / 2;
	return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

std::string fmt(const char *f, double x)
{
	char buf[64];
	std::snprintf(buf, sizeof buf, f, x);
	return buf;
}

std::string rate(double per_s)
{
	if (per_s >= 1e6)
		return fmt("%.2fM/s", per_s / 1e6);
	if (per_s >= 1e3)
		return fmt("%.2fk/s", per_s / 1e3);
	return fmt("%.1f/s", per_s);
}

void usage()
{
	std::fprintf(stderr,
	             "usage: bench_durable [--dir DIR] [--reps R] [--n-sync N] [--n-fast N]\n"
	             "                     [--json PATH] [--quick]\n"
	             "  --dir DIR    where brains and databases are created (default: $TMPDIR or\n"
	             "               /tmp unless in memory, else the build tree)\n"
	             "  --reps R     runs of every configuration, median reported (default 5)\n"
	             "  --n-sync N   writes in a one-write-per-fsync run (default 10000)\n"
	             "  --n-fast N   writes in the other runs (default 30000: the log stays under\n"
	             "               the 64 MiB that starts a background checkpoint)\n"
	             "  --json PATH  also write the figures as JSON to PATH\n"
	             "  --quick      --reps 1 --n-sync 200 --n-fast 2000 (a smoke test)\n");
}

} // namespace

int main(int argc, char **argv)
{
	std::string dir_arg, json_path;
	int reps = 5;
	size_t n_sync = 10000, n_fast = 30000;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		auto value = [&](std::string &out) {
			size_t eq = a.find('=');
			if (eq != std::string::npos) {
				out = a.substr(eq + 1);
				return true;
			}
			if (i + 1 < argc) {
				out = argv[++i];
				return true;
			}
			return false;
		};
		std::string v;
		if (a.rfind("--dir", 0) == 0 && value(v)) {
			dir_arg = v;
		} else if (a.rfind("--json", 0) == 0 && value(v)) {
			json_path = v;
		} else if (a.rfind("--reps", 0) == 0 && value(v)) {
			reps = std::max(1, std::atoi(v.c_str()));
		} else if (a.rfind("--n-sync", 0) == 0 && value(v)) {
			n_sync = (size_t)std::max(kBatch, (size_t)std::strtoull(v.c_str(), nullptr, 10));
		} else if (a.rfind("--n-fast", 0) == 0 && value(v)) {
			n_fast = (size_t)std::max(kBatch, (size_t)std::strtoull(v.c_str(), nullptr, 10));
		} else if (a == "--quick") {
			reps = 1;
			n_sync = 200;
			n_fast = 2000;
		} else {
			usage();
			return 2;
		}
	}
	n_sync = n_sync / kBatch * kBatch;
	n_fast = n_fast / kBatch * kBatch;

	std::string fs, why;
	std::string base = pick_dir(dir_arg, fs, why);
	std::string work = base + "/bench_durable." + std::to_string((long)getpid());
	if (mkdir(work.c_str(), 0700) != 0) {
		std::fprintf(stderr, "bench_durable: cannot create %s: %s\n", work.c_str(),
		             std::strerror(errno));
		return 1;
	}

	Rows rows;
	std::string err;
	size_t n_max = std::max(n_sync, n_fast);
	if (!make_rows(n_max, rows, err)) {
		std::fprintf(stderr, "bench_durable: %s\n", err.c_str());
		remove_tree(work);
		return 1;
	}
	double avg_text = (double)rows.text_bytes / (double)n_max;

	std::string sqlite_note = "libsqlite3-dev not found at build time: SQLite skipped";
#ifdef BENCH_HAVE_SQLITE
	sqlite_note = std::string("SQLite ") + sqlite3_libversion() +
	              ": journal_mode=WAL, default page size and wal_autocheckpoint, one prepared "
	              "INSERT per row";
#endif

	std::vector<Config> cfgs;
	int counter = 0;
	auto fresh = [&](const std::string &d, const char *what) {
		return d + "/" + what + std::to_string(counter++);
	};
	auto bc = [&](const std::string &group, const std::string &impl, size_t n, int sync,
	              BcOp op, int threads, bool in_memory = false) {
		Config c;
		c.group = group;
		c.impl = impl;
		c.n = n;
		c.run = [&rows, &fresh, n, sync, op, threads, in_memory](const std::string &d) {
			std::string p = in_memory ? std::string() : fresh(d, "brain");
			Outcome o = run_braincore(p, rows, n, sync, op, threads);
			if (!in_memory)
				remove_tree(p);
			return o;
		};
		cfgs.push_back(c);
	};
#ifdef BENCH_HAVE_SQLITE
	auto sq = [&](const std::string &group, const std::string &impl, size_t n, int sync,
	              size_t batch, int threads) {
		Config c;
		c.group = group;
		c.impl = impl;
		c.ours = false;
		c.n = n;
		c.run = [&rows, &fresh, n, sync, batch, threads](const std::string &d) {
			std::string p = fresh(d, "sqlite");
			mkdir(p.c_str(), 0700);
			Outcome o = run_sqlite(p + "/db", rows, n, sync, batch, threads);
			remove_tree(p);
			return o;
		};
		cfgs.push_back(c);
	};
#else
	auto sq = [](const std::string &, const std::string &, size_t, int, size_t, int) {};
#endif
	const int FULL = BRAIN_SYNC_FULL, NORMAL = BRAIN_SYNC_NORMAL, OFF = BRAIN_SYNC_OFF;
	bc("FULL, 1 write/commit, 1 thread", "braincore remember", n_sync, FULL, BcOp::remember, 1);
	sq("FULL, 1 write/commit, 1 thread", "sqlite autocommit", n_sync, FULL, 1, 1);
	bc("FULL, 1 write/commit, 2 threads", "braincore remember x2", n_sync, FULL, BcOp::remember,
	   2);
	sq("FULL, 1 write/commit, 2 threads", "sqlite autocommit x2 conn", n_sync, FULL, 1, 2);
	bc("NORMAL, 1 write/commit", "braincore remember", n_fast, NORMAL, BcOp::remember, 1);
	bc("NORMAL, 1 write/commit", "braincore remember_ex+vec", n_fast, NORMAL, BcOp::remember_vec,
	   1);
	sq("NORMAL, 1 write/commit", "sqlite autocommit", n_fast, NORMAL, 1, 1);
	bc("OFF, 1 write/commit", "braincore remember", n_fast, OFF, BcOp::remember, 1);
	bc("OFF, 1 write/commit", "braincore remember_ex+vec", n_fast, OFF, BcOp::remember_vec, 1);
	sq("OFF, 1 write/commit", "sqlite autocommit", n_fast, OFF, 1, 1);
	bc("in memory (no disk), reference", "braincore remember", n_fast, FULL, BcOp::remember, 1,
	   true);
	bc("in memory (no disk), reference", "braincore remember_ex+vec", n_fast, FULL,
	   BcOp::remember_vec, 1, true);
	bc("FULL, 100 rows/commit", "braincore add_batch(100)", n_fast, FULL, BcOp::add_batch, 1);
	sq("FULL, 100 rows/commit", "sqlite 100/txn", n_fast, FULL, kBatch, 1);
	bc("NORMAL, 100 rows/commit", "braincore add_batch(100)", n_fast, NORMAL, BcOp::add_batch, 1);
	sq("NORMAL, 100 rows/commit", "sqlite 100/txn", n_fast, NORMAL, kBatch, 1);

	std::printf("bench_durable: durable writes of 384-d memories, braincore vs SQLite, same "
	            "run\n");
	std::printf("  dir:       %s (%s; %s)\n", work.c_str(), fs.c_str(), why.c_str());
	std::printf("  rows:      %s; %.1f B of text + %u B of vector per row on average\n",
	            bench::corpus().source.c_str(), avg_text, (unsigned)(kDims * sizeof(float)));
	std::printf("  braincore: new on-disk brain per run, 384-d cosine, built-in embedder, flat "
	            "index; NORMAL = background fsync every 100 ms\n");
	std::printf("  sqlite:    %s\n", sqlite_note.c_str());
	std::printf("  timing:    wall time of the writes only (open not timed, close shown "
	            "apart), median of %d run(s), braincore and SQLite interleaved\n",
	            reps);
	double load[3] = {0, 0, 0};
	if (getloadavg(load, 3) == 3)
		std::printf("  load:      %.2f %.2f %.2f at start\n", load[0], load[1], load[2]);
	std::fflush(stdout);

	double started = now_s();
	for (int r = 0; r < reps; r++) {
		// braincore first in even runs, the peers first in odd ones
		std::vector<size_t> order;
		for (size_t i = 0; i < cfgs.size(); i++)
			order.push_back(i);
		if (r % 2) {
			std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
				if (cfgs[a].group != cfgs[b].group)
					return a < b;
				return !cfgs[a].ours && cfgs[b].ours;
			});
		}
		for (size_t i : order) {
			Config &c = cfgs[i];
			if (!c.error.empty())
				continue;
			Outcome o = c.run(work);
			if (!o.error.empty()) {
				c.error = o.error;
				continue;
			}
			c.write_s.push_back(o.write_s);
			c.close_s.push_back(o.close_s);
			c.checkpoints.push_back(o.checkpoints);
			std::fprintf(stderr, "  run %d: %-32s %-28s %8.2f us/op\n", r + 1,
			             c.group.c_str(), c.impl.c_str(), o.write_s / (double)c.n * 1e6);
		}
	}
	double elapsed = now_s() - started;
	remove_tree(work);
	if (getloadavg(load, 3) == 3)
		std::printf("  load:      %.2f %.2f %.2f at end (%.0f s)\n", load[0], load[1], load[2],
		            elapsed);

	std::printf("\n| group | impl | writes | memories/s | us/op | close | checkpoints during "
	            "the writes |\n");
	std::printf("|---|---|---|---|---|---|---|\n");
	for (const Config &c : cfgs) {
		if (!c.error.empty()) {
			std::printf("| %s | %s | %zu | FAILED | - | - | - |\n", c.group.c_str(),
			            c.impl.c_str(), c.n);
			continue;
		}
		double us = median(c.write_s) / (double)c.n * 1e6;
		double ck = median(c.checkpoints);
		std::printf("| %s | %s | %zu | %s | %.2f | %s | %s |\n", c.group.c_str(),
		            c.impl.c_str(), c.n, rate(1e6 / us).c_str(), us,
		            bench::format_ns(median(c.close_s) * 1e9).c_str(),
		            ck >= 0 ? fmt("%.0f", ck).c_str() : "-");
	}

	std::printf("\nRatios (braincore memories/s / SQLite rows/s, same sync mode; > 1: braincore "
	            "is faster):\n\n");
	std::printf("| group | braincore | us/op | sqlite | us/op | ratio |\n");
	std::printf("|---|---|---|---|---|---|\n");
	for (const Config &a : cfgs) {
		if (!a.ours || !a.error.empty())
			continue;
		double ua = median(a.write_s) / (double)a.n * 1e6;
		bool any = false;
		for (const Config &p : cfgs) {
			if (p.ours || p.group != a.group || !p.error.empty())
				continue;
			double up = median(p.write_s) / (double)p.n * 1e6;
			std::printf("| %s | %s | %.2f | %s | %.2f | %.2f |\n", a.group.c_str(),
			            a.impl.c_str(), ua, p.impl.c_str(), up, up / ua);
			any = true;
		}
		if (!any)
			std::printf("| %s | %s | %.2f | - | - | - |\n", a.group.c_str(), a.impl.c_str(), ua);
	}
	bool failed = false;
	for (const Config &c : cfgs)
		if (!c.error.empty()) {
			if (!failed)
				std::printf("\nFAILED:\n");
			failed = true;
			std::printf("  %s / %s: %s\n", c.group.c_str(), c.impl.c_str(), c.error.c_str());
		}
	std::printf("\nus/op = wall time / writes (with 2 threads: 1 / throughput; each call "
	            "waits about twice that). braincore add_batch rows hold no text; everything else "
	            "stores the same text and vector. Promises differ in NORMAL: braincore fsyncs "
	            "within 100 ms, SQLite WAL+NORMAL at its checkpoints (a power loss may lose "
	            "more). close = brain_close (a checkpoint of the whole brain) or sqlite3_close "
	            "(a WAL checkpoint). Checkpoints during the writes: braincore's background ones "
	            "(the log passed BRAIN_PARAM_CHECKPOINT_WAL_BYTES, 64 MiB; writers wait "
	            "meanwhile); SQLite checkpoints its WAL every 1000 pages.\n");

	if (!json_path.empty()) {
		std::ofstream j(json_path);
		j << "{\n  \"program\": \"bench_durable\",\n  \"dir\": \"" << json_escape(work)
		  << "\",\n  \"filesystem\": \"" << json_escape(fs) << "\",\n  \"rows\": \""
		  << json_escape(bench::corpus().source) << "\",\n  \"sqlite\": \"" << json_escape(sqlite_note)
		  << "\",\n  \"reps\": " << reps << ",\n  \"results\": [\n";
		bool first = true;
		for (const Config &c : cfgs) {
			j << (first ? "" : ",\n") << "    {\"group\": \"" << json_escape(c.group)
			  << "\", \"impl\": \"" << json_escape(c.impl) << "\", \"writes\": " << c.n;
			if (c.error.empty()) {
				double us = median(c.write_s) / (double)c.n * 1e6;
				j << ", \"us_per_op\": " << us << ", \"per_second\": " << 1e6 / us
				  << ", \"close_s\": " << median(c.close_s);
				if (median(c.checkpoints) >= 0)
					j << ", \"checkpoints\": " << median(c.checkpoints);
			} else {
				j << ", \"error\": \"" << json_escape(c.error) << "\"";
			}
			j << "}";
			first = false;
		}
		j << "\n  ]\n}\n";
		if (!j)
			std::fprintf(stderr, "bench_durable: cannot write %s\n", json_path.c_str());
	}
	return failed ? 1 : 0;
}
