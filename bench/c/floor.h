/*
 * Shared by the C floor programs: a monotonic clock in ns, the repetition loop (one warm-up
 * repetition, not printed, then one figure per line: ns per operation), and argument parsing.
 * Every program is built with `cc -O2 -pthread` at bench time (bench/lib/cfloor.ts).
 */
#ifndef FLOOR_H
#define FLOOR_H
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* argv[1]: repetitions to print (after one warm-up repetition). */
static inline int reps_arg(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 9;
  return reps > 0 ? reps : 1;
}

/* Run `rep` reps + 1 times; print every figure but the first (the warm-up). */
#define FLOOR_MAIN(rep, argc, argv)                          \
  do {                                                       \
    int n_ = reps_arg(argc, argv);                           \
    for (int r_ = -1; r_ < n_; r_++) {                       \
      double ns_ = rep();                                    \
      if (ns_ < 0) return 1;                                 \
      if (r_ >= 0) printf("%.3f\n", ns_);                    \
      fflush(stdout);                                        \
    }                                                        \
    return 0;                                                \
  } while (0)

#endif
