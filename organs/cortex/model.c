/*
 * organs/cortex/model.c - see model.h: loading a BERT sentence encoder
 * from GGUF or from a Hugging Face directory, the process-wide registry
 * of loaded models, and embedding with one.
 *
 * Loading maps the files read-only (the weights are used where they lie:
 * one copy in memory however many brains use the model, shared with the
 * page cache), reads the sizes, binds every tensor by name with its shape
 * and type checked, copies the small vectors (biases, LayerNorm) to f32,
 * and builds the tokenizer. Nothing in a file is trusted: a wrong shape, a
 * missing tensor, a vocabulary that does not fit the embedding table or a
 * truncated file is a clear error at load, so a forward pass never reads
 * out of bounds.
 *
 * GGUF (as llama.cpp's convert_hf_to_gguf.py writes BERT): architecture
 * "bert", sizes in bert.*, the vocabulary in tokenizer.ggml.tokens in its
 * converted form (word starts marked with U+2581, continuations bare),
 * tensors token_embd, position_embd, token_types, token_embd_norm and per
 * block blk.N.attn_q/k/v/attn_output/attn_output_norm/ffn_up/ffn_down/
 * layer_output_norm. llama.cpp's BERT tokenizer always lowercases; so
 * does this one for GGUF models.
 *
 * A Hugging Face directory: config.json (BertModel sizes, hidden_act),
 * model.safetensors (F32 or F16; the names of BertModel, with or without
 * a "bert." prefix), vocab.txt or else tokenizer.json, do_lower_case from
 * tokenizer_config.json or the tokenizer's normaliser, and
 * sentence-transformers' pooling (modules.json's Pooling module, or
 * 1_Pooling/config.json) and max_seq_length (sentence_bert_config.json).
 */
#define _DEFAULT_SOURCE /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "organs/cortex/model.h"
#include "organs/cortex/bert.h"
#include "organs/cortex/gguf.h"
#include "organs/cortex/wordpiece.h"
#include "base/json_walk.h"
#include "storage/crc32c.h"

#define MODEL_FILES 4
/* Most tokens in one forward pass (scores alone are 16 MB at 2048) */
#define MODEL_WINDOW_MAX 2048
/* config files are small; a tokenizer.json with a large vocabulary is a
 * few MB */
#define CONFIG_MAX ((size_t)64 << 20)

typedef struct mapped {
	void *data;
	size_t len;
	bool mapped; /* else brain__malloc'ed (a small file read) */
} mapped;

struct brain_model {
	char *path;    /* the caller's */
	char *real;    /* its real path: the registry's key */
	uint32_t fingerprint;
	char describe[200];
	brain_bert bert;
	brain_wordpiece *wp;
	int32_t cls, sep;
	uint32_t window; /* most tokens in one forward pass, [CLS] and [SEP] included */
	uint64_t weight_bytes; /* of the file the tensors are in: a bound on the sizes */
	uint32_t settings_crc; /* of the JSON files read (names and bytes): in the fingerprint */
	/* the file or directory loaded, as stat saw it: a path whose file was
	 * replaced since is another model */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	int level;
	mapped files[MODEL_FILES];
	size_t nfiles;
	brain_gguf gguf;
	float *vectors; /* the f32 copies of the small vectors */
	size_t vectors_used, vectors_cap;
	/* the registry's */
	int refs;
	struct brain_model *next;
};

/* ---- files --------------------------------------------------------------- */

static int map_file(const char *path, mapped *f, size_t max_read)
{
	memset(f, 0, sizeof *f);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return brain__err(errno == ENOENT ? BRAIN_ENOTFOUND : BRAIN_EIO, "model: %s: %s", path,
		                  strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		int e = errno;
		close(fd);
		return brain__err(BRAIN_EIO, "model: %s: %s", path,
		                  S_ISDIR(st.st_mode) ? "is a directory" : strerror(e));
	}
	if (st.st_size <= 0) {
		close(fd);
		return brain__err(BRAIN_ECORRUPT, "model: %s is empty", path);
	}
	if ((uint64_t)st.st_size > SIZE_MAX / 2) {
		close(fd);
		return brain__err(BRAIN_ENOTSUP, "model: %s is too large for this address space", path);
	}
	size_t len = (size_t)st.st_size;
	int rc = BRAIN_OK;
	if (max_read) {
		/* small files are read: they are parsed once and dropped */
		if (len > max_read) {
			close(fd);
			return brain__err(BRAIN_ECORRUPT, "model: %s is %zu bytes, more than the %zu a "
			                  "configuration file may have", path, len, max_read);
		}
		char *buf = brain__malloc(len);
		if (!buf) {
			close(fd);
			return brain__oom(len, "model configuration");
		}
		size_t got = 0;
		while (got < len) {
			ssize_t r = read(fd, buf + got, len - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				rc = brain__err(BRAIN_EIO, "model: %s: read: %s", path,
				                r < 0 ? strerror(errno) : "the file shrank");
				break;
			}
			got += (size_t)r;
		}
		if (rc) {
			brain__free(buf);
		} else {
			f->data = buf;
			f->len = len;
		}
	} else {
		void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			rc = brain__err(errno == ENOMEM ? BRAIN_ENOMEM : BRAIN_EIO, "model: %s: mmap: %s",
			                path, strerror(errno));
		} else {
			f->data = p;
			f->len = len;
			f->mapped = true;
		}
	}
	close(fd);
	return rc;
}

static void unmap_file(mapped *f)
{
	if (f->mapped)
		munmap(f->data, f->len);
	else
		brain__free(f->data);
	memset(f, 0, sizeof *f);
}

/* ---- binding tensors ------------------------------------------------------ */

/* A tensor as the loaders see it: a name, a PyTorch-order shape, a ggml
 * type, its bytes. */
typedef struct tensor_ref {
	uint32_t type;
	const void *data;
	uint32_t ndims;
	uint64_t shape[2]; /* [rows, cols] or [n] */
} tensor_ref;

typedef int (*find_fn)(void *ctx, const char *name, tensor_ref *out);

static int take_vector(brain_model *m, const tensor_ref *t, const char *name, uint32_t n,
                       const float **out)
{
	if (t->ndims != 1 || t->shape[0] != n)
		return brain__err(BRAIN_ECORRUPT, "model: tensor %s has shape [%llu%s], %u expected",
		                  name, (unsigned long long)t->shape[0], t->ndims == 1 ? "" : ", ...", n);
	if (t->type != BRAIN_GGML_F32 && t->type != BRAIN_GGML_F16)
		return brain__err(BRAIN_ENOTSUP, "model: tensor %s is %s; vectors must be f32 or f16",
		                  name, brain__ggml_type_name(t->type));
	if (m->vectors_used + n > m->vectors_cap)
		return brain__err(BRAIN_ECORRUPT, "model: more small tensors than the sizes allow");
	float *dst = m->vectors + m->vectors_used;
	brain_mat one = {t->type, t->data, 1, n, n};
	brain__mat_row(&one, 0, dst);
	for (uint32_t i = 0; i < n; i++)
		if (!isfinite(dst[i]))
			return brain__err(BRAIN_ECORRUPT, "model: tensor %s has a value that is not finite "
			                  "at %u", name, i);
	m->vectors_used += n;
	*out = dst;
	return BRAIN_OK;
}

