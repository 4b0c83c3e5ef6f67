#!/usr/bin/python3
"""tools/bert_model.py - small random-weight BERT sentence encoders in the
file formats users have, and the reference forward pass they are tested by.

Runs on Debian's /usr/bin/python3 with python3-numpy (python3-onnx for the
`onnx` subcommand only). Nothing here downloads anything.

    tools/bert_model.py write OUTDIR [--layers 2] [--hidden 32] [--heads 4]
        [--inter 64] [--max-pos 40] [--seed 1] [--pooling mean|cls]
        [--act gelu|gelu_new] [--eps 1e-12] [--prefix ""|"bert."]
        [--vocab-words N] [--gguf-style new|old] [--position-ids] [-v]
    tools/bert_model.py embed MODELDIR SENTENCES OUT [--weights W]
    tools/bert_model.py tokenize MODELDIR SENTENCES OUT
    tools/bert_model.py check MODELDIR            (self-check of every file)
    tools/bert_model.py sentences MODELDIR N OUT [--seed 1] [--words 10]
    tools/bert_model.py onnx MODELDIR OUT.onnx

Output goes to files only; nothing is printed except errors unless -v.
Everything is deterministic for a seed (np.random.default_rng(seed)).

What `write` puts in OUTDIR
---------------------------
vocab.txt               WordPiece vocabulary, one token a line, id = line
                        number, laid out like bert-base-uncased's: [PAD],
                        [unusedN], [UNK] [CLS] [SEP] [MASK] (ids 0,6,7,8,9 -
                        not bert-base's 0/100/101/102/103: find specials by
                        their string), single characters, their "##"
                        continuations, English words and pieces, then (with
                        --vocab-words N) random lowercase pseudo-words and
                        ##pieces until the vocabulary has N entries.
config.json             transformers BertConfig (architectures ["BertModel"]).
tokenizer_config.json   BertTokenizer, do_lower_case true, strip_accents null.
special_tokens_map.json as transformers saves it.
tokenizer.json          Hugging Face `tokenizers` serialisation: WordPiece
                        model, BertNormalizer, BertPreTokenizer,
                        TemplateProcessing "[CLS] $A [SEP]".
modules.json, sentence_bert_config.json, 1_Pooling/config.json
                        sentence-transformers: Transformer -> Pooling (mean or
                        cls per --pooling) -> Normalize.
model.safetensors       all tensors F32; model-f16.safetensors: the same
                        tensors, all F16 (incl. LayerNorm and biases).
model-f32.gguf, model-f16.gguf, model-q8_0.gguf
                        as llama.cpp's convert_hf_to_gguf.py writes a BERT
                        model with --outtype f32 / f16 / q8_0.

safetensors layout (https://github.com/huggingface/safetensors, README
"Format"): u64 little-endian N, N bytes of JSON {"__metadata__":
{"format":"pt"}, name: {"dtype","shape","data_offsets":[begin,end]}} padded
with spaces so that 8+N is a multiple of 8, then the data; offsets are
relative to the data start. Tensors are laid out (and listed in the
header) as the safetensors library does it: wider dtypes first, then by
name. HF tensor names (optionally prefixed with "bert." as BertForMaskedLM
checkpoints are):
embeddings.{word,position,token_type}_embeddings.weight, embeddings.LayerNorm.
{weight,bias}, encoder.layer.{i}.attention.self.{query,key,value}.{weight,bias},
encoder.layer.{i}.attention.output.dense.*, .attention.output.LayerNorm.*,
.intermediate.dense.*, .output.dense.*, .output.LayerNorm.*, pooler.dense.*.
Linear weights are PyTorch's [out, in] (y = x W^T + b). --position-ids adds
the int64 buffer embeddings.position_ids [1, max_pos] that older checkpoints
carry (a loader must skip it).

GGUF layout (ggml docs/gguf.md; gguf-py's GGUFWriter; convert_hf_to_gguf.py
class BertModel; llama.cpp's llama-vocab.cpp): "GGUF", u32 version 3, u64
tensor count, u64 KV count, the KVs (key = u64 length + UTF-8 bytes; u32 value
type; value; arrays are u32 element type, u64 count, elements), the tensor
infos (name, u32 n_dims, u64 ne[n_dims] with ne[0] the fastest-varying, i.e.
PyTorch's LAST dimension, u32 ggml type, u64 offset from the start of the data
section), zero padding to general.alignment (32; not written, as the
converter does not write it), then the data, every tensor at a multiple of 32
from the data start and zero-padded to one. Tensors come in the converter's
order (sorted HF names, so encoder.layer.10 sorts before encoder.layer.2) and
with its names: token_embd, token_types, position_embd, token_embd_norm,
blk.{i}.attn_q/attn_k/attn_v/attn_output/attn_output_norm/ffn_up/ffn_down/
layer_output_norm (.weight, .bias); the pooler is dropped.

Tensor types, as the converter decides them: f32 file: all F32. f16 file:
2-D .weight matrices F16, 1-D tensors F32, and position_embd and token_types
F32 (the converter's "always in float32" list, since May 2024; with
--gguf-style old they are F16 in the f16 and q8_0 files, as the converter
before that wrote them and llama-quantize left them). q8_0 file (what
--outtype q8_0 and llama-quantize Q8_0 both give): like f16 but the 2-D
matrices are Q8_0 where ne[0] is a multiple of 32 (F16 otherwise, the
converter's QuantError fallback). Q8_0 block: f16 d then 32 int8 q, x = d*q,
d = max|x|/127, q = roundf(x/d) in float32, exactly as gguf-py quants.py and
ggml's quantize_row_q8_0_ref.

KVs, in the converter's order: general.architecture "bert", general.type
"model", general.name, general.size_label, bert.block_count,
bert.context_length, bert.embedding_length, bert.feed_forward_length,
bert.attention.head_count, bert.attention.layer_norm_epsilon (f32),
general.file_type (0 f32, 1 f16, 7 q8_0), bert.attention.causal (false),
bert.pooling_type (1 mean, 2 cls), tokenizer.ggml.token_type_count (2),
tokenizer.ggml.model "bert", tokenizer.ggml.pre "jina-v2-en" (what
bert-base-uncased-vocabulary models get), tokenizer.ggml.tokens,
tokenizer.ggml.token_type (i32: 3 control for the tokens in tokenizer.json's
added_tokens, i.e. [PAD] [UNK] [CLS] [SEP] [MASK]; 1 normal for the rest,
[unusedN] included), then the special ids and general.quantization_version 2.
--gguf-style new (default; llama.cpp's converter since 2025, which reads CLS
as BOS): tokenizer.ggml.bos_token_id = [CLS], eos_token_id = [SEP],
unknown_token_id, seperator_token_id (sic), padding_token_id, mask_token_id,
add_bos_token true, add_eos_token true, add_sep_token false; token text
conversion: a control token stays, "##x" -> "x", any other -> "\u2581x".
--gguf-style old (2024 converters): unknown, seperator, padding,
tokenizer.ggml.cls_token_id, mask ids and no bos/eos/add_*; a token in
[brackets] stays, "##x" -> "x", any other -> "\u2581x"; position_embd and
token_types F16 in the f16 and q8_0 files.

The reference (`embed`)
-----------------------
Tokenizer: transformers' slow BertTokenizer (BasicTokenizer + Wordpiece-
Tokenizer) re-implemented: _clean_text drops NUL, U+FFFD and category C*
except \\t \\n \\r and maps \\t \\n \\r and Zs to " "; CJK ideographs get spaces
around them; NFC; split on str.split() whitespace (so U+2028 and U+2029,
category Zl/Zp, which _clean_text keeps, separate words too); per word:
str.lower() (with Greek final sigma), NFD, drop Mn; split
off each punctuation character (ASCII 33-47, 58-64, 91-96, 123-126 or Unicode
P*); WordPiece greedy longest-match-first with "##", a word over 100 code
points or with an unmatched rest -> [UNK]. Special-token strings in the text
("[CLS]") are NOT recognised: they are tokenized as plain text.
SENTENCES files are split on "\\n" only; a final newline ends the last line.
Character classes come from this Python's unicodedata (Unicode 14.0 for
Python 3.11, like tools/gen_unicode_tables.py).

Forward pass in float64: x = word + position + token_type[0], LayerNorm; per
layer: q k v = x W^T + b, per head softmax(q k^T / sqrt(head_dim)) v, output
dense, residual + LayerNorm, intermediate dense + GELU (erf; gelu_new = tanh
form), output dense, residual + LayerNorm. Pooling: mean over every token of
the window incl. [CLS]/[SEP], or the [CLS] row. A text longer than max_pos-2
tokens is cut into consecutive windows of max_pos-2 tokens, each wrapped in
[CLS] .. [SEP]; the un-normalised window vectors are averaged weighted by
their token counts (specials excluded); the result is L2-normalised. No
tokens at all = one window [CLS] [SEP].
--weights safetensors (default; model.safetensors), safetensors-f16, f32, f16,
q8_0 (model-<w>.gguf, dequantized exactly as stored).

OUT of `embed`: per sentence "ids <ids of the first window incl. specials>"
and "vec <hidden floats %.9g>". OUT of `tokenize`: per sentence "ids <ids of
the whole text, no specials>".

Other subcommands
-----------------
check MODELDIR: reads every file back with readers that share no code with
the writers and checks names, shapes, dtypes, KVs, token lists, alignment,
offsets, f16 rounding, Q8_0 blocks (against a scalar re-quantization) and
that the reference gives the same vector from every weight file; exit 1 on
any failure. sentences: random sentences of whole vocabulary words (about
12 tokens each for --words 10), for benchmarks. onnx: the same forward
graph (opset 13, input_ids int64 [1, seq] -> sentence_embedding [1, hidden],
pooled and L2-normalised; no windowing) from model.safetensors, checked with
onnx.checker; bench/bench_embed_ort.js runs it in ONNX Runtime.
"""

