// Fused attention (assembly/attention.ts) against the unfused kernel sequence the compiler would
// otherwise emit, per batch·head: matmul_f32 for S = scale·Q·Kᵀ (transB), softmax_f32 over S's rows,
// matmul_f32 for O = P·V. Two unfused variants:
//   split   heads split into [B][H][L][d] copies first and merged back after (copy loops, v128);
//   views   the same three kernels reading the interleaved-head tensors in place through their row
//           strides (matmul takes lda/ldb/ldc), so no copies: the best an unfused lowering can do.
// Inputs are self-attention's packed projection qkv [B][L][3E] (E = H·d), or for decode q [B][1][E]
// and K/V caches [B][Lk][E]; o [B][Lq][E]; no mask (decode: causal at the last position, which
// masks nothing). Each call covers all of B and H, so JS→wasm call overhead is the same for all.
//
// Timing: warm-up, then each variant runs as a batch of calls sized to ≥ 20 ms, the variants
// interleaved (A, B, C, A, B, C, …) so load from other processes hits all alike; medians of the
// repeats. GFLOP/s of the fused kernel counts 4·B·H·Lq·Lk·d (two matmuls; exp and the rest free).
// Run: npx tsx bench/attention.ts
import v8 from 'node:v8';
import { assemble, type Isa } from '../compiler/codegen/assemble.ts';
import { hostIsas } from '../compiler/codegen/host-isas.ts';
import { attentionScratchBytes } from '../compiler/codegen/attention-abi.ts';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const SRC = `
export * from "./attention";
import { matmul_f32 } from "./matmul";
import { softmax_f32 } from "./softmax";

/** n floats from s to t (copy loop, four at a time). */
@inline function copy(s: usize, t: usize, n: i32): void {
  let c = 0;
  for (; c + 4 <= n; c += 4) v128.store(t + (<usize>c << 2), v128.load(s + (<usize>c << 2)));
  for (; c < n; c++) store<f32>(t + (<usize>c << 2), load<f32>(s + (<usize>c << 2)));
}

/** x rows of stride ld, heads of w floats from column off → [B][H][L][w]. */
export function split_heads(x: usize, ld: i32, off: i32, y: usize, B: i32, L: i32, H: i32, w: i32): void {
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < L; i++) {
    copy(x + (<usize>((b * L + i) * ld + off + h * w) << 2), y + (<usize>(((b * H + h) * L + i) * w) << 2), w);
  }
}

/** [B][H][L][w] → rows of stride ld (head h at column h·w). */
export function merge_heads(y: usize, x: usize, ld: i32, B: i32, L: i32, H: i32, w: i32): void {
  for (let b = 0; b < B; b++) for (let i = 0; i < L; i++) for (let h = 0; h < H; h++) {
    copy(y + (<usize>(((b * H + h) * L + i) * w) << 2), x + (<usize>((b * L + i) * ld + h * w) << 2), w);
  }
}

/** Per (b, h): S = scale·Q·Kᵀ, softmax rows, O = P·V, each operand addressed through its strides. */
export function unfused(q: usize, k: usize, v: usize, o: usize, s: usize, B: i32, H: i32, Lq: i32, Lk: i32, d: i32,
                        ldq: i32, ldk: i32, ldv: i32, ldo: i32, bsq: i32, bsk: i32, bsv: i32, bso: i32,
                        hsq: i32, hsk: i32, hsv: i32, hso: i32, scale: f32): void {
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const qh = q + (<usize>(b * bsq + h * hsq) << 2), kh = k + (<usize>(b * bsk + h * hsk) << 2);
    const vh = v + (<usize>(b * bsv + h * hsv) << 2), oh = o + (<usize>(b * bso + h * hso) << 2);
    matmul_f32(qh, kh, s, Lq, Lk, d, ldq, ldk, Lk, 1, scale);
    softmax_f32(s, s, Lq, Lk, 1);
    matmul_f32(s, vh, oh, Lq, d, Lk, Lk, ldv, ldo, 0, 1.0);
  }
}
`;

type Fn = (...a: number[]) => number;

function median(xs: number[]): number { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]!; }

/** Calls per batch so that one batch of f takes ≥ ms. */
function batchSize(f: () => void, ms: number): number {
  let n = 1;
  for (;;) { const t0 = performance.now(); for (let i = 0; i < n; i++) f(); if (performance.now() - t0 >= ms) return n; n *= 2; }
}

