/*
 * bench/bench_sentences.c - see bench_sentences.h.
 */
#include <stdio.h>

#include "bench_sentences.h"

size_t bench_sentence(uint64_t *state, char *buf, size_t size)
{
	static const char *const subj[] = {
		"A man", "A woman", "The child", "A dog", "The cat", "A young girl", "An old man",
		"The chef", "A group of people", "The musician", "A police officer", "The teacher",
		"A soldier", "The farmer", "A boy", "The pilot", "A doctor", "The senator",
		"A student", "The company"};
	static const char *const verb[] = {
		"is playing", "is cutting", "is riding", "is slicing", "is eating", "is reading",
		"is painting", "is cleaning", "is carrying", "is watching", "bought", "sold",
		"repaired", "found", "lost", "is building", "is throwing", "is holding",
		"announced", "is cooking"};
	static const char *const adj[] = {
		"a red", "a large", "the old", "a small", "a wooden", "the new", "a broken",
		"a shiny", "the green", "a heavy", "a soft", "the blue", "a tiny", "the famous",
		"a cheap", "an expensive", "a yellow", "the second", "a strange", "a quiet"};
	static const char *const noun[] = {
		"guitar", "onion", "bicycle", "potato", "sandwich", "book", "fence", "car", "flute",
		"box", "horse", "ball", "piano", "tomato", "house", "boat", "report", "contract",
		"computer", "bridge", "camera", "kitchen", "window", "garden", "letter"};
	static const char *const place[] = {
		"", " in the park", " on the street", " at the market", " near the river",
		" in the kitchen", " on Monday", " after the storm", " in Paris", " at night",
		" on the beach", " in the office"};
	const char *a = subj[bench_splitmix64(state) % 20];
	const char *b = verb[bench_splitmix64(state) % 20];
	const char *c = adj[bench_splitmix64(state) % 20];
	const char *d = noun[bench_splitmix64(state) % 25];
	const char *e = place[bench_splitmix64(state) % 12];
	int n = snprintf(buf, size, "%s %s %s %s%s.", a, b, c, d, e);
	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size ? size - 1 : 0;
}
