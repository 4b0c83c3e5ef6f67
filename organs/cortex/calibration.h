/*
 * organs/cortex/calibration.h - what `think` takes from calibration, per
 * embedder: the score under which it says it does not know (the default
 * of BRAIN_PARAM_THINK_MIN_SCORE), and the floors of the labels it gives
 * an answer's memories ("strong", "good", else "weak").
 *
 * Measured on the demo's 40 facts with 40 questions worded differently
 * and 12 that nothing answers (tests/test_questions.c, the development
 * set of these thresholds), then checked on the held-out question set
 * (bench/data/questions, bench_questions; docs/embedder.md "Knowing what
 * it does not know"): a label's floor is where, on the development set,
 * every answer at or above it came from the right memory and no
 * unanswerable question reached it.
 *
 *   built-in, lexical   unanswerable best scores up to 0.296, answerable
 *                       from 0.283: don't know under 0.25, good from 0.30,
 *                       strong from 0.50
 *   built-in + lift     unanswerable up to 0.339, answerable from 0.314:
 *                       don't know under 0.30, good from 0.35, strong from
 *                       0.55 (the lift raises every score)
 *   a model             not calibrated here (no pretrained weights on the
 *                       machines this is built on): the lexical values;
 *                       set THINK_MIN_SCORE from your own questions
 */
#ifndef BRAIN_ORGANS_CORTEX_CALIBRATION_H
#define BRAIN_ORGANS_CORTEX_CALIBRATION_H

typedef struct brain_calibration {
	int think_min_score; /* per mille */
	float good, strong;  /* label floors */
} brain_calibration;

static const brain_calibration brain_calibration_lexical = {250, 0.30f, 0.50f};
static const brain_calibration brain_calibration_lift = {300, 0.35f, 0.55f};

#endif /* BRAIN_ORGANS_CORTEX_CALIBRATION_H */