/** Median seconds per call of each variant, batches interleaved across variants. */
function timeInterleaved(fs: (() => void)[], reps = 21, ms = 20): number[] {
  for (const f of fs) for (let i = 0; i < 20; i++) f();        // warm-up: let V8 tier the wasm up
  const ns = fs.map((f) => batchSize(f, ms));
  const ts: number[][] = fs.map(() => []);
  for (let r = 0; r < reps; r++) {
    fs.forEach((f, x) => {
      const n = ns[x]!, t0 = performance.now();
      for (let i = 0; i < n; i++) f();
      ts[x]!.push((performance.now() - t0) / n / 1e3);
    });
  }
  return ts.map(median);
}

interface Size { label: string; B: number; H: number; Lq: number; Lk: number; d: number; decode: boolean; causal?: boolean }
const SIZES: Size[] = [
  { label: '(a) encoder layer', B: 1, H: 4, Lq: 128, Lk: 128, d: 64, decode: false },
  { label: '(b) tiny', B: 2, H: 4, Lq: 7, Lk: 7, d: 8, decode: false },
  { label: '(c) decode', B: 1, H: 4, Lq: 1, Lk: 128, d: 64, decode: true },
  { label: '(d) long', B: 1, H: 4, Lq: 512, Lk: 512, d: 64, decode: false },
  // Where fusion starts and stops paying, for the compiler's cost model.
  { label: 'sweep', B: 1, H: 4, Lq: 16, Lk: 16, d: 64, decode: false },
  { label: 'sweep', B: 1, H: 4, Lq: 32, Lk: 32, d: 64, decode: false },
  { label: 'sweep', B: 1, H: 4, Lq: 64, Lk: 64, d: 64, decode: false },
  { label: 'sweep', B: 1, H: 4, Lq: 256, Lk: 256, d: 64, decode: false },
  { label: 'sweep', B: 1, H: 8, Lq: 128, Lk: 128, d: 16, decode: false },
  { label: 'sweep', B: 1, H: 8, Lq: 128, Lk: 128, d: 32, decode: false },
  { label: 'sweep', B: 1, H: 4, Lq: 128, Lk: 128, d: 128, decode: false },
  { label: 'sweep decode', B: 1, H: 4, Lq: 1, Lk: 512, d: 64, decode: true },
  { label: 'sweep decode', B: 4, H: 8, Lq: 1, Lk: 128, d: 32, decode: true },
];

