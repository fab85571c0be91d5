// Runs the pipeline on a copy of the graph, verifying after every pass.

import { cloneGraph, type Graph } from '../ir/node.ts';
import { attrsOf } from '../ir/ops.ts';
import { verify } from '../ir/verify.ts';
import type { Pass, PassContext } from './pass.ts';
import { PASSES, PASS_NAMES } from './registry.ts';

export interface PassOptions extends PassContext {
  /** Pass names to skip (shape-inference always runs: everything after trusts types; memory-planning then plans without reuse). */
  disable?: readonly string[];
  /** Called after each pass that ran. */
  onPass?: (pass: Pass, g: Graph) => void;
}

const OPTION_KEYS: ReadonlyArray<keyof PassOptions> = ['disable', 'onPass', 'attention', 'target', 'noReuse'];

export function runPasses(input: Graph, opts: PassOptions = {}): Graph {
  const unknown = Object.keys(opts).find((k) => !(OPTION_KEYS as readonly string[]).includes(k));
  if (unknown !== undefined) throw new Error(`runPasses: unknown option '${unknown.slice(0, 60)}' (allowed: ${OPTION_KEYS.join(', ')})`);
  const disabled = new Set(opts.disable ?? []);
  for (const d of disabled) {
    if (!PASS_NAMES.includes(d)) throw new Error(`unknown pass '${d}'; passes are: ${PASS_NAMES.join(', ')}`);
  }
  let g = cloneGraph(input);
  // Loop bodies are graphs of their own: optimise and plan them first (the loop's memory
  // plan reserves a body's arena as the loop node's scratch).
  for (const n of g.nodes) if (n.op === 'loop') n.attrs = { ...n.attrs, body: runPasses(attrsOf(n, 'loop').body, opts) };
  for (const p of PASSES) {
    const off = disabled.has(p.name);
    if (off && p.name !== 'shape-inference' && p.name !== 'memory-planning') continue;
    g = p.run(g, off ? { ...opts, noReuse: true } : opts);
    try { verify(g); } catch (e) { throw new Error(`after pass ${p.name}: ${(e as Error).message}`); }
    opts.onPass?.(p, g);
  }
  return g;
}