import argparse
import json
import math
import os
import struct
import sys
import unicodedata

import numpy as np

VERBOSE = False


def log(msg):
    if VERBOSE:
        print(msg, file=sys.stderr)


def die(msg):
    print("bert_model.py: " + msg, file=sys.stderr)
    sys.exit(1)


# ---------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")

# Characters: ASCII printable except upper case (an uncased vocabulary never
# sees them), Latin-1 and other letters (the accented ones are unreachable
# after accent stripping, as in bert-base-uncased; ß ø æ ð þ ł đ are not),
# Greek (both sigmas: str.lower() gives final ς at a word end), Cyrillic,
# kana and hangul (not split like CJK ideographs), CJK ideographs, and
# Unicode punctuation and symbols. Deliberately absent: € ™ and emoji, so
# words holding them become [UNK].
_CHARS = (
    [chr(c) for c in range(33, 127) if not ("A" <= chr(c) <= "Z")]
    + list("¡¿«»§°±×÷·¶©®¬µ")
    + list("éèêëáàâäãåçíìîïñóòôöõúùûüýÿ")
    + list("ßøæðþłđœı")
    + list("αβγδεζηθικλμνξοπρσςτυφχψω")
    + list("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")
    + list("あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんアイウエオカキクケコ")
    + list("한국어서울")
    + list("的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年日本語東京")
    + list("‐–—―‘’‚“”„†‡•…‰′″‹›")
)
_CONT_CHARS = (
    list("abcdefghijklmnopqrstuvwxyz0123456789")
    + list("ßøæ")
    + list("αβγδεζηθικλμνξοπρσςτυφχψω")
    + list("абвгдежзийклмнопрстуфхцчшщъыьэюя")
    + list("いうえおかきくけこしすてとなにのはまもらりるれろん")
)
_WORDS = """
the of and to in is was for on that with as by at it he his from are be this
which an or had not were but have they one their has been all who its first
new two she her also more after when there other would can time about into
some we up out over so most only them can't won't than many these may then
such year years used between under while both during three world city people
state history life later made known part where because each any through
before since around being few well much those very what how our your you
me my i do did does done get got make go going went gone come came take
took see saw know knew think thought good great small large long short old
young high low big little man men woman women child children day days night
house home school work water food book books word words name names place
play plays played playing player players game games music song songs art
paint painted painting paintings painter portrait mona lisa museum louvre
paris france italy london england germany japan china rome leonardo vinci
da picture pictures image color colour red blue green white black light dark
sun moon star stars sky sea river mountain tree trees flower flowers dog
dogs cat cats bird birds horse fish animal animals car cars road train
ship ships boat plane computer computers memory memories brain mind idea
ideas thing things question questions answer answers search find found
read write wrote written reading writing text texts sentence sentences
language languages model models data number numbers system systems
program programs code file files library engine store stored storage
happy sad love loved like liked want wanted need needed use using
un re pre dis in im non over under out
##s ##es ##ed ##ing ##er ##ers ##est ##ly ##able ##ible ##al ##ful ##less
##ness ##ment ##ments ##tion ##tions ##sion ##ity ##ous ##ive ##ize ##ise
##ism ##ist ##ists ##y ##ies ##ry ##an ##en ##on ##in ##ia ##ic ##al ##le
##te ##ted ##ting ##ter ##ate ##ated ##ating ##ance ##ence ##ant ##ent ##ish
##ward ##wards ##hood ##ship ##dom ##like ##ish
##play ##paint ##word ##book ##game ##light ##house ##work ##man
"""

# Fixed id layout: [PAD] 0, [unused0-4] 1-5, [UNK] 6, [CLS] 7, [SEP] 8,
# [MASK] 9, [unused5-7] 10-12, then characters, continuations and words.


def build_vocab(seed, total):
    vocab = ["[PAD]"] + ["[unused%d]" % i for i in range(5)]
    vocab += ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab += ["[unused%d]" % i for i in range(5, 8)]
    seen = set(vocab)

    def add(tok):
        if tok not in seen:
            seen.add(tok)
            vocab.append(tok)

    for c in _CHARS:
        add(c)
    for c in _CONT_CHARS:
        add("##" + c)
    for w in _WORDS.split():
        add(w)
    if total > len(vocab):
        # Pseudo-words, a fifth of them ##pieces, with letter frequencies
        # roughly those of English so that random text hits multi-piece words.
        rng = np.random.default_rng([seed, 7])
        letters = np.array(list("etaoinshrdlcumwfgypbvkjxqz"))
        weights = np.array([12.7, 9.1, 8.2, 7.5, 7.0, 6.7, 6.3, 6.1, 6.0,
                            4.3, 4.0, 2.8, 2.8, 2.4, 2.4, 2.2, 2.0, 2.0, 1.9,
                            1.5, 1.0, 0.8, 0.15, 0.15, 0.1, 0.07])
        weights = weights / weights.sum()
        while len(vocab) < total:
            n = total - len(vocab)
            lens = rng.integers(2, 11, size=n)
            cont = rng.random(n) < 0.2
            chars = rng.choice(letters, size=(n, 10), p=weights)
            for i in range(n):
                w = "".join(chars[i, :lens[i]])
                add(("##" + w) if cont[i] else w)
                if len(vocab) >= total:
                    break
    return vocab


def read_vocab(path):
    with open(path, "r", encoding="utf-8", newline="\n") as f:
        text = f.read()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines  # transformers' load_vocab: token = line.rstrip("\n")


# ---------------------------------------------------------------------------
# Weights
# ---------------------------------------------------------------------------

class Config:
    def __init__(self, layers, hidden, heads, inter, max_pos, vocab_size,
                 eps, act, pooling):
        if hidden % heads:
            die("--hidden must be a multiple of --heads")
        self.layers, self.hidden, self.heads = layers, hidden, heads
        self.inter, self.max_pos, self.vocab_size = inter, max_pos, vocab_size
        self.eps, self.act, self.pooling = eps, act, pooling

    @classmethod
    def load(cls, modeldir):
        with open(os.path.join(modeldir, "config.json"), encoding="utf-8") as f:
            c = json.load(f)
        pooling = "mean"
        mpath = os.path.join(modeldir, "modules.json")
        if os.path.exists(mpath):
            with open(mpath, encoding="utf-8") as f:
                for m in json.load(f):
                    if m["type"] == "sentence_transformers.models.Pooling":
                        with open(os.path.join(modeldir, m["path"], "config.json"),
                                  encoding="utf-8") as pf:
                            p = json.load(pf)
                        if p.get("pooling_mode_mean_tokens"):
                            pooling = "mean"
                        elif p.get("pooling_mode_cls_token"):
                            pooling = "cls"
                        else:
                            die("only mean and cls pooling are supported")
        return cls(c["num_hidden_layers"], c["hidden_size"],
                   c["num_attention_heads"], c["intermediate_size"],
                   c["max_position_embeddings"], c["vocab_size"],
                   c.get("layer_norm_eps", 1e-12), c.get("hidden_act", "gelu"),
                   pooling)


