// bench/bench_ann.cpp - approximate k-NN search (HNSW) on real data:
// recall@10 against QPS, braincore against hnswlib in the same run.
//
// Data: a folder in the TEXMEX layout (bench/prepare_data.sh, or
// ../shared/data/*): base.fvecs, query.fvecs, groundtruth.ivecs (exact
// top-k ids, 0-based rows of base, k >= 10) and meta.txt, whose
// `metric=` line names the metric:
//   euclidean  braincore BRAIN_METRIC_L2      hnswlib L2Space
//   angular    braincore BRAIN_METRIC_COSINE  hnswlib InnerProductSpace
//              (the vectors are unit length, so 1 - cosine = 1 - ip)
// (sift-style <name>_base.fvecs / _query / _groundtruth.ivecs are found too.)
//
// Build: braincore brain_open(NULL, dims, metric, BRAIN_INDEX_HNSW, no
// embedder, max_memories = n), BRAIN_PARAM_HNSW_M, _EF_CONSTRUCTION,
// _THREADS = --threads (and HNSW_SQ8 = 1 for the braincore-sq8 variant),
// then one timed brain_add_batch() of every base row, ids = row numbers.
// hnswlib HierarchicalNSW<float>(M, efConstruction), addPoint() of every
// row from --threads std::threads taking rows from a shared counter (the
// ParallelFor of hnswlib's examples). Bytes per vector: resident memory
// growth (/proc/self/statm, malloc_trim before and after) around the
// build / n, and what the index says it holds (braincore: brain_get_stats
// index_bytes; hnswlib: level-0 block + upper-level link lists) / n.
//
// --u8 (sets of integers in 0..255 under L2: SIFT, Fashion-MNIST): also
// braincore-u8, a brain with HNSW_ELEMENT = 1 (uint8 rows, float queries),
// and hnswlib-u8, HierarchicalNSW<int> over L2SpaceI (uint8 rows and
// uint8 queries). braincore-u8 is compared with both hnswlibs.
// --q8 (angular and ip sets): also braincore-q8, HNSW_ELEMENT = 3 (an int8
// a component and a float scale a row: a text brain's rows), against
// hnswlib's float rows.
//
// Search: for each ef (BRAIN_PARAM_HNSW_EF_SEARCH / setEf), every query
// once, one at a time on one thread, k = 10; --passes passes (default 3)
// over the whole ef list, the impls taking turns at each ef; QPS =
// queries / the fastest pass. recall@10 = |returned ids ∩ first 10 ground-truth ids| / 10,
// averaged over the queries (ids, not distances: a tie at the 10th place
// counts as a miss).
//
// Also: --make-groundtruth writes groundtruth.ivecs / groundtruth_dist.fvecs
// for a folder from braincore's exact (flat) index.
#include "bench_common.h"

#include <braincore.h>
#include <hnswlib/hnswlib.h>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using bench::json_escape;
using bench::now_s;

const size_t kK = 10;

// BRAIN_PARAM_HNSW_SQ8: its number is pinned, but the parameter exists only
// in libraries that have the 8-bit walk; asked by number and name so that
// this file builds either way.
const int kParamHnswSq8 = 303;

// BRAIN_PARAM_HNSW_ELEMENT (1: uint8 rows), likewise.
const int kParamHnswElement = 306;

bool have_param(int param, const char *name)
{
	const char *n = brain_param_name(param);
	return n && std::strcmp(n, name) == 0;
}

bool have_sq8()
{
	return have_param(kParamHnswSq8, "HNSW_SQ8");
}

// CPU seconds of the whole process (all threads).
double cpu_s()
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

std::string fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char *f, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, f);
	std::vsnprintf(buf, sizeof buf, f, ap);
	va_end(ap);
	return buf;
}

[[noreturn]] void die(const std::string &msg)
{
	std::fprintf(stderr, "bench_ann: %s\n", msg.c_str());
	std::exit(1);
}

bool file_exists(const std::string &p)
{
	std::ifstream f(p);
	return f.good();
}

// ---- TEXMEX files ----------------------------------------------------------

// Rows of a .fvecs (T = float) or .ivecs (T = int32_t) file: each row is an
// int32 dimension and that many values, little-endian. At most max_rows.
template <class T>
std::vector<T> read_vecs(const std::string &path, size_t *dim, size_t *rows,
                         size_t max_rows = (size_t)-1)
{
	std::ifstream f(path, std::ios::binary);
	if (!f)
		die("cannot open " + path);
	std::vector<T> out;
	*dim = 0;
	*rows = 0;
	while (*rows < max_rows) {
		int32_t d;
		if (!f.read(reinterpret_cast<char *>(&d), 4))
			break;
		if (d <= 0 || d > (1 << 20))
			die(fmt("%s: row %zu has dimension %d", path.c_str(), *rows, (int)d));
		if (*dim == 0)
			*dim = (size_t)d;
		else if ((size_t)d != *dim)
			die(fmt("%s: row %zu has dimension %d, the first had %zu", path.c_str(), *rows,
			        (int)d, *dim));
		size_t at = out.size();
		out.resize(at + *dim);
		if (!f.read(reinterpret_cast<char *>(out.data() + at), (std::streamsize)(*dim * sizeof(T))))
			die(fmt("%s: row %zu is cut short", path.c_str(), *rows));
		++*rows;
	}
	if (*rows == 0)
		die(path + ": no rows");
	return out;
}

template <class T>
void write_vecs(const std::string &path, const T *data, size_t rows, size_t dim)
{
	std::ofstream f(path, std::ios::binary | std::ios::trunc);
	int32_t d = (int32_t)dim;
	for (size_t r = 0; r < rows && f; r++) {
		f.write(reinterpret_cast<const char *>(&d), 4);
		f.write(reinterpret_cast<const char *>(data + r * dim), (std::streamsize)(dim * sizeof(T)));
	}
	f.close();
	if (!f)
		die("cannot write " + path);
}

enum class Metric { L2, Angular, IP };

const char *metric_name(Metric m)
{
	return m == Metric::L2 ? "euclidean" : m == Metric::Angular ? "angular" : "ip";
}

bool parse_metric(const std::string &s, Metric *m)
{
	if (s == "euclidean" || s == "l2" || s == "L2")
		*m = Metric::L2;
	else if (s == "angular" || s == "cosine")
		*m = Metric::Angular;
	else if (s == "ip" || s == "dot" || s == "inner_product")
		*m = Metric::IP;
	else
		return false;
	return true;
}

int brain_metric(Metric m)
{
	return m == Metric::L2 ? BRAIN_METRIC_L2 : m == Metric::Angular ? BRAIN_METRIC_COSINE
	                                                                : BRAIN_METRIC_IP;
}

