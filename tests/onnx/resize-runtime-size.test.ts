// ONNX Resize by constant integer scales over symbolic H and W: one hand-built graph of Resize nodes
// (nearest with PyTorch's asymmetric/floor, the default half_pixel/round_prefer_floor and
// asymmetric/ceil, whose last outputs read past n − 1 and are clamped when the code runs; linear with
// pytorch_half_pixel, half_pixel_symmetric and tf_half_pixel_for_nn; cubic with A = −0.75 and −0.5),
// imported with { N, H, W } named, compiled once and run at 1×1, 2×5, 7×3 and 6×6 on 1 and 2 threads
// and in the reference, each against the same graph imported with that input shape fixed and
// interpreted (the fixed-size Resize matches PyTorch and ONNX's reference in resize.test.ts); then
// what is refused over a symbolic axis.
import { expect, test } from 'vitest';
import { OnnxGraph } from '../../bench/onnx.ts';
import { compileEntries } from '../../compiler/driver/compile.ts';
import { dimsOf } from '../../compiler/ir/types.ts';
import { importOnnx, UnsupportedError } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import '../../runtime/node.ts';
import { TEST_ISAS } from '../helpers/isa.ts';

type Attrs = Parameters<OnnxGraph['op1']>[2];
// (tf_half_pixel_for_nn is gone from opset 18, half_pixel_symmetric came in 19: two graphs, one artifact.)
const NODES: Array<[string, Attrs, [number, number], number?]> = [
  ['nearest_torch', { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, [2, 2]],
  ['nearest_default', { mode: 'nearest' }, [3, 2]],
  ['nearest_ceil', { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'ceil' }, [2, 3]],
  ['linear_torch', { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' }, [2, 3]],
  ['linear_symmetric', { mode: 'linear', coordinate_transformation_mode: 'half_pixel_symmetric' }, [3, 2], 19],
  ['linear_tf', { mode: 'linear', coordinate_transformation_mode: 'tf_half_pixel_for_nn' }, [1, 2]],
  ['cubic_torch', { mode: 'cubic', coordinate_transformation_mode: 'pytorch_half_pixel', cubic_coeff_a: { f: -0.75 } }, [2, 2]],
  ['cubic_asym', { mode: 'cubic', coordinate_transformation_mode: 'asymmetric', cubic_coeff_a: { f: -0.5 } }, [3, 2]],
];

function build(x: ReadonlyArray<number | string>, nodes = NODES, opset = 13): Uint8Array {
  const g = new OnnxGraph();
  g.input('x', x);
  for (const [name, attrs, [sh, sw]] of nodes.filter((e) => (e[3] ?? 13) === opset)) {
    g.name(g.op1('Resize', ['x', '', g.init(`scales_${name}`, [4], Float32Array.of(1, 1, sh, sw))], attrs), name);
    g.output(name, []);
  }
  return g.finish('m', opset);
}

test('Resize by integer scales over symbolic H and W (nearest, linear and cubic in several transformations) equals the fixed-size import at 1×1, 2×5, 7×3 and 6×6, compiled on 1 and 2 threads and in the reference', async () => {
  const dims = { dims: { N: { max: 2 }, H: { max: 7 }, W: { max: 6 } } };
  const entries = [13, 19].map((o) => ({ name: `v${o}`, graph: importOnnx(build(['N', 2, 'H', 'W'], NODES, o), dims).graph }));
  expect(Object.fromEntries(entries.flatMap((e) => e.graph.outputs.map((o) => [o.name, dimsOf(o.node.type)])))).toMatchObject({ nearest_default: ['N', 2, '3*H', '2*W'], linear_tf: ['N', 2, 'H', '2*W'], linear_symmetric: ['N', 2, '3*H', '2*W'] });
  // asymmetric/floor and half_pixel/round_prefer_floor pick ⌊d/s⌋: each element repeated, no gather.
  const ops = entries[0]!.graph.nodes.map((n) => n.op);
  // ceil: 2 axes × 1 tap; pytorch_half_pixel linear: 2 × 2; tf_half_pixel_for_nn linear shifts by ½ at scale 1 too: N, C (fixed: 1 tap, the other reads x), H, W; cubic: 2 × 4, twice.
  expect(ops.filter((o) => o === 'gather').length).toBe(2 + 4 + 7 + 8 + 8);
  const { bytes } = await compileEntries(entries, [], { isas: TEST_ISAS });
  const one = await loadModelBytes(bytes), two = await loadModelBytes(bytes, { threads: 2, threadPolicy: 'always' });
  for (const [N, H, W] of [[1, 1, 1], [2, 2, 5], [1, 7, 3], [2, 6, 6]] as const) {
    const n = N * 2 * H * W, data = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.37 + H) * 4 + Math.cos(i * 0.11) * 0.5);
    if (n > 20) { data[Math.floor(n / 3)] = Infinity; data[Math.floor((2 * n) / 3)] = NaN; }
    for (const o of [13, 19]) {
    const fixed = interpret(importOnnx(build([N, 2, H, W], NODES, o)).graph, { x: data });
    const ref = interpret(entries.find((e) => e.name === `v${o}`)!.graph, { x: data }, undefined, { N, H, W });
    const out = one.call(`v${o}`, { x: { data, shape: [N, 2, H, W] } }), out2 = two.call(`v${o}`, { x: { data, shape: [N, 2, H, W] } });
    for (const [name, , [sh, sw]] of NODES.filter((e) => (e[3] ?? 13) === o)) {
      const want = Array.from(fixed[name] as Float32Array), at = `${name} at ${N}×2×${H}×${W}`;
      expect(want.length).toBe(N * 2 * sh * H * sw * W);
      expect(Array.from(ref[name] as Float32Array), `reference ${at}`).toEqual(want);
      expect(Array.from(out[name] as Float32Array), `compiled ${at}`).toEqual(want);
      expect(Array.from(out2[name] as Float32Array), `2 threads ${at}`).toEqual(want);
    }
    }
  }
  one.dispose(); two.dispose();
});

test('over a symbolic H, Resize refuses what depends on the size: sizes, a fractional scale, align_corners, exclude_outside', () => {
  const one = (attrs: Attrs, scales: [number, number] = [2, 2]) => () => importOnnx(build(['N', 2, 'H', 4], [['y', attrs, scales]]), { dims: { N: { max: 2 }, H: { max: 8 } } });
  const cases: Array<[() => unknown, RegExp]> = [
    [one({ mode: 'linear' }, [1.5, 2]), /\(Resize, opset 13\): resizing axis 2 of the symbolic size 'H' \(by scale 1\.5; a symbolic axis may only keep its size \(scale 1\) or grow by an integer scale, not with align_corners or exclude_outside\) is not supported/],
    [one({ mode: 'linear', coordinate_transformation_mode: 'align_corners' }), /resizing axis 2 of the symbolic size 'H' \(by scale 2 with coordinate_transformation_mode 'align_corners', whose ratio \(n − 1\)\/\(s·n − 1\) depends on the size;/],
    [one({ mode: 'cubic', exclude_outside: 1 }), /resizing axis 2 of the symbolic size 'H' \(by scale 2 with exclude_outside 1, whose weights depend on the size;/],
  ];
  const sized = new OnnxGraph();
  sized.input('x', ['N', 2, 'H', 4]);
  sized.name(sized.op1('Resize', ['x', '', '', sized.ints('sizes', [2], [8, 8])], { mode: 'nearest', axes: [2, 3] }), 'y');
  sized.output('y', []);
  cases.push([() => importOnnx(sized.finish('m', 19), { dims: { N: { max: 2 }, H: { max: 8 } } }), /\(Resize, opset 19\): resizing axis 2 of the symbolic size 'H' \(by sizes, to 8; a symbolic axis may only keep its size \(sizes naming it, with keep_aspect_ratio_policy 'stretch'\) or grow by an integer scale/]);
  for (const [f, want] of cases) { expect(f).toThrow(UnsupportedError); expect(f).toThrow(want); }
  // A fixed W beside it resizes by any scale (align_corners too, the W axis only).
  const ok = importOnnx(build(['N', 2, 'H', 4], [['y', { mode: 'linear', coordinate_transformation_mode: 'align_corners' }, [1, 1.5]]]), { dims: { N: { max: 2 }, H: { max: 8 } } });
  expect(dimsOf(ok.graph.outputs[0]!.node.type)).toEqual(['N', 2, 'H', 6]);
});
