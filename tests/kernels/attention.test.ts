// attention_f32 (assembly/attention.ts) against the f64 plain-loop oracle (attention-oracle.ts), which
// indexes q, k, v, mask by (b, h, i, j) from the same strides, so the cases also pin the ABI.
//
// Tolerance: |got − want| ≤ 1e-5 + 1e-5·|want| per o element (inputs U(−1, 1), scale 1/√d unless a
// case says otherwise; afterAll prints the largest fraction of the tolerance used). The large-logit
// case (scores ≈ 100, which overflow e^s without the max subtraction) allows 1e-4: there the f32
// rounding of the scores themselves (ulp(100) ≈ 8e-6) already moves p by that much.
//
// Every case also checks: nothing of o but its rows' head slices is written (o lives in a buffer of
// canaries, as a view with padded row and batch strides, plus canaries after); nothing past the
// scratch size attentionScratchBytes gives, and scratch starts as NaN; inputs unchanged; padding
// columns of q/k/v and the k/v rows at or past kvLen are NaN, so reading any of them shows up.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { assemble, type Isa } from '../../compiler/codegen/assemble.ts';
import { attentionScratchBytes } from '../../compiler/codegen/attention-abi.ts';
import { ISAS, Kernels, MEMORY_BASE, randomF32, mismatches } from './harness.ts';
import { attentionForward } from './attention-oracle.ts';

const RTOL = 1e-5, ATOL = 1e-5;
const CANARY = 12345.5;

// harness.ts's kernel module does not export attention.ts; build one that does, once per ISA per file.
const modules = new Map<Isa, Promise<Kernels>>();
function attentionKernels(isa: Isa): Promise<Kernels> {
  let k = modules.get(isa);
  if (!k) {
    k = (async () => {
      const { wasm } = await assemble({ sources: { '__attention_test.ts': 'export * from "./attention";' },
        entry: '__attention_test.ts', isa, memoryBase: MEMORY_BASE, initialPages: (MEMORY_BASE >> 16) + 16 });
      const { instance } = await WebAssembly.instantiate(wasm as BufferSource);
      const ex = instance.exports as Record<string, unknown>;
      return new Kernels(isa, ex as Record<string, (...a: number[]) => number>, ex.memory as WebAssembly.Memory);
    })();
    modules.set(isa, k);
  }
  return k;
}

/** How q, k, v are laid out: own dense buffers, own buffers with padded strides, or views into packed ones. */
type Layout = 'dense' | 'strided' | 'qkv' | 'q_kv';
/** none; key_padding [B,Lk]; attn [Lq,Lk]; head [H,Lq,Lk]; full [B,H,Lq,Lk] with padded rows. */
type MaskKind = 'none' | 'key_padding' | 'attn' | 'head' | 'full';

interface Case {
  B: number; H: number; Lq: number; Lk: number; d: number; dv: number;
  layout: Layout; mask: MaskKind; causal: boolean; kvLen: number; qOffset: number;
  scale?: number; oPad: number; misalign: number;
  /** Rows of the mask that are entirely true: [b, h, i] (−1 = every) */
  fullRows?: [number, number, number][];
  /** q and k get 10 in the first element of every head slice: scores ≈ 100. */
  bigLogits?: boolean;
  tol?: number;
  /** This input ends exactly at the end of wasm memory (dense layout): a read past it traps. */
  atEnd?: 'q' | 'k' | 'v' | 'mask';
}

const SIZES = [1, 2, 3, 5, 8, 17, 33, 64, 128];
const LAYOUTS: Layout[] = ['dense', 'strided', 'qkv', 'q_kv'];
const MASKS: MaskKind[] = ['none', 'key_padding', 'attn', 'head', 'full'];
const cases: Case[] = [];
let seq = 0;

