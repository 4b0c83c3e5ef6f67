// bench/bench_common.h - what every braincore benchmark shares: resident
// memory, deterministic data, and a reporter that prints, after the usual
// Google Benchmark table, the ratio of each peer to braincore measured in
// the same run.
//
// Naming: every benchmark is called "<group>/<impl>". Within a group,
// impls whose name starts with "braincore" are compared with every other
// impl (the peers): ratio = peer time / braincore time, so a ratio above 1
// means braincore is faster. Machines are noisy; ratios are what we quote.
#ifndef BRAINCORE_BENCH_COMMON_H
#define BRAINCORE_BENCH_COMMON_H

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bench_sentences.h"

namespace bench {

// Resident set size of this process in bytes (/proc/self/statm).
size_t rss_bytes();
// Peak resident bytes since the last reset_peak_rss() (VmHWM of
// /proc/self/status); 0 where unknown.
size_t peak_rss_bytes();
// Start a new peak at the current resident size (writes 5 to
// /proc/self/clear_refs, Linux 4.0 on); false if it could not.
bool reset_peak_rss();

// Give freed heap memory back to the system, so that the RSS growth of
// what comes next is measured from a clean floor.
void trim_heap();

// bench_splitmix64 as an object.
struct Rng {
	uint64_t s;
	explicit Rng(uint64_t seed) : s(seed) {}
	uint64_t next() { return bench_splitmix64(&s); }
	// Uniform in [-1, 1).
	float uniform() { return (float)(next() >> 40) * (2.0f / 16777216.0f) - 1.0f; }
	size_t below(size_t n) { return (size_t)(next() % n); }
};

// n * dim floats, uniform in [-1, 1), from `seed`.
std::vector<float> random_vectors(size_t n, size_t dim, uint64_t seed);

// Scale every row of a row-major n x dim matrix to unit length.
void normalize_rows(float *rows, size_t n, size_t dim);

// Directory of the shared evaluation data: $BRAINCORE_SHARED_DATA, else the
// path configured at build time (../shared/data next to the source tree).
std::string shared_data_dir();

// Sentences to remember: the STS Benchmark training set (sts-train.csv,
// columns 6 and 7, distinct) when the shared data is present, else a
// deterministic synthetic generator; `source` says which.
struct Corpus {
	std::vector<std::string> sentences;
	std::string source;
};
const Corpus &corpus();

// The i-th memory text of a brain: the distinct sentences first, then
// pairs of them joined.
std::string memory_text(size_t i);

// Run the benchmarks registered so far, then print the ratio table.
// `defaults` are Google Benchmark flags put before the user's own, so the
// command line overrides them. `notes` are printed first and added to the
// JSON context (what was measured and how).
int run(int argc, char **argv, const std::vector<std::string> &defaults,
        const std::vector<std::pair<std::string, std::string>> &notes);

// How the benchmark (and hnswlib in it) was compiled.
#ifdef BENCH_MARCH_NATIVE
#define BENCH_BUILD_NOTE "compiled with -march=native"
#else
#define BENCH_BUILD_NOTE "compiled WITHOUT -march=native (BRAINCORE_BENCH_NATIVE=OFF)"
#endif

// Format a duration given in nanoseconds with a sensible unit.
std::string format_ns(double ns);

// Seconds on the monotonic clock (for wall-time differences).
double now_s();

// s with '"' and '\\' escaped and control characters blanked, for a JSON
// string the plain benchmarks write by hand.
std::string json_escape(const std::string &s);

} // namespace bench

#endif // BRAINCORE_BENCH_COMMON_H
