// sin and cos end to end: through a compiled model (alone, unfused, and fused into an expression
// loop) on ~300k inputs over every magnitude against Math.fround(Math.sin(x)), with the reference
// interpreter exact; then rotary position embeddings (RoPE) written in the DSL against PyTorch 1.13
// (tests/fixtures/torch-extra/rope, made by make_rope.py) at several run-time sizes. Then tan and the
// inverse and hyperbolic functions the same way (on ~60k inputs; the kernel tests take 250k), and
// against PyTorch 1.13 (tests/fixtures/torch-extra/trig, made by make_trig.py): alone, and all nine
// in one fused loop. One model, one compile.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { arange, cat, compileModel, defineModel, interpret, nn, readSafetensors, traceModel, type Tensor } from '../compiler/index.ts';
import { scalar } from '../compiler/dsl/tensor.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch } from './helpers/torch.ts';
import { maxUlps, TRIG_EXTRA, trigExtraInputs, TRIG_MAX, trigInputs } from './helpers/trig.ts';

const bits = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '-0' : v));

// ---- RoPE against PyTorch ------------------------------------------------------------------

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'rope');
const io = readSafetensors(readFileSync(join(FIX, 'io.safetensors')), 'rope/io.safetensors');
const SIZES: Array<[number, number]> = JSON.parse(readFileSync(join(FIX, 'case.json'), 'utf8')).sizes;

/** HF Llama's rotate_half: the last dim's halves (x1, x2) → (−x2, x1). */
const rotateHalf = (x: Tensor): Tensor => { const h = x.size(-1) / 2; return cat([x.slice(-1, h).neg(), x.slice(-1, 0, h)], -1); };

/** RoPE on q [B, T, H, D]: positions arange(T), inv_freq = 1/10000^(2i/D), angles outer(pos, inv_freq) twice over. */
function rope(q: Tensor): Record<string, Tensor> {
  const D = q.size(-1), T = q.dim(1);
  const invFreq = scalar(10000).pow(arange(D / 2).float().mul(2 / D)).reciprocal();
  const pos = arange(q.size(1)).float().slice(0, 0, T);          // arange(bound), cut to the run-time T
  const freqs = pos.unsqueeze(1).mul(invFreq.unsqueeze(0));       // [T, D/2]
  const emb = cat([freqs, freqs], -1);                            // [T, D]
  const cos = emb.cos(), sin = emb.sin();
  const at = (t: Tensor) => t.unsqueeze(0).unsqueeze(2);          // [1, T, 1, D]
  return { y: q.mul(at(cos)).add(rotateHalf(q).mul(at(sin))), rope_cos: cos, rope_sin: sin };
}

// ---- tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh ---------------------------------

const TRIG = join(import.meta.dirname, 'fixtures', 'torch-extra', 'trig');
const tio = readSafetensors(readFileSync(join(TRIG, 'io.safetensors')), 'trig/io.safetensors');
const EXTRA = Object.keys(TRIG_EXTRA) as Array<keyof typeof TRIG_EXTRA>;
/** make_trig.py's `fused`: all nine functions in one expression (s = sin a keeps each in its domain). */
function fusedTrig(a: Tensor): Tensor {
  const s = a.sin();
  return s.asin().add(s.acos()).add(s.mul(0.5).atanh()).add(a.atan()).add(a.tan().mul(0.25)).add(s.sinh()).add(s.cosh())
    .add(a.asinh()).add(s.mul(2).cosh().acosh());
}

