// bench/bench_kernels.cpp - distance kernels: braincore's L2-squared and
// inner-product kernels at every SIMD level this CPU supports, against
// hnswlib's own distance functions (hnswlib::L2Space and
// hnswlib::InnerProductSpace get_dist_func()).
//
// hnswlib picks SSE/AVX/AVX-512 at compile time from the macros the
// compiler defines, so this file is compiled with -march=native (see
// CMakeLists.txt): hnswlib gets the best this machine has. braincore's
// kernels come from the library as built (dispatch at run time).
//
// Two shapes:
//   pair/<metric>/d:<dim>      one distance between two vectors hot in L1,
//                              through the function pointer, as a graph
//                              index calls it;
//   batch256/<metric>/d:<dim>  a query against 256 consecutive rows (64-byte
//                              aligned, as the flat index stores them): the
//                              braincore batch kernel vs hnswlib's function
//                              called row by row, as BruteforceSearch does.
//   code/<l2|ip>/d:<dim>       one distance between two rows of 8-bit codes
//                              (SQ8 codes, uint8 rows under L2, the int8 codes
//                              of Q8 rows under IP), at every level; bytes:
//                              2 * dim. (An AVX-512 VNNI int8 dot, vpdpbusd,
//                              measured no faster at 100-768 bytes: the
//                              reductions, not the products, bound it.)
// Bytes are those of both vectors of every distance (2 * dim * 4).
#include "bench_common.h"

extern "C" {
#include "index/distance.h"
}

#include <hnswlib/hnswlib.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

const size_t kDims[] = {100, 128, 384, 768, 784};
const size_t kPairs = 4;     // distinct vector pairs cycled through (L1 resident)
const size_t kBatchRows = 256; // rows per batch call (the flat index's run length)

enum Metric { L2, IP };
const char *metric_name(Metric m)
{
	return m == L2 ? "l2" : "ip";
}
int brain_metric(Metric m)
{
	return m == L2 ? BRAIN_METRIC_L2 : BRAIN_METRIC_IP;
}

// 64-byte aligned float buffer.
struct Aligned {
	float *p = nullptr;
	explicit Aligned(size_t n)
	{
		if (posix_memalign(reinterpret_cast<void **>(&p), 64, n * sizeof(float) + 64))
			std::abort();
	}
	~Aligned() { std::free(p); }
	Aligned(const Aligned &) = delete;
	Aligned &operator=(const Aligned &) = delete;
};

size_t stride_of(size_t dim)
{
	return (dim + 15) & ~size_t(15);
}

void fill(float *v, size_t n, uint64_t seed)
{
	bench::Rng rng(seed);
	for (size_t i = 0; i < n; i++)
		v[i] = rng.uniform();
}

// The name of the function hnswlib chose, for the label.
std::string hnsw_kernel_name(hnswlib::DISTFUNC<float> f)
{
	struct Known {
		hnswlib::DISTFUNC<float> f;
		const char *name;
	};
	const Known known[] = {
		{hnswlib::L2Sqr, "L2Sqr (scalar)"},
		{hnswlib::InnerProductDistance, "InnerProductDistance (scalar)"},
#if defined(USE_SSE)
		{hnswlib::L2SqrSIMD16ExtSSE, "L2SqrSIMD16ExtSSE"},
		{hnswlib::L2SqrSIMD4Ext, "L2SqrSIMD4Ext (SSE)"},
		{hnswlib::L2SqrSIMD16ExtResiduals, "L2SqrSIMD16ExtResiduals"},
		{hnswlib::L2SqrSIMD4ExtResiduals, "L2SqrSIMD4ExtResiduals (SSE)"},
		{hnswlib::InnerProductDistanceSIMD16ExtSSE, "InnerProductDistanceSIMD16ExtSSE"},
		{hnswlib::InnerProductDistanceSIMD4ExtSSE, "InnerProductDistanceSIMD4ExtSSE"},
		{hnswlib::InnerProductDistanceSIMD16ExtResiduals, "InnerProductDistanceSIMD16ExtResiduals"},
		{hnswlib::InnerProductDistanceSIMD4ExtResiduals, "InnerProductDistanceSIMD4ExtResiduals"},
#endif
#if defined(USE_AVX)
		{hnswlib::L2SqrSIMD16ExtAVX, "L2SqrSIMD16ExtAVX"},
		{hnswlib::InnerProductDistanceSIMD16ExtAVX, "InnerProductDistanceSIMD16ExtAVX"},
		{hnswlib::InnerProductDistanceSIMD4ExtAVX, "InnerProductDistanceSIMD4ExtAVX"},
#endif
#if defined(USE_AVX512)
		{hnswlib::L2SqrSIMD16ExtAVX512, "L2SqrSIMD16ExtAVX512"},
		{hnswlib::InnerProductDistanceSIMD16ExtAVX512, "InnerProductDistanceSIMD16ExtAVX512"},
#endif
	};
	for (const Known &k : known)
		if (k.f == f)
			return k.name;
	return "?";
}