async function bench(isa: Isa): Promise<void> {
  const memoryBase = 64 << 20;
  const { wasm } = await assemble({ sources: { '__bench_attention.ts': SRC }, entry: '__bench_attention.ts', isa, memoryBase,
    initialPages: (memoryBase >> 16) + 16 });
  const { instance } = await WebAssembly.instantiate(wasm as BufferSource);
  const ex = instance.exports as Record<string, Fn> & { memory: WebAssembly.Memory };
  const f32 = new Float32Array(ex.memory.buffer);
  console.log(`\n${isa}`);
  console.log('size'.padEnd(44) + 'fused ms'.padStart(10) + 'GFLOP/s'.padStart(9) + ' | ' + 'split ms'.padStart(9) +
    ' (copies)'.padStart(9) + '  ratio' + ' | ' + 'views ms'.padStart(9) + '  ratio');
  for (const z of SIZES) {
    const { B, H, Lq, Lk, d } = z, E = H * d;
    let top = 1024;
    const alloc = (floats: number) => { const p = top; top += (floats * 4 + 63) & ~63; return p; };
    const rnd = (p: number, n: number) => { for (let i = 0; i < n; i++) f32[(p >> 2) + i] = Math.random() * 2 - 1; };
    // Self-attention: one packed [B][L][3E]; decode: q [B][1][E] and separate K/V caches [B][Lk][E].
    let pq: number, pk: number, pv: number, ldq: number, ldk: number, ldv: number;
    if (z.decode) {
      pq = alloc(B * E); pk = alloc(B * Lk * E); pv = alloc(B * Lk * E);
      rnd(pq, B * E); rnd(pk, B * Lk * E); rnd(pv, B * Lk * E);
      ldq = ldk = ldv = E;
    } else {
      const qkv = alloc(B * Lq * 3 * E);
      rnd(qkv, B * Lq * 3 * E);
      pq = qkv; pk = qkv + 4 * E; pv = qkv + 8 * E; ldq = ldk = ldv = 3 * E;
    }
    const bsq = Lq * ldq, bsk = Lk * ldk, bsv = Lk * ldv;
    const po = alloc(B * Lq * E), po2 = alloc(B * Lq * E);
    const pscr = alloc(attentionScratchBytes(Lq, Lk) / 4);
    const ps = alloc(Lq * Lk);
    const qs = alloc(B * H * Lq * d), ks = alloc(B * H * Lk * d), vs = alloc(B * H * Lk * d), os = alloc(B * H * Lq * d);
    const scale = 1 / Math.sqrt(d);
    const causal = z.decode ? 1 : 0, qOffset = z.decode ? Lk - 1 : 0;

    const fused = () => ex.attention_f32!(pq, pk, pv, po, 0, pscr, B, H, Lq, Lk, d, d, ldq, ldk, ldv, E, bsq, bsk, bsv, Lq * E,
      0, 0, 0, scale, causal, Lk, qOffset);
    const copiesIn = () => {
      ex.split_heads!(pq, ldq, 0, qs, B, Lq, H, d);
      ex.split_heads!(pk, ldk, 0, ks, B, Lk, H, d);
      ex.split_heads!(pv, ldv, 0, vs, B, Lk, H, d);
    };
    const split = () => {
      copiesIn();
      ex.unfused!(qs, ks, vs, os, ps, B, H, Lq, Lk, d, d, d, d, d, H * Lq * d, H * Lk * d, H * Lk * d, H * Lq * d,
        Lq * d, Lk * d, Lk * d, Lq * d, scale);
      ex.merge_heads!(os, po2, E, B, Lq, H, d);
    };
    const copies = () => { copiesIn(); ex.merge_heads!(os, po2, E, B, Lq, H, d); };
    const views = () => ex.unfused!(pq, pk, pv, po2, ps, B, H, Lq, Lk, d, ldq, ldk, ldv, E, bsq, bsk, bsv, Lq * E,
      d, d, d, d, scale);

    // Same answer from both paths before timing anything.
    fused(); views();
    let err = 0;
    for (let i = 0; i < B * Lq * E; i++) err = Math.max(err, Math.abs(f32[(po >> 2) + i]! - f32[(po2 >> 2) + i]!));
    if (!(err < 1e-4)) throw new Error(`${z.label}: fused and unfused outputs differ by ${err}`);

    const [tf, tsplit, tcopy, tview] = timeInterleaved([fused, split, copies, views]) as [number, number, number, number];
    const flops = 4 * B * H * Lq * Lk * d;
    const shape = `${z.label} B=${B} H=${H} Lq=${Lq} Lk=${Lk} d=${d}`;
    const ms = (t: number) => (t * 1e3).toFixed(4).padStart(9);
    console.log(shape.padEnd(44) + ms(tf) + ' ' + (flops / tf / 1e9).toFixed(1).padStart(8) + ' | ' + ms(tsplit) +
      ` (${ms(tcopy).trim()})` + `  ${(tsplit / tf).toFixed(2)}x` + ' | ' + ms(tview) + `  ${(tview / tf).toFixed(2)}x`);
  }
  // Causal self-attention: the fused kernel skips keys past each row block's limit (~half the work).
  const cz = [128, 512].map((L) => {
    const B = 1, H = 4, d = 64, E = H * d;
    const qkv = 1024, po = qkv + B * L * 3 * E * 4 + 64, pscr = po + B * L * E * 4 + 64;
    for (let i = 0; i < B * L * 3 * E; i++) f32[(qkv >> 2) + i] = Math.random() * 2 - 1;
    const call = (causal: number) => () => ex.attention_f32!(qkv, qkv + 4 * E, qkv + 8 * E, po, 0, pscr, B, H, L, L, d, d,
      3 * E, 3 * E, 3 * E, E, L * 3 * E, L * 3 * E, L * 3 * E, L * E, 0, 0, 0, 1 / Math.sqrt(d), causal, L, 0);
    const [tn, tc] = timeInterleaved([call(0), call(1)]) as [number, number];
    return `L=${L}: ${(tc * 1e3).toFixed(3)} ms vs ${(tn * 1e3).toFixed(3)} ms non-causal (${(tc / tn).toFixed(2)})`;
  });
  console.log(`fused causal, B=1 H=4 d=64: ${cz.join('; ')}`);
}

for (const isa of hostIsas()) await bench(isa);