// w: trigExtraInputs' edges (its first 30k: ±1's neighbours, 1/16's, the overflow range) and a quarter of its random rest.
const x = trigInputs(), w = trigExtraInputs().filter((_, i) => i % 4 === 0 || i < 30_000), a = tio.get('input.a')!.data as Float32Array;
const def = defineModel({
  name: 'trig', module: new nn.Identity(),
  // `af` is `a` again, for `fused` alone: a.tan() there would be the torch_tan node (CSE), used twice, not fused.
  inputs: { x: [x.length], q: { shape: ['B', 'T', 2, 8], max: { B: 3, T: 64 } }, w: [w.length], a: [a.length], af: [a.length] },
  // sc is one fused loop: sin(x + 1)·2 + cos(x − 1), both kernels inline in one expression.
  forward: (_m, { x, q, w, a, af }: Record<string, Tensor>) => ({
    sin: x!.sin(), cos: x!.cos(), sc: x!.add(1).sin().mul(2).add(x!.sub(1).cos()), ...rope(q!),
    ...Object.fromEntries(EXTRA.map((f) => [f, (f === 'tan' ? x! : w!)[f]()])),
    ...Object.fromEntries(EXTRA.map((f) => [`torch_${f}`, a![f]()])),
    fused: fusedTrig(af!),
  }),
});
const traced = traceModel(def);
const ropeQ = (k: number) => io.get(`size${k}.input.q`)!;
const feeds = (q: ReturnType<typeof ropeQ>) => ({ x, w, a, af: a, q: { data: q.data as Float32Array, shape: q.shape } });
const refFeeds = (q: ReturnType<typeof ropeQ>) => ({ x, w, a, af: a, q: q.data as Float32Array });
let compiled: Awaited<ReturnType<typeof compileModel>>;
beforeAll(async () => { compiled = await compileModel(def, { isas: TEST_ISAS }); });

test('sin and cos, alone and fused: ≤ 2 ulps for |x| ≤ 2^20, ≤ 1 beyond, NaN/±inf → NaN, sin(−0) = −0; the reference exact', async () => {
  const q = ropeQ(0), sizes = { B: q.shape[0]!, T: q.shape[1]! };
  const ref = interpret(traced, refFeeds(q), undefined, sizes);
  // Bit for bit (an element-wise loop: toEqual over 300k elements is slow).
  for (const [name, f] of [['sin', Math.sin], ['cos', Math.cos]] as const) {
    const want = x.map(f), got = ref[name]!;
    const bad = want.findIndex((w, i) => !Object.is(w, got[i]) && !(Number.isNaN(w) && Number.isNaN(got[i])));
    expect(bad, `reference ${name}(${x[bad]}) = ${got[bad]}, want ${want[bad]}`).toBe(-1);
  }
  const fused = compiled.graph.nodes.filter((n) => n.op === 'elementwise').map((n) => JSON.stringify(n.attrs.expr));
  expect(fused.some((e) => e.includes('"sin"') && e.includes('"cos"')), fused.join('\n')).toBe(true);
  for (const isa of TEST_ISAS) {
    const m = await loadModelBytes(compiled.bytes, { isa });
    const out = m.run(feeds(q));
    for (const [name, f] of [['sin', Math.sin], ['cos', Math.cos]] as const) {
      const fast = maxUlps(x, out[name] as Float32Array, f, 0, TRIG_MAX), far = maxUlps(x, out[name] as Float32Array, f, TRIG_MAX * (1 + 2 ** -23));
      expect(fast.ulps, `${isa} ${name} worst at ${fast.at}`).toBeLessThanOrEqual(2);
      expect(far.ulps, `${isa} ${name} beyond 2^20, worst at ${far.at}`).toBeLessThanOrEqual(1);
    }
    expect(bits(out.sin!.slice(0, 5)), isa).toEqual(bits([0, -0, NaN, NaN, NaN]));
    expect(bits(out.cos!.slice(0, 5)), isa).toEqual(bits([1, 1, NaN, NaN, NaN]));
    // The fused loop: 2 ulps of each term and the sum's rounding, 6·2^-24 of max(|result|, 1).
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!, w = 2 * Math.fround(Math.sin(Math.fround(v + 1))) + Math.fround(Math.cos(Math.fround(v - 1))), g = out.sc![i]!;
      if (Number.isNaN(w)) { expect(g, `sc(${x[i]})`).toBeNaN(); continue; }
      if (!(Math.abs(g - w) <= 6 * 2 ** -24 * Math.max(Math.abs(w), 1))) expect(g, `${isa} sc(${x[i]})`).toBe(w);
    }
    m.dispose();
  }
});