struct Dataset {
	std::string dir, name;
	Metric metric = Metric::L2;
	size_t n = 0, nq = 0, dim = 0, gt_k = 0;
	std::vector<float> base, query;
	std::vector<int32_t> gt; // nq * gt_k
};

// Every value is an integer in 0..255: the set fits uint8 rows exactly.
bool all_bytes(const std::vector<float> &v)
{
	for (float x : v)
		if (!(x >= 0.0f && x <= 255.0f) || x != std::floor(x))
			return false;
	return true;
}

std::vector<uint8_t> as_bytes(const std::vector<float> &v)
{
	std::vector<uint8_t> b(v.size());
	for (size_t i = 0; i < v.size(); i++)
		b[i] = (uint8_t)v[i];
	return b;
}

// `dir`/base.fvecs, or the one `dir`/*_base.fvecs (sift1M style).
std::string find_file(const std::string &dir, const std::string &stem, const std::string &ext,
                      bool required)
{
	std::string p = dir + "/" + stem + "." + ext;
	if (file_exists(p))
		return p;
	std::string base = dir.substr(dir.find_last_of('/') + 1);
	for (const std::string &prefix : {base, std::string("sift"), std::string("gist")}) {
		p = dir + "/" + prefix + "_" + stem + "." + ext;
		if (file_exists(p))
			return p;
	}
	if (required)
		die("no " + stem + "." + ext + " in " + dir);
	return "";
}

std::string meta_value(const std::string &dir, const std::string &key)
{
	std::ifstream f(dir + "/meta.txt");
	std::string line;
	while (std::getline(f, line))
		if (line.rfind(key + "=", 0) == 0)
			return line.substr(key.size() + 1);
	return "";
}

std::string strip_slash(std::string d)
{
	while (d.size() > 1 && d.back() == '/')
		d.pop_back();
	return d;
}

void load_dataset(Dataset &ds, const std::string &dir_in, const std::string &metric_arg,
                  size_t max_queries, bool need_gt)
{
	ds.dir = strip_slash(dir_in);
	ds.name = ds.dir.substr(ds.dir.find_last_of('/') + 1);
	std::string m = metric_arg.empty() ? meta_value(ds.dir, "metric") : metric_arg;
	if (m.empty())
		die("no metric: " + ds.dir + "/meta.txt has no metric= line (give --metric)");
	if (!parse_metric(m, &ds.metric))
		die("unknown metric \"" + m + "\" (euclidean, angular or ip)");
	size_t qd = 0;
	ds.base = read_vecs<float>(find_file(ds.dir, "base", "fvecs", true), &ds.dim, &ds.n);
	ds.query = read_vecs<float>(find_file(ds.dir, "query", "fvecs", true), &qd, &ds.nq, max_queries);
	if (qd != ds.dim)
		die(fmt("query dimension %zu != base dimension %zu", qd, ds.dim));
	if (!need_gt)
		return;
	size_t gq = 0;
	ds.gt = read_vecs<int32_t>(find_file(ds.dir, "groundtruth", "ivecs", true), &ds.gt_k, &gq,
	                           ds.nq);
	if (gq < ds.nq)
		die(fmt("groundtruth.ivecs has %zu rows for %zu queries", gq, ds.nq));
	if (ds.gt_k < kK)
		die(fmt("groundtruth.ivecs has %zu ids per query, need %zu", ds.gt_k, kK));
	for (int32_t id : ds.gt)
		if (id < 0 || (size_t)id >= ds.n)
			die(fmt("groundtruth.ivecs holds id %d, outside 0..%zu", (int)id, ds.n - 1));
	if (ds.metric == Metric::Angular) {
		// hnswlib's InnerProductSpace is only cosine on unit vectors.
		for (size_t i = 0; i < ds.n; i += std::max<size_t>(1, ds.n / 100)) {
			double s = 0;
			for (size_t j = 0; j < ds.dim; j++)
				s += (double)ds.base[i * ds.dim + j] * ds.base[i * ds.dim + j];
			if (std::fabs(s - 1.0) > 1e-3)
				die(fmt("angular data must be unit length: base row %zu has |v|^2 = %g", i, s));
		}
		bench::normalize_rows(ds.query.data(), ds.nq, ds.dim);
	}
}

// ---- the implementations ---------------------------------------------------

struct Point {
	size_t ef = 0; // 0: not tunable (exact)
	double recall = 0, qps = 0;
	std::vector<double> pass_s;
};

struct Dataset;

struct Impl {
	std::string name;
	bool tunable = true; // ef changes anything
	double build_s = 0, build_cpu_s = 0, rss_bpv = 0, index_bpv = 0;
	double peak_bpv = NAN; // peak resident growth during the build / n
	std::vector<Point> points;
	virtual ~Impl() {}
	virtual void set_ef(size_t ef) = 0;
	// k nearest to q into ids; returns how many.
	virtual size_t search(const float *q, size_t k, uint64_t *ids) = 0;
	// The same for query qi of ds (an impl that keeps its own copy of the
	// queries, in its own element type, answers from that).
	virtual size_t search_query(const Dataset &ds, size_t qi, size_t k, uint64_t *ids);
};

size_t Impl::search_query(const Dataset &ds, size_t qi, size_t k, uint64_t *ids)
{
	return search(ds.query.data() + qi * ds.dim, k, ids);
}

double per_vector(size_t before, size_t after, size_t n)
{
	return after > before ? (double)(after - before) / (double)n : 0.0;
}

struct BrainImpl : Impl {
	brain_t *b = nullptr;
	~BrainImpl() override { brain_close(b); }
	void set_ef(size_t ef) override
	{
		if (tunable && brain_set_param(b, BRAIN_PARAM_HNSW_EF_SEARCH, (int64_t)ef))
			die(name + ": brain_set_param(HNSW_EF_SEARCH): " + brain_errmsg());
	}
	size_t search(const float *q, size_t k, uint64_t *ids) override
	{
		size_t found = 0;
		if (brain_search(b, q, k, ids, nullptr, &found))
			die(name + ": brain_search: " + brain_errmsg());
		return found;
	}
};

void set_param(brain_t *b, int param, int64_t v, const std::string &who)
{
	if (brain_set_param(b, param, v))
		die(who + ": brain_set_param(" +
		    (brain_param_name(param) ? brain_param_name(param) : std::to_string(param)) + ", " +
		    std::to_string(v) +
		    "): " + brain_errmsg());
}

// How braincore's graph holds the vectors: float rows; float rows with
// an 8-bit copy for the walk (HNSW_SQ8); uint8 rows (HNSW_ELEMENT 1);
// int8 rows with a scale (HNSW_ELEMENT 3, Q8).
enum class Rows { F32, SQ8, U8, Q8 };

