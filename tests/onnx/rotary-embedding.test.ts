// ONNX RotaryEmbedding (opset 23; compiler/onnx/ops/attention.ts) and the empty outputs of Split
// that its function body makes (ctx.ts EmptyVal), in hand-built graphs: four RotaryEmbedding nodes
// (4-D and 3-D, halves and interleaved, the whole head and a partial rotary_embedding_dim, with
// run-time position_ids or the caches as given; two more over a symbolic batch and sequence)
// compiled into one model and checked, compiled and in the reference, against a direct loop over
// the spec's formula (itself pinned by hand-computed values); a position id out of range traps at
// run time, a negative one counts from the end; the refusals at compile time. (ONNX's 16 node tests of the op run in conformance:onnx.)
import { expect, test } from 'vitest';
import { DT, OnnxGraph } from '../../bench/onnx.ts';
import { compileGraph } from '../../compiler/index.ts';
import { importOnnx } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';

interface Rope { interleaved?: boolean; rot?: number; numHeads?: number }
/**
 * The spec's RotaryEmbedding, one output element at a time: x [B, H, S, d] or [B, S, H·d];
 * cos/sin [B, S, r/2] (pos undefined) or [P, r/2] rows at pos [B, S] (a negative id from the end).
 */
function oracle(x: Float32Array, shape: number[], cos: Float32Array, sin: Float32Array, pos: Int32Array | undefined, o: Rope): Float32Array {
  const fourD = shape.length === 4;
  const [B, H, S, d] = fourD ? shape as [number, number, number, number] : [shape[0]!, o.numHeads!, shape[1]!, shape[2]! / o.numHeads!];
  const r = o.rot || d, half = r / 2, rows = cos.length / half;
  const at = (b: number, h: number, s: number, k: number) => (fourD ? ((b * H + h) * S + s) * d + k : ((b * S + s) * H + h) * d + k);
  const y = new Float32Array(x.length);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let s = 0; s < S; s++) {
    let row = pos ? pos[b * S + s]! : b * S + s;
    if (row < 0) row += rows;
    for (let k = 0; k < d; k++) {
      if (k >= r) { y[at(b, h, s, k)] = x[at(b, h, s, k)]!; continue; }
      // Channel k is the first (x1) or second (x2) of the pair j.
      const j = o.interleaved ? k >> 1 : k % half, second = o.interleaved ? k % 2 === 1 : k >= half;
      const k1 = o.interleaved ? 2 * j : j, k2 = o.interleaved ? 2 * j + 1 : j + half;
      const c = cos[row * half + j]!, sn = sin[row * half + j]!, x1 = x[at(b, h, s, k1)]!, x2 = x[at(b, h, s, k2)]!;
      y[at(b, h, s, k)] = second ? sn * x1 + c * x2 : c * x1 - sn * x2;
    }
  }
  return y;
}

const seq = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));

test('the oracle rotates by hand: a quarter turn maps (x1, x2) to (−x2, x1); a half turn negates; the tail passes', () => {
  // One head of 6 at one position, rotary_embedding_dim 4: pairs (1, 3) and (2, 4) by halves, (1, 2) and (3, 4) interleaved.
  const x = Float32Array.of(1, 2, 3, 4, 5, 6), cos = Float32Array.of(0, -1), sin = Float32Array.of(1, 0);
  expect(Array.from(oracle(x, [1, 1, 1, 6], cos, sin, undefined, { rot: 4 }))).toEqual([-3, -2, 1, -4, 5, 6]);
  expect(Array.from(oracle(x, [1, 1, 1, 6], cos, sin, undefined, { rot: 4, interleaved: true }))).toEqual([-2, 1, -3, -4, 5, 6]);
});

