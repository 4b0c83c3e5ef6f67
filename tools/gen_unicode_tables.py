#!/usr/bin/env python3
"""tools/gen_unicode_tables.py - generate organs/pancreas_tables.h and organs/cortex/wordpiece_tables.h.

The first holds the Unicode tables of the Pancreas (text normalisation and
word classes), the second those of the Cortex's WordPiece tokenizer (see
"The WordPiece tables" at the end).

Uses only the standard library's unicodedata, so the tables follow the
Unicode version of the Python that runs this (14.0 for Python 3.11). The
version is written into the header and checked: pass --unicode-version to
accept another one on purpose.

    python3 tools/gen_unicode_tables.py            # writes both headers
    python3 tools/gen_unicode_tables.py --check    # fails if either is stale
    python3 tools/gen_unicode_tables.py --only wordpiece   # (or pancreas) one of them

What the tables hold
--------------------
The search key of a code point, f(cp): its compatibility decomposition
(NFKD, applied recursively through unicodedata.decomposition), full case
folding (str.casefold) and the removal of combining marks and default
ignorable code points, repeated until nothing changes. Only code points
whose key differs from themselves are stored (as a UTF-8 byte string,
possibly empty).

Deliberate departures from plain NFKD + casefold + "drop every mark":

 * Hangul syllables are not decomposed into jamo (unicodedata.decomposition
   has nothing for them, so this happens by itself), and kana with a voiced
   or semi-voiced sound mark (が, パ) are not decomposed either: Japanese
   readers do not consider か and が the same letter. The C code composes
   the separate marks U+3099/U+309A (from NFD text or half-width ﾞ/ﾟ) with
   the kana before them, and conjoining jamo L+V(+T) into syllables, so NFD
   input gets the same key as NFC input.
 * Combining marks: Mn (nonspacing) and Me (enclosing) are dropped, which
   removes accents ("é" -> "e"), Greek tonos, Hebrew and Arabic vowel points.
   Mc (spacing combining) marks are kept as word characters: they are the
   vowel signs of Brahmic scripts and occur nowhere else in practice. In the
   abugidas (Indic, Thaana, Thai, Lao, Tibetan, Myanmar, Khmer, Balinese,
   Javanese, ... see KEEP_MARKS) Mn marks are vowels too and are kept;
   dropping them would turn different words into one.
 * Default ignorable code points (soft hyphen, ZWJ/ZWNJ, bidi controls,
   variation selectors, tags) are dropped so that they join rather than
   split a word; U+200B ZERO WIDTH SPACE is kept as a separator, since it
   is used as an invisible word break in Thai, Khmer and Myanmar text.
   Arabic tatweel and N'Ko lajanyalan, letters that only stretch a word,
   are dropped too.

The class of every code point whose key is itself:
    SEP       separator (punctuation, symbols, spaces, controls, unassigned)
    WORD      letters (L*), Nl/No numbers, kept marks
    DIGIT     decimal digits (Nd), for the "3.14" rule
    IDEO      Han, Hiragana, Katakana, Tangut, Nushu, Khitan letters: each
              one is a word of its own (these scripts use no spaces)
    APOS      U+0027, U+2019: joins two letters ("don't" -> "dont")
    DOTCOMMA  '.', ',' and the Arabic decimal/thousands separators: kept
              between two digits ("3.14", "1,000")
    VOICE     U+3099/U+309A: composed with the kana before it, else dropped
    JAMO_V/T  medial/final conjoining jamo, composed with the jamo or
              syllable before them

Layout: a three-stage trie over the code points below LIMIT, whose block
sizes the generator chooses to make the tables smallest (identical blocks
and groups of blocks are stored once): top[cp >> TOP_SHIFT] is a group,
mid[group, middle bits] a block, leaf[block, low bits] a uint16 value: bit
15 set = mapped, bits 0..14 the number of its key in seq_off/pool (UTF-8
bytes); else the class. Code points at or above LIMIT are separators,
except U+E0000..U+E0FFF (tags, variation selectors), which are dropped.
The generator checks the trie against every code point before it writes.
ASCII has its own 256-byte class table, so the C code's ASCII path never
touches the trie.

The WordPiece tables
--------------------
organs/cortex/wordpiece.c tokenizes as Hugging Face's BertTokenizer does
(PreTrainedTokenizer.tokenize, BasicTokenizer, WordpieceTokenizer), one
code point at a time. For each code point the tables give:

    class     DROP   removed by _clean_text: U+0000, U+FFFD and the
                     categories C* (Cc, Cf, Cn, Co, Cs) but \t \n \r
              SPACE  white space: space, \t \n \r, Zs, and what else
                     str.split() splits at (U+2028, U+2029)
              CJK    _is_chinese_char: a word of its own
              KEEP   the rest
    PUNCT     _is_punctuation (ASCII 33-47, 58-64, 91-96, 123-126, P*)
    lseq      the output in lowercase mode: str.lower() of the character,
              str.lower() of each character of that, NFD, Mn removed
    dseq, ccc its canonical decomposition and combining class, and the
    SECOND    composition pairs (wp_comp_key): the data of NFC, which
    UNSAFE    BasicTokenizer applies to the text; NFC may join an UNSAFE
              code point with what comes before it, so the C code
              normalises the text between two safe code points at a time

Hangul syllables are decomposed and composed by arithmetic. wp_check()
asserts, for every code point, what the C code's per-character shortcuts
rely on (lowercasing one character at a time and cleaning commute, the
mappings' characters map to themselves, NFC leaves the lowercase output
alone, separators and punctuation have combining class 0); a Unicode
version that breaks one fails here, not in the tokenizer. The trie has the
layout of the Pancreas's, with a record number as its value.
"""