test('RoPE in the DSL (arange, pow, outer product, cat, cos/sin, rotate_half) matches PyTorch at batch × seq from 1 × 1 to the bounds, compiled and in the reference', async () => {
  const models = await Promise.all(TEST_ISAS.map((isa) => loadModelBytes(compiled.bytes, { isa })));
  SIZES.forEach(([B, T], k) => {
    const q = ropeQ(k);
    const want = (n: string) => io.get(`size${k}.output.${n}`)!.data as Float32Array;
    const ref = interpret(traced, refFeeds(q), undefined, { B, T });
    for (const n of ['y', 'cos', 'sin']) expectTorch((n === 'y' ? ref.y : ref[`rope_${n}`]) as Float32Array, want(n), `reference ${n} at ${B}×${T}`);
    models.forEach((m, i) => {
      const out = m.run(feeds(q));
      for (const n of ['y', 'cos', 'sin']) expectTorch((n === 'y' ? out.y : out[`rope_${n}`]) as Float32Array, want(n), `${TEST_ISAS[i]} ${n} at ${B}×${T}`);
    });
  });
  for (const m of models) m.dispose();
});

test('tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh: ≤ 1 ulp compiled, the reference exact, PyTorch 1.13 alone and all nine fused in one loop', async () => {
  const q = ropeQ(0), sizes = { B: q.shape[0]!, T: q.shape[1]! };
  const ref = interpret(traced, refFeeds(q), undefined, sizes);
  for (const f of EXTRA) {
    const xs = f === 'tan' ? x : w, want = xs.map(TRIG_EXTRA[f]), got = ref[f]!;
    const bad = want.findIndex((v, i) => !Object.is(v, got[i]) && !(Number.isNaN(v) && Number.isNaN(got[i])));
    expect(bad, `reference ${f}(${xs[bad]}) = ${got[bad]}, want ${want[bad]}`).toBe(-1);
    expectTorch(ref[`torch_${f}`] as Float32Array, tio.get(`output.${f}`)!.data as Float32Array, `reference ${f} vs PyTorch`, { zeroSign: true });
  }
  expectTorch(ref.fused as Float32Array, tio.get('output.fused')!.data as Float32Array, 'reference fused vs PyTorch');
  // One loop holds all nine (the sin that feeds five of them is its own: fusion does not copy a value used twice).
  const loops = compiled.graph.nodes.filter((n) => n.op === 'elementwise').map((n) => JSON.stringify(n.attrs.expr));
  expect(loops.filter((e) => EXTRA.every((f) => e.includes(`"${f}"`))), loops.join('\n')).toHaveLength(1);
  for (const isa of TEST_ISAS) {
    const m = await loadModelBytes(compiled.bytes, { isa });
    const out = m.run(feeds(q));
    for (const f of EXTRA) {
      const u = maxUlps(f === 'tan' ? x : w, out[f] as Float32Array, TRIG_EXTRA[f]);
      expect(u.ulps, `${isa} ${f} worst at ${u.at}`).toBeLessThanOrEqual(1);
      expectTorch(out[`torch_${f}`] as Float32Array, tio.get(`output.${f}`)!.data as Float32Array, `${isa} ${f} vs PyTorch`, { zeroSign: true });
    }
    expectTorch(out.fused as Float32Array, tio.get('output.fused')!.data as Float32Array, `${isa} fused vs PyTorch`);
    // Where torch 1.13's vectorized sinh/cosh overflow early (|x| in (88.72, 89.42)): the finite value, as its scalar path and numpy give.
    const i89 = w.indexOf(89);
    expect([out.sinh![i89], out.cosh![i89], out.sinh![w.indexOf(89.5)]], isa).toEqual([2.2448063889081578e38, 2.2448063889081578e38, Infinity]);
    m.dispose();
  }
});

test('the new functions of an integer tensor promote it to f32, as torch does (they were refused)', () => {
  for (const f of EXTRA) {
    const def = defineModel({ name: 'int', module: new nn.Identity(), inputs: { i: { shape: [3], dtype: 'i32' } }, forward: (_m, { i }: Record<string, Tensor>) => ({ y: i![f]() }) });
    const y = interpret(traceModel(def), { i: Int32Array.of(0, 1, -1) }).y as Float32Array;
    const x = Float32Array.of(0, 1, -1), want = interpret(traceModel(defineModel({ name: 'f', module: new nn.Identity(), inputs: { x: [3] }, forward: (_m, { x: v }: Record<string, Tensor>) => ({ y: v![f]() }) })), { x }).y as Float32Array;
    expect(y.constructor, f).toBe(Float32Array);
    expect(Array.from(y), f).toEqual(Array.from(want));
  }
});