// An in-memory brain for n of the set's vectors, with the build's
// parameters. index: BRAIN_INDEX_HNSW (a graph from the first vector) or
// BRAIN_INDEX_FLAT.
brain_t *open_brain(const Dataset &ds, size_t n, const std::string &name, int index, size_t m,
                    size_t efc, size_t threads, Rows rows)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = (uint32_t)ds.dim;
	o.metric = brain_metric(ds.metric);
	o.index = index;
	o.embedder = BRAIN_EMBEDDER_NONE;
	o.max_memories = n;
	brain_t *b = nullptr;
	if (brain_open(nullptr, &o, &b))
		die(name + ": brain_open: " + brain_errmsg());
	set_param(b, BRAIN_PARAM_THREADS, (int64_t)threads, name);
	if (index == BRAIN_INDEX_HNSW) {
		set_param(b, BRAIN_PARAM_HNSW_M, (int64_t)m, name);
		set_param(b, BRAIN_PARAM_HNSW_EF_CONSTRUCTION, (int64_t)efc, name);
		set_param(b, BRAIN_PARAM_HNSW_EXACT_BELOW, 0, name);
		if (rows == Rows::SQ8)
			set_param(b, kParamHnswSq8, 1, name);
		if (rows == Rows::U8)
			set_param(b, kParamHnswElement, 1, name);
		if (rows == Rows::Q8)
			set_param(b, kParamHnswElement, 3, name);
	}
	return b;
}

std::vector<uint64_t> row_ids(size_t n)
{
	std::vector<uint64_t> ids(n);
	for (size_t i = 0; i < n; i++)
		ids[i] = i;
	return ids;
}

std::unique_ptr<BrainImpl> build_brain(const Dataset &ds, const std::string &name, int index,
                                       size_t m, size_t efc, size_t threads, Rows rows)
{
	std::unique_ptr<BrainImpl> im(new BrainImpl);
	im->name = name;
	im->tunable = index == BRAIN_INDEX_HNSW;
	std::vector<uint64_t> ids = row_ids(ds.n);
	bench::trim_heap();
	size_t before = bench::rss_bytes();
	bool peak_ok = bench::reset_peak_rss();
	im->b = open_brain(ds, ds.n, name, index, m, efc, threads, rows);
	double t0 = now_s(), c0 = cpu_s();
	if (brain_add_batch(im->b, ids.data(), ds.base.data(), ds.n))
		die(name + ": brain_add_batch: " + brain_errmsg());
	im->build_s = now_s() - t0;
	im->build_cpu_s = cpu_s() - c0;
	if (peak_ok)
		im->peak_bpv = per_vector(before, bench::peak_rss_bytes(), ds.n);
	bench::trim_heap();
	im->rss_bpv = per_vector(before, bench::rss_bytes(), ds.n);
	brain_stats st;
	brain_stats_init(&st, BRAIN_STATS_VERSION);
	if (brain_get_stats(im->b, &st))
		die(name + ": brain_get_stats: " + brain_errmsg());
	if (st.memories != ds.n)
		die(fmt("%s: the brain holds %llu memories, not %zu", name.c_str(),
		        (unsigned long long)st.memories, ds.n));
	im->index_bpv = (double)st.index_bytes / (double)ds.n;
	return im;
}

// hnswlib's ParallelFor (examples/cpp): workers take rows from a counter.
template <class Fn>
void parallel_for(size_t n, size_t threads, Fn fn)
{
	if (threads <= 1) {
		for (size_t i = 0; i < n; i++)
			fn(i);
		return;
	}
	std::atomic<size_t> next(0);
	std::vector<std::thread> ws;
	for (size_t t = 0; t < threads; t++)
		ws.emplace_back([&] {
			for (;;) {
				size_t i = next.fetch_add(1);
				if (i >= n)
					break;
				fn(i);
			}
		});
	for (auto &w : ws)
		w.join();
}

// hnswlib over float rows (D = float: L2Space, InnerProductSpace) or
// uint8 rows (D = int: L2SpaceI, whose queries are uint8 rows too).
template <class D>
struct HnswImpl : Impl {
	std::unique_ptr<hnswlib::SpaceInterface<D>> space;
	std::unique_ptr<hnswlib::HierarchicalNSW<D>> h;
	std::vector<uint8_t> queries; // D = int: the queries as uint8 rows
	void set_ef(size_t ef) override { h->setEf(ef); }
	size_t search(const float *q, size_t k, uint64_t *ids) override { return knn(q, k, ids); }
	size_t search_query(const Dataset &ds, size_t qi, size_t k, uint64_t *ids) override
	{
		if (queries.empty())
			return Impl::search_query(ds, qi, k, ids);
		return knn(queries.data() + qi * ds.dim, k, ids);
	}
	size_t knn(const void *q, size_t k, uint64_t *ids)
	{
		auto res = h->searchKnn(q, k);
		size_t found = res.size();
		for (size_t i = found; i-- > 0;) { // farthest on top
			ids[i] = (uint64_t)res.top().second;
			res.pop();
		}
		return found;
	}
};

// rows: the base as hnswlib takes it (float or uint8 rows of ds.dim).
template <class D>
std::unique_ptr<HnswImpl<D>> build_hnswlib(const Dataset &ds, const std::string &name,
                                           hnswlib::SpaceInterface<D> *space, const void *rows,
                                           size_t m, size_t efc, size_t threads)
{
	std::unique_ptr<HnswImpl<D>> im(new HnswImpl<D>);
	im->name = name;
	im->space.reset(space);
	size_t row_bytes = space->get_data_size();
	bench::trim_heap();
	size_t before = bench::rss_bytes();
	bool peak_ok = bench::reset_peak_rss();
	im->h.reset(new hnswlib::HierarchicalNSW<D>(space, ds.n, m, efc));
	double t0 = now_s(), c0 = cpu_s();
	hnswlib::HierarchicalNSW<D> *h = im->h.get();
	const char *base = (const char *)rows;
	parallel_for(ds.n, threads, [&](size_t i) { h->addPoint(base + i * row_bytes, i); });
	im->build_s = now_s() - t0;
	im->build_cpu_s = cpu_s() - c0;
	if (peak_ok)
		im->peak_bpv = per_vector(before, bench::peak_rss_bytes(), ds.n);
	bench::trim_heap();
	im->rss_bpv = per_vector(before, bench::rss_bytes(), ds.n);
	double bytes = (double)h->cur_element_count * (double)h->size_data_per_element_;
	for (size_t i = 0; i < h->cur_element_count; i++)
		bytes += (double)h->element_levels_[i] * (double)h->size_links_per_element_;
	im->index_bpv = bytes / (double)ds.n;
	return im;
}

