// rnn_seq_f32, lstm_seq_f32 and gru_seq_f32 against the f64 PyTorch-equation oracle (rnn-oracle.ts),
// which starts from the unprojected x, W_ih, W_hh, b_ih, b_hh: so the cases also pin the ABI's
// conventions: xp = x·W_ihᵀ + b_ih computed here with plain loops, W_hhᵀ packed by
// packRecurrentWeights(W_hh, b_hh, G, H), gate order, h_t stored at index t when reversed.
//
// Tolerance: |got − want| ≤ 1e-5 + 1e-5·|want| on every y, hn, cn element. Weights are drawn as
// PyTorch initialises them, U(−1/√H, 1/√H), so the gates are not saturated and the nonlinearities
// and the state update are exercised; f32 error per step is ~√H·2^-24·Σ|terms| and the recurrence
// contracts it, so it stays near 1e-6 (afterAll prints the largest fraction of tolerance used).
//
// Every case also checks: only the H floats of each y row (per direction) are written, nothing past
// hn/cn or the scratch size rnnScratchBytes gives; inputs unchanged; scratch starts as NaN (the kernel
// must not rely on it being zeroed); padding columns of xp are NaN (must never be read).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { assemble, type Isa } from '../../compiler/codegen/assemble.ts';
import { packRecurrentWeights } from '../../compiler/codegen/pack.ts';
import { RNN_GATES, RNN_KINDS, rnnScratchBytes } from '../../compiler/codegen/rnn-abi.ts';
import { ISAS, Kernels, MEMORY_BASE, randomF32, mismatches } from './harness.ts';
import { rnnForward, GATES, type RnnKind, type RnnProblem } from './rnn-oracle.ts';

const RTOL = 1e-5, ATOL = 1e-5;
const CANARY = 12345.5;

// harness.ts's kernel module does not export rnn.ts; build one that does, once per ISA per file.
const modules = new Map<Isa, Promise<Kernels>>();
function rnnKernels(isa: Isa): Promise<Kernels> {
  let k = modules.get(isa);
  if (!k) {
    k = (async () => {
      const { wasm } = await assemble({ sources: { '__rnn_test.ts': 'export * from "./rnn";' }, entry: '__rnn_test.ts',
        isa, memoryBase: MEMORY_BASE, initialPages: (MEMORY_BASE >> 16) + 16 });
      const { instance } = await WebAssembly.instantiate(wasm as BufferSource);
      const ex = instance.exports as Record<string, unknown>;
      return new Kernels(isa, ex as Record<string, (...a: number[]) => number>, ex.memory as WebAssembly.Memory);
    })();
    modules.set(isa, k);
  }
  return k;
}

interface RnnCase {
  kind: RnnKind; relu: boolean; B: number; T: number; H: number; I: number;
  reverse: boolean; bidir: boolean;     // bidir: both directions into the two halves of one y
  h0: boolean; c0: boolean; hn: boolean; cn: boolean;
  ldxPad: number; ldyPad: number; misalign: number;
}

const cases: RnnCase[] = [];
const KINDS: [RnnKind, boolean][] = [['rnn', false], ['rnn', true], ['lstm', false], ['gru', false]];
let seq = 0;
for (const [kind, relu] of KINDS) for (const H of [1, 3, 5, 12, 17, 33, 256]) for (const B of [1, 2, 3]) for (const T of [1, 2, 9]) {
  const i = seq++;
  cases.push({ kind, relu, B, T, H, I: 1 + (i * 5) % 11, reverse: i % 2 === 1, bidir: false,
    h0: (i >> 1) % 2 === 0, c0: kind === 'lstm' && (i >> 2) % 2 === 0, hn: i % 3 !== 2, cn: kind === 'lstm' && i % 5 !== 0,
    ldxPad: [0, 3, 8][i % 3]!, ldyPad: [0, 1, 5, 0][(i >> 1) % 4]!, misalign: ((i >> 2) % 4) * 4 });
}
for (const [kind, relu] of KINDS) {
  for (const [B, T, H] of [[1, 9, 5], [3, 9, 17], [2, 2, 256]] as const) {
    const i = seq++;
    cases.push({ kind, relu, B, T, H, I: 6, reverse: false, bidir: true, h0: i % 2 === 0, c0: kind === 'lstm', hn: true,
      cn: kind === 'lstm', ldxPad: i % 3, ldyPad: i % 2 ? 3 : 0, misalign: (i % 4) * 4 });
  }
  // A long sequence: error must not grow step over step.
  cases.push({ kind, relu, B: 2, T: 64, H: 33, I: 8, reverse: seq++ % 2 === 0, bidir: false, h0: true, c0: true, hn: true,
    cn: kind === 'lstm', ldxPad: 0, ldyPad: 0, misalign: 0 });
}