def make_weights(cfg, seed):
    """HF-named (unprefixed) float32 tensors, in a fixed generation order.

    Matrices ~ N(0, 0.2 * sqrt(32 / fan_in)) (0.2 for the default 32-wide
    model; scaled so that a 384-wide model's attention does not saturate),
    embeddings ~ N(0, 0.2), biases ~ N(0, 0.05), LayerNorm gamma ~ 1 +
    N(0, 0.1), beta ~ N(0, 0.1).
    """
    rng = np.random.default_rng(seed)
    H, I = cfg.hidden, cfg.inter
    w = {}

    def mat(name, rows, cols):
        std = 0.2 * math.sqrt(32.0 / cols)
        w[name + ".weight"] = rng.normal(0.0, std, (rows, cols)).astype(np.float32)
        w[name + ".bias"] = rng.normal(0.0, 0.05, rows).astype(np.float32)

    def norm(name):
        w[name + ".weight"] = (1.0 + rng.normal(0.0, 0.1, H)).astype(np.float32)
        w[name + ".bias"] = rng.normal(0.0, 0.1, H).astype(np.float32)

    for name, rows in (("word", cfg.vocab_size), ("position", cfg.max_pos),
                       ("token_type", 2)):
        w["embeddings.%s_embeddings.weight" % name] = \
            rng.normal(0.0, 0.2, (rows, H)).astype(np.float32)
    norm("embeddings.LayerNorm")
    for i in range(cfg.layers):
        p = "encoder.layer.%d." % i
        for part in ("query", "key", "value"):
            mat(p + "attention.self." + part, H, H)
        mat(p + "attention.output.dense", H, H)
        norm(p + "attention.output.LayerNorm")
        mat(p + "intermediate.dense", I, H)
        mat(p + "output.dense", H, I)
        norm(p + "output.LayerNorm")
    mat("pooler.dense", H, H)
    return w


# ---------------------------------------------------------------------------
# HF / sentence-transformers side files
# ---------------------------------------------------------------------------

def write_json(path, obj):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def write_hf_files(outdir, cfg, vocab, ids):
    with open(os.path.join(outdir, "vocab.txt"), "w", encoding="utf-8",
              newline="\n") as f:
        f.write("".join(t + "\n" for t in vocab))
    write_json(os.path.join(outdir, "config.json"), {
        "architectures": ["BertModel"],
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": cfg.act,
        "hidden_dropout_prob": 0.1,
        "hidden_size": cfg.hidden,
        "initializer_range": 0.02,
        "intermediate_size": cfg.inter,
        "layer_norm_eps": cfg.eps,
        "max_position_embeddings": cfg.max_pos,
        "model_type": "bert",
        "num_attention_heads": cfg.heads,
        "num_hidden_layers": cfg.layers,
        "pad_token_id": ids["[PAD]"],
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        "transformers_version": "4.41.2",
        "type_vocab_size": 2,
        "use_cache": True,
        "vocab_size": cfg.vocab_size,
    })
    added = [{"id": ids[t], "content": t, "single_word": False,
              "lstrip": False, "rstrip": False, "normalized": False,
              "special": True} for t in sorted(SPECIALS, key=lambda t: ids[t])]
    write_json(os.path.join(outdir, "tokenizer_config.json"), {
        "added_tokens_decoder": {str(a["id"]): {k: v for k, v in a.items()
                                                if k != "id"} for a in added},
        "clean_up_tokenization_spaces": True,
        "cls_token": "[CLS]",
        "do_basic_tokenize": True,
        "do_lower_case": True,
        "mask_token": "[MASK]",
        "model_max_length": cfg.max_pos,
        "never_split": None,
        "pad_token": "[PAD]",
        "sep_token": "[SEP]",
        "strip_accents": None,
        "tokenize_chinese_chars": True,
        "tokenizer_class": "BertTokenizer",
        "unk_token": "[UNK]",
    })
    write_json(os.path.join(outdir, "special_tokens_map.json"), {
        "cls_token": "[CLS]", "mask_token": "[MASK]", "pad_token": "[PAD]",
        "sep_token": "[SEP]", "unk_token": "[UNK]"})
    cls_id, sep_id = ids["[CLS]"], ids["[SEP]"]
    write_json(os.path.join(outdir, "tokenizer.json"), {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": True,
                       "handle_chinese_chars": True, "strip_accents": None,
                       "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [cls_id], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [sep_id], "tokens": ["[SEP]"]}},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]",
                  "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100,
                  "vocab": {t: i for i, t in enumerate(vocab)}},
    })
    write_json(os.path.join(outdir, "modules.json"), [
        {"idx": 0, "name": "0", "path": "",
         "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.models.Normalize"},
    ])
    write_json(os.path.join(outdir, "sentence_bert_config.json"),
               {"max_seq_length": cfg.max_pos, "do_lower_case": False})
    os.makedirs(os.path.join(outdir, "1_Pooling"), exist_ok=True)
    write_json(os.path.join(outdir, "1_Pooling", "config.json"), {
        "word_embedding_dimension": cfg.hidden,
        "pooling_mode_cls_token": cfg.pooling == "cls",
        "pooling_mode_mean_tokens": cfg.pooling == "mean",
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,
    })


# ---------------------------------------------------------------------------
# safetensors writer
# ---------------------------------------------------------------------------

_ST_DTYPE = {np.dtype("float32"): "F32", np.dtype("float16"): "F16",
             np.dtype("int64"): "I64"}


def write_safetensors(path, tensors):
    """tensors: {name: ndarray}, little-endian, in the safetensors library's
    order: wider dtypes first (I64 before F32 before F16), then by name."""
    header = {"__metadata__": {"format": "pt"}}
    blobs, offset = [], 0
    for name in sorted(tensors, key=lambda n: (-tensors[n].dtype.itemsize, n)):
        a = tensors[name]
        raw = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": _ST_DTYPE[a.dtype], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * (-len(hjson) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


# ---------------------------------------------------------------------------
# GGUF writer
# ---------------------------------------------------------------------------

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3
GGUF_ALIGN = 32
(GU8, GI8, GU16, GI16, GU32, GI32, GF32, GBOOL, GSTR, GARR, GU64, GI64,
 GF64) = range(13)
GGML_F32, GGML_F16, GGML_Q8_0 = 0, 1, 8
QK8_0 = 32
FTYPE = {"f32": 0, "f16": 1, "q8_0": 7}
_SCALAR_FMT = {GU8: "<B", GI8: "<b", GU16: "<H", GI16: "<h", GU32: "<I",
               GI32: "<i", GF32: "<f", GBOOL: "<?", GU64: "<Q", GI64: "<q",
               GF64: "<d"}


def _gguf_str(s):
    b = s.encode("utf-8") if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def _gguf_value(vtype, value):
    if vtype == GSTR:
        return _gguf_str(value)
    if vtype == GARR:
        etype, items = value
        out = [struct.pack("<IQ", etype, len(items))]
        if etype == GSTR:
            out += [_gguf_str(s) for s in items]
        else:
            out.append(np.asarray(items, dtype=np.dtype(
                _SCALAR_FMT[etype][1:]).newbyteorder("<")).tobytes())
        return b"".join(out)
    return struct.pack(_SCALAR_FMT[vtype], value)


def np_roundf(n):
    """C roundf (half away from zero), as gguf-py quants.np_roundf."""
    a = np.abs(n)
    floored = np.floor(a)
    b = floored + np.floor(2 * (a - floored))
    return np.sign(n) * b


def quantize_q8_0(x):
    """float32 [..., n*32] -> uint8 blocks bytes (34 bytes per 32 values)."""
    blocks = np.asarray(x, dtype=np.float32).reshape(-1, QK8_0)
    d = np.abs(blocks).max(axis=1, keepdims=True) / np.float32(127)
    with np.errstate(divide="ignore"):
        inv = np.where(d == 0, np.float32(0), np.float32(1) / d).astype(np.float32)
    qs = np_roundf(blocks * inv).astype(np.int8)
    out = np.empty((blocks.shape[0], 2 + QK8_0), dtype=np.uint8)
    out[:, :2] = d.astype("<f2").view(np.uint8)
    out[:, 2:] = qs.view(np.uint8)
    return out