std::string hnsw_build_note()
{
	std::string s = BENCH_BUILD_NOTE ":";
#if defined(USE_AVX512)
	s += " USE_AVX512";
#endif
#if defined(USE_AVX)
	s += " USE_AVX";
#endif
#if defined(USE_SSE)
	s += " USE_SSE";
#endif
#if !defined(USE_SSE)
	s += " no SIMD";
#endif
	s += "; L2 in SIMD16Ext for dim % 16 == 0, SIMD4Ext (SSE) for dim % 4 == 0, "
	     "else *Residuals; IP likewise with AVX for SIMD4Ext";
	return s;
}

std::unique_ptr<hnswlib::SpaceInterface<float>> make_space(Metric m, size_t dim)
{
	if (m == L2)
		return std::unique_ptr<hnswlib::SpaceInterface<float>>(new hnswlib::L2Space(dim));
	return std::unique_ptr<hnswlib::SpaceInterface<float>>(new hnswlib::InnerProductSpace(dim));
}

bool close_enough(float a, float b)
{
	return std::fabs(a - b) <= 1e-4f * std::fmax(1.0f, std::fabs(a));
}

void pair_braincore(benchmark::State &state, Metric m, int level, size_t dim)
{
	size_t stride = stride_of(dim);
	Aligned a(kPairs * stride), b(kPairs * stride);
	fill(a.p, kPairs * stride, 1);
	fill(b.p, kPairs * stride, 2);
	brain_dist_fn fn = brain__dist_fn(brain_metric(m), level);
	auto space = make_space(m, dim);
	auto ref = space->get_dist_func();
	for (size_t j = 0; j < kPairs; j++) {
		float x = fn(a.p + j * stride, b.p + j * stride, dim);
		float y = ref(a.p + j * stride, b.p + j * stride, space->get_dist_func_param());
		if (!close_enough(x, y)) {
			state.SkipWithError("braincore and hnswlib disagree on a distance");
			return;
		}
	}
	size_t j = 0;
	for (auto _ : state) {
		const float *x = a.p + (j & (kPairs - 1)) * stride;
		const float *y = b.p + (j & (kPairs - 1)) * stride;
		float d = fn(x, y, dim);
		benchmark::DoNotOptimize(d);
		j++;
	}
	state.SetItemsProcessed(state.iterations());
	state.SetBytesProcessed(state.iterations() * (int64_t)(2 * dim * sizeof(float)));
	state.SetLabel(brain__simd_name((brain_simd_level)level));
}

void pair_hnswlib(benchmark::State &state, Metric m, size_t dim)
{
	size_t stride = stride_of(dim);
	Aligned a(kPairs * stride), b(kPairs * stride);
	fill(a.p, kPairs * stride, 1);
	fill(b.p, kPairs * stride, 2);
	auto space = make_space(m, dim);
	hnswlib::DISTFUNC<float> fn = space->get_dist_func();
	void *param = space->get_dist_func_param();
	size_t j = 0;
	for (auto _ : state) {
		const float *x = a.p + (j & (kPairs - 1)) * stride;
		const float *y = b.p + (j & (kPairs - 1)) * stride;
		float d = fn(x, y, param);
		benchmark::DoNotOptimize(d);
		j++;
	}
	state.SetItemsProcessed(state.iterations());
	state.SetBytesProcessed(state.iterations() * (int64_t)(2 * dim * sizeof(float)));
	state.SetLabel(hnsw_kernel_name(fn));
}

void batch_braincore(benchmark::State &state, Metric m, int level, size_t dim)
{
	size_t stride = stride_of(dim);
	Aligned q(stride), rows(kBatchRows * stride);
	fill(q.p, stride, 3);
	fill(rows.p, kBatchRows * stride, 4);
	std::vector<float> out(kBatchRows);
	brain_dist_batch_fn fn = brain__dist_batch_fn(brain_metric(m), level);
	auto space = make_space(m, dim);
	fn(q.p, rows.p, kBatchRows, stride, dim, out.data());
	for (size_t i = 0; i < kBatchRows; i++)
		if (!close_enough(out[i], space->get_dist_func()(q.p, rows.p + i * stride,
		                                                 space->get_dist_func_param()))) {
			state.SkipWithError("braincore batch and hnswlib disagree on a distance");
			return;
		}
	for (auto _ : state) {
		fn(q.p, rows.p, kBatchRows, stride, dim, out.data());
		benchmark::DoNotOptimize(out.data());
		benchmark::ClobberMemory();
	}
	state.SetItemsProcessed(state.iterations() * (int64_t)kBatchRows);
	state.SetBytesProcessed(state.iterations() * (int64_t)(kBatchRows * 2 * dim * sizeof(float)));
	state.SetLabel(brain__simd_name((brain_simd_level)level));
}