function name(c: RnnCase): string {
  const flags = [c.bidir ? 'bidir' : c.reverse ? 'reverse' : '', c.h0 ? 'h0' : '', c.c0 ? 'c0' : '', c.hn ? 'hn' : '',
    c.cn ? 'cn' : '', c.ldxPad ? `ldx+${c.ldxPad}` : '', c.ldyPad ? `ldy+${c.ldyPad}` : '', c.misalign ? `+${c.misalign}B` : ''];
  return `${c.kind}${c.kind === 'rnn' ? (c.relu ? '-relu' : '-tanh') : ''} B=${c.B} T=${c.T} H=${c.H} I=${c.I} ${flags.filter(Boolean).join(' ')}`;
}

/** Random weights for one direction, scaled as PyTorch initialises them. */
function weights(c: RnnCase, seed: number): Pick<RnnProblem, 'wIh' | 'wHh' | 'bIh' | 'bHh'> {
  const GH = GATES[c.kind] * c.H, s = 1 / Math.sqrt(c.H);
  return { wIh: randomF32(GH * c.I, seed, -s, s), wHh: randomF32(GH * c.H, seed + 1, -s, s),
    bIh: randomF32(GH, seed + 2, -s, s), bHh: randomF32(GH, seed + 3, -s, s) };
}

let worst = 0;   // largest |got − want| / tolerance seen, per file

/** Compares and records the fraction of tolerance used. */
function compare(got: ArrayLike<number>, want: ArrayLike<number>, label: string): string {
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (ATOL + RTOL * Math.abs(want[i]!)));
  return mismatches(got, want, RTOL, ATOL, undefined, label);
}

/** Allocates n floats followed by `tail` canaries; returns the pointer. */
function allocWithCanary(K: Kernels, data: Float32Array, tail: number, misalign: number): number {
  const buf = new Float32Array(data.length + tail).fill(CANARY);
  buf.set(data);
  return K.put(buf, misalign);
}