static int take_matrix(const tensor_ref *t, const char *name, uint32_t rows, uint32_t cols,
                       brain_mat *out)
{
	if (t->ndims != 2 || t->shape[0] != rows || t->shape[1] != cols)
		return brain__err(BRAIN_ECORRUPT, "model: tensor %s has shape [%llu, %llu], [%u, %u] "
		                  "expected", name, (unsigned long long)t->shape[0],
		                  (unsigned long long)(t->ndims == 2 ? t->shape[1] : 0), rows, cols);
	if (t->type != BRAIN_GGML_F32 && t->type != BRAIN_GGML_F16 && t->type != BRAIN_GGML_Q8_0)
		return brain__err(BRAIN_ENOTSUP, "model: tensor %s is %s; this runtime computes with "
		                  "f32, f16 and q8_0", name, brain__ggml_type_name(t->type));
	if (t->type == BRAIN_GGML_Q8_0 && cols % 32)
		return brain__err(BRAIN_ECORRUPT, "model: tensor %s is q8_0 with rows of %u, not a "
		                  "multiple of 32", name, cols);
	*out = (brain_mat){t->type, t->data, rows, cols, cols};
	return BRAIN_OK;
}

/* The names of one file format. */
typedef struct names {
	const char *tok, *pos, *type, *lnw, *lnb;
	/* per layer, with %u for the layer */
	const char *q, *qb, *k, *kb, *v, *vb, *o, *ob, *ln1w, *ln1b, *up, *upb, *down, *downb,
	    *ln2w, *ln2b;
} names;

static const names g_gguf_names = {
	"token_embd.weight", "position_embd.weight", "token_types.weight",
	"token_embd_norm.weight", "token_embd_norm.bias",
	"blk.%u.attn_q.weight", "blk.%u.attn_q.bias", "blk.%u.attn_k.weight", "blk.%u.attn_k.bias",
	"blk.%u.attn_v.weight", "blk.%u.attn_v.bias", "blk.%u.attn_output.weight",
	"blk.%u.attn_output.bias", "blk.%u.attn_output_norm.weight", "blk.%u.attn_output_norm.bias",
	"blk.%u.ffn_up.weight", "blk.%u.ffn_up.bias", "blk.%u.ffn_down.weight",
	"blk.%u.ffn_down.bias", "blk.%u.layer_output_norm.weight", "blk.%u.layer_output_norm.bias"};

static const names g_hf_names = {
	"embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
	"embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight",
	"embeddings.LayerNorm.bias",
	"encoder.layer.%u.attention.self.query.weight", "encoder.layer.%u.attention.self.query.bias",
	"encoder.layer.%u.attention.self.key.weight", "encoder.layer.%u.attention.self.key.bias",
	"encoder.layer.%u.attention.self.value.weight", "encoder.layer.%u.attention.self.value.bias",
	"encoder.layer.%u.attention.output.dense.weight",
	"encoder.layer.%u.attention.output.dense.bias",
	"encoder.layer.%u.attention.output.LayerNorm.weight",
	"encoder.layer.%u.attention.output.LayerNorm.bias",
	"encoder.layer.%u.intermediate.dense.weight", "encoder.layer.%u.intermediate.dense.bias",
	"encoder.layer.%u.output.dense.weight", "encoder.layer.%u.output.dense.bias",
	"encoder.layer.%u.output.LayerNorm.weight", "encoder.layer.%u.output.LayerNorm.bias"};

typedef struct binder {
	brain_model *m;
	find_fn find;
	void *ctx;
	const char *prefix;
} binder;

static int get_tensor(binder *b, const char *fmt, uint32_t layer, char *name, size_t cap,
                      tensor_ref *t)
{
	/* the names' "%u" is the layer */
	const char *u = strstr(fmt, "%u");
	if (u)
		snprintf(name, cap, "%s%.*s%u%s", b->prefix, (int)(u - fmt), fmt, layer, u + 2);
	else
		snprintf(name, cap, "%s%s", b->prefix, fmt);
	return b->find(b->ctx, name, t);
}

static int bind_vec(binder *b, const char *fmt, uint32_t layer, uint32_t n, const float **out)
{
	char name[200];
	tensor_ref t;
	int rc = get_tensor(b, fmt, layer, name, sizeof name, &t);
	return rc ? rc : take_vector(b->m, &t, name, n, out);
}

static int bind_mat(binder *b, const char *fmt, uint32_t layer, uint32_t rows, uint32_t cols,
                    brain_mat *out)
{
	char name[200];
	tensor_ref t;
	int rc = get_tensor(b, fmt, layer, name, sizeof name, &t);
	return rc ? rc : take_matrix(&t, name, rows, cols, out);
}