def dequantize_q8_0(raw, n):
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 2 + QK8_0)
    d = blocks[:, :2].copy().view("<f2").astype(np.float32)
    q = blocks[:, 2:].copy().view(np.int8).astype(np.float32)
    return (q * d).reshape(-1)[:n]


HF_TO_GGUF = [  # (HF suffix, GGUF name); {i} is the layer
    ("embeddings.word_embeddings", "token_embd"),
    ("embeddings.token_type_embeddings", "token_types"),
    ("embeddings.position_embeddings", "position_embd"),
    ("embeddings.LayerNorm", "token_embd_norm"),
    ("encoder.layer.{i}.attention.self.query", "blk.{i}.attn_q"),
    ("encoder.layer.{i}.attention.self.key", "blk.{i}.attn_k"),
    ("encoder.layer.{i}.attention.self.value", "blk.{i}.attn_v"),
    ("encoder.layer.{i}.attention.output.dense", "blk.{i}.attn_output"),
    ("encoder.layer.{i}.attention.output.LayerNorm", "blk.{i}.attn_output_norm"),
    ("encoder.layer.{i}.intermediate.dense", "blk.{i}.ffn_up"),
    ("encoder.layer.{i}.output.dense", "blk.{i}.ffn_down"),
    ("encoder.layer.{i}.output.LayerNorm", "blk.{i}.layer_output_norm"),
]


def hf_to_gguf_name(name):
    """Unprefixed HF tensor name -> GGUF name, or None (pooler etc.)."""
    base, _, suffix = name.rpartition(".")
    parts = base.split(".")
    layer = None
    if len(parts) > 2 and parts[0] == "encoder" and parts[1] == "layer":
        layer = parts[2]
        base = ".".join(parts[:2] + ["{i}"] + parts[3:])
    for hf, gg in HF_TO_GGUF:
        if hf == base:
            return gg.replace("{i}", layer or "") + "." + suffix
    return None


def gguf_tensor_type(gname, shape, outtype, style):
    """The converter's choice of ggml type for one tensor (HF shape)."""
    if outtype == "f32" or len(shape) <= 1 or gname.endswith("_norm.weight") \
            or not gname.endswith(".weight"):
        return GGML_F32
    if gname in ("position_embd.weight", "token_types.weight"):
        # new: the converter's "always F32" list; old: F16 from the f16
        # converter, which llama-quantize then leaves alone
        return GGML_F32 if style == "new" else GGML_F16
    if outtype == "q8_0" and shape[-1] % QK8_0 == 0:
        return GGML_Q8_0
    return GGML_F16


def size_label(n):
    """gguf-py utility.model_weight_count_rounded_notation(min_digits=2)."""
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if n > scale:
            v = n / scale
            break
    else:
        v, suffix = n * 1e-3, "K"
    fix = max(2 - len(str(round(v)).lstrip("0")), 0)
    return "%.*f%s" % (fix, v, suffix)


def gguf_tokens(vocab, style):
    control = set(SPECIALS)
    out = []
    for t in vocab:
        keep = (t in control) if style == "new" else \
            (t.startswith("[") and t.endswith("]"))
        if keep:
            out.append(t)
        elif t.startswith("##"):
            out.append(t[2:])
        else:
            out.append("\u2581" + t)
    return out


def write_gguf(path, cfg, vocab, ids, weights, outtype, style, name):
    gt = []  # (gguf name, ggml type, ne list, raw bytes)
    nparams = 0
    for hf in sorted(weights):  # the converter walks the sorted HF names
        gname = hf_to_gguf_name(hf)
        if gname is None:
            continue
        a = weights[hf]
        nparams += a.size
        t = gguf_tensor_type(gname, a.shape, outtype, style)
        if t == GGML_F32:
            raw = a.astype("<f4").tobytes()
        elif t == GGML_F16:
            raw = a.astype("<f2").tobytes()
        else:
            raw = quantize_q8_0(a).tobytes()
        gt.append((gname, t, list(reversed(a.shape)), raw))

    kv = [("general.architecture", GSTR, "bert"),
          ("general.type", GSTR, "model"),
          ("general.name", GSTR, name),
          ("general.size_label", GSTR, size_label(nparams)),
          ("bert.block_count", GU32, cfg.layers),
          ("bert.context_length", GU32, cfg.max_pos),
          ("bert.embedding_length", GU32, cfg.hidden),
          ("bert.feed_forward_length", GU32, cfg.inter),
          ("bert.attention.head_count", GU32, cfg.heads),
          ("bert.attention.layer_norm_epsilon", GF32, cfg.eps),
          ("general.file_type", GU32, FTYPE[outtype]),
          ("bert.attention.causal", GBOOL, False),
          ("bert.pooling_type", GU32, 1 if cfg.pooling == "mean" else 2),
          ("tokenizer.ggml.token_type_count", GU32, 2),
          ("tokenizer.ggml.model", GSTR, "bert"),
          ("tokenizer.ggml.pre", GSTR, "jina-v2-en"),
          ("tokenizer.ggml.tokens", GARR, (GSTR, gguf_tokens(vocab, style))),
          ("tokenizer.ggml.token_type", GARR,
           (GI32, [3 if t in SPECIALS else 1 for t in vocab]))]
    if style == "new":
        kv += [("tokenizer.ggml.bos_token_id", GU32, ids["[CLS]"]),
               ("tokenizer.ggml.eos_token_id", GU32, ids["[SEP]"]),
               ("tokenizer.ggml.unknown_token_id", GU32, ids["[UNK]"]),
               ("tokenizer.ggml.seperator_token_id", GU32, ids["[SEP]"]),
               ("tokenizer.ggml.padding_token_id", GU32, ids["[PAD]"]),
               ("tokenizer.ggml.mask_token_id", GU32, ids["[MASK]"]),
               ("tokenizer.ggml.add_bos_token", GBOOL, True),
               ("tokenizer.ggml.add_eos_token", GBOOL, True),
               ("tokenizer.ggml.add_sep_token", GBOOL, False)]
    else:
        kv += [("tokenizer.ggml.unknown_token_id", GU32, ids["[UNK]"]),
               ("tokenizer.ggml.seperator_token_id", GU32, ids["[SEP]"]),
               ("tokenizer.ggml.padding_token_id", GU32, ids["[PAD]"]),
               ("tokenizer.ggml.cls_token_id", GU32, ids["[CLS]"]),
               ("tokenizer.ggml.mask_token_id", GU32, ids["[MASK]"])]
    kv.append(("general.quantization_version", GU32, 2))

    out = [GGUF_MAGIC, struct.pack("<IQQ", GGUF_VERSION, len(gt), len(kv))]
    for key, vtype, value in kv:
        out += [_gguf_str(key), struct.pack("<I", vtype), _gguf_value(vtype, value)]
    offset = 0
    for gname, t, ne, raw in gt:
        out += [_gguf_str(gname), struct.pack("<I", len(ne)),
                struct.pack("<%dQ" % len(ne), *ne), struct.pack("<IQ", t, offset)]
        offset += len(raw) + (-len(raw) % GGUF_ALIGN)
    head = b"".join(out)
    with open(path, "wb") as f:
        f.write(head)
        f.write(b"\0" * (-len(head) % GGUF_ALIGN))
        for _, _, _, raw in gt:
            f.write(raw)
            f.write(b"\0" * (-len(raw) % GGUF_ALIGN))


# ---------------------------------------------------------------------------
# Readers (independent of the writers above: they only trust the bytes)
# ---------------------------------------------------------------------------

class SafeTensors:
    def __init__(self, path):
        with open(path, "rb") as f:
            data = f.read()
        if len(data) < 8:
            raise ValueError("%s: too short" % path)
        (n,) = struct.unpack_from("<Q", data, 0)
        if 8 + n > len(data):
            raise ValueError("%s: header past the end" % path)
        self.header_len = n
        self.header = json.loads(data[8:8 + n].decode("utf-8"))
        self.metadata = self.header.pop("__metadata__", None)
        self.body = memoryview(data)[8 + n:]

    def names(self):
        return list(self.header)

    def get(self, name):
        h = self.header[name]
        b, e = h["data_offsets"]
        if h["dtype"] == "BF16":
            a = (np.frombuffer(self.body[b:e], dtype="<u2").astype(np.uint32)
                 << 16).view(np.float32)
        else:
            dt = {"F32": "<f4", "F16": "<f2", "I64": "<i8"}[h["dtype"]]
            a = np.frombuffer(self.body[b:e], dtype=dt)
        return a.reshape(h["shape"])


