// bench/bench_text.cpp - the text path through the public API.
//
// Sentences: the STS Benchmark training set (sts-train.csv, columns 6 and 7,
// tab-separated, duplicates removed) when ../shared/data is present,
// otherwise a deterministic synthetic generator; the output says which.
// A brain larger than the distinct sentences available is filled with two
// sentences joined ("A. B."), so every memory is a distinct text.
//
// Benchmarks (default options: 384-d cosine, built-in embedder, flat index):
//   remember/n:10000    remember 10,000 sentences into a new brain
//                       (memories/s and MB/s of text);
//   recall/n:<N>        brain_recall_ids(k = 5) on a brain of N memories,
//                       N = 1,000 / 10,000 / 50,000, cycling 256 queries;
//   think/n:<N>         brain_think() on the same brains;
//   embed/<purpose>     the embedding alone (the Spine's EMBED message, as
//                       remember and recall send it) on the 10,000 brain.
// Peer, in the same run: SQLite FTS5 (in-memory database) holding the same
// sentences: insert throughput (one transaction, and autocommit), and a
// MATCH query of the recall's words joined by OR, ranked by bm25(), LIMIT 5.
// FTS5 is keyword search, not semantic: it is a reference point for
// "keyword memory", not the same task.
#include "bench_common.h"
#include "bench_internal.h"

#include <braincore.h>

#ifdef BENCH_HAVE_SQLITE
#include <sqlite3.h>
#endif

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_set>