/* Every tensor of the model, its sizes set. */
static int bind_all(brain_model *m, const names *nm, find_fn find, void *ctx, const char *prefix)
{
	brain_bert *bt = &m->bert;
	int rc = brain__bert_check(bt);
	if (rc)
		return rc;
	uint32_t H = bt->hidden, I = bt->inter;
	/* biases and norms: 2 for the embeddings, 10 vectors per layer; each
	 * is in the file at 2 bytes an element at least, so sizes that do not
	 * fit are refused before anything is allocated for them */
	uint64_t cap = 2 * (uint64_t)H + (uint64_t)bt->layers * (8 * (uint64_t)H + I + H);
	if (cap > m->weight_bytes / 2)
		return brain__err(BRAIN_ECORRUPT, "model: %u layers of %u hidden and %u intermediate "
		                  "do not fit in a file of %llu bytes", bt->layers, H, I,
		                  (unsigned long long)m->weight_bytes);
	m->vectors = brain__malloc_array((size_t)cap, sizeof(float));
	m->bert.layer = brain__calloc(bt->layers, sizeof *bt->layer);
	if (!m->vectors || !bt->layer)
		return brain__oom((size_t)cap * sizeof(float) + bt->layers * sizeof *bt->layer, "model");
	m->vectors_cap = (size_t)cap;
	binder b = {m, find, ctx, prefix};
	rc = bind_mat(&b, nm->tok, 0, bt->vocab, H, &bt->tok);
	if (rc == BRAIN_OK)
		rc = bind_mat(&b, nm->pos, 0, bt->positions, H, &bt->pos);
	if (rc == BRAIN_OK)
		rc = bind_mat(&b, nm->type, 0, bt->types, H, &bt->type);
	if (rc == BRAIN_OK)
		rc = bind_vec(&b, nm->lnw, 0, H, &bt->lnw);
	if (rc == BRAIN_OK)
		rc = bind_vec(&b, nm->lnb, 0, H, &bt->lnb);
	for (uint32_t l = 0; l < bt->layers && rc == BRAIN_OK; l++) {
		brain_bert_layer *L = &bt->layer[l];
		rc = bind_mat(&b, nm->q, l, H, H, &L->q);
		if (rc == BRAIN_OK)
			rc = bind_vec(&b, nm->qb, l, H, &L->qb);
		if (rc == BRAIN_OK)
			rc = bind_mat(&b, nm->k, l, H, H, &L->k);
		if (rc == BRAIN_OK)
			rc = bind_vec(&b, nm->kb, l, H, &L->kb);
		if (rc == BRAIN_OK)
			rc = bind_mat(&b, nm->v, l, H, H, &L->v);
		if (rc == BRAIN_OK)
			rc = bind_vec(&b, nm->vb, l, H, &L->vb);
		if (rc == BRAIN_OK)
			rc = bind_mat(&b, nm->o, l, H, H, &L->o);
		if (rc == BRAIN_OK)
			rc = bind_vec(&b, nm->ob, l, H, &L->ob);
		if (rc == BRAIN_OK)
			rc = bind_vec(&b, nm->ln1w, l, H, &L->ln1w);
		if (rc == BRAIN_OK)
			rc = bind_vec(&b, nm->ln1b, l, H, &L->ln1b);
		if (rc == BRAIN_OK)
			rc = bind_mat(&b, nm->up, l, I, H, &L->up);
		if (rc == BRAIN_OK)
			rc = bind_vec(&b, nm->upb, l, I, &L->upb);
		if (rc == BRAIN_OK)
			rc = bind_mat(&b, nm->down, l, H, I, &L->down);
		if (rc == BRAIN_OK)
			rc = bind_vec(&b, nm->downb, l, H, &L->downb);
		if (rc == BRAIN_OK)
			rc = bind_vec(&b, nm->ln2w, l, H, &L->ln2w);
		if (rc == BRAIN_OK)
			rc = bind_vec(&b, nm->ln2b, l, H, &L->ln2b);
	}
	return rc;
}

/* The tokenizer's special tokens, and its fit with the embedding table. */
static int check_vocab(brain_model *m)
{
	size_t n = brain__wordpiece_size(m->wp);
	if (n != m->bert.vocab)
		return brain__err(BRAIN_ECORRUPT, "model: the vocabulary has %zu tokens and the "
		                  "embedding table %u rows: they do not belong together", n,
		                  m->bert.vocab);
	m->cls = brain__wordpiece_special(m->wp, BRAIN_WP_CLS);
	m->sep = brain__wordpiece_special(m->wp, BRAIN_WP_SEP);
	if (m->cls < 0 || m->sep < 0)
		return brain__err(BRAIN_ECORRUPT, "model: the vocabulary has no %s token",
		                  m->cls < 0 ? "[CLS]" : "[SEP]");
	if (!m->window || m->window > m->bert.positions)
		m->window = m->bert.positions;
	/* a forward pass's scratch grows with the square of its tokens: a
	 * longer window is split like a longer text (BERT encoders have 512) */
	if (m->window > MODEL_WINDOW_MAX)
		m->window = MODEL_WINDOW_MAX;
	if (m->window < 3)
		return brain__err(BRAIN_ECORRUPT, "model: a window of %u tokens", m->window);
	return BRAIN_OK;
}

/* ---- GGUF ---------------------------------------------------------------- */

static int gguf_find(void *ctx, const char *name, tensor_ref *out)
{
	const brain_gguf *g = ctx;
	const brain_gguf_tensor *t = brain__gguf_tensor(g, name);
	if (!t)
		return brain__err(BRAIN_ECORRUPT, "model: the GGUF file has no tensor %s", name);
	if (!t->data)
		return brain__err(BRAIN_ENOTSUP, "model: tensor %s is %s; this runtime computes with "
		                  "f32, f16 and q8_0", name, brain__ggml_type_name(t->type));
	if (t->ndims > 2 || t->ne[0] > UINT32_MAX || t->ne[1] > UINT32_MAX)
		return brain__err(BRAIN_ECORRUPT, "model: tensor %s has %u dimensions", name, t->ndims);
	out->type = t->type;
	out->data = t->data;
	out->ndims = t->ndims;
	/* ggml's ne[0] is PyTorch's last dimension */
	out->shape[0] = t->ndims == 2 ? t->ne[1] : t->ne[0];
	out->shape[1] = t->ndims == 2 ? t->ne[0] : 0;
	return BRAIN_OK;
}

static int gguf_size(const brain_gguf *g, const char *key, uint32_t *out)
{
	int rc = brain__gguf_u32(g, key, out);
	if (rc == BRAIN_ENOTFOUND)
		return brain__err(BRAIN_ECORRUPT, "model: the GGUF file has no %s", key);
	return rc;
}