// ---- measuring -------------------------------------------------------------

// One pass over the queries: seconds; recall@10 into *recall if not null.
double run_pass(Impl &im, const Dataset &ds, double *recall)
{
	std::vector<uint64_t> got(ds.nq * kK, UINT64_MAX);
	double t0 = now_s();
	for (size_t q = 0; q < ds.nq; q++)
		im.search_query(ds, q, kK, got.data() + q * kK);
	double t = now_s() - t0;
	if (recall) {
		size_t hits = 0;
		for (size_t q = 0; q < ds.nq; q++) {
			const int32_t *g = ds.gt.data() + q * ds.gt_k;
			for (size_t i = 0; i < kK; i++)
				for (size_t j = 0; j < kK; j++)
					if (got[q * kK + i] == (uint64_t)g[j]) {
						hits++;
						break;
					}
		}
		*recall = (double)hits / (double)(ds.nq * kK);
	}
	return t;
}

// QPS at `target` recall on a curve (points in ef order): linear in
// log(QPS) between the two points around the target. NaN when the curve
// does not cross it; *why says why.
double qps_at(const Impl &im, double target, std::string *why)
{
	const auto &p = im.points;
	if (p.empty()) {
		*why = "no points";
		return NAN;
	}
	if (!im.tunable) { // exact: one point
		*why = fmt("exact, recall %.4f", p[0].recall);
		return p[0].recall >= target ? p[0].qps : NAN;
	}
	if (p.size() == 1) {
		*why = fmt("one ef only (%zu: recall %.4f)", p[0].ef, p[0].recall);
		return NAN;
	}
	if (p[0].recall >= target) {
		/* The fastest point measured that reaches the target: a lower
		 * bound (ef below k is not possible). */
		*why = fmt("lowest ef %zu already has recall %.4f: its QPS counts (a lower bound)",
		           p[0].ef, p[0].recall);
		return p[0].qps;
	}
	for (size_t i = 1; i < p.size(); i++) {
		if (p[i - 1].recall < target && p[i].recall >= target) {
			double t = (target - p[i - 1].recall) / (p[i].recall - p[i - 1].recall);
			return std::exp(std::log(p[i - 1].qps) + t * (std::log(p[i].qps) - std::log(p[i - 1].qps)));
		}
	}
	*why = fmt("highest ef %zu reaches only %.4f", p.back().ef, p.back().recall);
	return NAN;
}

std::string json_num(double v)
{
	return std::isfinite(v) ? fmt("%.6g", v) : "null";
}

std::vector<size_t> parse_list(const std::string &s)
{
	std::vector<size_t> out;
	std::stringstream ss(s);
	std::string item;
	while (std::getline(ss, item, ','))
		if (!item.empty()) {
			long v = std::strtol(item.c_str(), nullptr, 10);
			if (v <= 0)
				die("bad value in list: " + item);
			out.push_back((size_t)v);
		}
	return out;
}

// ---- ground truth ----------------------------------------------------------

int make_groundtruth(const std::string &dir, const std::string &out_dir,
                     const std::string &metric_arg, size_t max_queries, size_t gt_k,
                     size_t threads)
{
	Dataset ds;
	load_dataset(ds, dir, metric_arg, max_queries, false);
	gt_k = std::min(gt_k, ds.n);
	if (threads == 0)
		threads = std::max(1u, std::thread::hardware_concurrency());
	std::fprintf(stderr, "bench_ann: exact top-%zu of %zu queries over %zu x %zu-d (%s), %zu threads\n",
	             gt_k, ds.nq, ds.n, ds.dim, metric_name(ds.metric), threads);
	double t0 = now_s();
	std::unique_ptr<BrainImpl> flat = build_brain(ds, "flat", BRAIN_INDEX_FLAT, 0, 0, threads, Rows::F32);
	std::vector<int32_t> ids(ds.nq * gt_k);
	std::vector<float> dist(ds.nq * gt_k);
	parallel_for(ds.nq, threads, [&](size_t q) {
		std::vector<uint64_t> got(gt_k);
		std::vector<float> d(gt_k);
		size_t found = 0;
		if (brain_search(flat->b, ds.query.data() + q * ds.dim, gt_k, got.data(), d.data(), &found) ||
		    found != gt_k)
			die(std::string("ground truth: brain_search: ") + brain_errmsg());
		for (size_t i = 0; i < gt_k; i++) {
			ids[q * gt_k + i] = (int32_t)got[i];
			// squared L2 as is; angular and ip: the inner product
			dist[q * gt_k + i] = ds.metric == Metric::L2 ? d[i] : 1.0f - d[i];
		}
	});
	std::string out = strip_slash(out_dir.empty() ? ds.dir : out_dir);
	write_vecs(out + "/groundtruth.ivecs", ids.data(), ds.nq, gt_k);
	write_vecs(out + "/groundtruth_dist.fvecs", dist.data(), ds.nq, gt_k);
	std::fprintf(stderr, "bench_ann: wrote %s/groundtruth.ivecs and groundtruth_dist.fvecs (%.1f s)\n",
	             out.c_str(), now_s() - t0);
	return 0;
}

void usage()
{
	std::fprintf(
	    stderr,
	    "usage: bench_ann --data DIR [options]\n"
	    "  --data DIR         base.fvecs, query.fvecs, groundtruth.ivecs, meta.txt (metric=)\n"
	    "  --metric M         euclidean | angular | ip (default: meta.txt)\n"
	    "  --threads N        build threads, both impls (default 1; searches: always 1)\n"
	    "  --m M              HNSW links per node (default 16)\n"
	    "  --efc N            efConstruction (default 200)\n"
	    "  --ef LIST          ef values searched (default 10,16,24,32,48,64,96,128,192,256,384,512)\n"
	    "  --k K              must be 10 (recall@10)\n"
	    "  --queries N        use the first N queries only\n"
	    "  --passes P         timed passes per ef, fastest counts (default 3)\n"
	    "  --repeat R         the whole run (builds and searches) R times, the peers built\n"
	    "                     in turns (braincore first in odd repeats, hnswlib first in\n"
	    "                     even ones): each repeat's tables, then every repeat's ratios\n"
	    "                     (output files get -r<N>)\n"
	    "  --sq8              also braincore with BRAIN_PARAM_HNSW_SQ8 = 1 (braincore-sq8;\n"
	    "                     skipped when the library has no such parameter)\n"
	    "  --q8               also braincore with BRAIN_PARAM_HNSW_ELEMENT = 3 (braincore-q8:\n"
	    "                     an int8 per component and a scale per row, what a text\n"
	    "                     brain keeps; angular and ip sets only)\n"
	    "  --u8               also braincore with BRAIN_PARAM_HNSW_ELEMENT = 1 (braincore-u8)\n"
	    "                     and hnswlib over uint8 rows (hnswlib-u8: L2SpaceI, uint8\n"
	    "                     queries), when the metric is L2 and every base and query value\n"
	    "                     is an integer in 0..255 (else both are skipped, saying why)\n"
	    "  --index hnsw|flat  braincore's index (flat: exact, one point, for testing)\n"
	    "  --skip-hnswlib     braincore only\n"
	    "  --build-only       build and report build time and memory, no searches\n"
	    "  --json PATH        write the figures as JSON\n"
	    "  --csv PREFIX       write PREFIX<impl>.csv (recall,qps,ef) per impl (default with\n"
	    "                     --json: PATH without .json, then -<impl>.csv)\n"
	    "  --summary PATH     append one Markdown row per impl to PATH (header when new)\n"
	    "  --make-groundtruth write groundtruth.ivecs / groundtruth_dist.fvecs (exact top\n"
	    "                     --gt-k, default 100, by braincore's flat index) into --out DIR\n"
	    "                     (default --data); --threads 0 = one per core\n"
	    "  --crossover LIST   instead: for the first n base rows (each n in LIST), exact\n"
	    "                     scan against graph (ef 64) per query, for AUTO's threshold\n");
}