// The model: four RotaryEmbedding nodes sharing position_ids [2, 3] (run time) and the caches [5, 3].
const B = 2, S = 3, P = 5;
const cos3 = seq(P * 3, (i) => Math.cos(0.3 * i)), sin3 = seq(P * 3, (i) => Math.sin(0.3 * i));
const cos2 = seq(P * 2, (i) => Math.cos(0.7 * i + 0.1)), sin2 = seq(P * 2, (i) => Math.sin(0.7 * i + 0.1));
const cosB = seq(B * S * 1, (i) => 0.5 - 0.2 * i), sinB = seq(B * S * 1, (i) => 0.1 * i - 0.3);
const CASES: Array<{ out: string; x: string; shape: number[]; o: Rope; cos: Float32Array; sin: Float32Array; pos: boolean }> = [
  { out: 'halves4d', x: 'x4', shape: [B, 2, S, 6], o: {}, cos: cos3, sin: sin3, pos: true },
  { out: 'interleaved3d', x: 'x3', shape: [B, S, 12], o: { interleaved: true, numHeads: 2 }, cos: cos3, sin: sin3, pos: true },
  { out: 'partial_interleaved4d', x: 'x4', shape: [B, 2, S, 6], o: { interleaved: true, rot: 4 }, cos: cos2, sin: sin2, pos: true },
  { out: 'partial_given3d', x: 'x3', shape: [B, S, 12], o: { rot: 2, numHeads: 2 }, cos: cosB, sin: sinB, pos: false },
];

// Over a symbolic batch and sequence (bounds 3 and 4): caches [5, 3] at position ids [batch, seq], and caches [batch, seq, 2] as given.
const SYM: Array<{ out: string; x: string; o: Rope; pos: boolean }> = [
  { out: 'sym_halves4d', x: 'xs', o: {}, pos: true },
  { out: 'sym_partial_interleaved3d', x: 'x3s', o: { interleaved: true, rot: 4, numHeads: 2 }, pos: false },
];

function model(): Uint8Array {
  const g = new OnnxGraph();
  g.input('x4', [B, 2, S, 6]); g.input('x3', [B, S, 12]); g.input('pos', [B, S], DT.INT64);
  g.input('cos3', [P, 3]); g.input('sin3', [P, 3]); // run-time caches
  const c2 = g.init('cos2', [P, 2], cos2), s2 = g.init('sin2', [P, 2], sin2); // constant caches
  g.input('cosB', [B, S, 1]); g.input('sinB', [B, S, 1]); // no position_ids: [B, S, r/2]
  const ins: Record<string, string[]> = { halves4d: ['x4', 'cos3', 'sin3', 'pos'], interleaved3d: ['x3', 'cos3', 'sin3', 'pos'], partial_interleaved4d: ['x4', c2, s2, 'pos'], partial_given3d: ['x3', 'cosB', 'sinB'] };
  for (const k of CASES) {
    const attrs: Record<string, number> = {};
    if (k.o.interleaved) attrs.interleaved = 1;
    if (k.o.rot) attrs.rotary_embedding_dim = k.o.rot;
    if (k.o.numHeads) attrs.num_heads = k.o.numHeads;
    g.name(g.op1('RotaryEmbedding', ins[k.out]!, attrs), k.out);
    g.output(k.out, k.shape);
  }
  g.input('xs', ['batch', 2, 'seq', 6]); g.input('x3s', ['batch', 'seq', 12]); g.input('ps', ['batch', 'seq'], DT.INT64);
  g.input('cs', ['batch', 'seq', 2]); g.input('ss', ['batch', 'seq', 2]);
  g.name(g.op1('RotaryEmbedding', ['xs', 'cos3', 'sin3', 'ps']), 'sym_halves4d'); g.output('sym_halves4d', ['batch', 2, 'seq', 6]);
  g.name(g.op1('RotaryEmbedding', ['x3s', 'cs', 'ss'], { interleaved: 1, rotary_embedding_dim: 4, num_heads: 2 }), 'sym_partial_interleaved3d');
  g.output('sym_partial_interleaved3d', ['batch', 'seq', 12]);
  return g.finish('rotary', 23);
}

