/*
 * bench/bench_files.h - what the C benchmarks that write brains to disk
 * share.
 */
#ifndef BENCH_FILES_H
#define BENCH_FILES_H

/* Remove a directory and everything under it (best effort; links are
 * removed, never followed). */
void bench_remove_tree(const char *path);

#endif /* BENCH_FILES_H */
