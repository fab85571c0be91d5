// Top-k along the middle axis of an [outer][n][inner] tensor (torch.topk, ONNX TopK):
//   topk_f32, topk_i32  values [outer][k][inner] = the k largest (largest = 1) or smallest (0) of each
//             x[o][·][i], in order; indices (i32) [outer][k][inner] = where each came from.
// NaN is larger than every number (first for largest, last for smallest). Equal values (−0 and 0
// too, and any two NaNs) keep the lower index first: the output is the first k of a stable sort
// by rank (ir/ops/reduce.ts ranksBefore, the reference's rule), so each output slot holds one
// well-defined element and its bits (−0, a NaN's payload) travel with it.
//
// The output column itself is a binary heap of the k best so far with the worst at the root,
// ordered by (rank, index): an element enters only if it ranks strictly before the root (it has
// the highest index yet, so a tie loses), and at the end a heap sort puts them in order; scalar,
// O(n log k + k log k) at worst, about n compares with the root (kept in a local) on random data.
// The heap needs the indices to break ties, so when nothing reads them the caller passes
// `scratch` (k i32) to keep them in.
// It replaced insertion into the sorted output (O(n·k) at worst: an ascending input shifts every
// entry, for largest), and it is faster at every k, so there is no small-k path: bench/topk.ts,
// one row of 50257 floats, 2 busy cores (load 3), medians of per-round ratios insertion / heap:
// uniform input 1.6× at k = 1 to 50 (likely the root kept in a local, not loaded per element),
// ascending 1.6× at k = 1, 1.2–1.5× at k = 2 to 10, 1.7× at 16, 2.9× at 50, 25× at 1000.

// @ts-ignore: decorator
@inline function before<T>(a: T, b: T, largest: bool): bool {
  return largest ? a > b || (a != a && b == b) : a < b || (b != b && a == a);
}

/** Does (a, ia) rank after (b, ib): worse value, or an equal rank and a higher index. */
// @ts-ignore: decorator
@inline function after<T>(a: T, ia: i32, b: T, ib: i32, big: bool): bool {
  return before<T>(b, a, big) || (!before<T>(a, b, big) && ia > ib);
}

/** Moves (v, iv) down from slot p of the heap [0, size) (worst at the root) to where it belongs. */
// @ts-ignore: decorator
@inline function siftDown<T>(vc: usize, ic: usize, colb: usize, ib: usize, p: i32, size: i32, v: T, iv: i32, big: bool): void {
  for (;;) {
    let c = 2 * p + 1;
    if (c >= size) break;
    let cv = load<T>(vc + <usize>c * colb), ci = load<i32>(ic + <usize>c * ib);
    if (c + 1 < size) {
      const rv = load<T>(vc + <usize>(c + 1) * colb), ri = load<i32>(ic + <usize>(c + 1) * ib);
      if (after<T>(rv, ri, cv, ci, big)) { c++; cv = rv; ci = ri; }
    }
    if (!after<T>(cv, ci, v, iv, big)) break;
    store<T>(vc + <usize>p * colb, cv);
    store<i32>(ic + <usize>p * ib, ci);
    p = c;
  }
  store<T>(vc + <usize>p * colb, v);
  store<i32>(ic + <usize>p * ib, iv);
}

// @ts-ignore: decorator
@inline function heapColumn<T>(xc: usize, vc: usize, ic: usize, colb: usize, ib: usize, n: i32, k: i32, big: bool): void {
  for (let j = 0; j < k; j++) {
    store<T>(vc + <usize>j * colb, load<T>(xc + <usize>j * colb));
    store<i32>(ic + <usize>j * ib, j);
  }
  for (let p = (k >> 1) - 1; p >= 0; p--) siftDown<T>(vc, ic, colb, ib, p, k, load<T>(vc + <usize>p * colb), load<i32>(ic + <usize>p * ib), big);
  let worst = load<T>(vc);
  for (let j = k; j < n; j++) {
    const v = load<T>(xc + <usize>j * colb);
    if (!before<T>(v, worst, big)) continue;
    siftDown<T>(vc, ic, colb, ib, 0, k, v, j, big);
    worst = load<T>(vc);
  }
  // Heap sort: the root (the worst left) goes to the end of the shrinking heap.
  for (let size = k - 1; size > 0; size--) {
    const rv = load<T>(vc), ri = load<i32>(ic);
    siftDown<T>(vc, ic, colb, ib, 0, size, load<T>(vc + <usize>size * colb), load<i32>(ic + <usize>size * ib), big);
    store<T>(vc + <usize>size * colb, rv);
    store<i32>(ic + <usize>size * ib, ri);
  }
}

// @ts-ignore: decorator
@inline function topk<T>(x: usize, values: usize, indices: usize, scratch: usize, outer: i32, n: i32, inner: i32, k: i32, largest: i32): void {
  const big = largest != 0, withIndices = indices != 0;
  const colb = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const xs = x + <usize>o * <usize>n * colb;
    const vs = values + <usize>o * <usize>k * colb, is = indices + <usize>o * <usize>k * colb;
    for (let i = 0; i < inner; i++) {
      const xc = xs + (<usize>i << 2), vc = vs + (<usize>i << 2);
      if (withIndices) heapColumn<T>(xc, vc, is + (<usize>i << 2), colb, colb, n, k, big);
      else heapColumn<T>(xc, vc, scratch, colb, 4, n, k, big);
    }
  }
}

/**
 * values/indices [outer][k][inner] = the top k of x [outer][n][inner] along n (1 ≤ k ≤ n); indices = 0:
 * not written (nothing reads them), and then scratch holds k i32.
 */
export function topk_f32(x: usize, values: usize, indices: usize, scratch: usize, outer: i32, n: i32, inner: i32, k: i32, largest: i32): void {
  topk<f32>(x, values, indices, scratch, outer, n, inner, k, largest);
}

/** topk_f32 over i32 values (ONNX TopK of int64 data). */
export function topk_i32(x: usize, values: usize, indices: usize, scratch: usize, outer: i32, n: i32, inner: i32, k: i32, largest: i32): void {
  topk<i32>(x, values, indices, scratch, outer, n, inner, k, largest);
}
