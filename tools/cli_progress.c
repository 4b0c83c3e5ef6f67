/*
 * tools/cli_progress.c - the progress bar of long commands (see
 * cli_progress.h).
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli_progress.h"

/* Width of the bar itself, in cells. */
#define BAR_CELLS 24
/* Least time between two draws, in seconds. */
#define DRAW_EVERY 0.1

double cli_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void cli_progress_start(cli_progress *p, uint64_t total_bytes)
{
	p->on = isatty(STDERR_FILENO);
	p->drawn = 0;
	p->total = total_bytes;
	p->bytes = 0;
	p->lines = 0;
	p->start = cli_now();
	p->last = p->start; /* the first draw after DRAW_EVERY: none for a short run */
	p->last_bytes = p->last_lines = 0;
	p->byte_rate = p->line_rate = -1.0;
}

/* n bytes as "12.3 MB". */
static void size_text(char *buf, size_t size, double n)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	int u = 0;
	while (n >= 1000.0 && u < 4) {
		n /= 1000.0;
		u++;
	}
	snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", n, units[u]);
}

/* s seconds as "1:02:03" or "2:03". */
static void time_text(char *buf, size_t size, double s)
{
	if (!(s >= 0) || s > 359999.0) {
		snprintf(buf, size, "--:--");
		return;
	}
	unsigned long t = (unsigned long)(s + 0.5);
	if (t >= 3600)
		snprintf(buf, size, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, size, "%lu:%02lu", t / 60, t % 60);
}

/* Weight of the newest interval in the smoothed rates: about the last
 * second counts (ten draws a second). */
#define RATE_WEIGHT 0.2

static void draw(cli_progress *p, double now)
{
	double dt = now - p->last;
	if (dt > 0) {
		double bytes = (double)(p->bytes - p->last_bytes) / dt;
		double lines = (double)(p->lines - p->last_lines) / dt;
		if (p->byte_rate < 0) {
			p->byte_rate = bytes;
			p->line_rate = lines;
		} else {
			p->byte_rate += RATE_WEIGHT * (bytes - p->byte_rate);
			p->line_rate += RATE_WEIGHT * (lines - p->line_rate);
		}
	}
	p->last_bytes = p->bytes;
	p->last_lines = p->lines;
	double rate = p->line_rate > 0 ? p->line_rate : 0.0;
	char done[32], total[32], eta[32];
	size_text(done, sizeof done, (double)p->bytes);
	if (p->total) {
		double share = (double)p->bytes / (double)p->total;
		if (share > 1.0)
			share = 1.0;
		char bar[BAR_CELLS + 1];
		int full = (int)(share * BAR_CELLS);
		for (int i = 0; i < BAR_CELLS; i++)
			bar[i] = i < full ? '#' : '.';
		bar[BAR_CELLS] = '\0';
		uint64_t left = p->bytes < p->total ? p->total - p->bytes : 0;
		size_text(total, sizeof total, (double)p->total);
		time_text(eta, sizeof eta, p->byte_rate > 0 ? (double)left / p->byte_rate : -1.0);
		fprintf(stderr, "\r%5.1f%% [%s] %s of %s  %llu lines  %.0f lines/s  ETA %s\033[K",
		        share * 100.0, bar, done, total, (unsigned long long)p->lines, rate, eta);
	} else {
		fprintf(stderr, "\r%llu lines  %s  %.0f lines/s\033[K", (unsigned long long)p->lines,
		        done, rate);
	}
	fflush(stderr);
	p->drawn = 1;
	p->last = now;
}

void cli_progress_update(cli_progress *p, uint64_t bytes, uint64_t lines)
{
	p->bytes = bytes;
	p->lines = lines;
	if (!p->on)
		return;
	double now = cli_now();
	if (now - p->last >= DRAW_EVERY)
		draw(p, now);
}

void cli_progress_clear(cli_progress *p)
{
	if (!p->on || !p->drawn)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->drawn = 0;
}

void cli_progress_note(cli_progress *p, const char *text)
{
	if (!p->on)
		return;
	fprintf(stderr, "\r%s\033[K", text);
	fflush(stderr);
	p->drawn = 1;
}