/** Adds a case; layout, mask and padding vary with the sequence number unless given. */
function add(c: Partial<Case> & Pick<Case, 'B' | 'H' | 'Lq' | 'Lk' | 'd' | 'dv'>): void {
  const i = seq++;
  let layout = c.layout ?? LAYOUTS[i % 4]!;
  if (layout === 'qkv' && c.Lq !== c.Lk) layout = 'strided';
  cases.push({ mask: MASKS[(i >> 1) % 5]!, causal: i % 3 === 1, kvLen: c.Lk, qOffset: 0,
    oPad: [0, 3, 0, 5][(i >> 2) % 4]!, misalign: ((i >> 1) % 4) * 4, ...c, layout });
}

// Each size on each axis, others small (kept small when B or H is large, for the oracle's sake).
const base = { B: 2, H: 2, Lq: 5, Lk: 9, d: 8, dv: 8 };
for (const axis of ['B', 'H', 'Lq', 'Lk', 'd', 'dv'] as const) {
  for (const n of SIZES) {
    const c = { ...base, [axis]: n };
    if ((axis === 'B' || axis === 'H') && n >= 33) { c.Lq = 3; c.Lk = 5; }
    add(c);
    add({ ...c, causal: true, mask: 'none' });
  }
}
// Every head width pair up to the vector tails, single rows and full blocks.
for (const d of [1, 2, 3, 4, 5, 7, 9, 12, 16, 33]) for (const dv of [1, 3, 4, 6, 8, 11, 16, 20]) {
  add({ B: 1, H: 2, Lq: [1, 4, 6][seq % 3]!, Lk: 7, d, dv });
}
// Block and tail structure (8-row blocks, the last 1–3 rows alone): Lq mod 8, Lk odd/even, with
// and without causal.
for (const Lq of [1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 13, 15, 16]) for (const Lk of [1, 2, 3, 4, 5, 8, 9, 17]) {
  add({ B: 1, H: 1, Lq, Lk, d: 5, dv: 6, causal: (Lq + Lk) % 2 === 0 });
}
// Head widths past the kernel's 128-deep Q^T chunk (scores accumulate over chunks).
for (const [d, Lq] of [[129, 8], [200, 5], [257, 9], [300, 2]] as const) {
  add({ B: 1, H: 2, Lq, Lk: 9, d, dv: 8 });
  add({ B: 1, H: 2, Lq, Lk: 9, d, dv: 8, causal: true, mask: 'full' });
}
// Transformer-ish shapes.
add({ B: 1, H: 4, Lq: 128, Lk: 128, d: 64, dv: 64, layout: 'qkv', mask: 'none' });
add({ B: 1, H: 4, Lq: 128, Lk: 128, d: 64, dv: 64, layout: 'qkv', mask: 'none', causal: true });
add({ B: 2, H: 4, Lq: 7, Lk: 7, d: 8, dv: 8, layout: 'qkv', mask: 'key_padding' });
add({ B: 2, H: 2, Lq: 33, Lk: 64, d: 32, dv: 32, layout: 'q_kv', mask: 'key_padding' });
add({ B: 1, H: 2, Lq: 17, Lk: 128, d: 128, dv: 128, mask: 'attn' });
// KV cache: decode steps (Lq = 1, qOffset = pos, kvLen = pos + 1), prefill chunks, non-causal partial caches.
for (const [Lk, pos] of [[1, 0], [8, 0], [8, 5], [33, 31], [128, 127], [128, 64], [17, 3]] as const) {
  for (const d of [8, 17, 64]) add({ B: 2, H: 3, Lq: 1, Lk, d, dv: d, causal: true, kvLen: pos + 1, qOffset: pos, mask: 'none' });
  add({ B: 2, H: 3, Lq: 1, Lk, d: 16, dv: 16, causal: true, kvLen: pos + 1, qOffset: pos, mask: 'key_padding' });
}
for (const [Lq, Lk, kvLen] of [[5, 17, 12], [4, 33, 20], [9, 64, 33], [3, 8, 3], [13, 128, 100], [8, 9, 8]] as const) {
  add({ B: 2, H: 2, Lq, Lk, d: 16, dv: 8, causal: true, kvLen, qOffset: kvLen - Lq, mask: 'none' });
  add({ B: 2, H: 2, Lq, Lk, d: 16, dv: 8, causal: true, kvLen, qOffset: kvLen - Lq });
  add({ B: 1, H: 3, Lq, Lk, d: 5, dv: 17, causal: false, kvLen });
}
add({ B: 1, H: 2, Lq: 6, Lk: 9, d: 8, dv: 8, causal: true, qOffset: 2, mask: 'none' });   // qOffset > 0, kvLen = Lk
add({ B: 1, H: 2, Lq: 6, Lk: 9, d: 8, dv: 8, causal: true, qOffset: 20, mask: 'none' });  // every key visible
add({ B: 2, H: 2, Lq: 3, Lk: 5, d: 8, dv: 8, kvLen: 0, mask: 'none' });                 // no keys: o = 0
// Other scales, and logits large enough that e^s overflows without the max subtraction.
add({ B: 1, H: 2, Lq: 5, Lk: 9, d: 8, dv: 8, scale: 1 });
add({ B: 1, H: 2, Lq: 5, Lk: 9, d: 8, dv: 8, scale: -0.7, causal: true });
add({ B: 1, H: 2, Lq: 5, Lk: 9, d: 8, dv: 8, scale: 0 });
add({ B: 2, H: 2, Lq: 6, Lk: 11, d: 8, dv: 8, scale: 1, bigLogits: true, mask: 'none', tol: 1e-4 });
// Fully masked rows: NaN, like the oracle and PyTorch; the other rows unaffected.
add({ B: 3, H: 2, Lq: 6, Lk: 9, d: 8, dv: 8, mask: 'key_padding', fullRows: [[1, -1, -1]] });
add({ B: 2, H: 2, Lq: 6, Lk: 9, d: 8, dv: 8, mask: 'attn', fullRows: [[-1, -1, 2], [-1, -1, 5]] });
add({ B: 2, H: 3, Lq: 9, Lk: 17, d: 16, dv: 8, mask: 'full', fullRows: [[0, 1, 4], [1, 2, 8]], causal: true });
add({ B: 1, H: 2, Lq: 1, Lk: 33, d: 16, dv: 16, mask: 'full', fullRows: [[0, 1, 0]], causal: true, kvLen: 20, qOffset: 19 });

