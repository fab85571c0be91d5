// Every op's wasm lowering, by name: an op defined in ir/ops/ without a lowering here is a type error.

import type { Node } from '../../ir/node.ts';
import { isOpName, type AttrsOf, type OpName } from '../../ir/ops.ts';
import type { Lowering } from './lowering.ts';
import { ATTENTION_LOWERINGS } from './attention.ts';
import { CONTROL_LOWERINGS } from './control.ts';
import { ELEMENTWISE_LOWERINGS } from './elementwise.ts';
import { LINALG_LOWERINGS } from './linalg.ts';
import { RECURRENT_LOWERINGS } from './recurrent.ts';
import { REDUCE_LOWERINGS } from './reduce.ts';
import { SHAPE_LOWERINGS } from './shape.ts';
import { SCATTER_LOWERINGS } from './scatter.ts';

const LOWERINGS: { [K in OpName]: Lowering<AttrsOf<K>> } = {
  ...ATTENTION_LOWERINGS, ...CONTROL_LOWERINGS, ...ELEMENTWISE_LOWERINGS, ...LINALG_LOWERINGS, ...RECURRENT_LOWERINGS, ...REDUCE_LOWERINGS, ...SHAPE_LOWERINGS, ...SCATTER_LOWERINGS,
};

/** The lowering of `n`'s op (the table's one cast from the node to its op's attribute type). */
export const loweringOf = (n: Node): Lowering<Node['attrs']> | undefined =>
  (isOpName(n.op) ? LOWERINGS[n.op] as unknown as Lowering<Node['attrs']> : undefined);