class GGUFFile:
    """A GGUF v2/v3 reader: KVs, tensor infos, F32/F16/Q8_0 tensors."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        self.pos = 0
        if self._take(4) != GGUF_MAGIC:
            raise ValueError("%s: not GGUF" % path)
        self.version = self._u("<I")
        if self.version not in (2, 3):
            raise ValueError("%s: GGUF version %d" % (path, self.version))
        n_tensors, n_kv = self._u("<Q"), self._u("<Q")
        self.kv, self.kv_types = {}, {}
        for _ in range(n_kv):
            key = self._str()
            vtype = self._u("<I")
            if key in self.kv:
                raise ValueError("duplicate key " + key)
            self.kv[key] = self._val(vtype)
            self.kv_types[key] = vtype
        self.tensors = {}
        self.order = []
        for _ in range(n_tensors):
            name = self._str()
            nd = self._u("<I")
            ne = [self._u("<Q") for _ in range(nd)]
            t, off = self._u("<I"), self._u("<Q")
            self.tensors[name] = (t, ne, off)
            self.order.append(name)
        self.alignment = self.kv.get("general.alignment", GGUF_ALIGN)
        self.info_end = self.pos
        self.data_start = self.pos + (-self.pos % self.alignment)

    def _take(self, n):
        b = self.data[self.pos:self.pos + n]
        if len(b) != n:
            raise ValueError("truncated GGUF")
        self.pos += n
        return b

    def _u(self, fmt):
        (v,) = struct.unpack(fmt, self._take(struct.calcsize(fmt)))
        return v

    def _str(self):
        return self._take(self._u("<Q")).decode("utf-8")

    def _val(self, vtype):
        if vtype == GSTR:
            return self._str()
        if vtype == GARR:
            et, n = self._u("<I"), self._u("<Q")
            return [self._val(et) for _ in range(n)]
        fmt = {GU8: "<B", GI8: "<b", GU16: "<H", GI16: "<h", GU32: "<I",
               GI32: "<i", GF32: "<f", GBOOL: "<B", GU64: "<Q", GI64: "<q",
               GF64: "<d"}[vtype]
        v = self._u(fmt)
        return bool(v) if vtype == GBOOL else v

    def nbytes(self, name):
        t, ne, _ = self.tensors[name]
        n = int(np.prod(ne, dtype=np.int64))
        if t == GGML_F32:
            return 4 * n
        if t == GGML_F16:
            return 2 * n
        if t == GGML_Q8_0:
            if ne[0] % QK8_0:
                raise ValueError("%s: Q8_0 with ne[0] %d" % (name, ne[0]))
            return n // QK8_0 * (2 + QK8_0)
        raise ValueError("%s: ggml type %d not supported" % (name, t))

    def raw(self, name):
        t, ne, off = self.tensors[name]
        b = self.data_start + off
        return self.data[b:b + self.nbytes(name)]

    def get(self, name):
        """The tensor as float32, in PyTorch shape (ne reversed)."""
        t, ne, off = self.tensors[name]
        raw = self.raw(name)
        n = int(np.prod(ne, dtype=np.int64))
        if t == GGML_F32:
            a = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        elif t == GGML_F16:
            a = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        else:
            a = dequantize_q8_0(raw, n)
        return a.reshape(list(reversed(ne)))


# ---------------------------------------------------------------------------
# `write`
# ---------------------------------------------------------------------------

def cmd_write(a):
    vocab = build_vocab(a.seed, a.vocab_words)
    ids = {t: i for i, t in enumerate(vocab)}
    if len(ids) != len(vocab):
        die("duplicate token in the vocabulary")
    cfg = Config(a.layers, a.hidden, a.heads, a.inter, a.max_pos, len(vocab),
                 a.eps, a.act, a.pooling)
    os.makedirs(a.outdir, exist_ok=True)
    weights = make_weights(cfg, a.seed)
    write_hf_files(a.outdir, cfg, vocab, ids)

    st = {a.prefix + k: v for k, v in weights.items()}
    if a.position_ids:
        st[a.prefix + "embeddings.position_ids"] = \
            np.arange(cfg.max_pos, dtype=np.int64).reshape(1, -1)
    write_safetensors(os.path.join(a.outdir, "model.safetensors"), st)
    write_safetensors(os.path.join(a.outdir, "model-f16.safetensors"),
                      {k: (v.astype(np.float16) if v.dtype == np.float32 else v)
                       for k, v in st.items()})
    name = "bert-random-L%d-H%d" % (cfg.layers, cfg.hidden)
    for outtype in ("f32", "f16", "q8_0"):
        write_gguf(os.path.join(a.outdir, "model-%s.gguf" % outtype), cfg,
                   vocab, ids, weights, outtype, a.gguf_style, name)
    for f in sorted(os.listdir(a.outdir)):
        p = os.path.join(a.outdir, f)
        if os.path.isfile(p):
            log("%10d  %s" % (os.path.getsize(p), p))
    log("vocab %d, layers %d, hidden %d, heads %d, inter %d, max_pos %d, "
        "pooling %s, act %s" % (len(vocab), cfg.layers, cfg.hidden, cfg.heads,
                                cfg.inter, cfg.max_pos, cfg.pooling, cfg.act))


# ---------------------------------------------------------------------------
# Tokenizer: transformers' BertTokenizer (slow), do_lower_case=True
# ---------------------------------------------------------------------------

def _is_whitespace(ch):
    if ch in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(ch) == "Zs"


def _is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch).startswith("C")


def _is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_chinese_char(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF
            or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class BertTokenizer:
    def __init__(self, vocab):
        self.vocab = {t: i for i, t in enumerate(vocab)}
        for s in SPECIALS:
            if s not in self.vocab:
                die("vocabulary has no " + s)
        self.unk = self.vocab["[UNK]"]
        self.cls = self.vocab["[CLS]"]
        self.sep = self.vocab["[SEP]"]
        self.max_chars = 100

    def basic(self, text):
        out = []
        for ch in text:  # _clean_text
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or _is_control(ch):
                continue
            out.append(" " if _is_whitespace(ch) else ch)
        text = "".join(out)
        out = []
        for ch in text:  # _tokenize_chinese_chars
            if _is_chinese_char(ord(ch)):
                out += [" ", ch, " "]
            else:
                out.append(ch)
        text = unicodedata.normalize("NFC", "".join(out))
        split = []
        for tok in text.strip().split():
            tok = tok.lower()
            tok = "".join(c for c in unicodedata.normalize("NFD", tok)
                          if unicodedata.category(c) != "Mn")
            cur = []
            for ch in tok:  # _run_split_on_punc
                if _is_punctuation(ch):
                    if cur:
                        split.append("".join(cur))
                        cur = []
                    split.append(ch)
                else:
                    cur.append(ch)
            if cur:
                split.append("".join(cur))
        return " ".join(split).strip().split()

    def wordpiece(self, word):
        if len(word) > self.max_chars:
            return [self.unk]
        out, start = [], 0
        while start < len(word):
            end, cur = len(word), None
            while start < end:
                sub = word[start:end]
                if start > 0:
                    sub = "##" + sub
                if sub in self.vocab:
                    cur = self.vocab[sub]
                    break
                end -= 1
            if cur is None:
                return [self.unk]
            out.append(cur)
            start = end
        return out

    def encode(self, text):
        ids = []
        for w in self.basic(text):
            ids += self.wordpiece(w)
        return ids


def read_sentences(path):
    with open(path, "rb") as f:
        data = f.read().decode("utf-8")
    lines = data.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


# ---------------------------------------------------------------------------
# Forward pass (float64)
# ---------------------------------------------------------------------------

_erf = np.frompyfunc(math.erf, 1, 1)


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64))


def gelu_new(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi)
                                    * (x + 0.044715 * x ** 3)))


def layer_norm(x, g, b, eps):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


class BertRef:
    def __init__(self, cfg, w):
        """w: unprefixed HF names -> arrays (any float dtype)."""
        self.cfg = cfg
        self.w = {k: np.asarray(v, dtype=np.float64) for k, v in w.items()}
        # W^T, contiguous, once (Debian's numpy may run on the reference BLAS)
        self.wt = {k: np.ascontiguousarray(v.T) for k, v in self.w.items()
                   if v.ndim == 2 and not k.startswith("embeddings.")}
        if cfg.act not in ("gelu", "gelu_new"):
            die("hidden_act %r not supported" % cfg.act)
        self.act = gelu if cfg.act == "gelu" else gelu_new

    def window(self, ids):
        """Pooled, un-normalised vector of one window (ids incl. specials)."""
        c, w = self.cfg, self.w
        n, H, nh = len(ids), c.hidden, c.heads
        d = H // nh
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:n]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = layer_norm(x, w["embeddings.LayerNorm.weight"],
                       w["embeddings.LayerNorm.bias"], c.eps)

        def lin(name, v):
            return v @ self.wt[name + ".weight"] + w[name + ".bias"]

        for i in range(c.layers):
            p = "encoder.layer.%d." % i
            q = lin(p + "attention.self.query", x).reshape(n, nh, d).transpose(1, 0, 2)
            k = lin(p + "attention.self.key", x).reshape(n, nh, d).transpose(1, 0, 2)
            v = lin(p + "attention.self.value", x).reshape(n, nh, d).transpose(1, 0, 2)
            s = q @ k.transpose(0, 2, 1) / math.sqrt(d)
            s = np.exp(s - s.max(axis=-1, keepdims=True))
            s /= s.sum(axis=-1, keepdims=True)
            ctx = (s @ v).transpose(1, 0, 2).reshape(n, H)
            x = layer_norm(lin(p + "attention.output.dense", ctx) + x,
                           w[p + "attention.output.LayerNorm.weight"],
                           w[p + "attention.output.LayerNorm.bias"], c.eps)
            h = self.act(lin(p + "intermediate.dense", x))
            x = layer_norm(lin(p + "output.dense", h) + x,
                           w[p + "output.LayerNorm.weight"],
                           w[p + "output.LayerNorm.bias"], c.eps)
        return x.mean(axis=0) if c.pooling == "mean" else x[0]

    def embed(self, ids, cls, sep):
        """(first window's ids incl. specials, L2-normalised vector)."""
        size = self.cfg.max_pos - 2
        chunks = [ids[i:i + size] for i in range(0, len(ids), size)] or [[]]
        total, count, first = 0.0, 0, None
        for ch in chunks:
            win = [cls] + list(ch) + [sep]
            if first is None:
                first = win
            v = self.window(win)
            total = total + v * max(len(ch), 1)
            count += max(len(ch), 1)
        v = total / count
        return first, v / np.linalg.norm(v)


def load_weights(modeldir, which):
    """Unprefixed HF name -> float array, from the chosen file."""
    if which in ("safetensors", "safetensors-f16"):
        fn = "model.safetensors" if which == "safetensors" else "model-f16.safetensors"
        st = SafeTensors(os.path.join(modeldir, fn))
        out = {}
        for n in st.names():
            k = n[5:] if n.startswith("bert.") else n
            if k != "embeddings.position_ids":
                out[k] = st.get(n)
        return out
    g = GGUFFile(os.path.join(modeldir, "model-%s.gguf" % which))
    back = {}
    for hf, gg in HF_TO_GGUF:
        for i in (range(g.kv["bert.block_count"]) if "{i}" in hf else [""]):
            for sfx in (".weight", ".bias"):
                back[gg.replace("{i}", str(i)) + sfx] = hf.replace("{i}", str(i)) + sfx
    return {back[n]: g.get(n) for n in g.order}


def cmd_embed(a):
    cfg = Config.load(a.modeldir)
    tok = BertTokenizer(read_vocab(os.path.join(a.modeldir, "vocab.txt")))
    model = BertRef(cfg, load_weights(a.modeldir, a.weights))
    lines = []
    for s in read_sentences(a.sentences):
        win, v = model.embed(tok.encode(s), tok.cls, tok.sep)
        lines.append("ids " + " ".join(map(str, win)))
        lines.append("vec " + " ".join("%.9g" % x for x in v))
    with open(a.out, "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(l + "\n" for l in lines))


def cmd_tokenize(a):
    tok = BertTokenizer(read_vocab(os.path.join(a.modeldir, "vocab.txt")))
    with open(a.out, "w", encoding="utf-8", newline="\n") as f:
        for s in read_sentences(a.sentences):
            f.write(("ids " + " ".join(map(str, tok.encode(s)))).rstrip() + "\n")


def cmd_sentences(a):
    """Random sentences of whole words from the vocabulary, for benchmarks."""
    vocab = read_vocab(os.path.join(a.modeldir, "vocab.txt"))
    words = [t for t in vocab if t.isalpha() and t.isascii() and len(t) > 1
             and not t.startswith("[")]
    rng = np.random.default_rng(a.seed)
    with open(a.out, "w", encoding="utf-8", newline="\n") as f:
        for _ in range(a.n):
            n = int(rng.integers(a.words - 2, a.words + 3))
            w = [words[i] for i in rng.integers(0, len(words), n)]
            f.write(" ".join(w).capitalize() + ".\n")


# ---------------------------------------------------------------------------
# `check`: read every file back with the readers and compare
# ---------------------------------------------------------------------------

class Checker:
    def __init__(self):
        self.failures = 0
        self.checks = 0

    def ok(self, cond, what):
        self.checks += 1
        if not cond:
            self.failures += 1
            print("FAIL: " + what, file=sys.stderr)
        return cond


def _f16_scalar(x):
    """float -> nearest f16 value (struct's 'e' rounds to nearest even)."""
    return struct.unpack("<e", struct.pack("<e", x))[0]


def _q8_0_block_scalar(xs):
    """Independent scalar Q8_0 of one 32-block: (d as f16 float, [q])."""
    f32 = lambda v: struct.unpack("<f", struct.pack("<f", v))[0]
    amax = max(abs(v) for v in xs)
    d = f32(amax / 127.0)
    inv = f32(1.0 / d) if d else 0.0
    qs = []
    for v in xs:
        t = f32(v * inv)
        r = math.floor(abs(t) + 0.5) if abs(t) - math.floor(abs(t)) != 0.5 \
            else math.floor(abs(t)) + 1
        qs.append(int(math.copysign(r, t)) if t else 0)
    return _f16_scalar(d), qs


def cmd_check(a):
    c = Checker()
    d = a.modeldir
    cfg = Config.load(d)
    vocab = read_vocab(os.path.join(d, "vocab.txt"))
    ids = {t: i for i, t in enumerate(vocab)}
    c.ok(len(vocab) == cfg.vocab_size, "vocab.txt size == config vocab_size")
    with open(os.path.join(d, "tokenizer.json"), encoding="utf-8") as f:
        tj = json.load(f)
    c.ok(tj["model"]["vocab"] == ids, "tokenizer.json vocab == vocab.txt")
    c.ok(all(t["id"] == ids[t["content"]] for t in tj["added_tokens"]),
         "tokenizer.json added_tokens ids")
    H, I, P, V, L = cfg.hidden, cfg.inter, cfg.max_pos, cfg.vocab_size, cfg.layers
    expect = {"embeddings.word_embeddings.weight": [V, H],
              "embeddings.position_embeddings.weight": [P, H],
              "embeddings.token_type_embeddings.weight": [2, H],
              "embeddings.LayerNorm.weight": [H], "embeddings.LayerNorm.bias": [H],
              "pooler.dense.weight": [H, H], "pooler.dense.bias": [H]}
    for i in range(L):
        p = "encoder.layer.%d." % i
        for m in ("attention.self.query", "attention.self.key",
                  "attention.self.value", "attention.output.dense"):
            expect[p + m + ".weight"] = [H, H]
            expect[p + m + ".bias"] = [H]
        expect[p + "intermediate.dense.weight"] = [I, H]
        expect[p + "intermediate.dense.bias"] = [I]
        expect[p + "output.dense.weight"] = [H, I]
        expect[p + "output.dense.bias"] = [H]
        for m in ("attention.output.LayerNorm", "output.LayerNorm"):
            expect[p + m + ".weight"] = [H]
            expect[p + m + ".bias"] = [H]

    # safetensors
    ref = {}
    for fn, dt in (("model.safetensors", "F32"), ("model-f16.safetensors", "F16")):
        st = SafeTensors(os.path.join(d, fn))
        c.ok((8 + st.header_len) % 8 == 0, fn + ": data start aligned to 8")
        c.ok(st.metadata == {"format": "pt"}, fn + ": __metadata__")
        names = st.names()
        prefix = "bert." if names and all(n.startswith("bert.") for n in names) else ""
        got = {n[len(prefix):]: n for n in names}
        got.pop("embeddings.position_ids", None)
        c.ok(set(got) == set(expect), fn + ": tensor names")
        spans = sorted(tuple(st.header[n]["data_offsets"]) for n in names)
        c.ok(spans[0][0] == 0 and all(spans[k][1] == spans[k + 1][0]
                                      for k in range(len(spans) - 1))
             and spans[-1][1] == len(st.body), fn + ": data contiguous, no gaps")
        for k, n in got.items():
            h = st.header[n]
            if not c.ok(h["dtype"] == dt and h["shape"] == expect.get(k),
                        "%s: %s dtype/shape %s %s" % (fn, n, h["dtype"], h["shape"])):
                continue
            arr = st.get(n)
            if dt == "F32":
                ref[k] = arr.astype(np.float32)
            else:
                c.ok(np.array_equal(arr.view(np.uint16),
                                    ref[k].astype("<f2").view(np.uint16)),
                     "%s: %s == f32 rounded to f16" % (fn, n))
    if not ref:
        die("model.safetensors unreadable")
    # a few elements of f16 rounding checked independently of numpy
    w0 = ref["embeddings.word_embeddings.weight"].reshape(-1)
    c.ok(all(np.float16(w0[j]) == _f16_scalar(float(w0[j]))
             for j in range(0, w0.size, max(1, w0.size // 997))),
         "numpy f16 rounding == struct 'e' rounding")

    # GGUF
    special = {"[PAD]": "padding", "[UNK]": "unknown", "[SEP]": "seperator",
               "[MASK]": "mask"}
    for outtype in ("f32", "f16", "q8_0"):
        fn = "model-%s.gguf" % outtype
        g = GGUFFile(os.path.join(d, fn))
        kv = g.kv
        c.ok(g.version == 3, fn + ": version 3")
        c.ok(g.order[:5] == ["token_embd_norm.bias", "token_embd_norm.weight",
                             "position_embd.weight", "token_types.weight",
                             "token_embd.weight"], fn + ": converter tensor order")
        want = {"general.architecture": "bert", "bert.block_count": L,
                "bert.context_length": P, "bert.embedding_length": H,
                "bert.feed_forward_length": I, "bert.attention.head_count": cfg.heads,
                "general.file_type": FTYPE[outtype], "bert.attention.causal": False,
                "bert.pooling_type": 1 if cfg.pooling == "mean" else 2,
                "tokenizer.ggml.model": "bert", "tokenizer.ggml.token_type_count": 2,
                "general.quantization_version": 2}
        for k, v in want.items():
            c.ok(kv.get(k) == v, "%s: %s = %r (want %r)" % (fn, k, kv.get(k), v))
        c.ok(abs(kv.get("bert.attention.layer_norm_epsilon", -1) - cfg.eps)
             <= cfg.eps * 1e-6, fn + ": layer_norm_epsilon")
        c.ok(g.kv_types.get("bert.attention.layer_norm_epsilon") == GF32, fn + ": eps is f32")
        for k in ("bert.block_count", "bert.pooling_type", "general.file_type",
                  "tokenizer.ggml.token_type_count"):
            c.ok(g.kv_types.get(k) == GU32, fn + ": %s is u32" % k)
        for tokstr, key in special.items():
            c.ok(kv.get("tokenizer.ggml.%s_token_id" % key) == ids[tokstr],
                 fn + ": %s id" % key)
        style = "new" if "tokenizer.ggml.bos_token_id" in kv else "old"
        if style == "new":
            c.ok(kv.get("tokenizer.ggml.bos_token_id") == ids["[CLS]"]
                 and kv.get("tokenizer.ggml.eos_token_id") == ids["[SEP]"],
                 fn + ": bos=[CLS] eos=[SEP]")
        else:
            c.ok(kv.get("tokenizer.ggml.cls_token_id") == ids["[CLS]"], fn + ": cls id")
        toks = kv.get("tokenizer.ggml.tokens", [])
        types = kv.get("tokenizer.ggml.token_type", [])
        c.ok(g.kv_types.get("tokenizer.ggml.token_type") == GARR and len(types) == V
             and all(t == (3 if vocab[i] in SPECIALS else 1) for i, t in enumerate(types)),
             fn + ": token types")
        back = []
        for i, t in enumerate(toks):
            if types[i] == 3 or (style == "old" and t.startswith("[") and t.endswith("]")):
                back.append(t)
            elif t.startswith("\u2581"):
                back.append(t[1:])
            else:
                back.append("##" + t)
        c.ok(back == vocab, fn + ": tokens convert back to vocab.txt")
        # layout
        c.ok(g.data_start % g.alignment == 0 and g.data_start - g.info_end < g.alignment
             and not any(g.data[g.info_end:g.data_start]), fn + ": data section aligned")
        spans = sorted((g.tensors[n][2], g.nbytes(n), n) for n in g.order)
        c.ok(all(off % g.alignment == 0 for off, _, _ in spans), fn + ": offsets aligned")
        c.ok(all(spans[k][0] + spans[k][1] <= spans[k + 1][0]
                 for k in range(len(spans) - 1)), fn + ": tensors do not overlap")
        last = spans[-1][0] + spans[-1][1]
        c.ok(len(g.data) == g.data_start + last + (-last % g.alignment),
             fn + ": file ends after the last tensor's padding")
        exp_g = {hf_to_gguf_name(k): k for k in expect if hf_to_gguf_name(k)}
        c.ok(set(g.order) == set(exp_g), fn + ": tensor names")
        for gname in g.order:
            hf = exp_g.get(gname)
            if hf is None:
                continue
            t, ne, _ = g.tensors[gname]
            x = ref[hf]
            c.ok(ne == list(reversed(x.shape)), "%s: %s ne %s" % (fn, gname, ne))
            want_t = gguf_tensor_type(gname, x.shape, outtype, style)
            c.ok(t == want_t, "%s: %s type %d (want %d)" % (fn, gname, t, want_t))
            y = g.get(gname)
            if t == GGML_F32:
                c.ok(np.array_equal(y, x), "%s: %s == F32 reference" % (fn, gname))
            elif t == GGML_F16:
                c.ok(np.array_equal(y, x.astype(np.float16).astype(np.float32)),
                     "%s: %s == F16 of reference" % (fn, gname))
            else:
                raw = np.frombuffer(g.raw(gname), np.uint8).reshape(-1, 34)
                dd = raw[:, :2].copy().view("<f2").astype(np.float64).reshape(-1)
                xb = x.astype(np.float64).reshape(-1, 32)
                err = np.abs(y.astype(np.float64).reshape(-1, 32) - xb)
                c.ok(np.all(err <= dd[:, None] * 0.5 + np.abs(xb) * 2e-3 + 1e-30),
                     "%s: %s Q8_0 error within d/2 (+f16 scale rounding)" % (fn, gname))
                nb = raw.shape[0]
                rng = np.random.default_rng(0)
                picks = sorted(set([0, nb - 1] + list(rng.integers(0, nb, 40))))
                good = True
                for b in picks:
                    dref, qref = _q8_0_block_scalar([float(v) for v in x.reshape(-1, 32)[b]])
                    qgot = raw[b, 2:].view(np.int8).tolist()
                    good &= (dd[b] == dref and qgot == qref)
                c.ok(good, "%s: %s Q8_0 blocks == scalar reference" % (fn, gname))
    # the reference forward agrees across weight files (sanity of the mapping)
    tok = BertTokenizer(vocab)
    sent = "The Mona Lisa is a painting by Leonardo da Vinci."
    ids_ = tok.encode(sent)
    vecs = {}
    for w in ("safetensors", "f32", "f16", "q8_0"):
        vecs[w] = BertRef(cfg, load_weights(d, w)).embed(ids_, tok.cls, tok.sep)[1]
    c.ok(np.array_equal(vecs["safetensors"], vecs["f32"]), "embed: safetensors == f32 gguf")
    c.ok(np.abs(vecs["f16"] - vecs["f32"]).max() < 2e-2, "embed: f16 close to f32")
    c.ok(np.abs(vecs["q8_0"] - vecs["f32"]).max() < 5e-2, "embed: q8_0 close to f32")
    log("%d checks, %d failed" % (c.checks, c.failures))
    if c.failures:
        sys.exit(1)


# ---------------------------------------------------------------------------
# `onnx`: the same forward graph for ONNX Runtime
# ---------------------------------------------------------------------------

def cmd_onnx(a):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    cfg = Config.load(a.modeldir)
    w = load_weights(a.modeldir, "safetensors")
    H, nh = cfg.hidden, cfg.heads
    hd = H // nh
    nodes, inits = [], []
    counter = [0]

    def uniq(base):
        counter[0] += 1
        return "%s_%d" % (base, counter[0])

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def node(op, inputs, **attrs):
        out = uniq(op)
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def linear(x, hf):
        wt = const(hf + ".weight_T", w[hf + ".weight"].T.astype(np.float32).copy())
        b = const(hf + ".bias", w[hf + ".bias"].astype(np.float32))
        return node("Add", [node("MatMul", [x, wt]), b])

    def layer_norm_(x, hf):
        # decomposed as the PyTorch exporter writes it (ORT fuses it)
        mean = node("ReduceMean", [x], axes=[-1])
        dlt = node("Sub", [x, mean])
        var = node("ReduceMean", [node("Pow", [dlt, c_two])], axes=[-1])
        den = node("Sqrt", [node("Add", [var, c_eps])])
        y = node("Div", [dlt, den])
        return node("Add", [node("Mul", [y, const(hf + ".weight",
                                                 w[hf + ".weight"].astype(np.float32))]),
                            const(hf + ".bias", w[hf + ".bias"].astype(np.float32))])

    c_two = const("c_two", np.array(2.0, np.float32))
    c_eps = const("c_eps", np.array(cfg.eps, np.float32))
    c_half = const("c_half", np.array(0.5, np.float32))
    c_one = const("c_one", np.array(1.0, np.float32))
    if cfg.act == "gelu":
        c_sqrt2 = const("c_sqrt2", np.array(math.sqrt(2.0), np.float32))
    else:
        c_k0 = const("c_sqrt_2_over_pi", np.array(math.sqrt(2 / math.pi), np.float32))
        c_k1 = const("c_0.044715", np.array(0.044715, np.float32))
        c_three = const("c_three", np.array(3.0, np.float32))
    c_scale = const("c_scale", np.array(math.sqrt(hd), np.float32))
    c_heads = const("c_heads_shape", np.array([1, -1, nh, hd], np.int64))
    c_merge = const("c_merge_shape", np.array([1, -1, H], np.int64))

    x = node("Gather", [const("word_embeddings", w["embeddings.word_embeddings.weight"]
                              .astype(np.float32)), "input_ids"])
    seq = node("Gather", [node("Shape", ["input_ids"]),
                          const("c_one_i", np.array(1, np.int64))], axis=0)
    pos = node("Range", [const("c_zero_i", np.array(0, np.int64)), seq,
                         const("c_step_i", np.array(1, np.int64))])
    pe = node("Gather", [const("position_embeddings",
                               w["embeddings.position_embeddings.weight"].astype(np.float32)),
                         pos])
    te = const("token_type_0", w["embeddings.token_type_embeddings.weight"][0]
               .astype(np.float32))
    x = node("Add", [node("Add", [x, pe]), te])
    x = layer_norm_(x, "embeddings.LayerNorm")
    for i in range(cfg.layers):
        p = "encoder.layer.%d." % i
        qkv = []
        for m in ("query", "key", "value"):
            t = node("Reshape", [linear(x, p + "attention.self." + m), c_heads])
            qkv.append(t)
        q = node("Transpose", [qkv[0]], perm=[0, 2, 1, 3])
        k = node("Transpose", [qkv[1]], perm=[0, 2, 3, 1])
        v = node("Transpose", [qkv[2]], perm=[0, 2, 1, 3])
        s = node("Div", [node("MatMul", [q, k]), c_scale])
        pr = node("Softmax", [s], axis=-1)
        ctx = node("Transpose", [node("MatMul", [pr, v])], perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, c_merge])
        x = layer_norm_(node("Add", [linear(ctx, p + "attention.output.dense"), x]),
                        p + "attention.output.LayerNorm")
        h = linear(x, p + "intermediate.dense")
        if cfg.act == "gelu":
            e = node("Erf", [node("Div", [h, c_sqrt2])])
            h = node("Mul", [node("Mul", [h, node("Add", [e, c_one])]), c_half])
        else:
            cube = node("Mul", [c_k1, node("Pow", [h, c_three])])
            inner = node("Mul", [c_k0, node("Add", [h, cube])])
            h = node("Mul", [node("Mul", [h, c_half]), node("Add", [c_one, node("Tanh", [inner])])])
        x = layer_norm_(node("Add", [linear(h, p + "output.dense"), x]),
                        p + "output.LayerNorm")
    if cfg.pooling == "mean":
        pooled = node("ReduceMean", [x], axes=[1], keepdims=0)
    else:
        pooled = node("Gather", [x, const("c_zero_i2", np.array(0, np.int64))], axis=1)
    norm = node("ReduceL2", [pooled], axes=[-1], keepdims=1)
    nodes.append(helper.make_node("Div", [pooled, norm], ["sentence_embedding"],
                                  name="l2_normalise"))
    graph = helper.make_graph(
        nodes, "bert_sentence_encoder",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, "seq"])],
        [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, [1, H])],
        initializer=inits)
    model = helper.make_model(graph, producer_name="braincore tools/bert_model.py",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, a.out)
    log("wrote %s (%d nodes)" % (a.out, len(nodes)))


