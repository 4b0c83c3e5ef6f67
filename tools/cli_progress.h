/*
 * tools/cli_progress.h - a progress bar on stderr for long commands
 * (import), drawn only when stderr is a terminal: lines per second, bytes
 * done of the total when it is known, and the time left (both from the
 * rate of the last second or so, which follows a run that slows down). Redrawn at most
 * ten times a second; nothing is written when stderr is not a terminal.
 */
#ifndef BRAINCORE_CLI_PROGRESS_H
#define BRAINCORE_CLI_PROGRESS_H

#include <stdint.h>

typedef struct cli_progress {
	int on;             /* stderr is a terminal */
	int drawn;          /* a bar is on the screen now */
	uint64_t total;     /* bytes to do, 0 if not known */
	uint64_t bytes;     /* bytes done */
	uint64_t lines;     /* lines done */
	double start, last; /* seconds (monotonic) at the start and the last draw */
	uint64_t last_bytes, last_lines; /* done at the last draw */
	double byte_rate, line_rate;     /* per second, smoothed over the last draws */
} cli_progress;

/* Seconds on the monotonic clock. */
double cli_now(void);

/* Start: the bar is on if stderr is a terminal; total_bytes 0 if unknown. */
void cli_progress_start(cli_progress *p, uint64_t total_bytes);

/* bytes and lines done so far; drawn if the last draw is 0.1 s old. */
void cli_progress_update(cli_progress *p, uint64_t bytes, uint64_t lines);

/* Show `text` in place of the bar (a phase without a count), if on. */
void cli_progress_note(cli_progress *p, const char *text);

/* Take the bar off the screen (before a message on stderr, and at the
 * end); an update draws it again, at most ten times a second. */
void cli_progress_clear(cli_progress *p);

#endif /* BRAINCORE_CLI_PROGRESS_H */
