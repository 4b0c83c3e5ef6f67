#!/bin/sh
# tools/run.sh - build and run braincore on a Debian 12 machine, installing
# what each step needs with apt (sudo when not root).
#
#   sh tools/run.sh demo     build the library and CLI, run `braincore demo`
#   sh tools/run.sh test     build everything, run every test (ctest)
#   sh tools/run.sh asan     the test suite built with -fsanitize=address,undefined
#   sh tools/run.sh tsan     the tests labelled tsan (threads) built with -fsanitize=thread
#   sh tools/run.sh gnu11    build once more as -std=gnu11 (the default is strict c11)
#   sh tools/run.sh fuzz     libFuzzer targets (clang, ASan+UBSan), the ctest
#                            tests labelled fuzz, each for BRAINCORE_FUZZ_SECONDS
#                            (default 30)
#   sh tools/run.sh bench    build and run the benchmarks (bench/)
#   sh tools/run.sh ann      approximate search on real data (bench_ann): prepare
#                            the data, recall/QPS against hnswlib, plots into docs/bench/
#   sh tools/run.sh deb      build the Debian packages (debian/) into build/deb,
#                            lintian them, install them here, use them, remove them
#
# Build trees go to build/<mode>; BRAINCORE_JOBS sets the parallelism.
set -eu
cd "$(dirname "$0")/.."

jobs=${BRAINCORE_JOBS:-$(nproc 2>/dev/null || echo 2)}

# Install the Debian packages that are missing.
need() {
	missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "run.sh: installing$missing" >&2
	$sudo apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >&2
}

build_deps="cmake make gcc g++ libc6-dev pkg-config libroaring-dev"
test_deps="$build_deps libcmocka-dev check libsubunit-dev jq binutils python3-numpy
	python3-pytest python3-pip python3-setuptools python3-wheel python3-hnswlib cargo groff-base"

configure_build() {
	dir=$1
	shift
	cmake -S . -B "build/$dir" "$@" > "build/$dir.configure.log" 2>&1 ||
		{ cat "build/$dir.configure.log"; exit 1; }
	cmake --build "build/$dir" -j "$jobs"
}

mkdir -p build
mode=${1:-}
case $mode in
demo)
	need $build_deps
	configure_build release -DCMAKE_BUILD_TYPE=Release -DBRAINCORE_TESTS=OFF
	# as installed: the built-in embedder with its word table (the semantic
	# lift, docs/embedder.md), which an installed library finds by itself
	BRAINCORE_WORDS=${BRAINCORE_WORDS:-data/words.bin} exec build/release/tools/braincore demo
	;;
test)
	need $test_deps
	# the Node binding's tests: Node and npm as the machine has them (a
	# NodeSource nodejs brings npm itself), else Debian's (Node 18)
	command -v node > /dev/null && command -v npm > /dev/null || need nodejs npm
	configure_build test
	cd build/test && ctest --output-on-failure -j "$jobs"
	;;
asan)
	need $test_deps
	configure_build asan -DCMAKE_BUILD_TYPE=Debug -DBRAINCORE_SANITIZE=address,undefined
	cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j "$jobs"
	;;
tsan)
	need $test_deps
	configure_build tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBRAINCORE_SANITIZE=thread
	# in parallel: the two longest (test_heart, test_crashloop, 5 minutes
	# each under TSan) would otherwise run one after the other
	cd build/tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
		ctest --output-on-failure -L tsan -j "$jobs"
	;;
gnu11)
	need $build_deps
	configure_build gnu11 -DBRAINCORE_GNU11=ON -DBRAINCORE_TESTS=OFF
	;;
fuzz)
	need $test_deps clang libclang-rt-14-dev
	# every target is a ctest test labelled fuzz (tests/fuzz/CMakeLists.txt)
	CC=clang CXX=clang++ configure_build fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DBRAINCORE_FUZZ=ON -DBRAINCORE_SANITIZE=address,undefined -DBRAINCORE_TOOLS=OFF \
		-DBRAINCORE_FUZZ_SECONDS="${BRAINCORE_FUZZ_SECONDS:-30}"
	cd build/fuzz && ctest --output-on-failure -L fuzz
	;;
bench)
	need $build_deps libbenchmark-dev libhnswlib-dev
	# Optional peers (FAISS; SQLite for FTS5 and the durable writes): the
	# benchmarks skip what is missing.
	need libfaiss-dev || echo "run.sh: libfaiss-dev not installed; bench_flat skips FAISS" >&2
	need libsqlite3-dev ||
		echo "run.sh: libsqlite3-dev not installed; bench_text and bench_durable skip SQLite" >&2
	configure_build bench -DCMAKE_BUILD_TYPE=Release -DBRAINCORE_TESTS=OFF -DBRAINCORE_BENCH=ON
	# One at a time (they measure); each also leaves its figures as JSON in
	# build/bench/<name>.json. Extra arguments go to every Google Benchmark
	# program, e.g. sh tools/run.sh bench --benchmark_filter=recall
	shift
	for b in build/bench/bench/bench_*; do
		[ -f "$b" ] && [ -x "$b" ] || continue
		case $(basename "$b") in bench_durable | bench_open | bench_append | bench_checkpoint | bench_idle | bench_grow | bench_live | bench_rss) continue ;; esac
		"$b" --benchmark_out="build/bench/$(basename "$b").json" --benchmark_out_format=json "$@"
	done
	# On-disk brains: plain programs with their own options (not "$@"). They
	# work in $TMPDIR or /tmp, or in the build tree when that is tmpfs, and
	# remove what they wrote; bench_open needs about 6 GB free there.
	build/bench/bench/bench_durable --json build/bench/bench_durable.json
	build/bench/bench/bench_append
	build/bench/bench/bench_checkpoint --index flat --sizes 1000,100000,1000000
	build/bench/bench/bench_checkpoint --index hnsw --sizes 1000,100000
	build/bench/bench/bench_idle
	build/bench/bench/bench_rss
	build/bench/bench/bench_grow
	build/bench/bench/bench_grow --memory
	build/bench/bench/bench_live
	build/bench/bench/bench_open --json build/bench/bench_open.json
	;;
