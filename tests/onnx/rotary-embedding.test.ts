// The empty outputs of Split (ctx.ts EmptyVal), as ONNX's RotaryEmbedding function body makes
// one when the rotation covers the whole head: Concat drops them; any other use is refused.
import { expect, test } from 'vitest';
import { OnnxGraph } from '../../bench/onnx.ts';
import { importOnnx } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';

test('a Split with a size of 0 gives an empty tensor that only Concat takes (it contributes nothing); anywhere else it is refused', () => {
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
  // Anything else: an op, a graph output, a Concat that does not fit it.
  expect(build((g, a, e) => { g.name(g.op1('Add', [a, e]), 'y'); g.output('y', [2, 4]); })).toThrow(
    /node 'Add_1' \(Add, opset 18\): input 1 \('split0_1'\) is an empty tensor \[2, 0\] \(output 1 \('split0_1'\) of node 'Split_0' \(Split, opset 18\), split size 0\); zero-size tensors are not supported except as inputs of Concat/);
  expect(build((g, _a, e) => { g.name(g.op1('Relu', [e]), 'y'); g.output('y', [2, 0]); })).toThrow(/\(Relu, opset 18\): X \('split0_1'\) is an empty tensor/);
  expect(build((g, _a, e) => { g.output(e, [2, 0]); })).toThrow(/onnx: graph output 'split0_1' is an empty tensor \[2, 0\] \(output 1 \('split0_1'\) of node 'Split_0'/);
  expect(build((g, a, e) => { g.name(g.op1('Concat', [a, e], { axis: 0 }), 'y'); g.output('y', [2, 4]); })).toThrow(/concatenating the empty tensor \[2, 0\] .* with \[2, 4\] along axis 0 is not supported/);
  // Concat of empties only is empty (refused where it is used).
  expect(build((g, _a, e) => { g.output(g.op1('Concat', [e, e], { axis: 1 }), [2, 0]); })).toThrow(/graph output 'concat1_0' is an empty tensor \[2, 0\] \(the output of node 'Concat_1' \(Concat, opset 18\), whose inputs are all empty\)/);
  expect(build((g) => { g.name('x', 'y'); g.output('y', [2, 4]); }, [5, -1])).toThrow(/split sizes \[5,-1\] for a dimension of 4 is not supported/);
});
