// The op registry: every op has one definition (type rule, semantics) and one wasm lowering,
// names outside it are unknown (not even Object.prototype's), and typed attributes are read
// only from a node of the right op.
import { describe, expect, test } from 'vitest';
import { makeGraph, node } from '../../compiler/ir/node.ts';
import { attrsOf, inferType, inPlaceInput, isKnownOp, isView, OP_DEFS, opDef, opTraits, type OpName } from '../../compiler/ir/ops.ts';
import { verify } from '../../compiler/ir/verify.ts';
import { loweringOf } from '../../compiler/codegen/ops/index.ts';

const f32 = (shape: number[]) => ({ dtype: 'f32' as const, shape });

describe('op registry', () => {
  test('every op has a type rule, reference semantics and a lowering', () => {
    const names = Object.keys(OP_DEFS) as OpName[];
    expect(names.length).toBeGreaterThan(40);
    for (const op of names) {
      expect(isKnownOp(op), op).toBe(true);
      expect(typeof opDef(op)!.type, op).toBe('function');
      expect(typeof opDef(op)!.evaluate, op).toBe('function');
      expect(typeof loweringOf(node(op, [], f32([1])))!.emit, op).toBe('function');
    }
  });

  test('a name from Object.prototype is no op', () => {
    for (const op of ['toString', 'constructor', 'hasOwnProperty', '__proto__']) {
      expect(isKnownOp(op)).toBe(false);
      expect(opDef(op)).toBeUndefined();
      expect(() => inferType(op, [], {})).toThrow(`unknown op '${op}'`);
    }
    const x = node('input', [], f32([2]), {}, 'x');
    const bad = node('toString', [x], f32([2]));
    expect(() => verify(makeGraph([x], [{ name: 'y', node: bad }]))).toThrow(/unknown op/);
  });

  test('traits come from the definitions: multi-result ops never fold, loops never merge, fused loops may overwrite', () => {
    expect(opTraits('lstm_seq').noFold).toBe(true);
    expect(opTraits('loop')).toEqual({ noFold: true, noCse: true });
    expect(opTraits('copy').noFold).toBe(true);
    expect(opTraits('elementwise').overwritesInput).toBe(true);
    expect(opTraits('add')).toEqual({});
    expect(opTraits('input').noCse).toBe(true);
  });

  test('effects come from the definitions: reshape is a view, cache_write updates its cache in place', () => {
    expect(Object.keys(OP_DEFS).filter((op) => isView(op))).toEqual(['reshape']);
    expect(Object.keys(OP_DEFS).filter((op) => inPlaceInput(op) !== undefined).map((op) => [op, inPlaceInput(op)])).toEqual([['cache_write', 0]]);
  });

  test('attrsOf reads typed attributes only from a node of that op', () => {
    const x = node('input', [], f32([2, 3]), {}, 'x');
    const s = node('softmax', [x], f32([2, 3]), { axis: 1 });
    expect(attrsOf(s, 'softmax').axis).toBe(1);
    expect(() => attrsOf(s, 'slice')).toThrow(/is softmax, not slice/);
  });
});
