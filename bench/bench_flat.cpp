// bench/bench_flat.cpp - exact k-NN search through the public API.
//
// For N = 10,000 and 100,000 random vectors (uniform in [-1, 1)), dims 128
// and 384, metrics L2 and cosine: brain_add_batch() all of them into an
// in-memory flat brain, then brain_search() with k = 10, one query at a
// time on one thread. Peers on the same data and queries, in the same run:
//   hnswlib::BruteforceSearch (L2Space, or InnerProductSpace over unit
//     vectors for cosine), compiled with -march=native;
//   FAISS IndexFlatL2 / IndexFlatIP (unit vectors for cosine), one query
//     per search() call, OpenMP threads = 1 (when FAISS was found).
// braincore receives the same unit vectors for cosine and normalises every
// query itself (part of brain_search()).
//
// Memory per vector: RSS growth (/proc/self/statm) while the vectors are
// added, divided by N, for each implementation (counter "B/vec").
//
// Before anything is timed, the top-1 of braincore is checked against each
// peer's on a few queries (a different id is accepted only for an exact
// tie in double precision), so a broken run is never compared.
#include "bench_common.h"

#include <braincore.h>
#include <hnswlib/hnswlib.h>

#ifdef BENCH_HAVE_FAISS
#include <faiss/IndexFlat.h>
#include <omp.h>
#endif

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <tuple>