// Inputs flush with the end of memory, so an over-read (a tail, a phantom key or row) traps.
for (const atEnd of ['q', 'k', 'v', 'mask'] as const) {
  for (const [Lq, Lk, d, dv] of [[1, 1, 1, 1], [5, 7, 3, 5], [3, 9, 17, 6], [6, 5, 5, 9], [1, 33, 7, 2], [9, 3, 1, 3]] as const) {
    for (const causal of [false, true]) {
      add({ B: 2, H: 3, Lq, Lk, d, dv, layout: 'dense', mask: atEnd === 'mask' ? 'full' : 'none', causal, atEnd });
    }
  }
}

function name(c: Case): string {
  const f = [c.layout, c.mask !== 'none' ? `mask=${c.mask}` : '', c.causal ? 'causal' : '',
    c.kvLen !== c.Lk ? `kvLen=${c.kvLen}` : '', c.qOffset ? `qOffset=${c.qOffset}` : '',
    c.scale !== undefined ? `scale=${c.scale}` : '', c.oPad ? `ldo+${c.oPad}` : '', c.misalign ? `+${c.misalign}B` : '',
    c.fullRows ? 'fully-masked-rows' : '', c.bigLogits ? 'big-logits' : '', c.atEnd ? `${c.atEnd}-at-memory-end` : ''];
  return `B=${c.B} H=${c.H} Lq=${c.Lq} Lk=${c.Lk} d=${c.d} dv=${c.dv} ${f.filter(Boolean).join(' ')}`;
}