import argparse
import os
import sys
import unicodedata

EXPECTED_UNICODE = "14.0.0"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "organs",
                   "pancreas_tables.h")
MAX_CP = 0x110000

SEP, WORD, DIGIT, IDEO, APOS, DOTCOMMA, VOICE, JAMO_V, JAMO_T = range(9)
NONASCII = 15  # bytes 0x80..0xFF in the ASCII class table
CLASS_NAMES = ["SEP", "WORD", "DIGIT", "IDEO", "APOS", "DOTCOMMA", "VOICE",
               "JAMO_V", "JAMO_T"]
MAPPED = 0x8000
SEQ_EMPTY = 0  # the number of the empty key: the code point is dropped

# Blocks of abugidas, whose nonspacing marks are vowels and consonant
# signs, part of the letter rather than an accent on it.
KEEP_MARKS = [
    (0x0780, 0x07BF),   # Thaana (vowels are marks)
    (0x0900, 0x0DFF),   # Devanagari .. Sinhala
    (0x0E00, 0x0EFF),   # Thai, Lao
    (0x0F00, 0x0FFF),   # Tibetan
    (0x1000, 0x109F),   # Myanmar
    (0x1700, 0x17FF),   # Tagalog, Hanunoo, Buhid, Tagbanwa, Khmer
    (0x1900, 0x194F),   # Limbu
    (0x1A00, 0x1AAF),   # Buginese, Tai Tham
    (0x1B00, 0x1C4F),   # Balinese, Sundanese, Batak, Lepcha
    (0xA800, 0xA82F),   # Syloti Nagri
    (0xA880, 0xA8FF),   # Saurashtra, Devanagari Extended
    (0xA900, 0xA95F),   # Kayah Li, Rejang
    (0xA980, 0xAADF),   # Javanese, Myanmar Ext-B, Cham, Myanmar Ext-A, Tai Viet
    (0xAAE0, 0xAAFF),   # Meetei Mayek Extensions
    (0xABC0, 0xABFF),   # Meetei Mayek
    (0x10A00, 0x10A5F), # Kharoshthi
    (0x11000, 0x11DAF), # Brahmi .. Gunjala Gondi
    (0x11EE0, 0x11EFF), # Makasar
    (0x16F00, 0x16F9F), # Miao
]

# Scripts written without spaces between words, one character per word.
# Only letters and numbers in these ranges get the class (not the
# punctuation of the CJK Symbols block, for instance).
IDEO_RANGES = [
    (0x3005, 0x3007),   # 々 〆 〇
    (0x3021, 0x3029),   # Hangzhou numerals
    (0x3031, 0x3035),   # vertical kana repeat marks
    (0x3038, 0x303C),
    (0x3040, 0x30FF),   # Hiragana, Katakana
    (0x31F0, 0x31FF),   # Katakana Phonetic Extensions
    (0x3400, 0x4DBF),   # CJK Extension A
    (0x4E00, 0x9FFF),   # CJK Unified Ideographs
    (0xF900, 0xFAFF),   # CJK Compatibility Ideographs
    (0xFF66, 0xFF9D),   # half-width Katakana
    (0x16FE0, 0x16FFF), # Ideographic Symbols and Punctuation
    (0x17000, 0x18CFF), # Tangut, Tangut Components, Khitan, Tangut Supplement
    (0x1AFF0, 0x1B16F), # Kana Extended-B, Kana Supplement, Ext-A, Small Kana
    (0x1B170, 0x1B2FF), # Nushu
    (0x20000, 0x3FFFF), # CJK Extensions B..G, Compatibility Supplement
]