namespace {

const size_t kK = 10;
const size_t kQueries = 256; // distinct queries, cycled
const size_t kChecked = 8;   // queries whose top-1 is compared before timing

struct Config {
	size_t n, dim;
	bool cosine;
	bool operator<(const Config &o) const
	{
		return std::tie(n, dim, cosine) < std::tie(o.n, o.dim, o.cosine);
	}
	std::string group() const
	{
		return std::string(cosine ? "cosine" : "l2") + "/n:" + std::to_string(n) +
		       "/d:" + std::to_string(dim);
	}
};

struct Fixture {
	brain_t *brain = nullptr;
	std::unique_ptr<hnswlib::SpaceInterface<float>> space;
	std::unique_ptr<hnswlib::BruteforceSearch<float>> bf;
#ifdef BENCH_HAVE_FAISS
	std::unique_ptr<faiss::IndexFlat> faiss;
#endif
	std::vector<float> queries;
	double bpv_brain = 0, bpv_hnsw = 0, bpv_faiss = 0;
	std::string error; // set when setup or the top-1 check failed
	~Fixture() { brain_close(brain); }
};

double per_vector(size_t before, size_t after, size_t n)
{
	return after > before ? (double)(after - before) / (double)n : 0.0;
}

// Distance in double, for deciding ties.
double exact(const float *a, const float *b, size_t dim, bool cosine)
{
	double s = 0;
	for (size_t i = 0; i < dim; i++)
		s += cosine ? (double)a[i] * b[i] : ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
	return cosine ? 1.0 - s : s;
}

void build(const Config &c, Fixture &f)
{
	std::vector<float> data = bench::random_vectors(c.n, c.dim, 1000 + c.n + c.dim);
	f.queries = bench::random_vectors(kQueries, c.dim, 7 + c.dim);
	if (c.cosine) {
		bench::normalize_rows(data.data(), c.n, c.dim);
		bench::normalize_rows(f.queries.data(), kQueries, c.dim);
	}
	std::vector<uint64_t> ids(c.n);
	for (size_t i = 0; i < c.n; i++)
		ids[i] = i;

	// braincore
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = (uint32_t)c.dim;
	o.metric = c.cosine ? BRAIN_METRIC_COSINE : BRAIN_METRIC_L2;
	o.index = BRAIN_INDEX_FLAT;
	o.embedder = BRAIN_EMBEDDER_NONE;
	bench::trim_heap();
	size_t before = bench::rss_bytes();
	int rc = brain_open(nullptr, &o, &f.brain);
	if (rc == 0)
		rc = brain_add_batch(f.brain, ids.data(), data.data(), c.n);
	if (rc) {
		f.error = std::string("braincore: ") + brain_errmsg();
		return;
	}
	bench::trim_heap();
	f.bpv_brain = per_vector(before, bench::rss_bytes(), c.n);

	// hnswlib
	bench::trim_heap();
	before = bench::rss_bytes();
	if (c.cosine)
		f.space.reset(new hnswlib::InnerProductSpace(c.dim));
	else
		f.space.reset(new hnswlib::L2Space(c.dim));
	f.bf.reset(new hnswlib::BruteforceSearch<float>(f.space.get(), c.n));
	for (size_t i = 0; i < c.n; i++)
		f.bf->addPoint(data.data() + i * c.dim, i);
	bench::trim_heap();
	f.bpv_hnsw = per_vector(before, bench::rss_bytes(), c.n);

#ifdef BENCH_HAVE_FAISS
	bench::trim_heap();
	before = bench::rss_bytes();
	if (c.cosine)
		f.faiss.reset(new faiss::IndexFlatIP((faiss::Index::idx_t)c.dim));
	else
		f.faiss.reset(new faiss::IndexFlatL2((faiss::Index::idx_t)c.dim));
	f.faiss->add((faiss::Index::idx_t)c.n, data.data());
	bench::trim_heap();
	f.bpv_faiss = per_vector(before, bench::rss_bytes(), c.n);
#endif

	// Top-1 agreement.
	for (size_t q = 0; q < kChecked; q++) {
		const float *query = f.queries.data() + q * c.dim;
		uint64_t got[kK];
		float dist[kK];
		size_t found = 0;
		if (brain_search(f.brain, query, kK, got, dist, &found) || found != kK) {
			f.error = std::string("braincore search: ") + brain_errmsg();
			return;
		}
		auto agree = [&](uint64_t peer, const char *who) {
			if (peer == got[0])
				return true;
			double a = exact(query, data.data() + got[0] * c.dim, c.dim, c.cosine);
			double b = exact(query, data.data() + peer * c.dim, c.dim, c.cosine);
			if (std::fabs(a - b) <= 1e-6 * std::fmax(1.0, std::fabs(a)))
				return true; // a tie: either is right
			f.error = std::string("top-1 differs from ") + who + " on query " +
			          std::to_string(q) + ": braincore id " + std::to_string(got[0]) +
			          " at " + std::to_string(a) + ", peer id " + std::to_string(peer) +
			          " at " + std::to_string(b);
			return false;
		};
		auto res = f.bf->searchKnnCloserFirst(query, kK);
		if (res.empty() || !agree(res[0].second, "hnswlib"))
			return;
#ifdef BENCH_HAVE_FAISS
		float fd[kK];
		faiss::Index::idx_t fi[kK];
		f.faiss->search(1, query, (faiss::Index::idx_t)kK, fd, fi);
		if (!agree((uint64_t)fi[0], "faiss"))
			return;
#endif
	}
}

// Fixtures are built on first use and kept: the benchmarks of all configs
// run interleaved (random interleaving), and each is built once.
Fixture &fixture(const Config &c)
{
	static std::map<Config, std::unique_ptr<Fixture>> all;
	auto &slot = all[c];
	if (!slot) {
		slot.reset(new Fixture);
		build(c, *slot);
	}
	return *slot;
}

bool ready(benchmark::State &state, Fixture &f)
{
	if (!f.error.empty()) {
		state.SkipWithError(f.error.c_str());
		return false;
	}
	return true;
}

void search_braincore(benchmark::State &state, Config c)
{
	Fixture &f = fixture(c);
	if (!ready(state, f))
		return;
	uint64_t ids[kK];
	float dist[kK];
	size_t found = 0, q = 0;
	for (auto _ : state) {
		int rc = brain_search(f.brain, f.queries.data() + (q % kQueries) * c.dim, kK, ids, dist,
		                      &found);
		if (rc) {
			state.SkipWithError(brain_errmsg());
			break;
		}
		benchmark::DoNotOptimize(ids);
		q++;
	}
	state.SetItemsProcessed(state.iterations());
	state.counters["B/vec"] = f.bpv_brain;
}

// All kQueries queries in one brain_search_batch() call on one thread
// (THREADS = 1): a flat brain scans the rows once for every 16 queries.
void search_braincore_batch(benchmark::State &state, Config c)
{
	Fixture &f = fixture(c);
	if (!ready(state, f))
		return;
	if (brain_set_param(f.brain, BRAIN_PARAM_THREADS, 1)) {
		state.SkipWithError(brain_errmsg());
		return;
	}
	std::vector<uint64_t> ids(kQueries * kK);
	std::vector<float> dist(kQueries * kK);
	std::vector<size_t> found(kQueries);
	for (auto _ : state) {
		int rc = brain_search_batch(f.brain, f.queries.data(), kQueries, kK, ids.data(),
		                            dist.data(), found.data());
		if (rc) {
			state.SkipWithError(brain_errmsg());
			break;
		}
		benchmark::DoNotOptimize(ids.data());
	}
	state.SetItemsProcessed(state.iterations() * (int64_t)kQueries);
	state.counters["B/vec"] = f.bpv_brain;
}

void search_hnswlib(benchmark::State &state, Config c)
{
	Fixture &f = fixture(c);
	if (!ready(state, f))
		return;
	size_t q = 0;
	for (auto _ : state) {
		auto res = f.bf->searchKnn(f.queries.data() + (q % kQueries) * c.dim, kK);
		benchmark::DoNotOptimize(res);
		q++;
	}
	state.SetItemsProcessed(state.iterations());
	state.counters["B/vec"] = f.bpv_hnsw;
}

#ifdef BENCH_HAVE_FAISS
void search_faiss(benchmark::State &state, Config c)
{
	Fixture &f = fixture(c);
	if (!ready(state, f))
		return;
	float dist[kK];
	faiss::Index::idx_t ids[kK];
	size_t q = 0;
	for (auto _ : state) {
		f.faiss->search(1, f.queries.data() + (q % kQueries) * c.dim, (faiss::Index::idx_t)kK, dist,
		                ids);
		benchmark::DoNotOptimize(ids);
		q++;
	}
	state.SetItemsProcessed(state.iterations());
	state.counters["B/vec"] = f.bpv_faiss;
}

// FAISS's own many-query call: all kQueries queries in one search().
void search_faiss_batch(benchmark::State &state, Config c)
{
	Fixture &f = fixture(c);
	if (!ready(state, f))
		return;
	std::vector<float> dist(kQueries * kK);
	std::vector<faiss::Index::idx_t> ids(kQueries * kK);
	for (auto _ : state) {
		f.faiss->search((faiss::Index::idx_t)kQueries, f.queries.data(), (faiss::Index::idx_t)kK,
		                dist.data(), ids.data());
		benchmark::DoNotOptimize(ids.data());
	}
	state.SetItemsProcessed(state.iterations() * (int64_t)kQueries);
	state.counters["B/vec"] = f.bpv_faiss;
}
#endif

} // namespace