let worst = 0;   // largest |got − want| / tolerance seen, per ISA

/** A [B][L][ld] buffer with per-batch padding; `cols` [off, width] regions random, everything else NaN. */
function tensorBuffer(B: number, L: number, ld: number, bs: number, regions: [number, number, number][],
                      seed: number): Float32Array {
  const buf = new Float32Array(B * bs).fill(NaN);
  for (const [off, width, rows] of regions) {
    const r = randomF32(B * L * width, seed + off);
    for (let b = 0; b < B; b++) for (let i = 0; i < rows; i++) for (let c = 0; c < width; c++) {
      buf[b * bs + i * ld + off + c] = r[(b * L + i) * width + c]!;
    }
  }
  return buf;
}

/** Places data so that it ends at the last byte of wasm memory (above everything K allocates). */
function putAtEnd(K: Kernels, data: Float32Array): number {
  const p = K.f32.buffer.byteLength - 4 * data.length;
  K.f32.set(data, p >> 2);
  return p;
}

function runCase(K: Kernels, c: Case, seed: number): string {
  K.reset();
  const { B, H, Lq, Lk, d, dv, kvLen } = c;
  const Eq = H * d, Ev = H * dv, m = c.misalign;
  const problems: string[] = [];
  const snapshots: [number, Float32Array | Uint8Array, string][] = [];
  // Valid k/v rows: j < kvLen; the rest of each buffer is NaN.
  const kvRows = Math.max(0, kvLen);
  let q: Float32Array, k: Float32Array, v: Float32Array;
  let pq: number, pk: number, pv: number, qOff = 0, kOff = 0, vOff = 0;
  let ldq: number, ldk: number, ldv: number, bsq: number, bsk: number, bsv: number;
  if (c.layout === 'qkv') {
    const ld = Eq + Eq + Ev + (seed % 3), bs = Lq * ld + 2;
    q = tensorBuffer(B, Lq, ld, bs, [[0, Eq, Lq]], seed);
    const kv = tensorBuffer(B, Lq, ld, bs, [[Eq, Eq, kvRows], [2 * Eq, Ev, kvRows]], seed + 1);
    for (let x = 0; x < q.length; x++) if (Number.isNaN(q[x]!)) q[x] = kv[x]!;
    k = v = q; ldq = ldk = ldv = ld; bsq = bsk = bsv = bs; kOff = Eq; vOff = 2 * Eq;
    pq = K.put(q, m); pk = pq + 4 * kOff; pv = pq + 4 * vOff;
    snapshots.push([pq, q, 'qkv']);
  } else {
    const pad = c.layout === 'dense' ? 0 : 1 + (seed % 4);
    ldq = Eq + pad; bsq = Lq * ldq + (pad ? 3 : 0);
    q = tensorBuffer(B, Lq, ldq, bsq, [[0, Eq, Lq]], seed);
    pq = c.atEnd === 'q' ? putAtEnd(K, q) : K.put(q, m);
    snapshots.push([pq, q, 'q']);
    if (c.layout === 'q_kv') {
      const ld = Eq + Ev + pad, bs = Lk * ld + 1;
      k = v = tensorBuffer(B, Lk, ld, bs, [[0, Eq, kvRows], [Eq, Ev, kvRows]], seed + 1);
      ldk = ldv = ld; bsk = bsv = bs; vOff = Eq;
      pk = K.put(k, m); pv = pk + 4 * vOff;
      snapshots.push([pk, k, 'kv']);
    } else {
      ldk = Eq + pad; bsk = Lk * ldk + (pad ? 2 : 0);
      ldv = Ev + pad; bsv = Lk * ldv + (pad ? 5 : 0);
      k = tensorBuffer(B, Lk, ldk, bsk, [[0, Eq, kvRows]], seed + 1);
      v = tensorBuffer(B, Lk, ldv, bsv, [[0, Ev, kvRows]], seed + 2);
      pk = c.atEnd === 'k' ? putAtEnd(K, k) : K.put(k, m);
      pv = c.atEnd === 'v' ? putAtEnd(K, v) : K.put(v, m);
      snapshots.push([pk, k, 'k'], [pv, v, 'v']);
    }
  }
  if (c.bigLogits) {
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
      for (let i = 0; i < Lq; i++) q[qOff + b * bsq + i * ldq + h * d] = 10;
      for (let j = 0; j < kvRows; j++) k[kOff + b * bsk + j * ldk + h * d] = 10;
    }
    K.f32.set(q, pq >> 2);
    if (k !== q) K.f32.set(k, pk - 4 * kOff >> 2);
  }

  // Mask bytes, at an odd byte address.
  let mask: Uint8Array | undefined, pm = 0, mbs = 0, mhs = 0, mrs = 0;
  if (c.mask !== 'none') {
    if (c.mask === 'key_padding') mbs = Lk;
    else if (c.mask === 'attn') mrs = Lk;
    else if (c.mask === 'head') { mrs = Lk; mhs = Lq * Lk; }
    else { mrs = Lk + 3; mhs = Lq * mrs + 1; mbs = H * mhs + 2; }
    const bytes = (B - 1) * mbs + (H - 1) * mhs + (Lq - 1) * mrs + Lk;
    const r = randomF32(bytes, seed + 3);
    mask = Uint8Array.from(r, (x) => (x < -0.4 ? 1 : 0));    // 30% masked
    for (const [fb, fh, fi] of c.fullRows ?? []) {
      for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Lq; i++) {
        if ((fb < 0 || fb === b) && (fh < 0 || fh === h) && (fi < 0 || fi === i)) {
          mask.fill(1, b * mbs + h * mhs + i * mrs, b * mbs + h * mhs + i * mrs + Lk);
        }
      }
    }
    pm = c.atEnd === 'mask' ? K.f32.buffer.byteLength - bytes : K.alloc(Math.ceil((bytes + 1) / 4)) + 1;
    new Uint8Array(K.f32.buffer).set(mask, pm);
    snapshots.push([pm, mask, 'mask']);
  }

  const scale = c.scale ?? 1 / Math.sqrt(d);
  const want = attentionForward({ B, H, Lq, Lk, d, dv, q, qOff, ldq, bsq, k, kOff, ldk, bsk, v, vOff, ldv, bsv,
    mask, mbs, mhs, mrs, scale: Math.fround(scale), causal: c.causal, kvLen, qOffset: c.qOffset });

  // o: a view at element oOff of a canary buffer, rows ldo = Ev + oPad, batches bso = Lq·ldo + oPad.
  const ldo = Ev + c.oPad, bso = Lq * ldo + c.oPad, oOff = c.oPad ? 2 : 0;
  const oLen = oOff + B * bso + 8;
  const po = K.put(new Float32Array(oLen).fill(CANARY), m);
  const wantO = new Float64Array(oLen).fill(CANARY);
  for (let b = 0; b < B; b++) for (let i = 0; i < Lq; i++) for (let x = 0; x < Ev; x++) {
    wantO[oOff + b * bso + i * ldo + x] = want[(b * Lq + i) * Ev + x]!;
  }
  const scrFloats = attentionScratchBytes(Lq, Lk) / 4;
  const pscr = K.put(new Float32Array(scrFloats + 8).fill(NaN).fill(CANARY, scrFloats));

  K.fn('attention_f32')(pq, pk, pv, po + 4 * oOff, pm, pscr, B, H, Lq, Lk, d, dv, ldq, ldk, ldv, ldo, bsq, bsk, bsv, bso,
    mbs, mhs, mrs, scale, c.causal ? 1 : 0, kvLen, c.qOffset);

  const label = name(c);
  const got = K.get(po, oLen);
  const rtol = c.tol ?? RTOL, atol = c.tol ?? ATOL;
  for (let x = 0; x < oLen; x++) {
    const w = wantO[x]!, g = got[x]!;
    if (!Number.isNaN(w)) worst = Math.max(worst, Math.abs(g - w) / (atol + rtol * Math.abs(w)));
  }
  problems.push(mismatches(got, wantO, rtol, atol, undefined, `${label} o (canaries outside the head slices)`));
  if (c.fullRows && !wantO.some(Number.isNaN)) problems.push(`${label}: no fully masked row reached the oracle`);
  if (K.get(pscr + scrFloats * 4, 8).some((x) => x !== CANARY)) problems.push(`${label}: wrote past attentionScratchBytes`);
  // Threads' form: the shares of nt = 1–3 threads (each with scratch of its own, run one after the
  // other) together write exactly (bit for bit) what the one call wrote, and nothing else.
  for (const nt of [1, 2, 3]) {
    const po2 = K.put(new Float32Array(oLen).fill(CANARY), m);
    const scr = Array.from({ length: nt }, () => K.put(new Float32Array(scrFloats).fill(NaN)));
    for (let tid = 0; tid < nt; tid++) {
      K.fn('attention_f32_part')(pq, pk, pv, po2 + 4 * oOff, pm, scr[tid]!, B, H, Lq, Lk, d, dv, ldq, ldk, ldv, ldo, bsq, bsk, bsv, bso,
        mbs, mhs, mrs, scale, c.causal ? 1 : 0, kvLen, c.qOffset, tid, nt);
    }
    const got2 = K.get(po2, oLen), bad = got2.findIndex((x, i) => !Object.is(x, got[i]));
    if (bad >= 0) problems.push(`${label}: ${nt} threads' shares: o[${bad}] = ${got2[bad]}, one call gave ${got[bad]}`);
  }
  for (const [p, data, what] of snapshots) {
    const now = data instanceof Uint8Array ? new Uint8Array(K.f32.buffer, p, data.length) : K.get(p, data.length);
    if (!now.every((x, i) => Object.is(x, data[i]))) problems.push(`${label}: modified input ${what}`);
  }
  return problems.filter(Boolean).join('\n');
}

