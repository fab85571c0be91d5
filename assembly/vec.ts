// Small f32x4 helpers shared by the kernels: partial loads/stores for row tails, horizontal
// reductions, zeroing. Kept out of the kernel files so an entry's `export * from "./gemm"` does
// not try to export v128-typed functions to the host (asc warns AS112 for those).

/** Loads `cols` floats at p into the low lanes (cols ≥ 4: a full load), zeros elsewhere. */
@inline export function load_f32x4_partial(p: usize, cols: i32): v128 {
  if (cols >= 4) return v128.load(p);
  if (cols == 3) return v128.load32_lane(p, v128.load64_zero(p), 2, 8);
  if (cols == 2) return v128.load64_zero(p);
  if (cols == 1) return v128.load32_zero(p);
  return f32x4.splat(0);
}

/** Stores the first `cols` (0–4) lanes of v at p. */
@inline export function store_f32x4_partial(p: usize, v: v128, cols: i32): void {
  if (cols >= 4) {
    v128.store(p, v);
  } else if (cols >= 2) {
    v128.store64_lane(p, v, 0);
    if (cols == 3) v128.store32_lane(p, v, 2, 8);
  } else if (cols == 1) {
    v128.store32_lane(p, v, 0);
  }
}

/** Stores the first `cols` (1–8) floats of the 8-wide row (v0, v1) at p. */
@inline export function store_row8(p: usize, v0: v128, v1: v128, cols: i32): void {
  if (cols == 8) {
    v128.store(p, v0);
    v128.store(p, v1, 16);
  } else if (cols > 4) {
    v128.store(p, v0);
    store_f32x4_partial(p + 16, v1, cols - 4);
  } else {
    store_f32x4_partial(p, v0, cols);
  }
}

/** Sum of the four lanes. */
@inline export function hsum_f32x4(v: v128): f32 {
  v = f32x4.add(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  v = f32x4.add(v, i32x4.shuffle(v, v, 1, 0, 3, 2));
  return f32x4.extract_lane(v, 0);
}

/** Max of the four lanes by pmax (a NaN lane may or may not win: callers that care track NaN). */
@inline export function hmax_f32x4(v: v128): f32 {
  v = f32x4.pmax(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  v = f32x4.pmax(v, i32x4.shuffle(v, v, 1, 0, 3, 2));
  return f32x4.extract_lane(v, 0);
}

/** Zeroes n bytes (a multiple of 4) at p, inline: the blocks are small, and V8 runs memory.fill
 *  as a call out of wasm code. */
@inline export function zero_f32(p: usize, n: usize): void {
  const z = f32x4.splat(0);
  const end = p + n;
  for (; p + 16 <= end; p += 16) v128.store(p, z);
  for (; p < end; p += 4) store<f32>(p, 0);
}

/** touch_lines' sum, per instance (so per thread): only there to keep the loads. */
let TOUCHED: f32 = 0;

/**
 * Loads one float of each 64-byte line of the n floats at p, so lines another core has just
 * written come over together (independent loads) rather than one by one as a loop that
 * depends on them reaches each. The sum is kept (per instance), so the loads stay. Used by the
 * recurrent step (rnn.ts); a split GEMV touching its input first (GPT decode's out_proj and
 * linear2 read halves the other core wrote) gained nothing: a 2-thread decode step 1.019×.
 * Nor did each thread touching the first 2 KB of both weight streams of its next GEMV share
 * before the barrier, so the streams start warm: 1.010× and 1.024× (2026-12-03, hand-edited).
 */
export function touch_lines(p: usize, n: i32): void {
  let s: f32 = 0;
  for (let i = 0; i < n; i += 16) s += load<f32>(p + (<usize>i << 2));
  TOUCHED += s;
}
