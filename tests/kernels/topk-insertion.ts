// The top-k kernel as it was before the heap (commit d5f28fc's assembly/topk.ts, insertion into the
// sorted output for every k, O(n·k)), kept for tests only: tests/kernels/topk.test.ts checks the
// kernel against it bit for bit, and bench/topk.ts times one against the other.
export const TOPK_INSERTION_SRC = `
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


export function topk_insertion_f32(x: usize, values: usize, indices: usize, outer: i32, n: i32, inner: i32, k: i32, largest: i32): void {
  topk<f32>(x, values, indices, outer, n, inner, k, largest);
}


export function topk_insertion_i32(x: usize, values: usize, indices: usize, outer: i32, n: i32, inner: i32, k: i32, largest: i32): void {
  topk<i32>(x, values, indices, outer, n, inner, k, largest);
}
`;
