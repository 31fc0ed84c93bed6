/*
 * C floor of spin_lock + spin_unlock: the raw baselines' compare-and-swap lock (retry a seq_cst
 * CAS 0 → 1 until it succeeds, a seq_cst store of 0 to drop it) around a shared counter.
 * argv[2] = 1: one thread, PAIRS lock + unlock pairs; figure: ns per pair.
 * argv[2] = 2: two threads, both past a spinning start line, take it LOOPS times each; figure:
 * from the start line to the last thread's end, ÷ total acquisitions (raw/cas-hammer.mjs's span).
 * A lost update fails the run.
 */
#include "floor.h"
#include <pthread.h>

#define PAIRS 2000000
#define LOOPS 500000

static int lock_word;
static long counter;
static int start_line;
static double began[2], ended[2];

static inline void lock(void) {
  int expected;
  do expected = 0;
  while (!__atomic_compare_exchange_n(&lock_word, &expected, 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
}

static inline void unlock(void) { __atomic_store_n(&lock_word, 0, __ATOMIC_SEQ_CST); }

static double uncontended(void) {
  counter = 0;
  double t0 = now_ns();
  for (int i = 0; i < PAIRS; i++) {
    lock();
    counter++;
    unlock();
  }
  double t1 = now_ns();
  return counter == PAIRS ? (t1 - t0) / PAIRS : -1;
}

static void *hammer(void *arg) {
  long me = (long)arg;
  __atomic_add_fetch(&start_line, 1, __ATOMIC_SEQ_CST);
  while (__atomic_load_n(&start_line, __ATOMIC_SEQ_CST) < 2) continue;
  began[me] = now_ns();
  for (int i = 0; i < LOOPS; i++) {
    lock();
    counter++;
    unlock();
  }
  ended[me] = now_ns();
  return NULL;
}

static double contended(void) {
  pthread_t t[2];
  counter = 0;
  start_line = 0;
  for (long i = 0; i < 2; i++)
    if (pthread_create(&t[i], NULL, hammer, (void *)i) != 0) return -1;
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  double start = began[0] < began[1] ? began[0] : began[1];
  double end = ended[0] > ended[1] ? ended[0] : ended[1];
  return counter == 2L * LOOPS ? (end - start) / (2.0 * LOOPS) : -1;
}

int main(int argc, char **argv) {
  if (argc > 2 && atoi(argv[2]) == 2) FLOOR_MAIN(contended, argc, argv);
  FLOOR_MAIN(uncontended, argc, argv);
}