test('RotaryEmbedding: 4-D and 3-D, halves and interleaved, whole and partial rotary_embedding_dim, with and without position_ids, against the spec; a position id out of range traps', async () => {
  const { graph } = importOnnx(model(), { dims: { batch: { max: 3 }, seq: { max: 4 } } });
  const x4 = seq(B * 2 * S * 6, (i) => Math.sin(1.3 * i) * 2), x3 = seq(B * S * 12, (i) => Math.cos(0.9 * i) - 0.25);
  const pos = Int32Array.of(0, 1, 4, 3, -1, 2); // -1: the last row, 4
  // The symbolic inputs at batch 2, seq 3 (the other sizes below).
  const symFeeds = (b: number, t: number, k: number) => ({
    xs: seq(b * 2 * t * 6, (i) => Math.cos(0.4 * i + k)), x3s: seq(b * t * 12, (i) => Math.sin(0.8 * i - k)),
    ps: Int32Array.from({ length: b * t }, (_, i) => (i * 3 + k) % 5), cs: seq(b * t * 2, (i) => Math.cos(i + k)), ss: seq(b * t * 2, (i) => Math.sin(i + k)),
  });
  const symWant = (f: ReturnType<typeof symFeeds>, b: number, t: number) => ({
    sym_halves4d: oracle(f.xs, [b, 2, t, 6], cos3, sin3, f.ps, {}),
    sym_partial_interleaved3d: oracle(f.x3s, [b, t, 12], f.cs, f.ss, undefined, SYM[1]!.o),
  });
  const sym23 = symFeeds(2, 3, 0);
  const feeds = { x4, x3, pos, cos3, sin3, cosB, sinB, ...sym23 };
  const want = (p: Int32Array) => Object.fromEntries(CASES.map((k) => [k.out, oracle(k.x === 'x4' ? x4 : x3, k.shape, k.cos, k.sin, k.pos ? p : undefined, k.o)]));
  const close = (got: ArrayLike<number>, exp: Float32Array, what: string) => {
    expect(got.length, what).toBe(exp.length);
    for (let i = 0; i < exp.length; i++) expect(Math.abs(got[i]! - exp[i]!), `${what}[${i}]: ${got[i]} vs ${exp[i]}`).toBeLessThan(1e-5);
  };
  const expected = want(pos);
  // The pass-through channels are x's, bit for bit (a partial rotation copies them).
  expect(expected.partial_given3d![5]).toBe(x3[5]);
  const ref = interpret(graph, feeds, undefined, { batch: 2, seq: 3 });
  for (const k of CASES) close(ref[k.out]!, expected[k.out]!, `reference ${k.out}`);
  const SIZES: Array<[number, number]> = [[1, 1], [2, 3], [3, 4], [3, 1]];
  const symAt = (b: number, t: number) => symFeeds(b, t, b + t);
  for (const [b, t] of SIZES) {
    const f = symAt(b, t), got = interpret(graph, { ...feeds, ...f }, undefined, { batch: b, seq: t }), w = symWant(f, b, t);
    for (const k of SYM) close(got[k.out]!, w[k.out as keyof typeof w], `reference ${k.out} at ${b}×${t}`);
  }
  const bad = { ...feeds, pos: Int32Array.of(0, 1, 5, 3, 2, 1) }, badNeg = { ...feeds, pos: Int32Array.of(0, -6, 1, 3, 2, 1) };
  const trap = /gather in RotaryEmbedding 'RotaryEmbedding_\d+': index 5 is outside \[-5, 5\)/;
  // The compiled model checks an index input on entry, naming it (the kernel's trap is behind it).
  const entry = /model 'rotary' run\(\) input 'pos': value 5 at flat index 2 is outside the valid range \[-5, 5\)/;
  expect(() => interpret(graph, bad, undefined, { batch: 2, seq: 3 })).toThrow(trap);
  expect(() => interpret(graph, badNeg, undefined, { batch: 2, seq: 3 })).toThrow(/index -6 is outside \[-5, 5\)/);

  const { bytes } = await compileGraph(graph, { name: 'rotary', isas: TEST_ISAS });
  for (const isa of TEST_ISAS) {
    const m = await loadModelBytes(bytes, { isa });
    const shaped = (f: ReturnType<typeof symFeeds>, b: number, t: number) => ({
      xs: { data: f.xs, shape: [b, 2, t, 6] }, x3s: { data: f.x3s, shape: [b, t, 12] }, ps: { data: f.ps, shape: [b, t] }, cs: { data: f.cs, shape: [b, t, 2] }, ss: { data: f.ss, shape: [b, t, 2] },
    });
    const run = (over: object, f = sym23, b = 2, t = 3) => m.run({ ...feeds, ...shaped(f, b, t), ...over });
    const out = run({});
    for (const k of CASES) close(out[k.out]!, expected[k.out]!, `${isa} ${k.out}`);
    for (const [b, t] of SIZES) {
      const f = symAt(b, t), got = run({}, f, b, t), w = symWant(f, b, t);
      expect(m.outputShapes.sym_partial_interleaved3d, `${b}×${t}`).toEqual([b, t, 12]);
      for (const k of SYM) close(got[k.out]!, w[k.out as keyof typeof w], `${isa} ${k.out} at ${b}×${t}`);
    }
    expect(() => run({ pos: bad.pos }), `${isa} out of range`).toThrow(entry);
    expect(() => run({ pos: badNeg.pos }), `${isa} below the range`).toThrow(/value -6 at flat index 1 is outside the valid range \[-5, 5\)/);
    const other = Int32Array.of(4, 3, 2, 1, 0, -5);
    const again = run({ pos: other }), exp2 = want(other);
    for (const k of CASES) close(again[k.out]!, exp2[k.out]!, `${isa} ${k.out} after the trap`);
    m.dispose();
  }
});

