// Top-k along the middle axis of an [outer][n][inner] tensor (torch.topk, ONNX TopK):
//   topk_f32, topk_i32  values [outer][k][inner] = the k largest (largest = 1) or smallest (0) of each
//             x[o][·][i], in order; indices (i32) [outer][k][inner] = where each came from.
// NaN is larger than every number (first for largest, last for smallest). Equal values (−0 and 0
// too) keep the lower index first: an element displaces only one it strictly ranks before
// (ir/ops/reduce.ts ranksBefore, the reference's rule).
// Each column is an insertion into the k-long sorted output itself: O(n·k) compares, scalar. k is
// small in practice (a few to a few tens); a heap or a selection would pay from k in the hundreds.

// @ts-ignore: decorator
@inline function before<T>(a: T, b: T, largest: bool): bool {
  return largest ? a > b || (a != a && b == b) : a < b || (b != b && a == a);
}

// @ts-ignore: decorator
@inline function topk<T>(x: usize, values: usize, indices: usize, outer: i32, n: i32, inner: i32, k: i32, largest: i32): void {
  const big = largest != 0, withIndices = indices != 0;
  const colb = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const xs = x + <usize>o * <usize>n * colb;
    const vs = values + <usize>o * <usize>k * colb, is = indices + <usize>o * <usize>k * colb;
    for (let i = 0; i < inner; i++) {
      const xc = xs + (<usize>i << 2), vc = vs + (<usize>i << 2), ic = is + (<usize>i << 2);
      let filled = 0;
      for (let j = 0; j < n; j++) {
        const v = load<T>(xc + <usize>j * colb);
        let p = filled;
        if (filled == k) {
          if (!before<T>(v, load<T>(vc + <usize>(k - 1) * colb), big)) continue;
          p = k - 1;
        } else filled++;
        // Shift the entries v ranks before one place down, then write v where they were.
        while (p > 0) {
          const u = load<T>(vc + <usize>(p - 1) * colb);
          if (!before<T>(v, u, big)) break;
          store<T>(vc + <usize>p * colb, u);
          if (withIndices) store<i32>(ic + <usize>p * colb, load<i32>(ic + <usize>(p - 1) * colb));
          p--;
        }
        store<T>(vc + <usize>p * colb, v);
        if (withIndices) store<i32>(ic + <usize>p * colb, j);
      }
    }
  }
}

/** values/indices [outer][k][inner] = the top k of x [outer][n][inner] along n (1 ≤ k ≤ n); indices = 0: not written (nothing reads them). */
export function topk_f32(x: usize, values: usize, indices: usize, outer: i32, n: i32, inner: i32, k: i32, largest: i32): void {
  topk<f32>(x, values, indices, outer, n, inner, k, largest);
}

/** topk_f32 over i32 values (ONNX TopK of int64 data). */
export function topk_i32(x: usize, values: usize, indices: usize, outer: i32, n: i32, inner: i32, k: i32, largest: i32): void {
  topk<i32>(x, values, indices, outer, n, inner, k, largest);
}