namespace {

const size_t kK = 5;
const size_t kQueries = 256;
const size_t kRememberN = 10000;

const std::vector<std::string> &queries()
{
	static std::vector<std::string> q = [] {
		std::vector<std::string> r;
		const std::vector<std::string> &s = bench::corpus().sentences;
		for (size_t i = 0; i < kQueries; i++)
			r.push_back(s[(i * 7919 + 13) % s.size()]);
		return r;
	}();
	return q;
}

struct Brain {
	brain_t *b = nullptr;
	std::string error;
	double bytes_per_memory = 0; // RSS growth while it was filled / memories
	~Brain() { brain_close(b); }
};

brain_t *open_brain(std::string &error)
{
	brain_t *b = nullptr;
	if (brain_open(nullptr, nullptr, &b)) {
		error = std::string("brain_open: ") + brain_errmsg();
		return nullptr;
	}
	return b;
}

// Brains of n memories, built on first use and kept.
Brain &brain_of(size_t n)
{
	static std::map<size_t, std::unique_ptr<Brain>> all;
	auto &slot = all[n];
	if (!slot) {
		slot.reset(new Brain);
		std::vector<std::string> texts;
		for (size_t i = 0; i < n; i++)
			texts.push_back(bench::memory_text(i));
		bench::trim_heap();
		size_t before = bench::rss_bytes();
		slot->b = open_brain(slot->error);
		for (size_t i = 0; slot->b && i < n; i++) {
			if (brain_remember(slot->b, texts[i].c_str(), 0.5f)) {
				slot->error = std::string("remember: ") + brain_errmsg();
				break;
			}
		}
		bench::trim_heap();
		size_t after = bench::rss_bytes();
		slot->bytes_per_memory = after > before ? (double)(after - before) / (double)n : 0;
	}
	return *slot;
}

void remember_braincore(benchmark::State &state)
{
	std::vector<std::string> texts;
	int64_t bytes = 0;
	for (size_t i = 0; i < kRememberN; i++) {
		texts.push_back(bench::memory_text(i));
		bytes += (int64_t)texts.back().size();
	}
	for (auto _ : state) {
		state.PauseTiming();
		std::string error;
		brain_t *b = open_brain(error);
		state.ResumeTiming();
		if (!b) {
			state.SkipWithError(error.c_str());
			break;
		}
		for (const std::string &t : texts)
			if (brain_remember(b, t.c_str(), 0.5f)) {
				state.SkipWithError(brain_errmsg());
				break;
			}
		state.PauseTiming();
		brain_close(b);
		state.ResumeTiming();
	}
	state.SetItemsProcessed(state.iterations() * (int64_t)kRememberN);
	state.SetBytesProcessed(state.iterations() * bytes);
}

void recall_braincore(benchmark::State &state, size_t n)
{
	Brain &br = brain_of(n);
	if (!br.error.empty()) {
		state.SkipWithError(br.error.c_str());
		return;
	}
	const std::vector<std::string> &q = queries();
	brain_id ids[kK];
	float scores[kK];
	size_t found = 0, i = 0, hits = 0;
	for (auto _ : state) {
		if (brain_recall_ids(br.b, q[i % kQueries].c_str(), kK, ids, scores, &found)) {
			state.SkipWithError(brain_errmsg());
			break;
		}
		hits += found;
		i++;
	}
	state.SetItemsProcessed(state.iterations());
	state.counters["found"] = i ? (double)hits / (double)i : 0.0;
	state.counters["B/memory"] = br.bytes_per_memory;
}

void think_braincore(benchmark::State &state, size_t n)
{
	Brain &br = brain_of(n);
	if (!br.error.empty()) {
		state.SkipWithError(br.error.c_str());
		return;
	}
	const std::vector<std::string> &q = queries();
	char answer[4096];
	size_t i = 0;
	for (auto _ : state) {
		int len = brain_think(br.b, q[i % kQueries].c_str(), answer, sizeof answer);
		if (len < 0) {
			state.SkipWithError(brain_errmsg());
			break;
		}
		benchmark::DoNotOptimize(answer);
		i++;
	}
	state.SetItemsProcessed(state.iterations());
}

void embed_braincore(benchmark::State &state, bool query)
{
	Brain &br = brain_of(kRememberN);
	if (!br.error.empty()) {
		state.SkipWithError(br.error.c_str());
		return;
	}
	const std::vector<std::string> &q = queries();
	std::vector<float> v(brain_dimensions(br.b));
	size_t i = 0;
	int64_t bytes = 0;
	for (auto _ : state) {
		const std::string &t = q[i % kQueries];
		if (bench_embed(br.b, t.data(), t.size(), query, v.data())) {
			state.SkipWithError(brain_errmsg());
			break;
		}
		benchmark::DoNotOptimize(v.data());
		bytes += (int64_t)t.size();
		i++;
	}
	state.SetItemsProcessed(state.iterations());
	state.SetBytesProcessed(bytes);
}

#ifdef BENCH_HAVE_SQLITE

struct Db {
	sqlite3 *db = nullptr;
	sqlite3_stmt *insert = nullptr;
	std::string error;
	double bytes_per_memory = 0;
	~Db()
	{
		sqlite3_finalize(insert);
		sqlite3_close(db);
	}
};

bool db_open(Db &d)
{
	if (sqlite3_open(":memory:", &d.db) != SQLITE_OK ||
	    sqlite3_exec(d.db, "CREATE VIRTUAL TABLE mem USING fts5(text)", nullptr, nullptr,
	                 nullptr) != SQLITE_OK ||
	    sqlite3_prepare_v2(d.db, "INSERT INTO mem(text) VALUES (?1)", -1, &d.insert,
	                       nullptr) != SQLITE_OK) {
		d.error = std::string("sqlite: ") + sqlite3_errmsg(d.db);
		return false;
	}
	return true;
}

bool db_insert(Db &d, const std::string &t)
{
	sqlite3_bind_text(d.insert, 1, t.data(), (int)t.size(), SQLITE_STATIC);
	int rc = sqlite3_step(d.insert);
	sqlite3_reset(d.insert);
	if (rc != SQLITE_DONE) {
		d.error = std::string("sqlite insert: ") + sqlite3_errmsg(d.db);
		return false;
	}
	return true;
}

bool fts5_available(std::string &why)
{
	Db d;
	if (!db_open(d)) {
		why = d.error;
		return false;
	}
	return true;
}

// The query's words (letters and digits, lower-cased ASCII; other UTF-8
// bytes kept) quoted and joined by OR: any word may match, bm25 ranks.
std::string fts_query(const std::string &text)
{
	std::string out, word;
	auto flush = [&] {
		if (word.empty())
			return;
		out += out.empty() ? "\"" : " OR \"";
		out += word + "\"";
		word.clear();
	};
	for (unsigned char ch : text) {
		if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || ch >= 0x80)
			word += (char)ch;
		else if (ch >= 'A' && ch <= 'Z')
			word += (char)(ch - 'A' + 'a');
		else
			flush();
	}
	flush();
	return out;
}

Db &db_of(size_t n)
{
	static std::map<size_t, std::unique_ptr<Db>> all;
	auto &slot = all[n];
	if (!slot) {
		slot.reset(new Db);
		std::vector<std::string> texts;
		for (size_t i = 0; i < n; i++)
			texts.push_back(bench::memory_text(i));
		bench::trim_heap();
		size_t before = bench::rss_bytes();
		if (db_open(*slot)) {
			sqlite3_exec(slot->db, "BEGIN", nullptr, nullptr, nullptr);
			for (size_t i = 0; i < n; i++)
				if (!db_insert(*slot, texts[i]))
					break;
			sqlite3_exec(slot->db, "COMMIT", nullptr, nullptr, nullptr);
		}
		bench::trim_heap();
		size_t after = bench::rss_bytes();
		slot->bytes_per_memory = after > before ? (double)(after - before) / (double)n : 0;
	}
	return *slot;
}

