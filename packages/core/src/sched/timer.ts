/**
 * Per-CPU timer list: a min-heap on expiry time (ms on the shared clock). Timers are CPU-local:
 * a thread's timeout lives on the CPU the thread lives on. Each timer knows its heap index, so
 * arming and cancelling are O(log n) and allocate nothing once the timer object exists.
 */
export class Timer {
  when = 0;
  index = -1; // position in the heap, -1 when not armed
  constructor(
    public fn: (t: Timer) => void,
    /** The callback's argument (for a thread's timeout: its slot). */
    public data = 0,
  ) {}
  get pending(): boolean {
    return this.index >= 0;
  }
}

export class TimerList {
  private heap: Timer[] = [];

  get size(): number {
    return this.heap.length;
  }
  /** Expiry of the earliest timer, Infinity if none. */
  get next(): number {
    return this.heap.length ? this.heap[0].when : Infinity;
  }

  add(t: Timer, when: number): void {
    if (t.index >= 0) this.del(t);
    t.when = when;
    t.index = this.heap.length;
    this.heap.push(t);
    this.up(t.index);
  }

  del(t: Timer): void {
    const i = t.index;
    if (i < 0) return;
    const last = this.heap.pop()!;
    t.index = -1;
    if (last !== t) {
      this.heap[i] = last;
      last.index = i;
      this.down(i);
      this.up(last.index);
    }
  }

  /** Fire every timer due at `now`. */
  run(now: number): void {
    while (this.heap.length && this.heap[0].when <= now) {
      const t = this.heap[0];
      this.del(t);
      t.fn(t);
    }
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].when <= h[i].when) break;
      this.swap(i, p);
      i = p;
    }
  }
  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l].when < h[m].when) m = l;
      if (r < h.length && h[r].when < h[m].when) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
  private swap(a: number, b: number): void {
    const h = this.heap;
    const x = h[a];
    h[a] = h[b];
    h[b] = x;
    h[a].index = a;
    h[b].index = b;
  }
}