describe.each(ISAS)('attention_f32 %s', (isa) => {
  let K: Kernels;
  beforeAll(async () => { K = await attentionKernels(isa); });
  afterAll(() => { console.log(`attention.test ${isa}: ${cases.length} cases, worst error ${(worst * 100).toFixed(1)}% of tolerance (${ATOL} + ${RTOL}·|want|)`); worst = 0; });
  it.each(cases.map((c, i) => [name(c), c, i] as const))('%s', (_n, c, i) => {
    expect(runCase(K, c, 7000 + 31 * i)).toBe('');
  });
  it('attention_scratch_floats matches attentionScratchBytes / 4', () => {
    const bad: string[] = [];
    for (const Lq of [1, 2, 3, 4, 5, 17, 128]) for (const Lk of [1, 2, 3, 4, 5, 7, 17, 33, 128, 1000]) {
      const wasm = K.fn('attention_scratch_floats')(Lq, Lk) as number, ts = attentionScratchBytes(Lq, Lk);
      if (wasm * 4 !== ts || ts % 16 !== 0 || ts < 4 * Lk) bad.push(`Lq=${Lq} Lk=${Lk}: wasm ${wasm} floats, ts ${ts} bytes`);
    }
    expect(bad).toEqual([]);
  });
});

describe('attentionScratchBytes', () => {
  it('rejects bad sizes', () => {
    expect(attentionScratchBytes(3, 5)).toBe(32);
    expect(attentionScratchBytes(4, 5)).toBe(4 * (64 + 1024 + 8));
    expect(() => attentionScratchBytes(0, 4)).toThrow(/expected integer Lq ≥ 1 and Lk ≥ 1, found Lq=0, Lk=4/);
  });
});