test('RotaryEmbedding refuses what it cannot take, naming the attribute or input', () => {
  const one = (attrs: Record<string, number>, o: { x?: number[]; cos?: number[]; pos?: number[] | 'const' | 'none'; posData?: number[] } = {}) => {
    const g = new OnnxGraph();
    const xs = o.x ?? [1, 2, 3, 8];
    g.input('x', xs);
    const cs = o.cos ?? [10, 4];
    const cos = g.init('c', cs, new Float32Array(cs.reduce((a, b) => a * b, 1))), sin = g.init('s', cs, new Float32Array(cs.reduce((a, b) => a * b, 1)));
    const pos = o.pos === 'none' ? [] : o.pos === 'const' ? [g.ints('p', [1, 3], o.posData ?? [0, 1, 2])] : [g.input('p', o.pos ?? [1, 3], DT.INT64)];
    g.name(g.op1('RotaryEmbedding', ['x', cos, sin, ...pos], attrs), 'y'); g.output('y', xs);
    return () => importOnnx(g.finish('bad', 23));
  };
  expect(one({})).not.toThrow();
  expect(one({ interleaved: 2 })).toThrow(/node 'RotaryEmbedding_0' \(RotaryEmbedding, opset 23\): interleaved 2 \(0 or 1\) is not supported/);
  expect(one({ rotary_embedding_dim: 3 }, { cos: [10, 1] })).toThrow(/rotary_embedding_dim 3 for a head size of 8 \(it must be even and at most the head size/);
  expect(one({ rotary_embedding_dim: 10 }, { cos: [10, 5] })).toThrow(/rotary_embedding_dim 10 for a head size of 8/);
  expect(one({ rotary_embedding_dim: -2 })).toThrow(/rotary_embedding_dim -2 for a head size of 8/);
  expect(one({}, { x: [1, 3, 14], cos: [10, 7] })).toThrow(/num_heads 0 for a 3-D input \[1, 3, 14\] \(it must divide the hidden size 14\)/);
  expect(one({ num_heads: 4 }, { x: [1, 3, 14] })).toThrow(/num_heads 4 for a 3-D input \[1, 3, 14\]/);
  expect(one({ num_heads: 3 })).toThrow(/num_heads 3 for a 4-D input \[1, 2, 3, 8\] of 2 heads/);
  expect(one({ num_heads: 2 })).not.toThrow();
  expect(one({ scale: 2 })).toThrow(/attribute 'scale' is not supported/);
  // The caches must hold rotary_embedding_dim / 2 per row, and position_ids be [B, S].
  expect(one({}, { cos: [10, 8] })).toThrow(/cos_cache at position_ids \[1, 3\] of shape \[1, 3, 8\] for an input of batch 1 and sequence 3 \(it must be \[1, 3, 4\]: rotary_embedding_dim \/ 2\) is not supported/);
  expect(one({}, { pos: [3] })).toThrow(/cos_cache at position_ids \[3\] of shape \[3, 4\]/);
  expect(one({}, { pos: [1, 4] })).toThrow(/of shape \[1, 4, 4\] for an input of batch 1 and sequence 3/);
  expect(one({}, { cos: [1, 3, 4], pos: 'none' })).not.toThrow();
  expect(one({}, { cos: [10, 4], pos: 'none' })).toThrow(/cos_cache of shape \[10, 4\] for an input of batch 1 and sequence 3/);
  expect(one({}, { cos: [1, 3, 4] })).toThrow(/cos_cache \[1, 3, 4\] with position_ids \(it must be \[max_position_id \+ 1, 4\]\)/);
  // Constant position ids are checked here, a negative one counted from the end.
  expect(one({}, { pos: 'const', posData: [0, -10, 9] })).not.toThrow();
  expect(one({}, { pos: 'const', posData: [0, 10, 2] })).toThrow(/\(RotaryEmbedding, opset 23\): position_ids: index 10 is out of range for axis 0 of size 10/);
  // Symbolic sizes: the batch and sequence only (the heads and head size are cut at fixed sizes, the cache's rows indexed).
  const sym = (x: Array<number | string>, cos: Array<number | string>, attrs: Record<string, number> = {}) => {
    const g = new OnnxGraph();
    g.input('x', x); g.input('c', cos); g.input('p', [1, 3], DT.INT64);
    g.name(g.op1('RotaryEmbedding', ['x', 'c', 'c', 'p'], attrs), 'y'); g.output('y', x);
    return () => importOnnx(g.finish('sym', 23), { dims: Object.fromEntries([...x, ...cos].filter((d) => typeof d === 'string').map((d) => [d, { max: 4 }])) });
  };
  expect(sym([1, 'h', 3, 8], [10, 4])).toThrow(/input \[1, h, 3, 8\] with the symbolic size 'h' on axis 1 \(RotaryEmbedding splits heads and channels at fixed sizes\) is not supported/);
  expect(sym([1, 3, 'hidden'], [10, 4], { num_heads: 2 })).toThrow(/with the symbolic size 'hidden' on axis 2/);
  expect(sym([1, 2, 3, 8], ['rows', 4])).toThrow(/cos_cache \[rows, 4\] with the symbolic size 'rows' on axis 0 \(position_ids index it\)/);
  expect(one({}, { x: [1, 2, 3, 8, 1] })).toThrow(/input f32\[1, 2, 3, 8, 1\] \(f32 of rank 3 or 4\) is not supported/);
});

test('a Split with a size of 0 gives an empty tensor: Concat drops it, a graph output lists it, a shape it does not fit is refused (more in empty.test.ts)', () => {
  const build = (use: (g: OnnxGraph, a: string, e: string) => void, sizes = [4, 0]) => {
    const g = new OnnxGraph();
    g.input('x', [2, 4]);
    const [a, e] = g.op('Split', ['x', g.ints('sizes', [2], sizes)], { axis: 1 }, 2);
    use(g, a!, e!);
    return () => importOnnx(g.finish('split0', 18));
  };
  const x = Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  // Concat(Neg(a), empty) is Neg(x); the empty output as Concat's first input too; unused, fine.
  const ok = build((g, a, e) => { g.name(g.op1('Concat', [g.op1('Neg', [a]), e], { axis: -1 }), 'y'); g.name(g.op1('Concat', [e, a], { axis: 1 }), 'z'); g.output('y', [2, 4]); g.output('z', [2, 4]); })();
  const out = interpret(ok.graph, { x });
  expect(Array.from(out.y!)).toEqual(Array.from(x, (v) => -v));
  expect(Array.from(out.z!)).toEqual(Array.from(x));
  expect(build((g, a) => { g.name(a, 'y'); g.output('y', [2, 4]); })).not.toThrow();
  expect(build((g, _a, e) => { g.name(e, 'y'); g.output('y', [2, 4]); }, [0, 4])).not.toThrow();
  // Shapes it does not fit: an Add that would broadcast 4 against 0, a Concat along another axis.
  expect(build((g, a, e) => { g.name(g.op1('Add', [a, e]), 'y'); g.output('y', [2, 4]); })).toThrow(
    /node 'Add_1' \(Add, opset 18\): broadcasting the shapes \[2, 4\], \[2, 0\] \(axis 1: 4 and 0\) is not supported/);
  expect(build((g, a, e) => { g.name(g.op1('Concat', [a, e], { axis: 0 }), 'y'); g.output('y', [2, 4]); })).toThrow(/concatenating the empty tensor \[2, 0\] .* with \[2, 4\] along axis 0 is not supported/);
  // Relu of it, Concat of empties only, it as an output: empty graph outputs [2, 0].
  for (const use of [(g: OnnxGraph, e: string) => g.op1('Relu', [e]), (g: OnnxGraph, e: string) => g.op1('Concat', [e, e], { axis: 1 }), (_g: OnnxGraph, e: string) => e]) {
    let name = '';
    const { graph } = build((g, _a, e) => { name = use(g, e); g.output(name, [2, 0]); })();
    expect(graph.empty?.outputs).toEqual([{ name, dtype: 'f32', shape: [2, 0], at: 0 }]);
    expect(interpret(graph, { x })[name]).toEqual(new Float32Array(0));
  }
  expect(build((g) => { g.name('x', 'y'); g.output('y', [2, 4]); }, [5, -1])).toThrow(/split sizes \[5,-1\] for a dimension of 4 is not supported/);
});