static int load_gguf(brain_model *m, const void *data, size_t len)
{
	brain_gguf *g = &m->gguf;
	int rc = brain__gguf_parse(data, len, g);
	if (rc)
		return rc;
	const char *arch;
	size_t alen;
	rc = brain__gguf_string(g, "general.architecture", &arch, &alen);
	if (rc)
		return brain__err(rc == BRAIN_ENOTFOUND ? BRAIN_ECORRUPT : rc,
		                  "model: the GGUF file does not say its architecture");
	if (alen != 4 || memcmp(arch, "bert", 4) != 0)
		return brain__err(BRAIN_ENOTSUP, "model: architecture \"%.*s\" is not supported (this "
		                  "runtime runs BERT encoders: \"bert\")", (int)(alen > 60 ? 60 : alen),
		                  arch);
	brain_bert *bt = &m->bert;
	rc = gguf_size(g, "bert.embedding_length", &bt->hidden);
	if (rc == BRAIN_OK)
		rc = gguf_size(g, "bert.block_count", &bt->layers);
	if (rc == BRAIN_OK)
		rc = gguf_size(g, "bert.attention.head_count", &bt->heads);
	if (rc == BRAIN_OK)
		rc = gguf_size(g, "bert.feed_forward_length", &bt->inter);
	if (rc == BRAIN_OK)
		rc = gguf_size(g, "bert.context_length", &bt->positions);
	if (rc == BRAIN_OK) {
		rc = brain__gguf_f32(g, "bert.attention.layer_norm_epsilon", &bt->eps);
		if (rc == BRAIN_ENOTFOUND)
			rc = brain__err(BRAIN_ECORRUPT, "model: the GGUF file has no "
			                "bert.attention.layer_norm_epsilon");
	}
	if (rc)
		return rc;
	uint32_t pool = 1;
	rc = brain__gguf_u32(g, "bert.pooling_type", &pool);
	if (rc && rc != BRAIN_ENOTFOUND)
		return rc;
	if (pool != 1 && pool != 2)
		return brain__err(BRAIN_ENOTSUP, "model: pooling type %u is not supported (1 mean, "
		                  "2 cls)", pool);
	bt->pooling = pool == 2 ? BRAIN_BERT_CLS : BRAIN_BERT_MEAN;
	bt->act = BRAIN_BERT_GELU;
	/* sizes of the tables from their tensors */
	const brain_gguf_tensor *tok = brain__gguf_tensor(g, "token_embd.weight");
	const brain_gguf_tensor *types = brain__gguf_tensor(g, "token_types.weight");
	if (!tok || !types || tok->ndims != 2 || types->ndims != 2 || tok->ne[1] > UINT32_MAX ||
	    types->ne[1] > 16)
		return brain__err(BRAIN_ECORRUPT, "model: the GGUF file has no usable token_embd and "
		                  "token_types tensors");
	bt->vocab = (uint32_t)tok->ne[1];
	bt->types = (uint32_t)types->ne[1];
	m->weight_bytes = len;
	rc = bind_all(m, &g_gguf_names, gguf_find, g, "");
	if (rc)
		return rc;

	const brain_gguf_kv *toks = brain__gguf_find(g, "tokenizer.ggml.tokens");
	if (!toks || toks->type != BRAIN_GGUF_ARRAY || toks->elem_type != BRAIN_GGUF_STRING)
		return brain__err(BRAIN_ECORRUPT, "model: the GGUF file has no tokenizer.ggml.tokens");
	const char *model_kind;
	size_t mlen;
	if (brain__gguf_string(g, "tokenizer.ggml.model", &model_kind, &mlen) == BRAIN_OK &&
	    !(mlen == 4 && memcmp(model_kind, "bert", 4) == 0))
		return brain__err(BRAIN_ENOTSUP, "model: tokenizer \"%.*s\" is not supported (WordPiece: "
		                  "\"bert\")", (int)(mlen > 60 ? 60 : mlen), model_kind);
	if (toks->count > bt->vocab || toks->count == 0)
		return brain__err(BRAIN_ECORRUPT, "model: the vocabulary has %llu tokens and the "
		                  "embedding table %u rows: they do not belong together",
		                  (unsigned long long)toks->count, bt->vocab);
	size_t n = (size_t)toks->count;
	const char **tv = brain__malloc_array(n, sizeof *tv);
	size_t *lv = brain__malloc_array(n, sizeof *lv);
	if (!tv || !lv) {
		brain__free(tv);
		brain__free(lv);
		return brain__oom(n * (sizeof *tv + sizeof *lv), "model vocabulary");
	}
	brain_gguf_strings it;
	brain__gguf_strings_init(&it, toks);
	for (size_t i = 0; i < n; i++)
		brain__gguf_strings_next(&it, &tv[i], &lv[i]);
	rc = brain__wordpiece_from_tokens(tv, lv, n, BRAIN_WP_GGUF, true, &m->wp);
	brain__free(tv);
	brain__free(lv);
	if (rc)
		return brain__err_context(rc, "model: vocabulary: ");
	rc = check_vocab(m);
	if (rc)
		return rc;
	const char *ftype = bt->layer[0].q.type == BRAIN_GGML_F32   ? "f32"
	                    : bt->layer[0].q.type == BRAIN_GGML_F16 ? "f16"
	                                                            : "q8_0";
	snprintf(m->describe, sizeof m->describe,
	         "bert (gguf): %u layers, %u hidden, %u heads, %u intermediate, %u vocabulary, "
	         "%s weights, %s pooling, window %u", bt->layers, bt->hidden, bt->heads, bt->inter,
	         bt->vocab, ftype, bt->pooling == BRAIN_BERT_CLS ? "cls" : "mean", m->window);
	return BRAIN_OK;
}

/* ---- safetensors and a Hugging Face directory ---------------------------- */

typedef struct st_entry {
	const char *key; /* the name as the header spells it, quotes off */
	size_t key_len;
	brain_jv value;
} st_entry;

typedef struct st_file {
	const unsigned char *data; /* the data section */
	size_t data_len;
	brain_jv header;
	/* the header's members, read once, sorted by name: a tensor is found
	 * by binary search, not by walking the header again (a header may be
	 * megabytes) */
	st_entry *index;
	size_t n;
	bool escaped; /* a name has an escape: found through the JSON instead */
} st_file;

static int st_entry_cmp(const void *a, const void *b)
{
	const st_entry *x = a, *y = b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);
	return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

static int st_index(st_file *st)
{
	size_t n = brain__jv_count(&st->header);
	st->index = n ? brain__malloc_array(n, sizeof *st->index) : NULL;
	if (n && !st->index)
		return brain__oom(n * sizeof *st->index, "model: safetensors index");
	brain_jv_iter it;
	brain_jv key, val;
	brain__jv_iter_init(&it, &st->header);
	while (st->n < n && brain__jv_next(&it, &key, &val)) {
		st_entry *e = &st->index[st->n++];
		e->key = key.p + 1;
		e->key_len = key.n - 2;
		e->value = val;
		if (memchr(e->key, '\\', e->key_len))
			st->escaped = true;
	}
	qsort(st->index, st->n, sizeof *st->index, st_entry_cmp);
	return BRAIN_OK;
}

/* The header's member `name`: true and *out. */
static bool st_lookup(const st_file *st, const char *name, brain_jv *out)
{
	if (st->escaped)
		return brain__jv_get(&st->header, name, out);
	st_entry want = {name, strlen(name), {0}};
	const st_entry *e = bsearch(&want, st->index, st->n, sizeof *st->index, st_entry_cmp);
	if (e)
		*out = e->value;
	return e != NULL;
}

static int st_open(const mapped *f, const char *path, st_file *st)
{
	const unsigned char *p = f->data;
	if (f->len < 8)
		return brain__err(BRAIN_ECORRUPT, "model: %s is too short for safetensors", path);
	uint64_t n = 0;
	for (int i = 7; i >= 0; i--)
		n = n << 8 | p[i];
	if (n < 2 || n > f->len - 8 || n > (100u << 20))
		return brain__err(BRAIN_ECORRUPT, "model: %s: a header of %llu bytes in a file of %zu",
		                  path, (unsigned long long)n, f->len);
	int rc = brain__jv_parse((const char *)p + 8, (size_t)n, &st->header);
	if (rc)
		return brain__err_context(rc, "model: safetensors header: ");
	if (st->header.type != BRAIN_JV_OBJECT)
		return brain__err(BRAIN_ECORRUPT, "model: %s: the header is not a JSON object", path);
	st->data = p + 8 + n;
	st->data_len = f->len - 8 - (size_t)n;
	return BRAIN_OK;
}

