/*
 * C floor of the context switch: two ucontexts in one thread hand the CPU to each other with
 * swapcontext(3), SWITCHES times each way. glibc's swapcontext saves and restores the signal
 * mask, a system call per switch. Figure: ns per switch.
 */
#include "floor.h"
#include <ucontext.h>

#define SWITCHES 200000

static ucontext_t main_ctx, a_ctx, b_ctx;
static char a_stack[64 * 1024], b_stack[64 * 1024];
static volatile long count;

static void side_a(void) {
  for (int i = 0; i < SWITCHES; i++) {
    count++;
    swapcontext(&a_ctx, &b_ctx);
  }
}

static void side_b(void) {
  for (;;) {
    count++;
    swapcontext(&b_ctx, &a_ctx);
  }
}

static double rep(void) {
  getcontext(&a_ctx);
  a_ctx.uc_stack.ss_sp = a_stack;
  a_ctx.uc_stack.ss_size = sizeof a_stack;
  a_ctx.uc_link = &main_ctx;
  makecontext(&a_ctx, side_a, 0);
  getcontext(&b_ctx);
  b_ctx.uc_stack.ss_sp = b_stack;
  b_ctx.uc_stack.ss_size = sizeof b_stack;
  b_ctx.uc_link = &main_ctx;
  makecontext(&b_ctx, side_b, 0);
  count = 0;
  double t0 = now_ns();
  swapcontext(&main_ctx, &a_ctx); /* returns when side_a ends */
  double t1 = now_ns();
  return (t1 - t0) / (2.0 * SWITCHES);
}

int main(int argc, char **argv) { FLOOR_MAIN(rep, argc, argv); }