function runCase(K: Kernels, c: RnnCase, seed: number): string {
  K.reset();
  const { B, T, H, I } = c;
  const G = GATES[c.kind], GH = G * H;
  const dirs = c.bidir ? [false, true] : [c.reverse];
  const nd = dirs.length;
  const ldx = nd * GH + c.ldxPad, ldy = nd * H + c.ldyPad;
  const x = randomF32(B * T * I, seed);
  const W = dirs.map((_, d) => weights(c, seed + 10 * (d + 1)));

  // xp = x·W_ihᵀ + b_ih for each direction, side by side in one [B][T][ldx] buffer; padding is NaN.
  const xp = new Float32Array(B * T * ldx).fill(NaN);
  for (let d = 0; d < nd; d++) for (let r = 0; r < B * T; r++) for (let j = 0; j < GH; j++) {
    let s = W[d]!.bIh[j]!;
    for (let k = 0; k < I; k++) s += x[r * I + k]! * W[d]!.wIh[j * I + k]!;
    xp[r * ldx + d * GH + j] = s;
  }
  const m = c.misalign;
  const pxp = K.put(xp, m);
  const py = allocWithCanary(K, new Float32Array(B * T * ldy).fill(CANARY), 8, m);
  const problems: string[] = [];
  const wantY = new Float64Array(B * T * ldy).fill(CANARY);
  const snapshots: [number, Float32Array][] = [[pxp, xp]];

  for (let d = 0; d < nd; d++) {
    const reverse = dirs[d]!;
    const h0 = c.h0 ? randomF32(B * H, seed + 100 + d) : undefined;
    const c0 = c.c0 && c.kind === 'lstm' ? randomF32(B * H, seed + 200 + d) : undefined;
    const want = rnnForward({ kind: c.kind, B, T, I, H, x, ...W[d]!, h0, c0, reverse, nonlinearity: c.relu ? 'relu' : 'tanh' });
    for (let r = 0; r < B * T; r++) for (let j = 0; j < H; j++) wantY[r * ldy + d * H + j] = want.y[r * H + j]!;

    const packed = packRecurrentWeights(W[d]!.wHh, W[d]!.bHh, G, H);
    const pw = K.put(packed);
    const ph0 = h0 ? K.put(h0, m) : 0, pc0 = c0 ? K.put(c0, m) : 0;
    const phn = c.hn ? allocWithCanary(K, new Float32Array(B * H).fill(CANARY), 8, m) : 0;
    const pcn = c.cn ? allocWithCanary(K, new Float32Array(B * H).fill(CANARY), 8, m) : 0;
    const scratchFloats = rnnScratchBytes(c.kind, B, H) / 4;
    const pscr = allocWithCanary(K, new Float32Array(scratchFloats).fill(NaN), 8, 0);
    snapshots.push([pw, packed]);
    if (h0) snapshots.push([ph0, h0]);
    if (c0) snapshots.push([pc0, c0]);

    const xd = pxp + d * GH * 4, yd = py + d * H * 4, rev = reverse ? 1 : 0;
    if (c.kind === 'rnn') K.fn('rnn_seq_f32')(xd, pw, ph0, yd, phn, pscr, B, T, H, ldx, ldy, rev, c.relu ? 1 : 0);
    else if (c.kind === 'lstm') K.fn('lstm_seq_f32')(xd, pw, ph0, pc0, yd, phn, pcn, pscr, B, T, H, ldx, ldy, rev);
    else K.fn('gru_seq_f32')(xd, pw, ph0, yd, phn, pscr, B, T, H, ldx, ldy, rev);

    const label = `${name(c)} dir ${d}`;
    if (K.get(pscr + scratchFloats * 4, 8).some((v) => v !== CANARY)) problems.push(`${label}: wrote past rnnScratchBytes`);
    problems.push(checkSlices(K, c, { xd, pw, ph0, pc0, py, yd, phn, pcn, ldx, ldy, rev, scratchFloats }, label));
    if (phn) {
      problems.push(compare(K.get(phn, B * H), want.hn, `${label} hn`));
      if (K.get(phn + B * H * 4, 8).some((v) => v !== CANARY)) problems.push(`${label}: wrote past hn`);
    }
    if (pcn) {
      problems.push(compare(K.get(pcn, B * H), want.cn, `${label} cn`));
      if (K.get(pcn + B * H * 4, 8).some((v) => v !== CANARY)) problems.push(`${label}: wrote past cn`);
    }
  }
  // Outside the written columns wantY holds CANARY, so this also checks nothing else was written.
  problems.push(compare(K.get(py, B * T * ldy + 8), [...wantY, ...new Array<number>(8).fill(CANARY)], `${name(c)} y`));
  for (const [p, data] of snapshots) {
    const now = K.get(p, data.length);
    if (!now.every((v, i) => Object.is(v, data[i]))) problems.push(`${name(c)}: modified an input at ${p}`);
  }
  return problems.filter(Boolean).join('\n');
}

/**
 * The threads' form: rnn_begin_f32, {rnn,lstm,gru}_step_f32 per step and rnn_end_f32 for slices
 * tid = 0..nt−1 of each phase in turn (what nt threads with a barrier between the phases compute)
 * must give exactly (bit for bit) the y, hn and cn of the one-call kernel that just ran.
 */
function checkSlices(K: Kernels, c: RnnCase, a: { xd: number; pw: number; ph0: number; pc0: number; py: number; yd: number; phn: number; pcn: number;
  ldx: number; ldy: number; rev: number; scratchFloats: number }, label: string): string {
  const { B, T, H } = c, kind = RNN_KINDS[c.kind], act = c.relu ? 1 : 0;
  const yLen = B * T * a.ldy;
  const want = [K.get(a.py, yLen), a.phn ? K.get(a.phn, B * H) : undefined, a.pcn ? K.get(a.pcn, B * H) : undefined];
  const out: string[] = [];
  for (const nt of [1, 2, 3]) {
    const py = K.put(want[0]!), yd = py + (a.yd - a.py);     // the other direction's columns as they are
    const phn = a.phn ? K.put(new Float32Array(B * H).fill(CANARY)) : 0, pcn = a.pcn ? K.put(new Float32Array(B * H).fill(CANARY)) : 0;
    const pscr = K.put(new Float32Array(a.scratchFloats).fill(NaN));
    for (let tid = 0; tid < nt; tid++) K.fn('rnn_begin_f32')(kind, a.ph0, a.pc0, pscr, B, H, 0, tid, nt);
    for (let s = 0; s < T; s++) for (let tid = 0; tid < nt; tid++) {
      const args = [a.xd, a.pw, yd, pscr, B, T, H, a.ldx, a.ldy, a.rev, s, 0, tid, nt];
      if (c.kind === 'rnn') K.fn('rnn_step_f32')(act, ...args);
      else K.fn(`${c.kind}_step_f32`)(...args);
    }
    for (let tid = 0; tid < nt; tid++) K.fn('rnn_end_f32')(kind, phn, pcn, pscr, B, T, H, 0, tid, nt);
    const got = [K.get(py, yLen), phn ? K.get(phn, B * H) : undefined, pcn ? K.get(pcn, B * H) : undefined];
    ['y', 'hn', 'cn'].forEach((what, i) => {
      const g = got[i], w = want[i];
      if (!g || !w) return;
      const bad = g.findIndex((v, j) => !Object.is(v, w[j]));
      if (bad >= 0) out.push(`${label}: ${nt} slices: ${what}[${bad}] = ${g[bad]}, one call gave ${w[bad]}`);
    });
  }
  return out.join('\n');
}

