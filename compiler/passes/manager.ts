// Runs the pipeline on a copy of the graph, verifying after every pass.

import { cloneGraph, type Graph } from '../ir/node.ts';
import { attrsOf } from '../ir/ops.ts';
import { describeValue } from '../ir/print.ts';
import type { Target } from '../ir/target.ts';
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

/** A wrong type among the options, as a message (a string for `disable` was read letter by letter: "unknown pass 'f'"). */
function optionProblem(o: PassOptions): string | undefined {
  const { disable, onPass, attention, noReuse, target } = o as Record<string, unknown>;
  if (disable !== undefined && !(Array.isArray(disable) && disable.every((p) => typeof p === 'string'))) return `option disable must be an array of pass names, got ${describeValue(disable)}`;
  if (onPass !== undefined && typeof onPass !== 'function') return `option onPass must be a function (pass, graph) => void, got ${describeValue(onPass)}`;
  if (attention !== undefined && !['auto', 'fused', 'unfused'].includes(attention as string)) return `option attention must be 'auto', 'fused' or 'unfused', got ${describeValue(attention)}`;
  if (noReuse !== undefined && typeof noReuse !== 'boolean') return `option noReuse must be true or false, got ${describeValue(noReuse)}`;
  const t = target as Partial<Record<keyof Target, unknown>> | undefined;
  if (t !== undefined && (typeof t !== 'object' || t === null || typeof t.name !== 'string' || !Number.isInteger(t.align) || (t.align as number) < 1 || typeof t.scratchBytes !== 'function' || (t.copies !== undefined && typeof t.copies !== 'function'))) {
    return `option target must be a Target ({ name, align, scratchBytes(node), copies?(graph) }: the wasm target is the default), got ${describeValue(target)}`;
  }
  return undefined;
}

export function runPasses(input: Graph, opts: PassOptions = {}): Graph {
  const unknown = Object.keys(opts).find((k) => !(OPTION_KEYS as readonly string[]).includes(k));
  if (unknown !== undefined) throw new Error(`runPasses: unknown option '${unknown.slice(0, 60)}' (allowed: ${OPTION_KEYS.join(', ')})`);
  const bad = optionProblem(opts);
  if (bad) throw new Error(`runPasses: ${bad}`);
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