ann)
	# braincore's HNSW against hnswlib (same M, efConstruction, data, threads)
	# on ngt-sift5k and glove100-100k (../shared/data, else GloVe prepared
	# from npm) and Fashion-MNIST (prepared from Debian's package):
	# one-thread build and the recall@10 / QPS curves, then a two-thread
	# build (and ef 64, to see that recall holds); on sets of bytes (SIFT,
	# Fashion-MNIST) also uint8 rows, both libraries (--u8). QPS: the fastest of 5
	# passes over the ef list. Full output in
	# build/ann/results; curves in docs/bench/<set>-recall-qps.png; one
	# summary table in build/ann/results/summary.md; the exact scan against
	# the graph by size (AUTO's threshold) in <set>-crossover.md. Extra
	# arguments go to every curve run, e.g. sh tools/run.sh ann --queries 200
	need $build_deps libbenchmark-dev libhnswlib-dev gnuplot-nox dataset-fashion-mnist
	cmake -S . -B build/ann -DCMAKE_BUILD_TYPE=Release -DBRAINCORE_TESTS=OFF \
		-DBRAINCORE_BENCH=ON > build/ann.configure.log 2>&1 ||
		{ cat build/ann.configure.log; exit 1; }
	cmake --build build/ann -j "$jobs" --target bench_ann
	bench_ann=build/ann/bench/bench_ann
	shared=${BRAINCORE_SHARED_DATA:-../shared/data}
	data=build/ann-data
	# Node for the GloVe and Fashion-MNIST converters (a node from elsewhere,
	# e.g. NodeSource's, brings its own npm: leave it).
	if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
		need nodejs npm
	fi
	sets=""
	if [ -s "$shared/ngt-sift5k/groundtruth.ivecs" ]; then
		sets="$shared/ngt-sift5k"
	else
		echo "run.sh: no $shared/ngt-sift5k: skipped (it comes only with the shared data)" >&2
	fi
	if [ -s "$shared/glove100-100k/groundtruth.ivecs" ]; then
		sets="$sets $shared/glove100-100k"
	else
		sh bench/prepare_data.sh --out "$data" --bench-ann "$bench_ann" glove
		sets="$sets $data/glove100-100k"
	fi
	sh bench/prepare_data.sh --out "$data" --bench-ann "$bench_ann" fashion
	sets="$sets $data/fashion-mnist"
	shift
	res=build/ann/results
	rm -rf "$res"
	mkdir -p "$res/t2" docs/bench
	for d in $sets; do
		name=$(basename "$d")
		echo "run.sh: bench_ann on $name" >&2
		# (no tee: sh has no pipefail, and a failed run must stop here)
		status=0
		"$bench_ann" --data "$d" --threads 1 --sq8 --u8 --passes 5 --json "$res/$name.json" \
			--summary "$res/summary.md" "$@" > "$res/$name.md" || status=$?
		cat "$res/$name.md"
		[ "$status" -eq 0 ] || exit "$status"
		"$bench_ann" --data "$d" --threads 2 --u8 --ef 64 --json "$res/t2/$name.json" \
			--summary "$res/summary.md" "$@" > "$res/t2/$name.md" || status=$?
		cat "$res/t2/$name.md"
		[ "$status" -eq 0 ] || exit "$status"
		sh bench/plot_ann.sh "$res/$name-" "docs/bench/$name-recall-qps.png" \
			"$name: recall@10 vs QPS (k = 10, one thread; M = 16, efConstruction = 200)"
		# where the graph starts to beat the exact scan (AUTO's threshold)
		"$bench_ann" --data "$d" --queries 300 --passes 3 \
			--crossover 300,500,1000,2000,3000,5000,10000 > "$res/$name-crossover.md" ||
			{ cat "$res/$name-crossover.md"; exit 1; }
		cat "$res/$name-crossover.md"
	done
	echo
	cat "$res/summary.md"
	;;
deb)
	need $build_deps debhelper dh-python python3-all dpkg-dev lintian fakeroot man-db \
		python3-numpy
	exec sh tools/check_debs.sh build/deb
	;;
*)
	echo "usage: sh tools/run.sh demo|test|asan|tsan|gnu11|fuzz|bench|ann|deb" >&2
	exit 2
	;;
esac