void batch_hnswlib(benchmark::State &state, Metric m, size_t dim)
{
	size_t stride = stride_of(dim);
	Aligned q(stride), rows(kBatchRows * stride);
	fill(q.p, stride, 3);
	fill(rows.p, kBatchRows * stride, 4);
	std::vector<float> out(kBatchRows);
	auto space = make_space(m, dim);
	hnswlib::DISTFUNC<float> fn = space->get_dist_func();
	void *param = space->get_dist_func_param();
	for (auto _ : state) {
		for (size_t i = 0; i < kBatchRows; i++)
			out[i] = fn(q.p, rows.p + i * stride, param);
		benchmark::DoNotOptimize(out.data());
		benchmark::ClobberMemory();
	}
	state.SetItemsProcessed(state.iterations() * (int64_t)kBatchRows);
	state.SetBytesProcessed(state.iterations() * (int64_t)(kBatchRows * 2 * dim * sizeof(float)));
	state.SetLabel(hnsw_kernel_name(fn));
}

void code_pair(benchmark::State &state, brain_code_dist_fn fn, const char *label, size_t dim)
{
	size_t stride = (dim + 63) / 64 * 64;
	std::vector<unsigned char> a(kPairs * stride), b(kPairs * stride);
	uint64_t x = 12345;
	for (size_t i = 0; i < a.size(); i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		a[i] = (unsigned char)(x >> 56);
		b[i] = (unsigned char)(x >> 48);
	}
	size_t j = 0;
	for (auto _ : state) {
		const unsigned char *p = a.data() + (j & (kPairs - 1)) * stride;
		const unsigned char *q = b.data() + (j & (kPairs - 1)) * stride;
		float d = fn(p, q, dim);
		benchmark::DoNotOptimize(d);
		j++;
	}
	state.SetItemsProcessed(state.iterations());
	state.SetBytesProcessed(state.iterations() * (int64_t)(2 * dim));
	state.SetLabel(label);
}

} // namespace

int main(int argc, char **argv)
{
	std::string levels;
	for (int level = 0; level < BRAIN_SIMD__COUNT; level++) {
		if (!brain__simd_supported((brain_simd_level)level))
			continue;
		levels += levels.empty() ? "" : " ";
		levels += brain__simd_name((brain_simd_level)level);
	}
	for (const char *shape : {"pair", "batch256"})
		for (Metric m : {L2, IP})
			for (size_t dim : kDims) {
				std::string group = std::string(shape) + "/" + metric_name(m) + "/d:" +
				                    std::to_string(dim);
				bool pair = shape[0] == 'p';
				for (int level = 0; level < BRAIN_SIMD__COUNT; level++) {
					if (!brain__simd_supported((brain_simd_level)level))
						continue;
					std::string name = group + "/braincore-" +
					                   brain__simd_name((brain_simd_level)level);
					if (pair)
						benchmark::RegisterBenchmark(name.c_str(), pair_braincore, m, level,
						                             dim);
					else
						benchmark::RegisterBenchmark(name.c_str(), batch_braincore, m, level,
						                             dim);
				}
				std::string name = group + "/hnswlib";
				if (pair)
					benchmark::RegisterBenchmark(name.c_str(), pair_hnswlib, m, dim);
				else
					benchmark::RegisterBenchmark(name.c_str(), batch_hnswlib, m, dim);
			}
	for (Metric m : {L2, IP})
		for (size_t dim : kDims) {
			std::string group = std::string("code/") + metric_name(m) + "/d:" + std::to_string(dim);
			for (int level = 0; level < BRAIN_SIMD__COUNT; level++) {
				if (!brain__simd_supported((brain_simd_level)level))
					continue;
				const char *ln = brain__simd_name((brain_simd_level)level);
				int metric = m == L2 ? BRAIN_METRIC_L2 : BRAIN_METRIC_IP;
				brain_code_dist_fn fn = brain__code_dist_fn(metric, level);
				benchmark::RegisterBenchmark((group + "/braincore-" + ln).c_str(), code_pair, fn,
				                             ln, dim);
			}
		}
	return bench::run(argc, argv,
	                  {"--benchmark_min_time=0.05", "--benchmark_repetitions=5",
	                   "--benchmark_enable_random_interleaving=true",
	                   "--benchmark_report_aggregates_only=true"},
	                  {{"braincore_simd_levels", levels},
	                   {"braincore_best", brain__simd_name(brain__simd_best())},
	                   {"hnswlib", hnsw_build_note()},
	                   {"bytes", "both vectors of every distance: 2 * dim * 4"},
	                   {"ip", "both sides compute 1 - dot(a, b)"}});
}