# Default_Ignorable_Code_Point of Unicode 14 (DerivedCoreProperties.txt),
# which unicodedata does not expose. U+200B is left out on purpose (see
# above).
DEFAULT_IGNORABLE = [
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
    (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200C, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
]

# Letters that only stretch a word for typography: Arabic tatweel and N'Ko
# lajanyalan ("كـتـاب" is "كتاب").
ELONGATIONS = (0x0640, 0x07FA)

APOSTROPHES = (0x0027, 0x2019)
DOTCOMMAS = (0x002C, 0x002E, 0x066B, 0x066C)
VOICE_MARKS = (0x3099, 0x309A)


def in_ranges(cp, ranges):
    return any(lo <= cp <= hi for lo, hi in ranges)


def is_surrogate(cp):
    return 0xD800 <= cp <= 0xDFFF


def keeps_precomposed(cp):
    """Kana with a (semi-)voiced sound mark stay whole."""
    d = unicodedata.decomposition(chr(cp))
    if not d or d.startswith("<"):
        return False
    parts = [int(x, 16) for x in d.split()]
    return len(parts) == 2 and parts[1] in VOICE_MARKS


def decompose(cp, out):
    """Full compatibility decomposition of cp appended to out."""
    if keeps_precomposed(cp):
        out.append(cp)
        return
    d = unicodedata.decomposition(chr(cp))
    if not d:
        out.append(cp)
        return
    for tok in d.split():
        if tok.startswith("<"):
            continue
        decompose(int(tok, 16), out)


def dropped(cp):
    if cp in VOICE_MARKS:
        return False  # composed by the C code, or dropped there
    if in_ranges(cp, DEFAULT_IGNORABLE) or cp in ELONGATIONS:
        return True
    cat = unicodedata.category(chr(cp))
    if cat in ("Mn", "Me"):
        return not in_ranges(cp, KEEP_MARKS)
    return False


def step(cp):
    """One round: decompose, case fold, drop marks."""
    dec = []
    decompose(cp, dec)
    folded = "".join(chr(c) for c in dec).casefold()
    return [ord(c) for c in folded if not dropped(ord(c))]


def key(cp):
    """The search key of cp: step() to a fixed point."""
    seq = step(cp)
    for _ in range(16):
        nxt = []
        for c in seq:
            nxt.extend(step(c))
        if nxt == seq:
            return seq
        seq = nxt
    raise SystemExit("no fixed point for U+%04X" % cp)


def klass(cp):
    if cp in APOSTROPHES:
        return APOS
    if cp in DOTCOMMAS:
        return DOTCOMMA
    if cp in VOICE_MARKS:
        return VOICE
    if 0x1161 <= cp <= 0x1175:
        return JAMO_V
    if 0x11A8 <= cp <= 0x11C2:
        return JAMO_T
    cat = unicodedata.category(chr(cp))
    if cat == "Nd":
        return DIGIT
    if cat[0] in "LN":
        return IDEO if in_ranges(cp, IDEO_RANGES) else WORD
    if cat in ("Mc", "Mn"):
        # Mc everywhere, Mn only where KEEP_MARKS keeps it (others are
        # dropped before they are classified).
        return WORD
    return SEP


def utf8(seq):
    return "".join(chr(c) for c in seq).encode("utf-8")


def build():
    values = [0] * MAX_CP
    seq_ids = {}
    pool = bytearray()
    seq_off = []
    longest = 0

    def seq_id(b):
        if b not in seq_ids:
            seq_ids[b] = len(seq_off)
            seq_off.append(len(pool))
            pool.extend(b)
        return seq_ids[b]

    assert seq_id(b"") == SEQ_EMPTY
    for cp in range(MAX_CP):
        if is_surrogate(cp):
            values[cp] = SEP
            continue
        k = key(cp)
        if k == [cp]:
            values[cp] = klass(cp)
        else:
            b = utf8(k)
            longest = max(longest, len(b))
            values[cp] = MAPPED | seq_id(b)
            # Every code point of a key is its own key: the C code
            # classifies them without looking them up again for a mapping.
            for c in k:
                assert key(c) == [c], "U+%04X in the key of U+%04X" % (c, cp)
    seq_off.append(len(pool))
    assert len(seq_off) - 1 < MAPPED, "too many keys"
    assert len(pool) < 65536, "pool too large for uint16 offsets"
    return values, pool, seq_off, longest


def beyond_limit(cp):
    """What the C code assumes for code points >= LIMIT."""
    return MAPPED | SEQ_EMPTY if 0xE0000 <= cp <= 0xE0FFF else SEP


class Trie:
    """Three stages: top[cp >> (leaf + mid)] -> group, mid[group, (cp >> leaf)
    & mid mask] -> block, leaf[block, cp & leaf mask] -> value. Identical
    blocks and groups are stored once."""

    def __init__(self, values, leaf_shift, mid_shift, beyond=beyond_limit):
        self.leaf_shift, self.mid_shift = leaf_shift, mid_shift
        self.beyond = beyond  # the value of every code point from the limit on
        span = 1 << (leaf_shift + mid_shift)
        last = max(c for c in range(MAX_CP) if values[c] != beyond(c))
        limit = (last // span + 1) * span
        self.limit = limit
        lsize, msize = 1 << leaf_shift, 1 << mid_shift
        blocks, groups = {}, {}
        self.leaf, self.mid, self.top = [], [], []
        for glo in range(0, limit, span):
            grp = []
            for lo in range(glo, glo + span, lsize):
                blk = tuple(values[lo:lo + lsize])
                if blk not in blocks:
                    blocks[blk] = len(blocks)
                    self.leaf.extend(blk)
                grp.append(blocks[blk])
            grp = tuple(grp)
            if grp not in groups:
                groups[grp] = len(groups)
                self.mid.extend(grp)
            self.top.append(groups[grp])
        self.mid_type = "uint8_t" if len(blocks) <= 256 else "uint16_t"
        self.top_type = "uint8_t" if len(groups) <= 256 else "uint16_t"

    def lookup(self, cp):
        if cp >= self.limit:
            return self.beyond(cp)
        ls, ms = self.leaf_shift, self.mid_shift
        g = self.top[cp >> (ls + ms)]
        b = self.mid[(g << ms) | ((cp >> ls) & ((1 << ms) - 1))]
        return self.leaf[(b << ls) | (cp & ((1 << ls) - 1))]

    def sizes(self):
        width = {"uint8_t": 1, "uint16_t": 2}
        return {"top": len(self.top) * width[self.top_type],
                "mid": len(self.mid) * width[self.mid_type],
                "leaf": len(self.leaf) * 2}


def kana_compositions():
    """(base, mark, composed) for the kana the C code recomposes."""
    out = []
    for cp in range(0x10000):
        if keeps_precomposed(cp):
            base, mark = [int(x, 16) for x in unicodedata.decomposition(chr(cp)).split()]
            out.append((base, mark, cp))
    for cp in range(0x10000, MAX_CP):
        assert not keeps_precomposed(cp), "kana U+%04X outside the BMP" % cp
    out.sort()
    for base, mark, cp in out:
        # The C code rewrites the base in place: same class, same length.
        assert klass(base) == IDEO and len(utf8([base])) == len(utf8([cp])) == 3
    return out


def c_array(ctype, name, items, fmt="%d", per_line=None):
    lines = ["static const %s %s[%d] = {" % (ctype, name, len(items))]
    line = "\t"
    for i, x in enumerate(items):
        cell = (fmt % x) + ","
        if (per_line and i and i % per_line == 0) or len(line) + len(cell) + 1 > 96:
            lines.append(line.rstrip())
            line = "\t"
        line += cell + " "
    if line.strip():
        lines.append(line.rstrip())
    lines.append("};")
    return "\n".join(lines)


def render(values, pool, seq_off, longest, trie, kana):
    sizes = trie.sizes()
    sizes.update({"seq_off": len(seq_off) * 2, "pool": len(pool), "kana": len(kana) * 6,
                  "ascii": 128})
    total = sum(sizes.values())
    ascii_class = []
    for c in range(128):
        v = values[c]
        if v & MAPPED:
            # A-Z: a word character; the C code lowercases it.
            assert 0x41 <= c <= 0x5A and key(c) == [c + 32]
            v = values[c + 32]
        ascii_class.append(v)
    # The C code lowercases an ASCII letter or digit with c | 0x20, which
    # leaves digits alone; and it relies on these being the only word bytes.
    for c in range(128):
        if ascii_class[c] in (WORD, DIGIT):
            assert chr(c).isalnum() and chr(c | 0x20) == chr(c).lower()
    ascii_class += [NONASCII] * 128
    ls, ms = trie.leaf_shift, trie.mid_shift
    h = []
    h += ["/*",
          " * organs/pancreas_tables.h - Unicode tables of the Pancreas: the search key",
          " * of every code point (NFKD, case folding, marks removed) and its word class.",
          " *",
          " * Unicode %s. Generated by tools/gen_unicode_tables.py, do not edit: change"
          % unicodedata.unidata_version,
          " * the generator, whose docstring explains the rules and the layout.",
          " * Sizes in bytes: " + ", ".join("%s %d" % kv for kv in sizes.items()) + ";",
          " * %d in all. Included by organs/pancreas.c only." % total,
          " */",
          "#ifndef BRAIN_ORGANS_PANCREAS_TABLES_H",
          "#define BRAIN_ORGANS_PANCREAS_TABLES_H",
          "",
          "#include <stdint.h>",
          "",
          '#define UC_UNICODE_VERSION "%s"' % unicodedata.unidata_version,
          "",
          "/* Classes of the code points that are their own key. */"]
    h += ["#define UC_%s %d" % (n, i) for i, n in enumerate(CLASS_NAMES)]
    h += ["/* uc_ascii_class of the bytes 0x80..0xFF, which start no ASCII character. */",
          "#define UC_NONASCII %d" % NONASCII]
    h += ["",
          "/* A leaf value with UC_MAPPED has key number (value & UC_SEQ_MASK): bytes",
          " * uc_pool[uc_seq_off[k] .. uc_seq_off[k + 1]), valid UTF-8 whose code",
          " * points are all their own keys. Key UC_SEQ_EMPTY drops the code point. */",
          "#define UC_MAPPED 0x%04X" % MAPPED,
          "#define UC_SEQ_MASK 0x%04X" % (MAPPED - 1),
          "#define UC_SEQ_EMPTY %d" % SEQ_EMPTY,
          "#define UC_MAX_KEY_BYTES %d" % longest,
          "",
          "/* Three stages: uc_top[cp >> UC_TOP_SHIFT] is a group, uc_mid[group <<",
          " * UC_MID_SHIFT | (cp >> UC_LEAF_SHIFT & UC_MID_MASK)] a block and",
          " * uc_leaf[block << UC_LEAF_SHIFT | (cp & UC_LEAF_MASK)] the value. Code",
          " * points from UC_LIMIT on are separators, except U+E0000..U+E0FFF (tags,",
          " * variation selectors), which are dropped. */",
          "#define UC_LEAF_SHIFT %d" % ls,
          "#define UC_LEAF_MASK 0x%X" % ((1 << ls) - 1),
          "#define UC_MID_SHIFT %d" % ms,
          "#define UC_MID_MASK 0x%X" % ((1 << ms) - 1),
          "#define UC_TOP_SHIFT %d" % (ls + ms),
          "#define UC_LIMIT 0x%X" % trie.limit,
          "",
          "/* Kana + U+3099/U+309A -> composed kana, sorted by base then mark. */",
          "#define UC_KANA_COUNT %d" % len(kana),
          "",
          "/* Class of each byte as an ASCII character; A-Z are WORD (the code",
          " * lowercases them). */",
          c_array("uint8_t", "uc_ascii_class", ascii_class, per_line=16),
          "",
          c_array(trie.top_type, "uc_top", trie.top),
          "",
          c_array(trie.mid_type, "uc_mid", trie.mid),
          "",
          c_array("uint16_t", "uc_leaf", trie.leaf),
          "",
          c_array("uint16_t", "uc_seq_off", seq_off),
          "",
          c_array("uint8_t", "uc_pool", list(pool)),
          "",
          "static const uint16_t uc_kana[UC_KANA_COUNT][3] = {"]
    h += ["\t{0x%04X, 0x%04X, 0x%04X}," % t for t in kana]
    h += ["};", "", "#endif /* BRAIN_ORGANS_PANCREAS_TABLES_H */", ""]
    return "\n".join(h), sizes, total


def self_check(values, trie):
    """The lookup the C code does gives every code point its value."""
    for cp in range(MAX_CP):
        assert trie.lookup(cp) == values[cp] or is_surrogate(cp), "U+%04X" % cp


# ---- organs/cortex/wordpiece_tables.h: BERT's BasicTokenizer ---------------

WP_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "organs",
                      "cortex", "wordpiece_tables.h")

# The class of a code point in BERT's text cleaning, and its flags.
WP_KEEP, WP_DROP, WP_SPACE, WP_CJK = range(4)
WP_CLASS_NAMES = ["KEEP", "DROP", "SPACE", "CJK"]
WP_PUNCT = 0x04   # _is_punctuation: split off as a word of its own
WP_SECOND = 0x08  # the second of a canonical composition (NFC)
WP_UNSAFE = 0x10  # NFC may join it with what comes before it
WP_LMAP = 0x20    # lseq holds its lowercase-mode output (else: itself)
WP_DMAP = 0x40    # dseq holds its canonical decomposition (else: itself)
WP_FLAG_NAMES = [("PUNCT", WP_PUNCT), ("SECOND", WP_SECOND), ("UNSAFE", WP_UNSAFE),
                 ("LMAP", WP_LMAP), ("DMAP", WP_DMAP)]

# BasicTokenizer._is_chinese_char
WP_CJK_RANGES = [
    (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
]

HANGUL_S0, HANGUL_SN = 0xAC00, 11172
HANGUL_L0, HANGUL_V0, HANGUL_T0 = 0x1100, 0x1161, 0x11A7


def is_hangul_syllable(cp):
    return HANGUL_S0 <= cp < HANGUL_S0 + HANGUL_SN


def wp_class(cp):
    """_clean_text, then str.split's white space, then _is_chinese_char."""
    c = chr(cp)
    cat = unicodedata.category(c)
    if cp == 0 or cp == 0xFFFD or (cat[0] == "C" and c not in "\t\n\r"):
        return WP_DROP
    if c in " \t\n\r" or cat == "Zs" or c.isspace():
        return WP_SPACE
    if in_ranges(cp, WP_CJK_RANGES):
        return WP_CJK
    return WP_KEEP


def wp_is_punct(cp):
    """_is_punctuation."""
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(chr(cp))[0] == "P"


def wp_lower(cp):
    """A code point's output in lowercase mode: str.lower() of the character
    (PreTrainedTokenizer.tokenize), of each of the result's characters
    (BasicTokenizer), NFD and the Mn marks removed (_run_strip_accents)."""
    out = []
    for ch in chr(cp).lower():
        for d in unicodedata.normalize("NFD", ch.lower()):
            if unicodedata.category(d) != "Mn":
                out.append(ord(d))
    return out


def wp_nfd(cp):
    return [ord(c) for c in unicodedata.normalize("NFD", chr(cp))]


def wp_compositions():
    """(first, second, composite) of every primary composite, sorted."""
    out = []
    for cp in range(MAX_CP):
        if is_surrogate(cp):
            continue
        d = unicodedata.decomposition(chr(cp))
        if not d or d.startswith("<"):
            continue
        parts = [int(x, 16) for x in d.split()]
        if len(parts) == 2 and unicodedata.normalize("NFC", chr(cp)) == chr(cp):
            assert unicodedata.normalize("NFC", chr(parts[0]) + chr(parts[1])) == chr(cp)
            assert unicodedata.combining(chr(parts[0])) == 0 == unicodedata.combining(chr(cp))
            out.append((parts[0], parts[1], cp))
    out.sort()
    return out


def wp_check(cls, comps):
    """The assumptions of organs/cortex/wordpiece.c, checked for every code
    point: it maps one character at a time and normalises per word."""
    def lower_fixed(s):
        return all(ch.lower() == ch for ch in s)

    composites = {p for _, _, p in comps}
    for cp in range(MAX_CP):
        if is_surrogate(cp):
            continue
        c = chr(cp)
        k = cls[cp]
        ccc = unicodedata.combining(c)
        if k != WP_KEEP or wp_is_punct(cp):
            # separators and punctuation end every run of marks and every
            # composition
            assert ccc == 0, "U+%04X" % cp
        if k in (WP_DROP, WP_SPACE, WP_CJK):
            # lowercasing first (tokenize) and cleaning after commute
            assert c.lower() == c, "U+%04X" % cp
        if k == WP_CJK:
            assert len(wp_lower(cp)) == 1 and len(wp_nfd(cp)) == 1, "U+%04X" % cp
        if k != WP_KEEP:
            continue
        for ch in c.lower():
            assert cls[ord(ch)] == WP_KEEP and ch.lower() == ch, "U+%04X" % cp
        if not is_hangul_syllable(cp):
            # the lowercase output is made of characters that are their
            # own output: the C code classifies them without mapping again
            for d in wp_lower(cp):
                assert cls[d] == WP_KEEP and wp_lower(d) == [d], "U+%04X" % cp
            for d in wp_nfd(cp):
                assert cls[d] == WP_KEEP and wp_nfd(d) == [d], "U+%04X" % cp
        # NFC (BasicTokenizer, before lowercasing the word) does not change
        # the lowercase result: lower() and NFD commute for every character
        # the NFC of lowercased text can hold
        nfd = unicodedata.normalize("NFD", c)
        if lower_fixed(c) or lower_fixed(nfd):
            assert unicodedata.normalize("NFD", c.lower()) == nfd, "U+%04X" % cp
        if lower_fixed(c):
            s = unicodedata.normalize("NFC", c)
            assert unicodedata.normalize("NFD", s.lower()) == nfd, "U+%04X" % cp
        if cp in composites:
            assert cls[cp] == WP_KEEP
    for s in range(HANGUL_SN):
        cp = HANGUL_S0 + s
        lv = [HANGUL_L0 + s // 588, HANGUL_V0 + s % 588 // 28]
        if s % 28:
            lv.append(HANGUL_T0 + s % 28)
        assert wp_nfd(cp) == lv and wp_lower(cp) == lv
        for j in lv:
            assert cls[j] == WP_KEEP and not wp_is_punct(j) and wp_lower(j) == [j]


def wp_build():
    comps = wp_compositions()
    seconds = {b for _, b, _ in comps}
    seconds.update(range(0x1161, 0x1176))  # Hangul V and T jamo, composed by
    seconds.update(range(0x11A8, 0x11C3))  # the C code's arithmetic
    cls = [WP_DROP] * MAX_CP
    for cp in range(MAX_CP):
        if not is_surrogate(cp):
            cls[cp] = wp_class(cp)
    wp_check(cls, comps)

    seq_ids, seq_off, pool = {}, [], bytearray()

    def seq_id(cps):
        b = utf8(cps)
        if b not in seq_ids:
            seq_ids[b] = len(seq_off)
            seq_off.append(len(pool))
            pool.extend(b)
        return seq_ids[b]

    rec_ids, records = {}, []

    def rec_id(r):
        if r not in rec_ids:
            rec_ids[r] = len(records)
            records.append(r)
        return rec_ids[r]

    drop = rec_id((0, 0, 0, WP_DROP))  # every code point past the limit
    assert drop == 0
    values = [0] * MAX_CP
    for cp in range(MAX_CP):
        k = cls[cp]
        if is_surrogate(cp) or k == WP_DROP:
            values[cp] = drop
            continue
        flags, lseq, dseq = k, 0, 0
        ccc = unicodedata.combining(chr(cp))
        if wp_is_punct(cp):
            flags |= WP_PUNCT
        if cp in seconds:
            flags |= WP_SECOND
        if k != WP_SPACE and not is_hangul_syllable(cp):
            lo = wp_lower(cp)
            if lo != [cp]:
                flags |= WP_LMAP
                lseq = seq_id(lo)
            d = wp_nfd(cp)
            if d != [cp]:
                flags |= WP_DMAP
                dseq = seq_id(d)
        first = wp_nfd(cp)[0]
        if ccc or cp in seconds or unicodedata.combining(chr(first)) or first in seconds:
            flags |= WP_UNSAFE
        values[cp] = rec_id((lseq, dseq, ccc, flags))
    seq_off.append(len(pool))
    assert len(records) < 65536 and len(pool) < 65536 and len(seq_off) < 65536
    for c in range(128):
        r = records[values[c]]
        # the C code's ASCII path: A-Z lowercased with | 0x20, the rest as is
        assert not (r[3] & WP_DMAP) and r[2] == 0 and not (r[3] & WP_UNSAFE)
        assert bool(r[3] & WP_LMAP) == (0x41 <= c <= 0x5A)
    ascii_flags = [records[values[c]][3] & (3 | WP_PUNCT | WP_LMAP) for c in range(128)]
    return values, records, seq_off, pool, comps, ascii_flags


def wp_render(records, seq_off, pool, comps, ascii_flags, trie):
    max_dseq = max([3] + [len(wp_nfd(cp)) for cp in range(MAX_CP)
                          if not is_surrogate(cp) and not is_hangul_syllable(cp)])
    sizes = trie.sizes()
    sizes.update({"records": len(records) * 6, "seq_off": len(seq_off) * 2,
                  "pool": len(pool), "compositions": len(comps) * 12, "ascii": 128})
    total = sum(sizes.values())
    ls, ms = trie.leaf_shift, trie.mid_shift
    h = ["/*",
         " * organs/cortex/wordpiece_tables.h - Unicode tables of the WordPiece",
         " * tokenizer (organs/cortex/wordpiece.c): the classes of BERT's BasicTokenizer",
         " * and the mappings of its lowercase mode and of NFC.",
         " *",
         " * Unicode %s. Generated by tools/gen_unicode_tables.py, do not edit: change"
         % unicodedata.unidata_version,
         " * the generator, whose docstring explains the rules and the layout.",
         " * Sizes in bytes: " + ", ".join("%s %d" % kv for kv in sizes.items()) + ";",
         " * %d in all. Included by organs/cortex/wordpiece.c only." % total,
         " */",
         "#ifndef BRAIN_ORGANS_CORTEX_WORDPIECE_TABLES_H",
         "#define BRAIN_ORGANS_CORTEX_WORDPIECE_TABLES_H",
         "",
         "#include <stdint.h>",
         "",
         '#define WP_UNICODE_VERSION "%s"' % unicodedata.unidata_version,
         "",
         "/* A record's flags: the class (flags & WP_CLASS_MASK), then bits. */",
         "#define WP_CLASS_MASK 3"]
    h += ["#define WP_%s %d" % (n, i) for i, n in enumerate(WP_CLASS_NAMES)]
    h += ["#define WP_%s 0x%02X" % nv for nv in WP_FLAG_NAMES]
    h += ["",
          "/* What a code point is: wp_records[value], the value from the trie.",
          " * lseq (with WP_LMAP) is its output in lowercase mode, dseq (with",
          " * WP_DMAP) its canonical decomposition: bytes wp_pool[wp_seq_off[k] ..",
          " * wp_seq_off[k + 1]), UTF-8 of code points that map to themselves.",
          " * Hangul syllables have neither: the C code decomposes them. */",
          "typedef struct wp_record {",
          "\tuint16_t lseq, dseq;",
          "\tuint8_t ccc, flags;",
          "} wp_record;",
          "",
          "/* Three stages, as in organs/pancreas_tables.h: wp_top[cp >> WP_TOP_SHIFT]",
          " * is a group, wp_mid[group << WP_MID_SHIFT | (cp >> WP_LEAF_SHIFT &",
          " * WP_MID_MASK)] a block, wp_leaf[block << WP_LEAF_SHIFT | (cp &",
          " * WP_LEAF_MASK)] the record. Code points from WP_LIMIT on are record",
          " * WP_REC_DROP (unassigned or private use: removed). */",
          "#define WP_LEAF_SHIFT %d" % ls,
          "#define WP_LEAF_MASK 0x%X" % ((1 << ls) - 1),
          "#define WP_MID_SHIFT %d" % ms,
          "#define WP_MID_MASK 0x%X" % ((1 << ms) - 1),
          "#define WP_TOP_SHIFT %d" % (ls + ms),
          "#define WP_LIMIT 0x%X" % trie.limit,
          "#define WP_REC_DROP 0",
          "",
          "/* The most code points in a canonical decomposition (Hangul's too). */",
          "#define WP_MAX_DSEQ %d" % max_dseq,
          "",
          "/* Primary composites: wp_comp_key[i] = first << 21 | second, sorted;",
          " * wp_comp[i] the composite. */",
          "#define WP_COMP_COUNT %d" % len(comps),
          "",
          "/* The class and WP_PUNCT of each ASCII character; A-Z also have",
          " * WP_LMAP (their lowercase). */",
          c_array("uint8_t", "wp_ascii_flags", ascii_flags, per_line=16),
          "",
          c_array(trie.top_type, "wp_top", trie.top),
          "",
          c_array(trie.mid_type, "wp_mid", trie.mid),
          "",
          c_array("uint16_t", "wp_leaf", trie.leaf),
          "",
          "static const wp_record wp_records[%d] = {" % len(records)]
    line = "\t"
    for r in records:
        cell = "{%d, %d, %d, 0x%02X}," % r
        if len(line) + len(cell) + 1 > 96:
            h.append(line.rstrip())
            line = "\t"
        line += cell + " "
    h += [line.rstrip(), "};",
          "",
          c_array("uint16_t", "wp_seq_off", seq_off),
          "",
          c_array("uint8_t", "wp_pool", list(pool)),
          "",
          c_array("uint64_t", "wp_comp_key", [a << 21 | b for a, b, _ in comps],
                  fmt="0x%Xull"),
          "",
          c_array("uint32_t", "wp_comp", [p for _, _, p in comps], fmt="0x%X"),
          "",
          "#endif /* BRAIN_ORGANS_CORTEX_WORDPIECE_TABLES_H */",
          ""]
    return "\n".join(h), sizes, total


def wp_generate(verbose):
    """The text of organs/cortex/wordpiece_tables.h."""
    values, records, seq_off, pool, comps, ascii_flags = wp_build()

    def beyond(cp):
        return 0

    best = None
    for ls in range(4, 8):
        for ms in range(2, 7):
            trie = Trie(values, ls, ms, beyond)
            total = sum(trie.sizes().values())
            if best is None or total < best[0]:
                best = (total, trie)
    trie = best[1]
    for cp in range(MAX_CP):
        assert trie.lookup(cp) == values[cp], "U+%04X" % cp
    text, sizes, total = wp_render(records, seq_off, pool, comps, ascii_flags, trie)
    if verbose:
        print("wordpiece: %s, %d bytes" % (sizes, total), file=sys.stderr)
    return text


def pancreas_generate(verbose):
    """The text of organs/pancreas_tables.h."""
    values, pool, seq_off, longest = build()
    kana = kana_compositions()
    best = None
    for ls in range(4, 8):
        for ms in range(2, 7):
            trie = Trie(values, ls, ms)
            total = sum(trie.sizes().values())
            if verbose:
                print("leaf 2^%d, mid 2^%d: %s" % (ls, ms, trie.sizes()), file=sys.stderr)
            if best is None or total < best[0]:
                best = (total, trie)
    trie = best[1]
    self_check(values, trie)
    text, sizes, total = render(values, pool, seq_off, longest, trie, kana)
    if verbose:
        print("chosen: %s, %d bytes" % (sizes, total), file=sys.stderr)
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--output", default=OUT)
    ap.add_argument("--wordpiece-output", default=WP_OUT)
    ap.add_argument("--only", choices=("pancreas", "wordpiece"),
                    help="make (or check) one of the two headers")
    ap.add_argument("--check", action="store_true",
                    help="compare with the existing files instead of writing them")
    ap.add_argument("--unicode-version", default=EXPECTED_UNICODE,
                    help="Unicode version to accept (default %(default)s)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print the size of every table layout tried")
    args = ap.parse_args()
    if unicodedata.unidata_version != args.unicode_version:
        raise SystemExit("unicodedata is Unicode %s, expected %s (use --unicode-version)" %
                         (unicodedata.unidata_version, args.unicode_version))

    outputs = []
    if args.only != "wordpiece":
        outputs.append((args.output, pancreas_generate(args.verbose)))
    if args.only != "pancreas":
        outputs.append((args.wordpiece_output, wp_generate(args.verbose)))
    for path, text in outputs:
        if args.check:
            with open(path, encoding="utf-8") as f:
                if f.read() != text:
                    raise SystemExit("%s is stale: run tools/gen_unicode_tables.py" % path)
            continue
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