describe.each(ISAS)('recurrent kernels %s', (isa) => {
  let K: Kernels;
  beforeAll(async () => { K = await rnnKernels(isa); });
  afterAll(() => { console.log(`rnn.test ${isa}: worst error ${(worst * 100).toFixed(1)}% of tolerance (${ATOL} + ${RTOL}·|want|)`); worst = 0; });
  it.each(cases.map((c, i) => [name(c), c, i] as const))('%s', (_n, c, i) => {
    expect(runCase(K, c, 5000 + 97 * i)).toBe('');
  });
  it('rnn_scratch_floats matches rnnScratchBytes / 4', () => {
    const bad: string[] = [];
    for (const kind of Object.keys(RNN_KINDS) as (keyof typeof RNN_KINDS)[]) {
      for (let B = 1; B <= 5; B++) for (const H of [1, 2, 3, 4, 5, 7, 17, 33, 256, 1000]) {
        const wasm = K.fn('rnn_scratch_floats')(RNN_KINDS[kind], B, H) as number;
        const ts = rnnScratchBytes(kind, B, H);
        if (wasm * 4 !== ts || ts % 16 !== 0 || ts < 4 * B * H * (RNN_GATES[kind] + 1 + (kind === 'lstm' ? 1 : 0))) {
          bad.push(`${kind} B=${B} H=${H}: wasm ${wasm} floats, ts ${ts} bytes`);
        }
      }
    }
    expect(bad).toEqual([]);
  });
  it('rnn_next_boundary moves a boundary one block toward the thread that waited less, within its slack', () => {
    const next = K.fn('rnn_next_boundary') as (below: number, above: number, home: number, slack: number, at: number) => number;
    const MAX = 2 ** 31 - 1, OVER = 1025; // BALANCE_SPINS is 1024
    // [waited below, waited above, home, slack, at] → the boundary's next place
    const cases: [number, number, number, number, number, number][] = [
      [0, OVER, 16, 7, 16, 15],        // the thread above waited: it is faster and takes a block
      [OVER, 0, 16, 7, 16, 17],        // the thread below waited: it takes one
      [0, 1024, 16, 7, 16, 16],        // a difference of BALANCE_SPINS or less moves nothing
      [5000, 4000, 16, 7, 12, 12],
      [0, OVER, 16, 7, 9, 9],          // already `slack` below home: stays
      [OVER, 0, 16, 7, 23, 23],        // already `slack` above home
      [0, OVER, 16, 7, 10, 9],
      [0, MAX, 10, 4, 10, 9],          // a thread that slept waited longest (i32 max: no overflow)
      [MAX, 0, 10, 4, 14, 14],
      [MAX, MAX, 10, 4, 10, 10],
      [0, OVER, 2, 0, 2, 2],           // no slack: shares stay equal
    ];
    expect(cases.map(([b, a, h, s, at]) => next(b, a, h, s, at))).toEqual(cases.map((c) => c[5]));
  });
});

describe('rnnScratchBytes', () => {
  it('accepts kinds by name or code and rejects bad ones', () => {
    expect(rnnScratchBytes('lstm', 1, 5)).toBe(rnnScratchBytes(1, 1, 5));
    expect(rnnScratchBytes('gru', 2, 3)).toBe(4 * (48 + 2 * 8));
    expect(() => rnnScratchBytes(7, 1, 1)).toThrow(/expected kind rnn\|lstm\|gru or 0\|1\|2, found 7/);
    expect(() => rnnScratchBytes('rnn', 0, 4)).toThrow(/expected integer B ≥ 1 and H ≥ 1, found B=0, H=4/);
  });
});
