// A readable text form of the IR. Nodes are numbered by position, so the text is stable.

import type { AttrValue, Expr, Graph } from './node.ts';
import { fmtType } from './types.ts';

export function printExpr(e: Expr): string {
  if (e.op === 'in') return `$${(e as { index: number }).index}`;
  if (e.op === 'lit') return String((e as { value: number }).value);
  return `${e.op}(${(e as { args: readonly Expr[] }).args.map(printExpr).join(', ')})`;
}

function fmtAttr(v: AttrValue, indent: string): string {
  if (v === undefined) return '';
  if (typeof v === 'object' && 'nodes' in v) return printGraph(v as Graph, `${indent}  `);
  if (ArrayBuffer.isView(v)) return `<${(v as ArrayLike<number>).length} values>`;
  if (Array.isArray(v)) return `[${v.join(',')}]`;
  if (typeof v === 'object') return printExpr(v as Expr);
  return String(v);
}

export function printGraph(g: Graph, indent = ''): string {
  const id = new Map(g.nodes.map((n, i) => [n, `%${i}`]));
  const lines = g.nodes.map((n) => {
    const attrs = Object.entries(n.attrs)
      .filter(([k, v]) => v !== undefined && k !== 'data' && k !== 'name')
      .map(([k, v]) => `${k}=${fmtAttr(v, indent)}`);
    const args = n.inputs.map((i) => id.get(i) ?? '?').join(', ');
    const lbl = n.op === 'input' || n.op === 'const' || n.op === 'state' ? ` "${n.label ?? ''}"` : '';
    return `${indent}  ${id.get(n)} = ${n.op}${lbl}(${args})${attrs.length ? ` {${attrs.join(', ')}}` : ''} : ${fmtType(n.type)}`;
  });
  const outs = g.outputs.map((o) => `${o.name}=${id.get(o.node)}`).join(', ');
  const writes = (g.stateWrites ?? []).map((o) => `\n${indent}  state ${o.name} ← ${id.get(o.node)}`).join('');
  return `graph {\n${lines.join('\n')}\n${indent}  return ${outs}${writes}\n${indent}}`;
}