static int st_find(void *ctx, const char *name, tensor_ref *out)
{
	const st_file *st = ctx;
	brain_jv t, dtype, shape, offs;
	if (!st_lookup(st, name, &t))
		return brain__err(BRAIN_ECORRUPT, "model: model.safetensors has no tensor %s", name);
	if (t.type != BRAIN_JV_OBJECT || !brain__jv_get(&t, "dtype", &dtype) ||
	    !brain__jv_get(&t, "shape", &shape) || !brain__jv_get(&t, "data_offsets", &offs) ||
	    shape.type != BRAIN_JV_ARRAY || offs.type != BRAIN_JV_ARRAY ||
	    brain__jv_count(&offs) != 2)
		return brain__err(BRAIN_ECORRUPT, "model: tensor %s: its header entry is not "
		                  "{dtype, shape, data_offsets}", name);
	uint32_t type, esize;
	if (brain__jv_string_eq(&dtype, "F32", 3)) {
		type = BRAIN_GGML_F32;
		esize = 4;
	} else if (brain__jv_string_eq(&dtype, "F16", 3)) {
		type = BRAIN_GGML_F16;
		esize = 2;
	} else {
		char dt[16] = "?";
		size_t dl;
		if (brain__jv_string(&dtype, dt, sizeof dt, &dl) != BRAIN_OK)
			snprintf(dt, sizeof dt, "?");
		return brain__err(BRAIN_ENOTSUP, "model: tensor %s is %s; safetensors weights must be "
		                  "F32 or F16 (convert BF16 with the model's tools)", name, dt);
	}
	size_t nd = brain__jv_count(&shape);
	if (nd < 1 || nd > 2)
		return brain__err(BRAIN_ECORRUPT, "model: tensor %s has %zu dimensions", name, nd);
	brain_jv_iter it;
	brain_jv v;
	uint64_t n = 1;
	out->ndims = (uint32_t)nd;
	out->shape[1] = 0;
	brain__jv_iter_init(&it, &shape);
	for (size_t i = 0; brain__jv_next(&it, NULL, &v); i++) {
		int64_t d;
		if (brain__jv_int(&v, &d) || d <= 0 || d > UINT32_MAX)
			return brain__err(BRAIN_ECORRUPT, "model: tensor %s: a bad dimension", name);
		out->shape[i] = (uint64_t)d;
		n *= (uint64_t)d;
	}
	int64_t o[2];
	brain__jv_iter_init(&it, &offs);
	for (size_t i = 0; brain__jv_next(&it, NULL, &v); i++)
		if (brain__jv_int(&v, &o[i]) || o[i] < 0)
			return brain__err(BRAIN_ECORRUPT, "model: tensor %s: a bad data offset", name);
	if (o[1] < o[0] || (uint64_t)(o[1] - o[0]) != n * esize || (uint64_t)o[1] > st->data_len)
		return brain__err(BRAIN_ECORRUPT, "model: tensor %s: bytes [%lld, %lld) do not fit its "
		                  "shape or the file (%zu data bytes): truncated?", name, (long long)o[0],
		                  (long long)o[1], st->data_len);
	out->type = type;
	out->data = st->data + o[0];
	return BRAIN_OK;
}

static int json_u32(const brain_jv *obj, const char *key, uint32_t *out, bool required,
                    const char *file)
{
	brain_jv v;
	if (!brain__jv_get(obj, key, &v)) {
		if (required)
			return brain__err(BRAIN_ECORRUPT, "model: %s has no %s", file, key);
		return BRAIN_OK;
	}
	int64_t x;
	if (brain__jv_int(&v, &x) || x < 0 || x > UINT32_MAX)
		return brain__err(BRAIN_ECORRUPT, "model: %s: %s is not a size", file, key);
	*out = (uint32_t)x;
	return BRAIN_OK;
}

/* dir/name into buf */
static int join(char *buf, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(buf, cap, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= cap)
		return brain__err(BRAIN_EINVAL, "model: the path %s/%s is too long", dir, name);
	return BRAIN_OK;
}

/* A small JSON file of the directory: BRAIN_ENOTFOUND (no message needed)
 * when absent. Its name and bytes go into the model's fingerprint: the
 * settings change the vectors as much as the weights do. */
static int read_json(brain_model *m, const char *dir, const char *name, mapped *f,
                     brain_jv *root)
{
	char path[PATH_MAX];
	int rc = join(path, sizeof path, dir, name);
	if (rc)
		return rc;
	if (access(path, F_OK) != 0)
		return BRAIN_ENOTFOUND;
	rc = map_file(path, f, CONFIG_MAX);
	if (rc)
		return rc;
	m->settings_crc = brain__crc32c(m->settings_crc, name, strlen(name) + 1);
	m->settings_crc = brain__crc32c(m->settings_crc, f->data, f->len);
	rc = brain__jv_parse(f->data, f->len, root);
	if (rc)
		{
		char pre[200];
		snprintf(pre, sizeof pre, "model: %s: ", name);
		unmap_file(f);
		return brain__err_context(rc, pre);
	}
	return BRAIN_OK;
}

static int hf_config(brain_model *m, const char *dir)
{
	mapped f;
	brain_jv c, v;
	int rc = read_json(m, dir, "config.json", &f, &c);
	if (rc == BRAIN_ENOTFOUND)
		return brain__err(BRAIN_ECORRUPT, "model: %s has no config.json (a Hugging Face model "
		                  "directory, or a .gguf file, is expected)", dir);
	if (rc)
		return rc;
	brain_bert *bt = &m->bert;
	if (c.type != BRAIN_JV_OBJECT)
		rc = brain__err(BRAIN_ECORRUPT, "model: config.json is not an object");
	if (rc == BRAIN_OK && brain__jv_get(&c, "model_type", &v) &&
	    !brain__jv_string_eq(&v, "bert", 4)) {
		char t[40] = "?";
		size_t tl;
		if (brain__jv_string(&v, t, sizeof t, &tl) != BRAIN_OK)
			snprintf(t, sizeof t, "?");
		rc = brain__err(BRAIN_ENOTSUP, "model: model_type \"%s\" is not supported (this "
		                "runtime runs BERT encoders: \"bert\")", t);
	}
	if (rc == BRAIN_OK)
		rc = json_u32(&c, "hidden_size", &bt->hidden, true, "config.json");
	if (rc == BRAIN_OK)
		rc = json_u32(&c, "num_hidden_layers", &bt->layers, true, "config.json");
	if (rc == BRAIN_OK)
		rc = json_u32(&c, "num_attention_heads", &bt->heads, true, "config.json");
	if (rc == BRAIN_OK)
		rc = json_u32(&c, "intermediate_size", &bt->inter, true, "config.json");
	if (rc == BRAIN_OK)
		rc = json_u32(&c, "max_position_embeddings", &bt->positions, true, "config.json");
	if (rc == BRAIN_OK)
		rc = json_u32(&c, "vocab_size", &bt->vocab, true, "config.json");
	bt->types = 2;
	if (rc == BRAIN_OK)
		rc = json_u32(&c, "type_vocab_size", &bt->types, false, "config.json");
	bt->eps = 1e-12f;
	if (rc == BRAIN_OK && brain__jv_get(&c, "layer_norm_eps", &v)) {
		double e;
		if (brain__jv_double(&v, &e) || !(e > 0) || e > 1)
			rc = brain__err(BRAIN_ECORRUPT, "model: config.json: layer_norm_eps is not valid");
		else
			bt->eps = (float)e;
	}
	bt->act = BRAIN_BERT_GELU;
	if (rc == BRAIN_OK && brain__jv_get(&c, "hidden_act", &v)) {
		if (brain__jv_string_eq(&v, "gelu_new", 8) ||
		    brain__jv_string_eq(&v, "gelu_pytorch_tanh", 17))
			bt->act = BRAIN_BERT_GELU_TANH;
		else if (!brain__jv_string_eq(&v, "gelu", 4))
			rc = brain__err(BRAIN_ENOTSUP, "model: config.json: hidden_act is not gelu, "
			                "gelu_new or gelu_pytorch_tanh");
	}
	if (rc == BRAIN_OK && brain__jv_get(&c, "position_embedding_type", &v) &&
	    !brain__jv_string_eq(&v, "absolute", 8))
		rc = brain__err(BRAIN_ENOTSUP, "model: config.json: position_embedding_type is not "
		                "\"absolute\"");
	unmap_file(&f);
	return rc;
}

