/**
 * A binary min-heap of item indices (int32), ordered by a caller-supplied `less`. The keys live
 * in the caller's own typed arrays, so a heap of a million items costs 4 bytes an entry and
 * no per-item objects (no GC pressure while a benchmark drains the backlog).
 *
 * Pushing indices in key order (what bulk generation does) costs one comparison each.
 */
export class IndexHeap {
  private data = new Int32Array(1024);
  private n = 0;

  constructor(private readonly less: (a: number, b: number) => boolean) {}

  get size(): number {
    return this.n;
  }

  clear(): void {
    this.n = 0;
    this.data = new Int32Array(1024);
  }

  /** Makes room for `extra` more entries at once (avoids repeated doubling during bulk loads). */
  reserve(extra: number): void {
    const need = this.n + extra;
    if (need <= this.data.length) return;
    let cap = this.data.length;
    while (cap < need) cap *= 2;
    const next = new Int32Array(cap);
    next.set(this.data.subarray(0, this.n));
    this.data = next;
  }

  peek(): number {
    return this.n > 0 ? this.data[0]! : -1;
  }

  push(index: number): void {
    if (this.n === this.data.length) this.reserve(1);
    const d = this.data;
    let i = this.n++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = d[parent]!;
      if (!this.less(index, p)) break;
      d[i] = p;
      i = parent;
    }
    d[i] = index;
  }

  /** Removes and returns the smallest index, or -1 when empty. */
  pop(): number {
    if (this.n === 0) return -1;
    const d = this.data;
    const top = d[0]!;
    const last = d[--this.n]!;
    const n = this.n;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        if (r < n && this.less(d[r]!, d[l]!)) c = r;
        if (!this.less(d[c]!, last)) break;
        d[i] = d[c]!;
        i = c;
      }
      d[i] = last;
    }
    return top;
  }
}
