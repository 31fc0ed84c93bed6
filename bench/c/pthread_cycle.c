/*
 * C floor of kthread_run + kthread_stop: pthread_create of a thread that returns at once, then
 * pthread_join, CYCLES times. Figure: ns per cycle (the bench prints cycles/s).
 */
#include "floor.h"
#include <pthread.h>

#define CYCLES 5000

static void *entry(void *arg) { return arg; }

static double rep(void) {
  double t0 = now_ns();
  for (int i = 0; i < CYCLES; i++) {
    pthread_t t;
    if (pthread_create(&t, NULL, entry, NULL) != 0) return -1;
    pthread_join(t, NULL);
  }
  return (now_ns() - t0) / CYCLES;
}

int main(int argc, char **argv) { FLOOR_MAIN(rep, argc, argv); }