// AUTO's threshold (HNSW_EXACT_BELOW): over the first n base rows, one
// query at a time, the exact scan (EXACT_BELOW above n) against the graph
// (EXACT_BELOW 0, ef 64), in the same brain, passes alternating.
void crossover(const Dataset &ds, const std::vector<size_t> &sizes, size_t m, size_t efc,
               size_t passes)
{
	std::printf("\n## Exact scan against the graph (AUTO's HNSW_EXACT_BELOW)\n\n"
	            "| n | exact us/query | graph (ef 64) us/query | exact / graph | graph recall@10 "
	            "vs exact | graph build s (1 thread) |\n|---:|---:|---:|---:|---:|---:|\n");
	for (size_t n : sizes) {
		if (n > ds.n)
			break;
		brain_t *b = open_brain(ds, n, "crossover", BRAIN_INDEX_HNSW, m, efc, 1, Rows::F32);
		std::vector<uint64_t> ids = row_ids(n);
		double t0 = now_s();
		if (brain_add_batch(b, ids.data(), ds.base.data(), n))
			die(std::string("crossover: brain_add_batch: ") + brain_errmsg());
		double build_s = now_s() - t0;
		set_param(b, BRAIN_PARAM_HNSW_EF_SEARCH, 64, "crossover");
		const int64_t below[2] = {(int64_t)UINT32_MAX, 0}; // exact, graph
		double best[2] = {INFINITY, INFINITY};
		std::vector<uint64_t> got[2];
		got[0].resize(ds.nq * kK);
		got[1].resize(ds.nq * kK);
		for (size_t pass = 0; pass < passes; pass++)
			for (int mode = 0; mode < 2; mode++) {
				set_param(b, BRAIN_PARAM_HNSW_EXACT_BELOW, below[mode], "crossover");
				t0 = now_s();
				for (size_t q = 0; q < ds.nq; q++) {
					size_t found = 0;
					if (brain_search(b, ds.query.data() + q * ds.dim, kK, &got[mode][q * kK],
					                 nullptr, &found) ||
					    found != kK)
						die(std::string("crossover: brain_search: ") + brain_errmsg());
				}
				best[mode] = std::min(best[mode], now_s() - t0);
			}
		size_t agree = 0;
		for (size_t q = 0; q < ds.nq; q++)
			for (size_t i = 0; i < kK; i++)
				for (size_t j = 0; j < kK; j++)
					agree += got[1][q * kK + i] == got[0][q * kK + j];
		std::printf("| %zu | %.1f | %.1f | %.2f | %.4f | %.3f |\n", n, best[0] / ds.nq * 1e6,
		            best[1] / ds.nq * 1e6, best[0] / best[1],
		            (double)agree / (double)(ds.nq * kK), build_s);
		std::fflush(stdout);
		brain_close(b);
	}
}

} // namespace