/* Lowercasing, pooling and the window from the tokenizer's and
 * sentence-transformers' files (all optional). */
static int hf_settings(brain_model *m, const char *dir, bool *lower)
{
	mapped f;
	brain_jv c, v, mods, e;
	*lower = true;
	int rc = read_json(m, dir, "tokenizer_config.json", &f, &c);
	if (rc == BRAIN_OK) {
		if (c.type == BRAIN_JV_OBJECT && brain__jv_get(&c, "do_lower_case", &v))
			rc = brain__jv_bool(&v, lower);
		unmap_file(&f);
		if (rc)
			return brain__err_context(rc, "model: tokenizer_config.json: ");
	} else if (rc != BRAIN_ENOTFOUND) {
		return rc;
	}
	m->bert.pooling = BRAIN_BERT_MEAN;
	char pool_file[PATH_MAX] = "1_Pooling/config.json";
	rc = read_json(m, dir, "modules.json", &f, &mods);
	if (rc == BRAIN_OK) {
		brain_jv_iter it;
		if (mods.type == BRAIN_JV_ARRAY) {
			brain__jv_iter_init(&it, &mods);
			while (brain__jv_next(&it, NULL, &e)) {
				brain_jv type, path;
				char t[200], p[200];
				size_t tl, pl;
				if (e.type == BRAIN_JV_OBJECT && brain__jv_get(&e, "type", &type) &&
				    brain__jv_get(&e, "path", &path) &&
				    brain__jv_string(&type, t, sizeof t, &tl) == BRAIN_OK &&
				    brain__jv_string(&path, p, sizeof p, &pl) == BRAIN_OK &&
				    strstr(t, "Pooling") && !strstr(p, "..") && p[0] != '/')
					snprintf(pool_file, sizeof pool_file, "%s/config.json", p);
			}
		}
		unmap_file(&f);
	} else if (rc != BRAIN_ENOTFOUND) {
		return rc;
	}
	rc = read_json(m, dir, pool_file, &f, &c);
	if (rc == BRAIN_OK) {
		bool cls = false, mean = true;
		if (c.type == BRAIN_JV_OBJECT && brain__jv_get(&c, "pooling_mode_cls_token", &v))
			rc = brain__jv_bool(&v, &cls);
		if (rc == BRAIN_OK && c.type == BRAIN_JV_OBJECT &&
		    brain__jv_get(&c, "pooling_mode_mean_tokens", &v))
			rc = brain__jv_bool(&v, &mean);
		unmap_file(&f);
		if (rc) {
			char pre[PATH_MAX + 16];
			snprintf(pre, sizeof pre, "model: %s: ", pool_file);
			return brain__err_context(rc, pre);
		}
		if (cls == mean)
			return brain__err(BRAIN_ENOTSUP, "model: %s: the pooling is neither mean nor cls "
			                  "alone", pool_file);
		m->bert.pooling = cls ? BRAIN_BERT_CLS : BRAIN_BERT_MEAN;
	} else if (rc != BRAIN_ENOTFOUND) {
		return rc;
	}
	rc = read_json(m, dir, "sentence_bert_config.json", &f, &c);
	if (rc == BRAIN_OK) {
		if (c.type == BRAIN_JV_OBJECT)
			rc = json_u32(&c, "max_seq_length", &m->window, false, "sentence_bert_config.json");
		unmap_file(&f);
		return rc;
	}
	return rc == BRAIN_ENOTFOUND ? BRAIN_OK : rc;
}

/* tokenizer.json's WordPiece vocabulary ({token: id}) as tokens in id
 * order. */
static int hf_tokenizer_json(brain_model *m, const char *dir, bool lower)
{
	mapped f;
	brain_jv root, model, vocab, key, val, norm, lc;
	int rc = read_json(m, dir, "tokenizer.json", &f, &root);
	if (rc == BRAIN_ENOTFOUND)
		return brain__err(BRAIN_ECORRUPT, "model: %s has neither vocab.txt nor tokenizer.json",
		                  dir);
	if (rc)
		return rc;
	if (root.type != BRAIN_JV_OBJECT || !brain__jv_get(&root, "model", &model) ||
	    model.type != BRAIN_JV_OBJECT || !brain__jv_get(&model, "vocab", &vocab) ||
	    vocab.type != BRAIN_JV_OBJECT) {
		unmap_file(&f);
		return brain__err(BRAIN_ECORRUPT, "model: tokenizer.json has no model.vocab object");
	}
	brain_jv type;
	if (brain__jv_get(&model, "type", &type) && !brain__jv_string_eq(&type, "WordPiece", 9)) {
		unmap_file(&f);
		return brain__err(BRAIN_ENOTSUP, "model: tokenizer.json's model is not WordPiece");
	}
	if (brain__jv_get(&root, "normalizer", &norm) && norm.type == BRAIN_JV_OBJECT &&
	    brain__jv_get(&norm, "lowercase", &lc))
		(void)brain__jv_bool(&lc, &lower);
	size_t n = brain__jv_count(&vocab);
	const char **tv = n ? brain__calloc(n, sizeof *tv) : NULL;
	size_t *lv = n ? brain__calloc(n, sizeof *lv) : NULL;
	char *text = n ? brain__malloc(vocab.n) : NULL; /* unescaped tokens, never longer */
	if (!n)
		rc = brain__err(BRAIN_ECORRUPT, "model: tokenizer.json's vocabulary is empty");
	else if (!tv || !lv || !text)
		rc = brain__oom(n * (sizeof *tv + sizeof *lv) + vocab.n, "model vocabulary");
	brain_jv_iter it;
	size_t used = 0;
	if (rc == BRAIN_OK)
		brain__jv_iter_init(&it, &vocab);
	while (rc == BRAIN_OK && brain__jv_next(&it, &key, &val)) {
		int64_t id;
		size_t len;
		if (brain__jv_int(&val, &id) || id < 0 || (uint64_t)id >= n) {
			rc = brain__err(BRAIN_ECORRUPT, "model: tokenizer.json: token ids are not 0..%zu",
			                n - 1);
			break;
		}
		rc = brain__jv_string(&key, text + used, vocab.n - used, &len);
		if (rc)
			break;
		if (tv[id]) {
			rc = brain__err(BRAIN_ECORRUPT, "model: tokenizer.json: id %lld is given twice",
			                (long long)id);
			break;
		}
		tv[id] = text + used;
		lv[id] = len;
		used += len + 1;
	}
	if (rc == BRAIN_OK)
		rc = brain__wordpiece_from_tokens(tv, lv, n, BRAIN_WP_HF, lower, &m->wp);
	brain__free(tv);
	brain__free(lv);
	brain__free(text);
	unmap_file(&f);
	return rc;
}