void remember_fts5(benchmark::State &state, bool txn)
{
	std::vector<std::string> texts;
	int64_t bytes = 0;
	for (size_t i = 0; i < kRememberN; i++) {
		texts.push_back(bench::memory_text(i));
		bytes += (int64_t)texts.back().size();
	}
	for (auto _ : state) {
		state.PauseTiming();
		std::unique_ptr<Db> d(new Db);
		bool ok = db_open(*d);
		state.ResumeTiming();
		if (ok && txn)
			sqlite3_exec(d->db, "BEGIN", nullptr, nullptr, nullptr);
		for (size_t i = 0; ok && i < texts.size(); i++)
			ok = db_insert(*d, texts[i]);
		if (ok && txn)
			ok = sqlite3_exec(d->db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK;
		if (!ok) {
			state.SkipWithError(d->error.c_str());
			break;
		}
		state.PauseTiming();
		d.reset();
		state.ResumeTiming();
	}
	state.SetItemsProcessed(state.iterations() * (int64_t)kRememberN);
	state.SetBytesProcessed(state.iterations() * bytes);
}

void recall_fts5(benchmark::State &state, size_t n)
{
	Db &d = db_of(n);
	sqlite3_stmt *st = nullptr;
	if (d.error.empty() &&
	    sqlite3_prepare_v2(d.db, "SELECT rowid FROM mem WHERE mem MATCH ?1 "
	                             "ORDER BY bm25(mem) LIMIT 5",
	                       -1, &st, nullptr) != SQLITE_OK)
		d.error = std::string("sqlite prepare: ") + sqlite3_errmsg(d.db);
	if (!d.error.empty()) {
		state.SkipWithError(d.error.c_str());
		return;
	}
	std::vector<std::string> q;
	for (const std::string &t : queries())
		q.push_back(fts_query(t));
	size_t i = 0, hits = 0;
	for (auto _ : state) {
		const std::string &m = q[i % kQueries];
		sqlite3_bind_text(st, 1, m.data(), (int)m.size(), SQLITE_STATIC);
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			benchmark::DoNotOptimize(sqlite3_column_int64(st, 0));
			hits++;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			state.SkipWithError(sqlite3_errmsg(d.db));
			break;
		}
		i++;
	}
	sqlite3_finalize(st);
	state.SetItemsProcessed(state.iterations());
	state.counters["found"] = i ? (double)hits / (double)i : 0.0;
	state.counters["B/memory"] = d.bytes_per_memory;
}

#endif

} // namespace

int main(int argc, char **argv)
{
	const size_t sizes[] = {1000, 10000, 50000};
	std::string fts_note = "libsqlite3-dev not found at build time: skipped";
	bool fts = false;
#ifdef BENCH_HAVE_SQLITE
	std::string why;
	fts = fts5_available(why);
	fts_note = fts ? std::string("SQLite ") + sqlite3_libversion() +
	                     " FTS5, in-memory; insert: one prepared statement per row; query: "
	                     "words OR'ed, ORDER BY bm25() LIMIT 5. Keyword search, not semantic"
	               : "FTS5 unavailable (" + why + "): skipped";
#endif
	std::string n = std::to_string(kRememberN);
	benchmark::RegisterBenchmark(("remember/n:" + n + "/braincore").c_str(), remember_braincore);
#ifdef BENCH_HAVE_SQLITE
	if (fts) {
		benchmark::RegisterBenchmark(("remember/n:" + n + "/sqlite-fts5-txn").c_str(),
		                             remember_fts5, true);
		benchmark::RegisterBenchmark(("remember/n:" + n + "/sqlite-fts5-autocommit").c_str(),
		                             remember_fts5, false);
	}
#endif
	for (size_t s : sizes) {
		std::string g = "recall/n:" + std::to_string(s);
		benchmark::RegisterBenchmark((g + "/braincore").c_str(), recall_braincore, s);
#ifdef BENCH_HAVE_SQLITE
		if (fts)
			benchmark::RegisterBenchmark((g + "/sqlite-fts5").c_str(), recall_fts5, s);
#endif
	}
	for (size_t s : sizes)
		benchmark::RegisterBenchmark(("think/n:" + std::to_string(s) + "/braincore").c_str(),
		                             think_braincore, s);
	benchmark::RegisterBenchmark("embed/document/braincore", embed_braincore, false);
	benchmark::RegisterBenchmark("embed/query/braincore", embed_braincore, true);

	return bench::run(
		argc, argv,
		{"--benchmark_min_time=0.3", "--benchmark_repetitions=5",
		 "--benchmark_enable_random_interleaving=true",
		 "--benchmark_report_aggregates_only=true"},
		{{"sentences", bench::corpus().source},
		 {"brains", "default options: 384-d cosine, built-in embedder, flat index; memories "
		            "beyond the distinct sentences are two sentences joined"},
		 {"queries", "256 sentences of the corpus, cycled; recall k = 5 (brain_recall_ids)"},
		 {"embed", "the Spine's EMBED message on the 10,000 brain (document: as remember; "
		           "query: as recall, with IDF)"},
		 {"sqlite", fts_note},
		 {"B/memory", "RSS growth while the brain (or FTS5 table) of a recall was filled / N"}});
}
