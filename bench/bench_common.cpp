// bench/bench_common.cpp - see bench_common.h.
#include "bench_common.h"
#include "bench_sentences.h"

#include <malloc.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <unordered_set>

#ifndef BENCH_SHARED_DATA_DIR
#define BENCH_SHARED_DATA_DIR "../shared/data"
#endif

namespace bench {

size_t rss_bytes()
{
	FILE *f = std::fopen("/proc/self/statm", "r");
	if (!f)
		return 0;
	unsigned long size = 0, resident = 0;
	int got = std::fscanf(f, "%lu %lu", &size, &resident);
	std::fclose(f);
	if (got != 2)
		return 0;
	return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

size_t peak_rss_bytes()
{
	FILE *f = std::fopen("/proc/self/status", "r");
	if (!f)
		return 0;
	char line[256];
	unsigned long kb = 0;
	bool got = false;
	while (!got && std::fgets(line, sizeof line, f))
		got = std::sscanf(line, "VmHWM: %lu kB", &kb) == 1;
	std::fclose(f);
	return got ? (size_t)kb * 1024 : 0;
}

bool reset_peak_rss()
{
	FILE *f = std::fopen("/proc/self/clear_refs", "w");
	if (!f)
		return false;
	bool ok = std::fputs("5", f) >= 0;
	return std::fclose(f) == 0 && ok;
}

void trim_heap()
{
	malloc_trim(0);
}

std::vector<float> random_vectors(size_t n, size_t dim, uint64_t seed)
{
	std::vector<float> v(n * dim);
	Rng rng(seed);
	for (float &x : v)
		x = rng.uniform();
	return v;
}

void normalize_rows(float *rows, size_t n, size_t dim)
{
	for (size_t i = 0; i < n; i++) {
		float *r = rows + i * dim;
		double s = 0;
		for (size_t j = 0; j < dim; j++)
			s += (double)r[j] * r[j];
		float inv = s > 0 ? (float)(1.0 / std::sqrt(s)) : 0.0f;
		for (size_t j = 0; j < dim; j++)
			r[j] *= inv;
	}
}

std::string shared_data_dir()
{
	const char *env = std::getenv("BRAINCORE_SHARED_DATA");
	return env && *env ? env : BENCH_SHARED_DATA_DIR;
}

double now_s()
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

std::string json_escape(const std::string &s)
{
	std::string o;
	for (char ch : s) {
		if (ch == '"' || ch == '\\')
			o += '\\', o += ch;
		else if ((unsigned char)ch < 0x20)
			o += ' ';
		else
			o += ch;
	}
	return o;
}

std::string format_ns(double ns)
{
	char buf[64];
	if (ns < 1e3)
		std::snprintf(buf, sizeof buf, "%.2f ns", ns);
	else if (ns < 1e6)
		std::snprintf(buf, sizeof buf, "%.2f us", ns / 1e3);
	else if (ns < 1e9)
		std::snprintf(buf, sizeof buf, "%.2f ms", ns / 1e6);
	else
		std::snprintf(buf, sizeof buf, "%.2f s", ns / 1e9);
	return buf;
}

namespace {

std::string format_rate(double per_s)
{
	char buf[64];
	if (per_s >= 1e9)
		std::snprintf(buf, sizeof buf, "%.2fG/s", per_s / 1e9);
	else if (per_s >= 1e6)
		std::snprintf(buf, sizeof buf, "%.2fM/s", per_s / 1e6);
	else if (per_s >= 1e3)
		std::snprintf(buf, sizeof buf, "%.2fk/s", per_s / 1e3);
	else
		std::snprintf(buf, sizeof buf, "%.1f/s", per_s);
	return buf;
}

struct Result {
	std::string group, impl, label;
	int64_t family = 0;        // registration order
	double ns = 0;             // CPU time per iteration (median of repetitions)
	double items_ps = -1;      // items_per_second, if the benchmark set it
	double bytes_ps = -1;      // bytes_per_second
	double bytes_per_vec = -1; // first counter named "B/..." (memory per vector or item)
	std::string per;           // what it is per: "vec", "memory"
	bool error = false;
	std::string message;
};

double to_ns(double t, benchmark::TimeUnit unit)
{
	switch (unit) {
	case benchmark::kSecond:
		return t * 1e9;
	case benchmark::kMillisecond:
		return t * 1e6;
	case benchmark::kMicrosecond:
		return t * 1e3;
	default:
		return t;
	}
}

// The console reporter, plus a record of every benchmark's median run.
class RatioReporter : public benchmark::ConsoleReporter {
public:
	std::vector<Result> results;

	explicit RatioReporter(OutputOptions o) : ConsoleReporter(o) {}

	void ReportRuns(const std::vector<Run> &runs) override
	{
		ConsoleReporter::ReportRuns(runs);
		for (const Run &r : runs) {
			bool agg = r.run_type == Run::RT_Aggregate;
			if (!r.error_occurred) {
				// One value per benchmark: the median when repeated.
				if (agg && r.aggregate_name != "median")
					continue;
				if (!agg && r.repetitions > 1)
					continue;
			}
			Result x;
			std::string name = r.run_name.function_name;
			size_t slash = name.rfind('/');
			x.group = slash == std::string::npos ? name : name.substr(0, slash);
			x.impl = slash == std::string::npos ? "" : name.substr(slash + 1);
			x.label = r.report_label;
			x.family = r.family_index;
			x.error = r.error_occurred;
			x.message = r.error_message;
			// CPU time: the benchmarks are single-threaded, and on a shared
			// machine wall time also counts the time other processes had the core.
			x.ns = to_ns(r.GetAdjustedCPUTime(), r.time_unit);
			auto get = [&](const char *key, double &out) {
				auto it = r.counters.find(key);
				if (it != r.counters.end())
					out = it->second.value;
			};
			get("items_per_second", x.items_ps);
			get("bytes_per_second", x.bytes_ps);
			for (const auto &kv : r.counters)
				if (kv.first.rfind("B/", 0) == 0) {
					x.bytes_per_vec = kv.second.value;
					x.per = kv.first.substr(2);
					break;
				}
			bool seen = false;
			for (Result &old : results)
				if (old.group == x.group && old.impl == x.impl) {
					if (x.error || !old.error)
						old = x;
					seen = true;
				}
			if (!seen)
				results.push_back(x);
		}
	}
};

std::string throughput(const Result &r)
{
	std::string s;
	if (r.items_ps >= 0)
		s = format_rate(r.items_ps);
	if (r.bytes_ps >= 0) {
		char buf[64];
		if (r.bytes_ps >= 1e9)
			std::snprintf(buf, sizeof buf, "%.2f GB/s", r.bytes_ps / 1e9);
		else
			std::snprintf(buf, sizeof buf, "%.2f MB/s", r.bytes_ps / 1e6);
		s += s.empty() ? buf : std::string(", ") + buf;
	}
	return s.empty() ? "-" : s;
}

std::string mem(const Result &r)
{
	if (r.bytes_per_vec < 0)
		return "";
	char buf[32];
	std::snprintf(buf, sizeof buf, " (%.0f B/", r.bytes_per_vec);
	return buf + r.per + ")";
}

bool is_braincore(const Result &r)
{
	return r.impl.rfind("braincore", 0) == 0;
}

void print_ratios(std::vector<Result> results, std::ostream &out)
{
	// Registration order, whatever order the (interleaved) runs came in.
	std::stable_sort(results.begin(), results.end(),
	                 [](const Result &a, const Result &b) { return a.family < b.family; });
	std::vector<std::string> groups;
	for (const Result &r : results)
		if (std::find(groups.begin(), groups.end(), r.group) == groups.end())
			groups.push_back(r.group);
	bool any_mem = false;
	for (const Result &r : results)
		any_mem |= r.bytes_per_vec >= 0;

	out << "\nRatios, same run (CPU time per operation, median of the repetitions; ratio = "
	       "braincore items/s / peer items/s where both count items, else peer time / "
	       "braincore time; > 1 means braincore is faster";
	if (any_mem)
		out << "; mem = peer resident bytes per item / braincore's";
	out << "):\n\n";
	out << "| group | braincore | time | throughput | peer | time | throughput | ratio |"
	    << (any_mem ? " mem |" : "") << "\n";
	out << "|---|---|---|---|---|---|---|---|" << (any_mem ? "---|" : "") << "\n";
	for (const std::string &g : groups) {
		std::vector<const Result *> ours, peers;
		for (const Result &r : results) {
			if (r.group != g || r.error)
				continue;
			(is_braincore(r) ? ours : peers).push_back(&r);
		}
		auto cell = [](const Result *r) {
			std::string label;
			if (!is_braincore(*r) && !r->label.empty())
				label = " (" + r->label + ")";
			return r->impl + label + " | " + format_ns(r->ns) + " | " + throughput(*r) + mem(*r);
		};
		for (const Result *a : ours) {
			if (peers.empty()) {
				out << "| " << g << " | " << cell(a) << " | - | - | - | - |"
				    << (any_mem ? " - |" : "") << "\n";
				continue;
			}
			for (const Result *p : peers) {
				char ratio[32], mratio[32] = "-";
				// items per second where both count items (a call of many
				// queries against calls of one), else time per call
				double r = a->items_ps > 0 && p->items_ps > 0 ? a->items_ps / p->items_ps
				                                              : p->ns / a->ns;
				std::snprintf(ratio, sizeof ratio, "%.2f", r);
				if (a->bytes_per_vec > 0 && p->bytes_per_vec > 0)
					std::snprintf(mratio, sizeof mratio, "%.2f",
					              p->bytes_per_vec / a->bytes_per_vec);
				out << "| " << g << " | " << cell(a) << " | " << cell(p) << " | " << ratio
				    << " |" << (any_mem ? std::string(" ") + mratio + " |" : "") << "\n";
			}
		}
		if (ours.empty())
			for (const Result *p : peers)
				out << "| " << g << " | - | - | - | " << cell(p) << " | - |"
				    << (any_mem ? " - |" : "") << "\n";
	}
	bool errors = false;
	for (const Result &r : results)
		if (r.error) {
			if (!errors)
				out << "\nFAILED (not compared):\n";
			errors = true;
			out << "  " << r.group << "/" << r.impl << ": " << r.message << "\n";
		}
	out << std::flush;
}

} // namespace

int run(int argc, char **argv, const std::vector<std::string> &defaults,
        const std::vector<std::pair<std::string, std::string>> &notes)
{
	// Fixed thresholds: glibc otherwise moves the mmap threshold up as
	// large blocks are freed, and RSS deltas would depend on what ran
	// before.
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	mallopt(M_TRIM_THRESHOLD, 128 * 1024);

	std::vector<std::string> args;
	args.push_back(argv[0]);
	for (const std::string &d : defaults)
		args.push_back(d);
	for (int i = 1; i < argc; i++)
		args.push_back(argv[i]);
	std::vector<char *> cargs;
	for (std::string &a : args)
		cargs.push_back(&a[0]);
	int n = (int)cargs.size();
	cargs.push_back(nullptr);
	benchmark::Initialize(&n, cargs.data());
	if (benchmark::ReportUnrecognizedArguments(n, cargs.data()))
		return 2;

	// The reporter prints these with the machine's context.
	for (const auto &kv : notes)
		benchmark::AddCustomContext(kv.first, kv.second);
	std::cout << "defaults:";
	for (const std::string &d : defaults)
		std::cout << " " << d;
	std::cout << " (the command line overrides them)\n" << std::flush;

	// Colour only on a terminal (logs want plain text); counters as
	// name=value, since they differ from one benchmark to the next.
	RatioReporter reporter(isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_Color
	                                             : benchmark::ConsoleReporter::OO_None);
	benchmark::RunSpecifiedBenchmarks(&reporter);
	print_ratios(reporter.results, std::cout);
	benchmark::Shutdown();
	for (const Result &r : reporter.results)
		if (r.error)
			return 1;
	return 0;
}

// ---- sentences ------------------------------------------------------------


static std::vector<std::string> split_tabs(const std::string &line)
{
	std::vector<std::string> out;
	size_t start = 0;
	for (;;) {
		size_t tab = line.find('\t', start);
		out.push_back(line.substr(start, tab == std::string::npos ? std::string::npos
		                                                          : tab - start));
		if (tab == std::string::npos)
			return out;
		start = tab + 1;
	}
}

// Deterministic English-like sentences, when the STS data is absent.
static std::vector<std::string> synthetic(size_t n)
{
	std::vector<std::string> out;
	std::unordered_set<std::string> seen;
	uint64_t state = 42;
	char buf[256];
	while (out.size() < n) {
		std::string s(buf, bench_sentence(&state, buf, sizeof buf));
		if (seen.insert(s).second)
			out.push_back(s);
	}
	return out;
}

const Corpus &corpus()
{
	static Corpus c = [] {
		Corpus r;
		std::string path = shared_data_dir() + "/stsb/sts-train.csv";
		std::ifstream in(path);
		std::unordered_set<std::string> seen;
		std::string line;
		while (in && std::getline(in, line)) {
			std::vector<std::string> f = split_tabs(line);
			for (size_t col : {5, 6})
				if (f.size() > col && !f[col].empty() && seen.insert(f[col]).second)
					r.sentences.push_back(f[col]);
		}
		if (r.sentences.size() >= 1000) {
			r.source = path + " (columns 6 and 7, " + std::to_string(r.sentences.size()) +
			           " distinct sentences)";
		} else {
			r.sentences = synthetic(12000);
			r.source = "synthetic generator (" + path + " not found), 12000 sentences";
		}
		return r;
	}();
	return c;
}

// The i-th memory text of a brain: distinct sentences first, then pairs.
std::string memory_text(size_t i)
{
	const std::vector<std::string> &s = corpus().sentences;
	size_t u = s.size();
	if (i < u)
		return s[i];
	size_t a = i % u, round = i / u;
	return s[a] + " " + s[(a + round * 1237) % u];
}


} // namespace bench