# ---------------------------------------------------------------------------

def main(argv=None):
    global VERBOSE
    ap = argparse.ArgumentParser(
        description="Random-weight BERT models in HF/sentence-transformers/"
                    "safetensors/GGUF form, and their numpy reference.")
    ap.add_argument("-v", "--verbose", action="store_true")
    sub = ap.add_subparsers(dest="cmd", required=True)
    # -v is accepted after the subcommand too (SUPPRESS keeps the main value)
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument("-v", "--verbose", action="store_true",
                         default=argparse.SUPPRESS)

    w = sub.add_parser("write", parents=[verbose], help="write a random model in every format")
    w.add_argument("outdir")
    w.add_argument("--layers", type=int, default=2)
    w.add_argument("--hidden", type=int, default=32)
    w.add_argument("--heads", type=int, default=4)
    w.add_argument("--inter", type=int, default=64)
    w.add_argument("--max-pos", type=int, default=40)
    w.add_argument("--seed", type=int, default=1)
    w.add_argument("--pooling", choices=("mean", "cls"), default="mean")
    w.add_argument("--act", choices=("gelu", "gelu_new"), default="gelu")
    w.add_argument("--eps", type=float, default=1e-12)
    w.add_argument("--prefix", choices=("", "bert."), default="")
    w.add_argument("--vocab-words", type=int, default=0,
                   help="pad the vocabulary with pseudo-words to this size")
    w.add_argument("--gguf-style", choices=("new", "old"), default="new",
                   help="new: llama.cpp's converter of 2025 on; old: of 2024")
    w.add_argument("--position-ids", action="store_true",
                   help="add the int64 embeddings.position_ids buffer to the safetensors")

    e = sub.add_parser("embed", parents=[verbose], help="reference sentence embeddings")
    e.add_argument("modeldir")
    e.add_argument("sentences")
    e.add_argument("out")
    e.add_argument("--weights", default="safetensors",
                   choices=("safetensors", "safetensors-f16", "f32", "f16", "q8_0"))

    t = sub.add_parser("tokenize", parents=[verbose], help="reference token ids (no specials)")
    t.add_argument("modeldir")
    t.add_argument("sentences")
    t.add_argument("out")

    c = sub.add_parser("check", parents=[verbose], help="read every file back and verify it")
    c.add_argument("modeldir")

    s = sub.add_parser("sentences", parents=[verbose], help="random sentences for benchmarks")
    s.add_argument("modeldir")
    s.add_argument("n", type=int)
    s.add_argument("out")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--words", type=int, default=10)

    o = sub.add_parser("onnx", parents=[verbose], help="the forward graph as an ONNX model")
    o.add_argument("modeldir")
    o.add_argument("out")

    a = ap.parse_args(argv)
    VERBOSE = a.verbose
    {"write": cmd_write, "embed": cmd_embed, "tokenize": cmd_tokenize,
     "check": cmd_check, "sentences": cmd_sentences, "onnx": cmd_onnx}[a.cmd](a)


if __name__ == "__main__":
    main()