int main(int argc, char **argv)
{
	std::string faiss_note = "not found at build time: skipped";
#ifdef BENCH_HAVE_FAISS
	omp_set_num_threads(1);
	faiss_note = "IndexFlatL2 / IndexFlatIP, one query per search(), omp threads = 1 "
	             "(Debian libfaiss-dev 1.7.3: SSE kernels, no AVX)";
#endif
	for (size_t n : {10000, 100000})
		for (size_t dim : {128, 384})
			for (bool cosine : {false, true}) {
				Config c{n, dim, cosine};
				std::string g = c.group();
				benchmark::RegisterBenchmark((g + "/braincore").c_str(), search_braincore, c);
				benchmark::RegisterBenchmark((g + "/braincore-batch").c_str(),
				                             search_braincore_batch, c);
				benchmark::RegisterBenchmark((g + "/hnswlib-bf").c_str(), search_hnswlib, c);
#ifdef BENCH_HAVE_FAISS
				benchmark::RegisterBenchmark((g + "/faiss-flat").c_str(), search_faiss, c);
				benchmark::RegisterBenchmark((g + "/faiss-flat-batch").c_str(), search_faiss_batch,
				                             c);
#endif
			}
	return bench::run(argc, argv,
	                  {"--benchmark_min_time=0.3", "--benchmark_repetitions=5",
	                   "--benchmark_enable_random_interleaving=true",
	                   "--benchmark_report_aggregates_only=true"},
	                  {{"data", "uniform [-1, 1) random vectors; cosine: unit vectors for all"},
	                   {"search", "k = 10, one query at a time, one thread; items/s = QPS; "
	                              "-batch: all 256 queries in one call (brain_search_batch "
	                              "with THREADS = 1, faiss search(256))"},
	                   {"hnswlib", "BruteforceSearch, " BENCH_BUILD_NOTE},
	                   {"faiss", faiss_note},
	                   {"B/vec", "RSS growth while adding / N (malloc_trim before and after)"},
	                   {"check", "top-1 of braincore == top-1 of each peer on 8 queries"}});
}