static int load_hf(brain_model *m, const char *dir)
{
	int rc = hf_config(m, dir);
	bool lower = true;
	if (rc == BRAIN_OK)
		rc = hf_settings(m, dir, &lower);
	if (rc)
		return rc;
	char path[PATH_MAX];
	rc = join(path, sizeof path, dir, "model.safetensors");
	if (rc == BRAIN_OK)
		rc = map_file(path, &m->files[m->nfiles], 0);
	if (rc)
		return rc;
	const mapped *weights = &m->files[m->nfiles++];
	st_file st = {0};
	rc = st_open(weights, path, &st);
	if (rc == BRAIN_OK)
		rc = st_index(&st);
	if (rc == BRAIN_OK) {
		/* BertModel's names, or BertForX's "bert." ones */
		brain_jv probe;
		const char *prefix = st_lookup(&st, g_hf_names.tok, &probe) ? "" : "bert.";
		m->weight_bytes = weights->len;
		rc = bind_all(m, &g_hf_names, st_find, &st, prefix);
	}
	brain__free(st.index);
	if (rc)
		return rc;
	rc = join(path, sizeof path, dir, "vocab.txt");
	if (rc)
		return rc;
	if (access(path, F_OK) == 0) {
		mapped *v = &m->files[m->nfiles];
		rc = map_file(path, v, 0);
		if (rc)
			return rc;
		m->nfiles++;
		rc = brain__wordpiece_from_vocab_txt(v->data, v->len, lower, &m->wp);
		if (rc)
			return brain__err_context(rc, "model: vocab.txt: ");
	} else {
		rc = hf_tokenizer_json(m, dir, lower);
		if (rc)
			return rc;
	}
	rc = check_vocab(m);
	if (rc)
		return rc;
	brain_bert *bt = &m->bert;
	snprintf(m->describe, sizeof m->describe,
	         "bert (safetensors): %u layers, %u hidden, %u heads, %u intermediate, %u "
	         "vocabulary, %s weights, %s pooling, window %u", bt->layers, bt->hidden, bt->heads,
	         bt->inter, bt->vocab, bt->layer[0].q.type == BRAIN_GGML_F32 ? "f32" : "f16",
	         bt->pooling == BRAIN_BERT_CLS ? "cls" : "mean", m->window);
	return BRAIN_OK;
}

/* ---- lifetime ------------------------------------------------------------ */

void brain__model_free(brain_model *m)
{
	if (!m)
		return;
	brain__wordpiece_free(m->wp);
	brain__gguf_free(&m->gguf);
	for (size_t i = 0; i < m->nfiles; i++)
		unmap_file(&m->files[i]);
	brain__free(m->bert.layer);
	brain__free(m->vectors);
	brain__free(m->path);
	brain__free(m->real);
	brain__free(m);
}

static brain_model *model_new(void)
{
	brain_model *m = brain__calloc(1, sizeof *m);
	if (!m) {
		brain__oom(sizeof *m, "model");
		return NULL;
	}
	m->level = brain__matk_best();
	return m;
}

