// The machine probes both benches time: the mul+add compute peak and a plain v128 read.
// AssemblyScript source, compiled beside the kernels (its `import { madd } from "./math"`
// resolves to assembly/math.ts, so the peak uses the same multiply-add as the kernels).
export const PROBES_SRC = `
import { madd } from "./math";
export function peak_madd(iters: i32, s: f32): f32 {
  const x = f32x4.splat(s), y = f32x4.splat(0.999);
  let c0 = x, c1 = y, c2 = x, c3 = y, c4 = x, c5 = y, c6 = x, c7 = y, c8 = x, c9 = y, c10 = x, c11 = y;
  for (let i = 0; i < iters; i++) {
    c0 = madd(c0, y, x); c1 = madd(c1, y, x); c2 = madd(c2, y, x); c3 = madd(c3, y, x);
    c4 = madd(c4, y, x); c5 = madd(c5, y, x); c6 = madd(c6, y, x); c7 = madd(c7, y, x);
    c8 = madd(c8, y, x); c9 = madd(c9, y, x); c10 = madd(c10, y, x); c11 = madd(c11, y, x);
  }
  const s0 = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)));
  return f32x4.extract_lane(f32x4.add(s0, f32x4.add(f32x4.add(c8, c9), f32x4.add(c10, c11))), 0);
}
/** Reads bytes (a multiple of 128) at p, reps times; returns a sum so nothing is dead. */
export function read_sum(p: usize, bytes: i32, reps: i32): i32 {
  let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  for (let r = 0; r < reps; r++) {
    for (let q = p, e = p + <usize>bytes; q < e; q += 128) {
      a0 = i32x4.add(a0, i32x4.add(v128.load(q, 0), v128.load(q, 16)));
      a1 = i32x4.add(a1, i32x4.add(v128.load(q, 32), v128.load(q, 48)));
      a2 = i32x4.add(a2, i32x4.add(v128.load(q, 64), v128.load(q, 80)));
      a3 = i32x4.add(a3, i32x4.add(v128.load(q, 96), v128.load(q, 112)));
    }
  }
  return i32x4.extract_lane(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3)), 0);
}
`;