int main(int argc, char **argv)
{
	std::string data, metric_arg, json_path, csv_prefix, out_dir, summary_path, index_arg = "hnsw";
	size_t threads = 1, m = 16, efc = 200, k = kK, max_queries = (size_t)-1, passes = 3,
	       gt_k = 100;
	size_t repeat = 1;
	std::vector<size_t> efs = {10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512};
	std::vector<size_t> crossover_sizes;
	bool sq8 = false, u8 = false, q8 = false, skip_hnswlib = false, build_only = false,
	     make_gt = false, threads_given = false;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i], v;
		std::string key = a.substr(0, a.find('='));
		auto value = [&]() {
			size_t eq = a.find('=');
			if (eq != std::string::npos)
				return a.substr(eq + 1);
			if (i + 1 >= argc)
				die("missing value for " + a);
			return std::string(argv[++i]);
		};
		auto number = [&]() {
			std::string s = value();
			char *end = nullptr;
			unsigned long long n = std::strtoull(s.c_str(), &end, 10);
			if (s.empty() || *end)
				die("not a number for " + key + ": " + s);
			return (size_t)n;
		};
		if (key == "--data")
			data = value();
		else if (key == "--metric")
			metric_arg = value();
		else if (key == "--threads")
			threads = number(), threads_given = true;
		else if (key == "--m")
			m = number();
		else if (key == "--efc")
			efc = number();
		else if (key == "--ef")
			efs = parse_list(value());
		else if (key == "--k")
			k = number();
		else if (key == "--queries")
			max_queries = number();
		else if (key == "--repeat")
			repeat = std::max<size_t>(1, number());
		else if (key == "--passes")
			passes = std::max<size_t>(1, number());
		else if (key == "--sq8")
			sq8 = true;
		else if (key == "--u8")
			u8 = true;
		else if (key == "--q8")
			q8 = true;
		else if (key == "--index")
			index_arg = value();
		else if (key == "--skip-hnswlib")
			skip_hnswlib = true;
		else if (key == "--build-only")
			build_only = true;
		else if (key == "--json")
			json_path = value();
		else if (key == "--csv")
			csv_prefix = value();
		else if (key == "--summary")
			summary_path = value();
		else if (key == "--make-groundtruth")
			make_gt = true;
		else if (key == "--out")
			out_dir = value();
		else if (key == "--gt-k")
			gt_k = number();
		else if (key == "--crossover")
			crossover_sizes = parse_list(value());
		else if (key == "--help" || key == "-h") {
			usage();
			return 0;
		} else {
			usage();
			return 2;
		}
	}
	if (data.empty()) {
		usage();
		return 2;
	}
	if (make_gt)
		return make_groundtruth(data, out_dir, metric_arg, max_queries, gt_k,
		                        threads_given ? threads : 0);
	if (k != kK)
		die("only --k 10 is measured (recall@10)");
	if (threads == 0)
		threads = std::max(1u, std::thread::hardware_concurrency());
	int index;
	if (index_arg == "hnsw")
		index = BRAIN_INDEX_HNSW;
	else if (index_arg == "flat")
		index = BRAIN_INDEX_FLAT;
	else
		die("--index must be hnsw or flat");
	if (efs.empty())
		die("--ef list is empty");
	std::sort(efs.begin(), efs.end());
	efs.erase(std::unique(efs.begin(), efs.end()), efs.end());
	if (csv_prefix.empty() && !json_path.empty()) {
		csv_prefix = json_path;
		if (csv_prefix.size() > 5 && csv_prefix.compare(csv_prefix.size() - 5, 5, ".json") == 0)
			csv_prefix.resize(csv_prefix.size() - 5);
		csv_prefix += "-";
	}

	bool sq8_missing = sq8 && index == BRAIN_INDEX_HNSW && !have_sq8();
	if (sq8_missing)
		sq8 = false;
	Dataset ds;
	load_dataset(ds, data, metric_arg, max_queries, true);
	std::printf("# bench_ann: %s\n\n", ds.name.c_str());
	std::printf("- data: %s: %zu base x %zu-d, %zu queries, %s (ground truth top-%zu)\n",
	            ds.dir.c_str(), ds.n, ds.dim, ds.nq, metric_name(ds.metric), ds.gt_k);
	std::printf("- build: M = %zu, efConstruction = %zu, %zu thread(s); braincore index %s%s\n", m,
	            efc, threads, index_arg.c_str(), sq8 ? " (and sq8)" : "");
	std::printf("- search: k = 10, one query at a time, one thread; QPS = queries / fastest of "
	            "%zu passes; recall@10 by ids\n",
	            passes);
	std::printf("- hnswlib: %s, %s\n", skip_hnswlib ? "skipped" : "0.6.2 (Debian), " BENCH_BUILD_NOTE,
	            ds.metric == Metric::L2 ? "L2Space" : "InnerProductSpace");
	if (sq8_missing)
		std::printf("- braincore-sq8: skipped, this library has no BRAIN_PARAM_HNSW_SQ8 (%d)\n",
		            kParamHnswSq8);
	if (u8) {
		std::string why;
		if (index != BRAIN_INDEX_HNSW)
			why = "--index flat";
		else if (!have_param(kParamHnswElement, "HNSW_ELEMENT"))
			why = fmt("this library has no BRAIN_PARAM_HNSW_ELEMENT (%d)", kParamHnswElement);
		else if (ds.metric != Metric::L2)
			why = "hnswlib's uint8 space (L2SpaceI) is L2 only";
		else if (!all_bytes(ds.base) || !all_bytes(ds.query))
			why = "not every value of the set is an integer in 0..255";
		if (!why.empty()) {
			std::printf("- braincore-u8, hnswlib-u8: skipped, %s\n", why.c_str());
			u8 = false;
		}
	}
	if (q8) {
		std::string why;
		if (index != BRAIN_INDEX_HNSW)
			why = "--index flat";
		else if (!have_param(kParamHnswElement, "HNSW_ELEMENT"))
			why = fmt("this library has no BRAIN_PARAM_HNSW_ELEMENT (%d)", kParamHnswElement);
		else if (ds.metric == Metric::L2)
			why = "quantised rows (HNSW_ELEMENT 3) are for the angular and ip metrics";
		if (!why.empty()) {
			std::printf("- braincore-q8: skipped, %s\n", why.c_str());
			q8 = false;
		}
	}
	std::string load;
	{
		std::ifstream la("/proc/loadavg");
		std::getline(la, load);
	}
	std::printf("- machine: %u cores, load average %s at the start\n",
	            std::thread::hardware_concurrency(), load.c_str());
	std::fflush(stdout);
	if (!crossover_sizes.empty()) {
		crossover(ds, crossover_sizes, m, efc, passes);
		return 0;
	}

	std::string rows_out; // every repeat's ratios, for the summary
	std::string json_base = json_path, csv_base = csv_prefix;
	// X.json -> X-r2.json; a CSV prefix X- (or X) -> X-r2-
	auto numbered = [&](const std::string &path, const char *ext, size_t rep) {
		if (repeat == 1 || path.empty())
			return path;
		size_t el = std::strlen(ext);
		bool has = path.size() >= el && path.compare(path.size() - el, el, ext) == 0;
		std::string stem = has ? path.substr(0, path.size() - el) : path;
		return stem + "-r" + std::to_string(rep + 1) + (has || ext[0] == '-' ? ext : "");
	};
	auto run_once = [&](size_t rep) {
		json_path = numbered(json_base, ".json", rep);
		csv_prefix = numbered(csv_base, "-", rep);
		if (repeat > 1) {
			std::ifstream la("/proc/loadavg");
			std::getline(la, load);
			std::printf("\n# Repeat %zu of %zu (%s built first; load average %s)\n", rep + 1,
			            repeat, rep % 2 == 1 && !skip_hnswlib ? "hnswlib" : "braincore",
			            load.c_str());
		}
		std::vector<std::unique_ptr<Impl>> impls;
		std::vector<std::unique_ptr<Impl>> peers;
		auto build_ours = [&] {
		impls.emplace_back(build_brain(ds, index == BRAIN_INDEX_FLAT ? "braincore-flat" : "braincore",
		                               index, m, efc, threads, Rows::F32));
		std::fprintf(stderr, "bench_ann: %s built in %.2f s\n", impls.back()->name.c_str(),
		             impls.back()->build_s);
		if (sq8 && index == BRAIN_INDEX_HNSW) {
			impls.emplace_back(
			    build_brain(ds, "braincore-sq8", index, m, efc, threads, Rows::SQ8));
			std::fprintf(stderr, "bench_ann: braincore-sq8 built in %.2f s\n", impls.back()->build_s);
		}
		if (u8) {
			impls.emplace_back(build_brain(ds, "braincore-u8", index, m, efc, threads, Rows::U8));
			std::fprintf(stderr, "bench_ann: braincore-u8 built in %.2f s\n", impls.back()->build_s);
		}
		if (q8) {
			impls.emplace_back(build_brain(ds, "braincore-q8", index, m, efc, threads, Rows::Q8));
			std::fprintf(stderr, "bench_ann: braincore-q8 built in %.2f s\n",
			             impls.back()->build_s);
		}
		};
		auto build_peers = [&] {
		if (!skip_hnswlib) {
			hnswlib::SpaceInterface<float> *space;
			if (ds.metric == Metric::L2)
				space = new hnswlib::L2Space(ds.dim);
			else
				space = new hnswlib::InnerProductSpace(ds.dim);
			impls.emplace_back(
			    build_hnswlib<float>(ds, "hnswlib", space, ds.base.data(), m, efc, threads));
			std::fprintf(stderr, "bench_ann: hnswlib built in %.2f s\n", impls.back()->build_s);
		}
		if (!skip_hnswlib && u8) {
			std::vector<uint8_t> rows = as_bytes(ds.base);
			auto im = build_hnswlib<int>(ds, "hnswlib-u8", new hnswlib::L2SpaceI(ds.dim),
			                             rows.data(), m, efc, threads);
			im->queries = as_bytes(ds.query);
			impls.emplace_back(std::move(im));
			std::fprintf(stderr, "bench_ann: hnswlib-u8 built in %.2f s\n", impls.back()->build_s);
		}
		};
		// in turns: a repeat that builds hnswlib first leaves braincore the
		// warmer (or fuller) machine, the next the other way round
		if (rep % 2 == 1 && !skip_hnswlib) {
			build_peers();
			for (auto &im : impls)
				peers.push_back(std::move(im));
			impls.clear();
			build_ours();
			for (auto &im : peers)
				impls.push_back(std::move(im));
		} else {
			build_ours();
			build_peers();
		}
		// braincore's impls are measured against hnswlib; braincore-u8 also
		// against hnswlib-u8
		auto named = [&](const char *name) -> const Impl * {
			for (auto &im : impls)
				if (im->name == name)
					return im.get();
			return nullptr;
		};
		auto is_hnswlib = [](const Impl &im) { return im.name.compare(0, 7, "hnswlib") == 0; };
		const Impl *peer = named("hnswlib");
		std::vector<std::pair<const Impl *, const Impl *>> pairs;
		for (auto &im : impls)
			if (peer && !is_hnswlib(*im))
				pairs.emplace_back(im.get(), peer);
		if (named("braincore-u8") && named("hnswlib-u8"))
			pairs.emplace_back(named("braincore-u8"), named("hnswlib-u8"));

		if (!build_only) {
			// point i of a tunable impl is efs[i]; an exact impl has one point
			for (auto &im : impls)
				for (size_t ei = 0; ei < (im->tunable ? efs.size() : 1); ei++) {
					im->points.push_back(Point());
					im->points.back().ef = im->tunable ? efs[ei] : 0;
				}
			// Passes outermost: the passes of one point are spread over the
			// whole run, so a burst of other load spoils one pass of many
			// points (the fastest pass counts), not every pass of one. Within
			// an ef the impls take turns, the first changing every time.
			for (size_t p = 0; p < passes; p++) {
				for (size_t ei = 0; ei < efs.size(); ei++) {
					std::vector<Impl *> now;
					for (auto &im : impls)
						if (ei < im->points.size())
							now.push_back(im.get());
					for (size_t j = 0; j < now.size(); j++) {
						Impl *im = now[(j + p + ei) % now.size()];
						Point &pt = im->points[ei];
						im->set_ef(efs[ei]);
						pt.pass_s.push_back(run_pass(*im, ds, p == 0 ? &pt.recall : nullptr));
					}
				}
				std::fprintf(stderr, "bench_ann: pass %zu of %zu done\n", p + 1, passes);
			}
			for (auto &im : impls)
				for (Point &pt : im->points) {
					pt.qps = (double)ds.nq / *std::min_element(pt.pass_s.begin(), pt.pass_s.end());
					std::fprintf(stderr, "bench_ann: %-14s ef %4zu  recall %.4f  %9.0f QPS\n",
					             im->name.c_str(), pt.ef, pt.recall, pt.qps);
				}
		}

		// ---- report ----
		std::printf("\n## Build\n\n| impl | threads | build s | CPU s | bytes/vector (RSS) | "
		            "bytes/vector (index) | peak bytes/vector during the build |\n"
		            "|---|---:|---:|---:|---:|---:|---:|\n");
		for (auto &im : impls)
			std::printf("| %s | %zu | %.2f | %.2f | %.0f | %.0f | %.0f |\n", im->name.c_str(),
			            threads, im->build_s, im->build_cpu_s, im->rss_bpv, im->index_bpv,
			            im->peak_bpv);
		std::printf("\npeak: the most resident memory grew above where it was before the "
		            "index was made (VmHWM, reset through /proc/self/clear_refs), per vector; "
		            "nan where the kernel cannot reset it.\n");
		std::printf("\nCPU s: CPU time of the process during the build; below threads x build s, "
		            "other processes took the cores.\n");
		// HNSW_SQ8 costs a byte per dimension and vector: without it the
		// variant measures nothing new.
		if (impls.size() > 1 && impls[1]->name == "braincore-sq8" &&
		    impls[1]->index_bpv < impls[0]->index_bpv + 0.5 * (double)ds.dim)
			std::printf("\nWARNING: braincore-sq8's index holds %.0f bytes/vector, braincore's %.0f: "
			            "HNSW_SQ8 = 1 seems to have no effect\n",
			            impls[1]->index_bpv, impls[0]->index_bpv);
		if (!build_only) {
			std::printf("\n## Recall and QPS\n\n| impl | ef | recall@10 | QPS |\n|---|---:|---:|---:|\n");
			for (auto &im : impls)
				for (auto &pt : im->points)
					std::printf("| %s | %s | %.4f | %.0f |\n", im->name.c_str(),
					            pt.ef ? std::to_string(pt.ef).c_str() : "exact", pt.recall, pt.qps);
			// Same ef, much worse recall: something is wrong in the graph.
			for (auto &pr : pairs) {
				const Impl *im = pr.first, *p = pr.second;
				if (im->tunable)
					for (size_t i = 0; i < im->points.size() && i < p->points.size(); i++)
						if (p->points[i].recall - im->points[i].recall > 0.05)
							std::printf("\nWARNING: %s recall@10 %.4f at ef %zu, %s %.4f\n",
							            im->name.c_str(), im->points[i].recall, im->points[i].ef,
							            p->name.c_str(), p->points[i].recall);
			}
		}
		const double targets[] = {0.90, 0.95, 0.99};
		if (!pairs.empty()) {
			std::printf("\n## Ratios (> 1: braincore better)\n\n| braincore | vs | QPS ratio @0.90 | "
			            "QPS ratio @0.95 | QPS ratio @0.99 | build time ratio | bytes/vector ratio "
			            "(RSS) | (index) | (peak during the build) |\n"
			            "|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
			for (auto &pr : pairs) {
				const Impl *im = pr.first, *p = pr.second;
				std::printf("| %s | %s |", im->name.c_str(), p->name.c_str());
				rows_out += fmt("| %zu | %s | %s |", rep + 1, im->name.c_str(), p->name.c_str());
				for (double t : targets) {
					std::string w1, w2;
					double a = build_only ? NAN : qps_at(*im, t, &w1);
					double b = build_only ? NAN : qps_at(*p, t, &w2);
					if (std::isfinite(a) && std::isfinite(b))
						std::printf(" %.2f (%.0f / %.0f) |", a / b, a, b);
					else
						std::printf(" n/a |");
					rows_out += std::isfinite(a) && std::isfinite(b) ? fmt(" %.2f |", a / b)
					                                                 : std::string(" n/a |");
				}
				rows_out += fmt(" %.2f | %.2f |\n", p->build_s / im->build_s,
				                im->peak_bpv > 0 ? p->peak_bpv / im->peak_bpv : NAN);
				std::printf(" %.2f | %.2f | %.2f | %.2f |\n", p->build_s / im->build_s,
				            im->rss_bpv > 0 ? p->rss_bpv / im->rss_bpv : NAN,
				            p->index_bpv / im->index_bpv,
				            im->peak_bpv > 0 ? p->peak_bpv / im->peak_bpv : NAN);
			}
			std::printf("\nQPS ratio = braincore QPS / hnswlib QPS at that recall@10 (each "
			            "interpolated linearly in log QPS between its two ef points around it, or the "
			            "lowest ef's QPS when that already reaches it); build time ratio = hnswlib s / "
			            "braincore s; bytes ratio = hnswlib / braincore.\n");
		}
		if (!build_only)
			for (auto &im : impls)
				for (double t : targets) {
					std::string why;
					if (!std::isfinite(qps_at(*im, t, &why)))
						std::printf("- %s @%.2f: n/a, %s\n", im->name.c_str(), t, why.c_str());
					else if (!why.empty())
						std::printf("- %s @%.2f: %s\n", im->name.c_str(), t, why.c_str());
				}
		std::fflush(stdout);

		if (!csv_prefix.empty() && !build_only)
			for (auto &im : impls) {
				std::string path = csv_prefix + im->name + ".csv";
				std::ofstream f(path, std::ios::trunc);
				f << "# recall@10,qps,ef\n";
				for (auto &pt : im->points)
					f << fmt("%.5f,%.2f,%zu\n", pt.recall, pt.qps, pt.ef);
				if (!f)
					die("cannot write " + path);
			}
		if (!summary_path.empty()) {
			bool fresh = !file_exists(summary_path);
			std::ofstream f(summary_path, std::ios::app);
			if (fresh)
				f << "| data | impl | build threads | build s | build ratio | bytes/vector RSS | "
				     "bytes/vector index | recall@10 at ef 64 | QPS at recall@10 0.95 | QPS ratio "
				     "|\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
			for (auto &im : impls) {
				std::string why;
				double q = build_only ? NAN : qps_at(*im, 0.95, &why);
				double qp = build_only || !peer ? NAN : qps_at(*peer, 0.95, &why);
				std::string r64 = "n/a";
				for (auto &pt : im->points)
					if (pt.ef == 64 || (!im->tunable && pt.ef == 0))
						r64 = fmt("%.4f", pt.recall);
				bool is_peer = is_hnswlib(*im);
				f << "| " << ds.name << " | " << im->name << " | " << threads << " | "
				  << fmt("%.2f", im->build_s) << " | "
				  << (peer && !is_peer ? fmt("%.2f", peer->build_s / im->build_s) : "") << " | "
				  << fmt("%.0f", im->rss_bpv) << " | " << fmt("%.0f", im->index_bpv) << " | " << r64
				  << " | " << (std::isfinite(q) ? fmt("%.0f", q) : "n/a") << " | "
				  << (is_peer || !peer ? ""
				      : std::isfinite(q) && std::isfinite(qp) ? fmt("%.2f", q / qp)
				                                              : "n/a")
				  << " |\n";
			}
			if (!f)
				die("cannot write " + summary_path);
		}
		if (!json_path.empty()) {
			std::ofstream j(json_path, std::ios::trunc);
			j << "{\n  \"program\": \"bench_ann\",\n  \"dataset\": \"" << json_escape(ds.name)
			  << "\",\n  \"dir\": \"" << json_escape(ds.dir) << "\",\n  \"metric\": \""
			  << metric_name(ds.metric) << "\",\n  \"n\": " << ds.n << ", \"dim\": " << ds.dim
			  << ", \"queries\": " << ds.nq << ", \"k\": " << kK << ",\n  \"m\": " << m
			  << ", \"ef_construction\": " << efc << ", \"threads\": " << threads
			  << ", \"passes\": " << passes << ",\n  \"loadavg_start\": \"" << json_escape(load)
			  << "\",\n  \"hnswlib_build\": \"" BENCH_BUILD_NOTE "\",\n"
			  << "  \"impls\": [";
			for (size_t i = 0; i < impls.size(); i++) {
				const Impl &im = *impls[i];
				j << (i ? ",\n" : "\n") << "    {\"name\": \"" << json_escape(im.name)
				  << "\", \"build_s\": " << json_num(im.build_s)
				  << ", \"build_cpu_s\": " << json_num(im.build_cpu_s)
				  << ", \"bytes_per_vector_rss\": " << json_num(im.rss_bpv)
				  << ", \"bytes_per_vector_index\": " << json_num(im.index_bpv)
				  << ", \"peak_bytes_per_vector_build\": " << json_num(im.peak_bpv);
				for (double t : targets) {
					std::string why;
					j << ", \"qps_at_" << fmt("%.2f", t) << "\": " << json_num(qps_at(im, t, &why));
				}
				j << ", \"points\": [";
				for (size_t p = 0; p < im.points.size(); p++)
					j << (p ? ", " : "") << "{\"ef\": " << im.points[p].ef
					  << ", \"recall\": " << json_num(im.points[p].recall)
					  << ", \"qps\": " << json_num(im.points[p].qps) << "}";
				j << "]}";
			}
			j << "\n  ]\n}\n";
			if (!j)
				die("cannot write " + json_path);
		}
	};
	for (size_t rep = 0; rep < repeat; rep++)
		run_once(rep);
	if (repeat > 1 && !rows_out.empty()) {
		std::printf("\n# Every repeat\n\n| repeat | braincore | vs | QPS ratio @0.90 | @0.95 | "
		            "@0.99 | build time ratio | peak build memory ratio |\n"
		            "|---:|---|---|---:|---:|---:|---:|---:|\n%s",
		            rows_out.c_str());
		std::printf("\nratios > 1: braincore better (hnswlib / braincore for time and memory)\n");
	}
	return 0;
}
