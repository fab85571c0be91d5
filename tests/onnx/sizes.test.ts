// Symbolic sizes through an ONNX file's shape computations (compiler/onnx/ops/sizes.ts and the
// dim-aware Reshape/Expand/Slice/Range/…): hand-built graphs (bench/onnx.ts) checked with the
// reference interpreter at several sizes against hand-computed values, and what cannot be
// expressed for every size refused, naming the op and the size (never computed at the bound).
// The PyTorch exports that use these run compiled in tests/onnx-families.test.ts.
import { describe, expect, test } from 'vitest';
import { DT, OnnxGraph } from '../../bench/onnx.ts';
import { importOnnx, UnsupportedError } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';

const SYM = { dims: { batch: { max: 4 }, seq: { max: 6 } } };
const INT_MAX = 2 ** 31 - 1;

/** x: [batch, seq] f32 with x[b][t] = 10·b + t. */
const xAt = (B: number, T: number) => Float32Array.from({ length: B * T }, (_, i) => 10 * Math.floor(i / T) + (i % T));

describe('symbolic sizes through shape computations', () => {
  test("PyTorch's shape patterns (Shape → Gather → Mul → Concat → Reshape, Range, Trilu, Expand, ConstantOfShape, Slice from the end) at every size", () => {
    const g = new OnnxGraph();
    g.input('x', ['batch', 'seq']);
    const shape = g.op1('Shape', ['x']);
    const b = g.op1('Gather', [shape, g.ints('i0', [], [0])], { axis: 0 }), t = g.op1('Gather', [shape, g.ints('i1', [], [1])], { axis: 0 });
    const un = (v: string) => g.op1('Unsqueeze', [v, g.ints(`ax_${v}`, [1], [0])]);
    // flat = x.reshape(batch·seq·2 / 2): Mul, exact Div, Concat of one
    const n = g.op1('Div', [g.op1('Mul', [g.op1('Mul', [b, t]), g.ints('two', [], [2])]), g.ints('two_', [], [2])]);
    g.name(g.op1('Reshape', ['x', g.op1('Concat', [un(n)], { axis: 0 })]), 'flat');
    // pos = range(seq) as f32; tri = strictly upper triangle of ones [seq, seq]
    g.name(g.op1('Cast', [g.op1('Range', [g.ints('zero', [], [0]), t, g.ints('one', [], [1])])], { to: DT.FLOAT }), 'pos');
    const square = g.op1('Concat', [un(t), un(t)], { axis: 0 });
    g.name(g.op1('Trilu', [g.op1('Expand', [g.init('ones', [1, 1], Float32Array.of(1)), square]), g.ints('k', [], [1])], { upper: 1 }), 'tri');
    // rep = x[:, :, None] expanded to [batch, seq, 3]; z = x + zeros(shape)
    const three = g.op1('Concat', [shape, g.ints('c3', [1], [3])], { axis: 0 });
    g.name(g.op1('Expand', [g.op1('Unsqueeze', ['x', g.ints('ax2', [1], [2])]), three]), 'rep');
    g.name(g.op1('Add', ['x', g.op1('ConstantOfShape', [shape])]), 'z');
    // last = x[:, -1:], body = x[:, 1:] (ends past every size), both through Slice
    g.name(g.op1('Slice', ['x', g.ints('s1', [1], [-1]), g.ints('e1', [1], [INT_MAX]), g.ints('a1', [1], [1])]), 'last');
    g.name(g.op1('Slice', ['x', g.ints('s2', [1], [0]), g.op1('Concat', [un(t)], { axis: 0 }), g.ints('a2', [1], [1])]), 'all');
    for (const [o, d] of [['flat', ['n']], ['pos', ['seq']], ['tri', ['seq', 'seq']], ['rep', ['batch', 'seq', 3]], ['z', ['batch', 'seq']], ['last', ['batch', 1]], ['all', ['batch', 'seq']]] as const) g.output(o, d);
    const { graph } = importOnnx(g.finish('shapes', 17), SYM);
    expect(Object.fromEntries(graph.outputs.map((o) => [o.name, o.node.type.dims]))).toEqual({
      flat: ['batch*seq'], pos: ['seq'], tri: ['seq', 'seq'], rep: ['batch', 'seq', 3], z: ['batch', 'seq'], last: ['batch', 1], all: ['batch', 'seq'],
    });
    for (const [B, T] of [[1, 1], [2, 3], [4, 6]] as const) {
      const x = xAt(B, T), out = interpret(graph, { x }, undefined, { batch: B, seq: T });
      const at = `batch ${B}, seq ${T}`;
      expect(Array.from(out.flat!), at).toEqual(Array.from(x));
      expect(Array.from(out.pos!), at).toEqual(Array.from({ length: T }, (_, i) => i));
      expect(Array.from(out.tri!), at).toEqual(Array.from({ length: T * T }, (_, i) => (i % T > Math.floor(i / T) ? 1 : 0)));
      expect(Array.from(out.rep!), at).toEqual(Array.from(x).flatMap((v) => [v, v, v]));
      expect(Array.from(out.z!), at).toEqual(Array.from(x));
      expect(Array.from(out.last!), at).toEqual(Array.from({ length: B }, (_, b) => 10 * b + T - 1));
      expect(Array.from(out.all!), at).toEqual(Array.from(x));
    }
  });

  test("PyTorch's expand(B, -1) — Where(Equal(shape, -1), 1, shape) — holds at every size: a size is never -1", () => {
    // y[b][t] = x[b][t] + t, the positions arange(seq)[None].expand(batch, -1) as the exporter writes them.
    const g = new OnnxGraph();
    g.input('x', ['batch', 'seq']);
    const shape = g.op1('Shape', ['x']);
    const b = g.op1('Gather', [shape, g.ints('i0', [], [0])], { axis: 0 }), t = g.op1('Gather', [shape, g.ints('i1', [], [1])], { axis: 0 });
    const pos = g.op1('Unsqueeze', [g.op1('Range', [g.ints('zero', [], [0]), t, g.ints('one', [], [1])]), g.ints('ax0', [1], [0])]);
    const target = g.op1('Reshape', [g.op1('Concat', [g.op1('Unsqueeze', [b, g.ints('axb', [1], [0])]), g.ints('m1', [1], [-1])], { axis: 0 }), g.ints('flat', [1], [-1])]);
    const ones = g.ints('ones', [2], [1, 1]); // the exporter's ConstantOfShape(Shape(target), 1): compile time either way
    const to = g.op1('Where', [g.op1('Equal', [target, g.op1('Mul', [ones, g.ints('neg', [], [-1])])]), ones, target]);
    g.name(g.op1('Add', ['x', g.op1('Cast', [g.op1('Expand', [pos, to])], { to: DT.FLOAT })]), 'y');
    g.output('y', ['batch', 'seq']);
    const { graph } = importOnnx(g.finish('expand', 17), SYM);
    expect(graph.outputs[0]!.node.type.dims).toEqual(['batch', 'seq']);
    for (const [B, T] of [[1, 1], [3, 2], [4, 6]] as const) {
      const out = interpret(graph, { x: xAt(B, T) }, undefined, { batch: B, seq: T });
      expect(Array.from(out.y!), `batch ${B}, seq ${T}`).toEqual(Array.from(xAt(B, T), (v, i) => v + (i % T)));
    }
  });

  test('Mod of a size value: k·q + r leaves r\'s remainder at every size (fmod = 0; fmod = 1 when never negative)', () => {
    // m = [(4·seq + 6) mod 4, (4·seq − 7) mod −4, fmod(4·seq − 1, −4)] = [2, −3, 3] at every seq.
    const g = new OnnxGraph();
    g.input('x', ['batch', 'seq']); g.input('z', [3]);
    const t = g.op1('Gather', [g.op1('Shape', ['x']), g.ints('i1', [], [1])], { axis: 0 });
    const lin = (a: number, b: number) => g.op1('Add', [g.op1('Mul', [t, g.ints(`a${a}_${b}`, [], [a])]), g.ints(`b${a}_${b}`, [], [b])]);
    const un = (v: string) => g.op1('Unsqueeze', [v, g.ints(`ax_${v}`, [1], [0])]);
    const m = [
      g.op1('Mod', [lin(4, 6), g.ints('k4', [], [4])]),
      g.op1('Mod', [lin(4, -7), g.ints('km4', [], [-4])]),
      g.op1('Mod', [lin(4, -1), g.ints('km4_', [], [-4])], { fmod: 1 }),
    ];
    g.name(g.op1('Add', ['z', g.op1('Cast', [g.op1('Concat', m.map(un), { axis: 0 })], { to: DT.FLOAT })]), 'm');
    g.output('m', [3]);
    const { graph } = importOnnx(g.finish('mod', 17), SYM);
    for (const [B, T] of [[1, 1], [2, 3], [4, 6]] as const) {
      // The brute-force remainders at this size agree with the constant the importer found.
      const floor = (a: number, b: number) => a - b * Math.floor(a / b), fmod = (a: number, b: number) => a % b;
      const brute = [floor(4 * T + 6, 4), floor(4 * T - 7, -4), fmod(4 * T - 1, -4)];
      expect(brute).toEqual([2, -3, 3]);
      expect(Array.from(interpret(graph, { x: xAt(B, T), z: new Float32Array(3) }, undefined, { batch: B, seq: T }).m!), `seq ${T}`).toEqual(brute);
    }
  });

  // One graph per refusal: x [batch, seq] (bounds 4 and 6) and one op that cannot hold for every size.
  const refused = (build: (g: OnnxGraph, shape: () => string) => string, outDims: (number | string)[] = ['batch', 'seq']) => {
    const g = new OnnxGraph();
    g.input('x', ['batch', 'seq']);
    let s: string | undefined;
    g.name(build(g, () => (s ??= g.op1('Shape', ['x']))), 'y');
    g.output('y', outDims);
    return () => importOnnx(g.finish('refused', 17), SYM);
  };
  const item = (g: OnnxGraph, shape: string, i: number) => g.op1('Gather', [shape, g.ints(`i${i}_${g.op1('Identity', [shape])}`, [], [i])], { axis: 0 });

  test('an op that does not follow symbolic sizes is refused, naming it and the size', () => {
    expect(refused((g) => g.op1('ReduceProd', ['x']), [1, 1])).toThrow(/\(ReduceProd, opset 17\): ReduceProd on a tensor of the symbolic size 'batch' is not supported yet; give it a fixed size with \{ dims: \{ "batch": N \} \}/);
  });

  test('a value computed from constants but of a symbolic size runs (never folded at the bounds): ops that need it at compile time say so, naming the size', () => {
    // zeros(x.shape) compared, or zeros(x.shape[:1]) as Unsqueeze's axes.
    const zeros = (g: OnnxGraph, shape: string) => g.op1('ConstantOfShape', [shape]);
    expect(refused((g, shape) => g.op1('Where', [g.op1('Xor', [zeros(g, shape()), zeros(g, shape())]), 'x', 'x'])))
      .toThrow(/\(Xor, opset 17\): Xor of run-time f32, f32 values \(only bools, or compile-time values\) is not supported; these have the symbolic size 'batch', so they are computed at run time even when computed from constants/);
    // Equal of such values runs (a run-time comparison): y = x where zeros == zeros, at every size.
    const { graph } = refused((g, shape) => g.op1('Where', [g.op1('Equal', [zeros(g, shape()), zeros(g, shape())]), 'x', g.op1('Neg', ['x'])]))();
    for (const [B, T] of [[1, 1], [3, 5]] as const) expect(Array.from(interpret(graph, { x: xAt(B, T) }, undefined, { batch: B, seq: T }).y!)).toEqual(Array.from(xAt(B, T)));
    expect(refused((g, shape) => g.op1('Unsqueeze', ['x', g.op1('Cast', [zeros(g, g.op1('Slice', [shape(), g.ints('s', [1], [0]), g.ints('e', [1], [1])]))], { to: DT.INT64 })]), ['batch', 1, 'seq']))
      .toThrow(/\(Unsqueeze, opset 17\): axes \('[^']+'\) must be known at compile time \(a constant or computed from static shapes\); it has the symbolic size 'batch' \(\[batch\]\), so it is computed at run time/);
  });

  test('shape arithmetic a size value cannot express is refused, naming the op and the size', () => {
    // batch / 3 is floored at run time: not a polynomial of the sizes.
    const div = refused((g, shape) => g.op1('Reshape', ['x', g.op1('Concat', [g.op1('Div', [g.op1('Slice', [shape(), g.ints('s', [1], [0]), g.ints('e', [1], [1])]), g.ints('d', [1], [3])]), g.ints('m', [1], [-1])], { axis: 0 })]));
    expect(div).toThrow(UnsupportedError);
    expect(div).toThrow(/\(Div, opset 17\): dividing batch by 3 \(batch is not a multiple of 3 for every size; a size value is divided only exactly\) is not supported/);
    // A size as a bool, or compared, would need its value at compile time.
    expect(refused((g, shape) => g.op1('Where', [g.op1('Cast', [item(g, shape(), 1)], { to: DT.BOOL }), 'x', 'x']))).toThrow(/\(Cast, opset 17\): Cast to BOOL of input 0 \('[^']+'\) is seq, computed from the symbolic size 'seq'; Cast cannot use it here/);
    expect(refused((g, shape) => g.op1('Where', [g.op1('Equal', [shape(), g.ints('two', [2], [2, 2])]), 'x', 'x']))).toThrow(/\(Equal, opset 17\): Equal of batch and 2 \(true at some sizes and false at others\) is not supported/);
    // A remainder that changes with the size, an fmod of a dim that can be negative, a size as the divisor.
    expect(refused((g, shape) => g.op1('Reshape', ['x', g.op1('Concat', [g.op1('Mod', [g.op1('Slice', [shape(), g.ints('s', [1], [1]), g.ints('e', [1], [2])]), g.ints('k', [1], [4])]), g.ints('m', [1], [-1])], { axis: 0 })])))
      .toThrow(/\(Mod, opset 17\): Mod of seq by 4 \(the remainder depends on the size\) is not supported/);
    expect(refused((g, shape) => g.op1('Reshape', ['x', g.op1('Concat', [g.op1('Mod', [g.op1('Sub', [g.op1('Slice', [shape(), g.ints('s', [1], [1]), g.ints('e', [1], [2])]), g.ints('two', [1], [2])]), g.ints('k', [1], [1])], { fmod: 1 }), g.ints('m', [1], [-1])], { axis: 0 })])))
      .toThrow(/\(Mod, opset 17\): Mod of seq-2 by 1 with fmod = 1 \(the remainder depends on the size\) is not supported/);
    expect(refused((g, shape) => g.op1('Reshape', ['x', g.op1('Concat', [g.op1('Mod', [g.ints('k', [1], [4]), g.op1('Slice', [shape(), g.ints('s', [1], [1]), g.ints('e', [1], [2])])]), g.ints('m', [1], [-1])], { axis: 0 })])))
      .toThrow(/\(Mod, opset 17\): the divisor \('[^']+'\) is \[seq\], computed from the symbolic size 'seq'; Mod cannot use it here/);
    // A size value beside a run-time tensor becomes one (its int64 values), so an f32 operand is ONNX's type error.
    expect(refused((g, shape) => g.op1('Add', ['x', g.op1('Concat', [shape()], { axis: 0 })]))).toThrow(/\(Add, opset 17\): operands of different types \(f32, i32\) is not supported/);
    // A size as a graph output.
    expect(refused((_, shape) => shape(), [2])).toThrow("onnx: graph output 'y' is the shape value [batch, seq], computed from the symbolic size 'batch'; an output that is a size is not supported");
    // Range from a symbolic start.
    expect(refused((g, shape) => g.op1('Range', [item(g, shape(), 1), g.ints('l', [], [10]), g.ints('d', [], [1])]))).toThrow(/\(Range, opset 17\): Range\(seq, 10, 1\) with a symbolic limit \(start and a positive delta must be numbers\)/);
  });

  test('fixed shapes, broadcasts and slices that hold only at some sizes are refused, not taken at the bounds', () => {
    // [batch, seq] to [4, 6] is right only at the bounds: the element counts differ for other sizes.
    expect(refused((g) => g.op1('Reshape', ['x', g.ints('s', [2], [4, 6])]), [4, 6])).toThrow(/\(Reshape, opset 17\): reshaping \[batch, seq\] to \[4, 6\] \(the element counts differ for some sizes\) is not supported/);
    expect(refused((g) => g.op1('Reshape', ['x', g.ints('s', [2], [-1, 4])]), [-1, 4])).toThrow(/\(Reshape, opset 17\): shape \[-1, 4\] for an input of shape \[batch, seq\] \(the -1 is not a whole number of elements for every size\)/);
    expect(refused((g) => g.op1('Expand', ['x', g.ints('s', [2], [4, 6])]), [4, 6])).toThrow(/\(Expand, opset 17\): expanding \[batch, seq\] to \[4, 6\] is not supported/);
    expect(refused((g) => g.op1('Squeeze', ['x']))).toThrow(/\(Squeeze, opset 17\): input \[batch, seq\] with the symbolic size 'batch' on axis 0 \(Squeeze without axes drops the axes that are 1 at run time; give the axes\)/);
    // x[:, :3] holds only when seq ≥ 3 (ONNX would clamp); x[:, 2] only when seq > 2.
    expect(refused((g) => g.op1('Slice', ['x', g.ints('s', [1], [0]), g.ints('e', [1], [3]), g.ints('a', [1], [1])]))).toThrow(/Slice.*range 0:3:1 is invalid.*seq=1.*a symbolic size must work for every value from 1 to its bound/);
    expect(refused((g) => g.op1('Gather', ['x', g.ints('i', [], [2])], { axis: 1 }), ['batch'])).toThrow(/Gather.*range 2:3:1 is invalid.*seq=1/);
    // [batch, 3] + [2, 3] with batch ≤ 2 holds at every size but broadcasts only at batch = 1 (the compiled code read past row 0).
    const b2 = new OnnxGraph();
    b2.input('x', ['batch', 3]);
    b2.name(b2.op1('Add', ['x', b2.init('y', [2, 3], new Float32Array(6))]), 'y'); b2.output('y', [2, 3]);
    expect(() => importOnnx(b2.finish('bcast', 17), { dims: { batch: { max: 2 } } })).toThrow(/\(Add, opset 17\): add: input 0 \[batch, 3\] meets \[2, 3\]: its size 'batch' would broadcast only where it is 1/);
    expect(refused((g) => g.op1('Split', ['x'], { axis: 1 }))).toThrow(/\(Split, opset 17\): input \[batch, seq\] with the symbolic size 'seq' on axis 1 \(Split cuts its axis at fixed sizes\) is not supported/);
  });

  test("a size as a float and the exporter's element counts: torch.var's n / (n − 1) over a symbolic axis, Mod of run-time tensors, at every size", () => {
    // y = x · float(ReduceProd(shape[1:])) / float(ReduceSum(shape) − 1) = x · seq / (batch + seq − 1); m = x mod 3 (integers as f32: fmod).
    const g = new OnnxGraph();
    g.input('x', ['batch', 'seq']);
    const shape = g.op1('Shape', ['x']);
    const n = g.op1('ReduceProd', [g.op1('Slice', [shape, g.ints('s', [1], [1]), g.ints('e', [1], [2])])], { keepdims: 0 });
    const f = (v: string) => g.op1('Cast', [v], { to: DT.FLOAT });
    const d = g.op1('Sub', [g.op1('ReduceSum', [shape], { keepdims: 1 }), g.ints('one', [1], [1])]);
    g.name(g.op1('Div', [g.op1('Mul', ['x', f(n)]), f(d)]), 'y'); g.output('y', ['batch', 'seq']);
    g.name(g.op1('Mod', ['x', g.init('three', [], Float32Array.of(3))], { fmod: 1 }), 'm'); g.output('m', ['batch', 'seq']);
    const { graph } = importOnnx(g.finish('var', 17), SYM);
    for (const [B, T] of [[1, 1], [3, 5], [4, 6]] as const) {
      const out = interpret(graph, { x: xAt(B, T) }, undefined, { batch: B, seq: T }), at = `batch ${B}, seq ${T}`;
      expect(Array.from(out.y!), at).toEqual(Array.from(xAt(B, T), (v) => Math.fround(Math.fround(v * T) / (B + T - 1))));
      expect(Array.from(out.m!), at).toEqual(Array.from(xAt(B, T), (v) => v % 3));
    }
  });

  test('SpaceToDepth and DepthToSpace (DCR, CRD) on a symbolic batch, by hand at batch 1 and 3', () => {
    // x [batch, 2, 2, 4]; s = SpaceToDepth(x, 2) [batch, 8, 1, 2]: s[n][(i·2 + j)·2 + c][0][w] = x[n][c][i][2w + j]; DepthToSpace (DCR) undoes it.
    const g = new OnnxGraph();
    g.input('x', ['batch', 2, 2, 4]);
    const sd = g.op1('SpaceToDepth', ['x'], { blocksize: 2 });
    g.name(sd, 's'); g.output('s', ['batch', 8, 1, 2]);
    g.name(g.op1('DepthToSpace', [sd], { blocksize: 2 }), 'back'); g.output('back', ['batch', 2, 2, 4]);
    g.name(g.op1('DepthToSpace', [sd], { blocksize: 2, mode: 'CRD' }), 'crd'); g.output('crd', ['batch', 2, 2, 4]);
    const { graph } = importOnnx(g.finish('blocks', 17), { dims: { batch: { max: 4 } } });
    for (const B of [1, 3]) {
      const x = Float32Array.from({ length: B * 16 }, (_, k) => k), out = interpret(graph, { x }, undefined, { batch: B });
      const at = (n: number, c: number, h: number, w: number) => x[((n * 2 + c) * 2 + h) * 4 + w]!;
      const s = Array.from({ length: B * 16 }, (_, k) => { const n = Math.floor(k / 16), ch = Math.floor(k / 2) % 8, w = k % 2, c = ch % 2, ij = Math.floor(ch / 2); return at(n, c, Math.floor(ij / 2), 2 * w + (ij % 2)); });
      expect(Array.from(out.s!), `batch ${B}`).toEqual(s);
      expect(Array.from(out.back!), `batch ${B}`).toEqual(Array.from(x));
      // CRD reads channel c·4 + i·2 + j: element (n, c', h, w) of crd is s[n][c'·4 + (h%2)·2 + (w%2)][h/2][w/2].
      const sAt = (n: number, ch: number, w: number) => s[(n * 8 + ch) * 2 + w]!;
      expect(Array.from(out.crd!), `batch ${B}`).toEqual(Array.from({ length: B * 16 }, (_, k) => { const n = Math.floor(k / 16), c = Math.floor(k / 8) % 2, h = Math.floor(k / 4) % 2, w = k % 4; return sAt(n, c * 4 + (h % 2) * 2 + (w % 2), Math.floor(w / 2)); }));
    }
  });

  test("a size value beside a run-time tensor is one too, and run-time indices gather along a symbolic axis: PyTorch's out[arange(batch), i]", () => {
    // y = x.flatten()[arange(batch) · seq + i]: the exporter's advanced indexing, with x[b][t] = 10·b + t.
    const g = new OnnxGraph();
    g.input('x', ['batch', 'seq']); g.input('i', ['batch'], DT.INT64);
    const shape = g.op1('Shape', ['x']);
    const b = g.op1('Gather', [shape, g.ints('i0', [], [0])], { axis: 0 }), t = g.op1('Gather', [shape, g.ints('i1', [], [1])], { axis: 0 });
    const flat = g.op1('Add', [g.op1('Mul', [g.op1('Range', [g.ints('zero', [], [0]), b, g.ints('one', [], [1])]), t]), 'i']);
    g.name(g.op1('Gather', [g.op1('Reshape', ['x', g.ints('m1', [1], [-1])]), flat], { axis: 0 }), 'y'); g.output('y', ['batch']);
    // ONNX's wrap: a negative index counts from the end of the symbolic axis at its run-time size.
    const w = new OnnxGraph();
    w.input('x', ['batch', 'seq']); w.input('i', [2], DT.INT64);
    w.name(w.op1('Gather', ['x', 'i'], { axis: 1 }), 'y'); w.output('y', ['batch', 2]);
    const { graph } = importOnnx(g.finish('index', 17), SYM), wrap = importOnnx(w.finish('gather', 17), SYM).graph;
    for (const [B, T] of [[1, 1], [3, 5], [4, 6]] as const) {
      const i = Int32Array.from({ length: B }, (_, k) => (k * 2) % T), at = `batch ${B}, seq ${T}`;
      expect(Array.from(interpret(graph, { x: xAt(B, T), i }, undefined, { batch: B, seq: T }).y!), at).toEqual(Array.from(i, (v, k) => 10 * k + v));
      expect(Array.from(interpret(wrap, { x: xAt(B, T), i: Int32Array.of(-1, 0) }, undefined, { batch: B, seq: T }).y!), at).toEqual(Array.from({ length: B }, (_, k) => [10 * k + T - 1, 10 * k]).flat());
      expect(() => interpret(wrap, { x: xAt(B, T), i: Int32Array.of(T, 0) }, undefined, { batch: B, seq: T }), at).toThrow(`index ${T} is outside [-${T}, ${T})`);
    }
  });

  test('recurrent layers run a symbolic batch and length fused; the ones unrolled step by step need a fixed length', () => {
    const gru = (lbr: number) => {
      const g = new OnnxGraph();
      g.input('x', ['seq', 'batch', 2]);
      const w = g.init('W', [1, 9, 2], new Float32Array(18).fill(0.1)), r = g.init('R', [1, 9, 3], new Float32Array(27).fill(0.1));
      const [y] = g.op('GRU', ['x', w, r], { hidden_size: 3, linear_before_reset: lbr }, 2);
      g.name(y!, 'y'); g.output('y', ['seq', 1, 'batch', 3]);
      return importOnnx(g.finish('gru', 17), SYM);
    };
    expect(gru(1).graph.outputs[0]!.node.type.dims).toEqual(['seq', 1, 'batch', 3]);
    expect(() => gru(0)).toThrow(/\(GRU, opset 17\): GRU with linear_before_reset = 0 \(run step by step\) over the symbolic sequence length seq is not supported/);
  });
});
