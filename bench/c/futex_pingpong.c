/*
 * C floor of the cross-CPU wakeup: the protocol of raw/pingpong.mjs between two threads of one
 * process, with the futex system call itself: spin GAP_US so the peer has settled in FUTEX_WAIT,
 * stamp the clock, increment the word, FUTEX_WAKE; the woken side stamps again when FUTEX_WAIT
 * returns. WARMUP round trips, then ROUNDS (2 × ROUNDS one-way wakeups). Figure: their median, ns.
 */
#include "floor.h"
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WARMUP 100
#define ROUNDS 500
#define GAP_US 200

static int sent[2]; /* pings sent, pongs sent */
static double stamp;
static double lat[2 * (WARMUP + ROUNDS)];

static void spin(double us) {
  double end = now_ns() + us * 1000;
  while (now_ns() < end) continue;
}

static void wake(int word) {
  spin(GAP_US);
  double t = now_ns();
  __atomic_store(&stamp, &t, __ATOMIC_SEQ_CST);
  __atomic_add_fetch(&sent[word], 1, __ATOMIC_SEQ_CST);
  syscall(SYS_futex, &sent[word], FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Sleep until sent[word] moves past `seen`; the latency from the waker's stamp, ns. */
static double sleep_on(int word, int seen) {
  while (__atomic_load_n(&sent[word], __ATOMIC_SEQ_CST) == seen)
    syscall(SYS_futex, &sent[word], FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
  double t0;
  __atomic_load(&stamp, &t0, __ATOMIC_SEQ_CST);
  return now_ns() - t0;
}

static void *side1(void *arg) {
  for (int r = 0; r < WARMUP + ROUNDS; r++) {
    lat[2 * r] = sleep_on(0, r);
    wake(1);
  }
  return arg;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double rep(void) {
  pthread_t t;
  sent[0] = sent[1] = 0;
  if (pthread_create(&t, NULL, side1, NULL) != 0) return -1;
  for (int r = 0; r < WARMUP + ROUNDS; r++) {
    wake(0);
    lat[2 * r + 1] = sleep_on(1, r);
  }
  pthread_join(t, NULL);
  double *l = lat + 2 * WARMUP;
  int n = 2 * ROUNDS;
  qsort(l, n, sizeof *l, cmp);
  return (l[n / 2 - 1] + l[n / 2]) / 2;
}

int main(int argc, char **argv) { FLOOR_MAIN(rep, argc, argv); }