int brain__model_from_gguf(const void *data, size_t len, brain_model **out)
{
	*out = NULL;
	brain_model *m = model_new();
	if (!m)
		return BRAIN_ENOMEM;
	int rc = load_gguf(m, data, len);
	if (rc) {
		brain__model_free(m);
		return rc;
	}
	m->fingerprint = brain__crc32c(0, data, len) | 1u;
	*out = m;
	return BRAIN_OK;
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = brain__malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

static int load_path(const char *path, const char *real, brain_model **out)
{
	*out = NULL;
	brain_model *m = model_new();
	if (!m)
		return BRAIN_ENOMEM;
	m->path = dup_str(path);
	m->real = dup_str(real);
	int rc = m->path && m->real ? BRAIN_OK : brain__oom(strlen(path) + strlen(real), "model");
	struct stat st;
	if (rc == BRAIN_OK && stat(real, &st) != 0)
		rc = brain__err(BRAIN_ENOTFOUND, "model: %s: %s", path, strerror(errno));
	if (rc == BRAIN_OK && S_ISDIR(st.st_mode)) {
		rc = load_hf(m, real);
	} else if (rc == BRAIN_OK) {
		rc = map_file(real, &m->files[0], 0);
		if (rc == BRAIN_OK) {
			m->nfiles = 1;
			rc = load_gguf(m, m->files[0].data, m->files[0].len);
		}
	}
	if (rc == BRAIN_OK) {
		/* the weights, the vocabulary and every setting read */
		uint32_t crc = m->settings_crc;
		for (size_t i = 0; i < m->nfiles; i++)
			crc = brain__crc32c(crc, m->files[i].data, m->files[i].len);
		m->fingerprint = crc | 1u;
		m->dev = st.st_dev;
		m->ino = st.st_ino;
		m->size = st.st_size;
		m->mtime = st.st_mtim;
	}
	if (rc) {
		brain__model_free(m);
		char pre[PATH_MAX + 8];
		snprintf(pre, sizeof pre, "%s: ", path);
		return brain__err_context(rc, pre);
	}
	*out = m;
	return BRAIN_OK;
}

/* The registry: models loaded in this process, by real path. */
static pthread_mutex_t g_models_mu = PTHREAD_MUTEX_INITIALIZER;
static brain_model *g_models;

int brain__model_acquire(const char *path, brain_model **out)
{
	*out = NULL;
	char real[PATH_MAX];
	if (!realpath(path, real))
		return brain__err(errno == ENOENT ? BRAIN_ENOTFOUND : BRAIN_EIO, "model: %s: %s", path,
		                  strerror(errno));
	/* a shared model belongs to no brain's memory account */
	brain_mem_scope scope = brain__mem_enter(NULL, BRAIN_MEM_ENGINE);
	pthread_mutex_lock(&g_models_mu);
	/* the same path whose file is the same (not replaced since) */
	struct stat st;
	bool have_st = stat(real, &st) == 0;
	brain_model *m = g_models;
	while (m && !(strcmp(m->real, real) == 0 && have_st && m->dev == st.st_dev &&
	              m->ino == st.st_ino && m->size == st.st_size &&
	              m->mtime.tv_sec == st.st_mtim.tv_sec &&
	              m->mtime.tv_nsec == st.st_mtim.tv_nsec))
		m = m->next;
	int rc = BRAIN_OK;
	if (m) {
		m->refs++;
	} else {
		/* loaded under the lock: two brains opening the same model at
		 * once load it once */
		rc = load_path(path, real, &m);
		if (rc == BRAIN_OK && m) {
			m->refs = 1;
			m->next = g_models;
			g_models = m;
		}
	}
	pthread_mutex_unlock(&g_models_mu);
	brain__mem_leave(scope);
	*out = m;
	return rc;
}

void brain__model_release(brain_model *m)
{
	if (!m)
		return;
	brain_mem_scope scope = brain__mem_enter(NULL, BRAIN_MEM_ENGINE);
	pthread_mutex_lock(&g_models_mu);
	if (--m->refs == 0) {
		brain_model **p = &g_models;
		while (*p != m)
			p = &(*p)->next;
		*p = m->next;
		brain__model_free(m);
	}
	pthread_mutex_unlock(&g_models_mu);
	brain__mem_leave(scope);
}

uint32_t brain__model_dimensions(const brain_model *m)
{
	return m->bert.hidden;
}

uint32_t brain__model_fingerprint(const brain_model *m)
{
	return m->fingerprint;
}

const char *brain__model_path(const brain_model *m)
{
	return m->path ? m->path : "(memory)";
}

const char *brain__model_describe(const brain_model *m)
{
	return m->describe;
}

void brain__model_set_level(brain_model *m, int level)
{
	m->level = level < 0 ? brain__matk_best() : level;
}

/* ---- embedding ----------------------------------------------------------- */

int brain__model_tokens(const brain_model *m, const char *text, size_t len, int32_t **ids,
                        size_t *n)
{
	*ids = NULL;
	*n = 0;
	int32_t *tok = NULL;
	size_t nt = 0;
	int rc = brain__wordpiece_encode(m->wp, text, len, &tok, &nt);
	if (rc)
		return rc;
	size_t take = nt < m->window - 2 ? nt : m->window - 2;
	int32_t *w = brain__malloc_array(take + 2, sizeof *w);
	if (!w) {
		brain__free(tok);
		return brain__oom((take + 2) * sizeof *w, "tokens");
	}
	w[0] = m->cls;
	if (take)
		memcpy(w + 1, tok, take * sizeof *w);
	w[take + 1] = m->sep;
	brain__free(tok);
	*ids = w;
	*n = take + 2;
	return BRAIN_OK;
}

int brain__model_embed(const brain_model *m, const char *text, size_t len, float *out)
{
	int32_t *tok = NULL;
	size_t nt = 0;
	int rc = brain__wordpiece_encode(m->wp, text, len, &tok, &nt);
	if (rc)
		return rc;
	const brain_bert *bt = &m->bert;
	size_t per = m->window - 2, H = bt->hidden;
	size_t T = (nt < per ? nt : per) + 2;
	size_t scratch_n = brain__bert_scratch(bt, T);
	float *scratch = brain__malloc_array(scratch_n + H, sizeof(float));
	int32_t *ids = brain__malloc_array(T, sizeof *ids);
	double *acc = brain__calloc(H, sizeof *acc);
	if (!scratch || !ids || !acc) {
		rc = brain__oom((scratch_n + H) * sizeof(float) + T * sizeof *ids + H * sizeof *acc,
		                "model activations");
	} else {
		float *pooled = scratch + scratch_n;
		size_t start = 0;
		do {
			size_t take = nt - start < per ? nt - start : per;
			ids[0] = m->cls;
			if (take)
				memcpy(ids + 1, tok + start, take * sizeof *ids);
			ids[take + 1] = m->sep;
			brain__bert_forward(bt, m->level, ids, take + 2, scratch, pooled);
			/* windows weigh by their tokens; a text of none is one window */
			double wgt = take ? (double)take : 1.0;
			for (size_t i = 0; i < H; i++)
				acc[i] += wgt * (double)pooled[i];
			start += take;
		} while (start < nt);
		double norm = 0;
		for (size_t i = 0; i < H; i++)
			norm += acc[i] * acc[i];
		norm = sqrt(norm);
		if (!(norm > 0) || !isfinite(norm)) {
			rc = brain__err(BRAIN_EEMBEDDER, "model: the text's vector is %s",
			                norm > 0 ? "not finite" : "zero");
		} else {
			for (size_t i = 0; i < H; i++)
				out[i] = (float)(acc[i] / norm);
		}
	}
	brain__free(scratch);
	brain__free(ids);
	brain__free(acc);
	brain__free(tok);
	return rc;
}

typedef struct batch_job {
	const brain_model *m;
	const char *const *texts;
	const size_t *lens;
	size_t n;
	float *out;
	_Atomic size_t next;
	_Atomic int rc;
	brain_mem_scope scope;
} batch_job;

static void *batch_worker(void *arg)
{
	batch_job *j = arg;
	brain_mem_scope prev = brain__mem_enter(j->scope.mem, j->scope.category);
	for (;;) {
		size_t i = atomic_fetch_add(&j->next, 1);
		if (i >= j->n || atomic_load(&j->rc))
			break;
		int rc = brain__model_embed(j->m, j->texts[i], j->lens[i],
		                            j->out + i * j->m->bert.hidden);
		if (rc) {
			int zero = 0;
			atomic_compare_exchange_strong(&j->rc, &zero, rc);
			break;
		}
	}
	brain__mem_leave(prev);
	return NULL;
}

int brain__model_embed_batch(const brain_model *m, const char *const *texts, const size_t *lens,
                             size_t n, unsigned threads, float *out)
{
	if (!threads) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		threads = c > 0 ? (unsigned)c : 1;
	}
	if (threads > 64)
		threads = 64;
	if (threads > n)
		threads = (unsigned)n;
	batch_job j = {m, texts, lens, n, out, 0, 0, brain__mem_current()};
	pthread_t tid[64];
	unsigned started = 0;
	/* this thread is one of them; the others as many as start */
	for (unsigned i = 1; i < threads; i++) {
		if (pthread_create(&tid[started], NULL, batch_worker, &j) != 0)
			break;
		started++;
	}
	batch_worker(&j);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	int rc = atomic_load(&j.rc);
	/* a worker's error message is in its own thread: say it here */
	if (rc)
		return brain__err(rc, "model: embedding a text of the batch failed (%s)",
		                  brain_error_name(rc));
	return BRAIN_OK;
}
