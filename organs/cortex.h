/*
 * organs/cortex.h - embedding and thinking.
 *
 * The built-in embedder: signed feature hashing of word unigrams and
 * bigrams and character 3- to 5-grams (from the Pancreas) into the brain's
 * dimensions, weighted by inverse document frequency learned from the
 * brain's own memories, L2-normalised. A user embedder may replace it.
 *
 * Thinking: a think's query (blended with working memory when the input
 * refers back to it), the composition of an answer from recalled memories
 * (or a user generator), and the working memory of recent exchanges.
 *
 * Reached only through the Spine: EMBED, EMBED_EPOCH, LEARN, SET_EMBEDDER,
 * SET_GENERATOR, THINK_QUERY, COMPOSE, WORKING_ADD (spine/messages.h).
 */
#ifndef BRAIN_ORGANS_CORTEX_H
#define BRAIN_ORGANS_CORTEX_H

#include "spine/spine.h"

extern const brain_organ brain__organ_cortex;

#endif /* BRAIN_ORGANS_CORTEX_H */
