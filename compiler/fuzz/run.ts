// The differential check of one generated case. The oracle is the reference interpreter on
// the traced graph; against it run (a) the memory-level simulator on the graph optimised with
// every pass, with each fusion pass disabled in turn, and with only the planner, and (b) when
// asked, the real artifact compiled to wasm and run by the runtime.

import type { Graph, Node } from '../ir/node.ts';
import { inPlaceInput } from '../ir/ops.ts';
import { printGraph, printPlan } from '../ir/print.ts';
import { firstUnequal, fmtType, numel, sameShape, type AnyTensorData, type Shape } from '../ir/types.ts';
import { runPasses } from '../passes/manager.ts';
import { wasmTarget } from '../codegen/target.ts';
import { scratchBytes } from '../passes/memory-planning.ts';
import { PASS_NAMES } from '../passes/registry.ts';
import { interpret } from '../reference/interpret.ts';
import { compareResults, type Difference } from './compare.ts';
import { generate as generateCase, wildIndices, type FuzzCase } from './generate.ts';
import { KNOWN_FAILURES } from './known.ts';
import { simulate, type Hazard } from './simulate.ts';
import { instantiate } from '../ir/symbolic.ts';
import type { Sizes } from '../ir/dims.ts';

export interface PassConfig {
  name: string; disable: string[]; attention?: 'fused' | 'unfused';
  /** The large case, run on threads (checkThreads): replayed with --threads 1. */
  threads?: boolean;
}

/** All passes; each fusion pass disabled in turn; nothing but the planner. */
export function passConfigs(): PassConfig[] {
  const fusions = PASS_NAMES.filter((p) => p.endsWith('-fusion'));
  const optional = PASS_NAMES.filter((p) => p !== 'shape-inference' && p !== 'memory-planning');
  return [{ name: 'all passes', disable: [] }, ...fusions.map((f) => ({ name: `without ${f}`, disable: [f] })),
    { name: 'attention decomposed', disable: [], attention: 'unfused' }, { name: 'planner only', disable: optional }];
}

/** Whether a configuration applies to graph g: decomposing attention needs an attention node and refuses one over named sizes. */
const appliesTo = (cfg: PassConfig, g: Graph): boolean =>
  !cfg.attention || (g.nodes.some((n) => n.op === 'attention') && !g.nodes.some((n) => n.op === 'attention' && n.type.dims));

export interface Failure {
  seed: number;
  config: string;
  target: 'simulator' | 'wasm';
  category: string;
  /** One line: where the results first differ, or the first hazard. */
  summary: string;
  /** Everything needed to understand and replay it: program, IR before and after with the memory plan (printPlan). */
  detail: string;
}

/** The instruction set the wasm runs compile for and load (`--isa`; relaxed SIMD needs --experimental-wasm-relaxed-simd on Node 20). */
let fuzzIsa: 'wasmsimd' | 'wasmrelaxedsimd' = 'wasmsimd';
export function setFuzzIsa(isa: 'wasmsimd' | 'wasmrelaxedsimd'): void { fuzzIsa = isa; }

const SIM_RTOL = 1e-4;
export const WASM_RTOL = 1e-3;
/** Ops whose NaN handling differs between the reference and the kernels today (issue 9, defect 4). */
const NAN_OPS = new Set(['relu', 'maximum', 'minimum', 'max', 'argmax']);

/** The graph call k runs: with named sizes, instantiated at that call's. */
const graphAt = (g: Graph, c: FuzzCase, k: number): Graph => (c.sizes ? instantiate(g, c.sizes[k]!) : g);

/**
 * A call refused: the reference raised a run-time index error (RangeError, ir/ops/rules.ts
 * raise), or the model threw. `state` is what the state is after it (`state.<name>`): for the
 * reference, as before the call; for the model, undefined when it marked its state stale (a
 * trap after a write in place, runtime/model.ts), and runCalls restored it.
 */
export class Refused {
  constructor(readonly message: string, readonly state: Record<string, AnyTensorData> | undefined) {}
}
export type CallResult = Record<string, AnyTensorData> | Refused;

/**
 * Oracle: the reference interpreter on the traced graph, state threaded through the calls. A
 * run-time index error throws, or with `refusals` makes that call a Refused (state unchanged).
 */
export function reference(c: FuzzCase): Array<Record<string, AnyTensorData>>;
export function reference(c: FuzzCase, refusals: true): CallResult[];
export function reference(c: FuzzCase, refusals = false): CallResult[] {
  let st = { ...c.initialState };
  const stateOf = (s: Record<string, AnyTensorData>) => Object.fromEntries(c.state.map((x) => [`state.${x.name}`, s[x.name]!]));
  return c.steps.map((feeds, k) => {
    let out: Record<string, AnyTensorData>;
    try {
      out = interpret(graphAt(c.traced, c, k), feeds, st);
    } catch (e) {
      if (refusals && e instanceof RangeError) return new Refused(e.message, stateOf(st));
      throw e;
    }
    const next = { ...st };
    for (const s of c.state) if (out[`state.${s.name}`]) next[s.name] = out[`state.${s.name}`]!;
    st = next;
    const res: Record<string, AnyTensorData> = {};
    for (const o of c.traced.outputs) res[o.name] = out[o.name]!;
    return { ...res, ...stateOf(st) };
  });
}

function hazardCategory(h: Hazard): string {
  let root = h.value;
  while (root.op === 'reshape' || root.op === 'cache_write') root = root.inputs[0]!;
  if (root.op === 'const') return 'constant-overwritten';
  switch (h.kind) {
    case 'self': return sameShape(h.value.type.shape, h.readerNode!.type.shape) ? 'inplace-overwrite' : 'inplace-broadcast';
    case 'state-write': return h.reader.startsWith('state write') ? 'state-write-order' : 'output-after-state-write';
    case 'cache-write': return 'read-after-cache-write';
    case 'state-update': return 'undeclared-state-update';
    case 'kernel-output': return h.readerNode && inPlaceInput(h.readerNode.op) !== undefined ? 'in-place-operand-overlap' : 'kernel-output-overlap';
    default: return 'overlap';
  }
}

const unravel = (i: number, s: Shape) => s.map((_, d) => Math.floor(i / numel(s.slice(d + 1))) % s[d]!);

function shapeOf(c: FuzzCase, name: string, call: number): Shape {
  if (name.startsWith('state.')) return c.state.find((s) => `state.${s.name}` === name)!.type.shape;
  return graphAt(c.traced, c, call).outputs.find((o) => o.name === name)!.node.type.shape;
}

function describeDiff(c: FuzzCase, call: number, d: Difference): string {
  const at = c.sizes ? ` (at ${JSON.stringify(c.sizes[call])})` : '';
  if (d.index < 0) return `call ${call}${at}: result ${d.name} missing or of length ${d.got} instead of ${d.want}`;
  return `call ${call}${at}: ${d.name}[${unravel(d.index, shapeOf(c, d.name, call)).join(', ')}] = ${d.got}, the reference gives ${d.want} (tolerance ${d.tol.toPrecision(3)})`;
}

const describeHazard = (g: Graph, h: Hazard) =>
  `call ${h.step}: ${h.reader} reads %${g.nodes.indexOf(h.value)} ${h.value.op} (${fmtType(h.value.type)}) element ${h.element}, but its bytes were last written by ${h.writer}`;

function detail(c: FuzzCase, cfg: PassConfig, g: Graph | undefined, lines: string[]): string {
  return [
    `seed ${c.seed}, ${cfg.name}${cfg.disable.length ? ` (--disable-pass ${cfg.disable.join(',')})` : ''}`,
    ...lines,
    'program:', ...c.program.map((l) => `  ${l}`),
    c.state.length ? `state: ${c.state.map((s) => `${s.name} ${fmtType(s.type)}`).join(', ')}; ${c.steps.length} calls` : '',
    'IR before passes:', printGraph(c.traced),
    ...(g ? ['IR after passes:', printGraph(g), printPlan(g)] : []),
    `replay: npm run fuzz -- --seed ${c.seed}${c.features.includes('wild-indices') ? ' --indices 1' : c.sizes ? ' --sized 1' : cfg.threads ? ' --threads 1' : ''}`,
  ].filter(Boolean).join('\n');
}

/** Runs the simulator under every pass configuration; returns the failures. */
export function checkSimulated(c: FuzzCase, want = reference(c)): Failure[] {
  const failures: Failure[] = [];
  for (const cfg of passConfigs()) {
    let g: Graph | undefined;
    try {
      if (!appliesTo(cfg, c.traced)) continue;
      g = runPasses(c.traced, { disable: cfg.disable, target: wasmTarget, ...(cfg.attention ? { attention: cfg.attention } : {}) });
      const sim = simulateCalls(g, c);
      const diffs = sim.calls.map((got, k) => compareResults(want[k]!, got, SIM_RTOL));
      const k = diffs.findIndex((d) => d);
      if (sim.hazards.length === 0 && k < 0) continue;
      const h = sim.hazards[0];
      const lines = [...(k >= 0 ? [`first difference: ${describeDiff(c, k, diffs[k]!)}`] : []), ...sim.hazards.slice(0, 4).map((x) => `hazard: ${describeHazard(g!, x)}`)];
      failures.push({ seed: c.seed, config: cfg.name, target: 'simulator', category: h ? hazardCategory(h) : 'mismatch', summary: lines[0]!, detail: detail(c, cfg, g, lines) });
    } catch (e) {
      failures.push({ seed: c.seed, config: cfg.name, target: 'simulator', category: 'crash', summary: (e as Error).message.split('\n')[0]!, detail: detail(c, cfg, g, [`error: ${(e as Error).stack ?? e}`]) });
    }
  }
  return failures;
}

/**
 * The simulator on the planned graph g over the case's calls. With named sizes each call runs
 * the graph instantiated at its sizes (the plan kept), from the state the call before left.
 */
function simulateCalls(g: Graph, c: FuzzCase): ReturnType<typeof simulate> {
  const scratch = (n: Node) => scratchBytes(n, wasmTarget);
  if (!c.sizes) return simulate(g, c.state, c.initialState, c.steps, scratch);
  const out: ReturnType<typeof simulate> = { calls: [], hazards: [] };
  let st = c.initialState;
  c.steps.forEach((feeds, k) => {
    const sim = simulate(graphAt(g, c, k), c.state, st, [feeds], scratch);
    out.calls.push(sim.calls[0]!);
    out.hazards.push(...sim.hazards.map((h) => ({ ...h, step: k })));
    st = Object.fromEntries(c.state.map((s) => [s.name, sim.calls[0]![`state.${s.name}`]!]));
  });
  return out;
}

/**
 * A graph with named sizes, planned once at the bounds under every pass configuration, then
 * simulated at each of `sizes` (the planned graph instantiated, its plan kept: values dense at
 * their actual size where the plan put them) against the reference at those sizes: a case of
 * one call per size (checkSimulated). Returns one line per configuration that differs or reads
 * clobbered bytes.
 */
export function checkSimulatedSizes(traced: Graph, sizes: readonly Sizes[], feedsAt: (s: Sizes) => Record<string, AnyTensorData>): string[] {
  const c: FuzzCase = { ...caseOf(traced, {}), steps: sizes.map(feedsAt), sizes: [...sizes] };
  return checkSimulated(c).map((f) => `${f.config}: ${f.summary}`);
}

/** NaN where the reference has a number (or another argmax) after a NaN input through an op that drops it (issue 9, defect 4). */
const nanSemantics = (c: FuzzCase, want: Record<string, AnyTensorData>, d: Difference) =>
  c.special && c.traced.nodes.some((n: Node) => NAN_OPS.has(n.op)) && (Number.isNaN(d.got) || !(want[d.name] instanceof Float32Array));

/**
 * Every call of the case on the compiled artifact: its outputs and, as `state.<name>`, the state
 * after it; a call that throws is Refused. When the model then refuses further calls until its
 * state is set (a trap after a write in place), the state from before the call is set again, as
 * an app would after catching the error.
 */
async function runCalls(c: FuzzCase, bytes: Uint8Array, opts: { threads?: number; threadPolicy?: 'always' } = {}): Promise<{ threads: number; calls: CallResult[] }> {
  const { loadModelBytes } = await import('../../runtime/model.ts');
  const m = await loadModelBytes(bytes, { isa: fuzzIsa, ...opts });
  try {
    if (c.state.length) m.setState(c.initialState);
    const calls = c.steps.map((feeds, k): CallResult => {
      const got: Record<string, AnyTensorData> = {};
      const before = c.state.length ? m.state() : {};
      // With named sizes each input goes with its shape at the call's sizes.
      const shaped = c.sizes ? Object.fromEntries(graphAt(c.traced, c, k).inputs.map((n) => [n.label!, { data: feeds[n.label!]!, shape: n.type.shape }])) : feeds;
      try {
        for (const [name, v] of Object.entries(m.run(shaped))) got[name] = v.slice();
      } catch (e) {
        const message = String((e as Error)?.message ?? e);
        const stale = /may be partly written/.test(message);
        if (stale) m.setState(before);
        return new Refused(message, stale ? undefined : Object.fromEntries(Object.entries(m.state()).map(([n, v]) => [`state.${n}`, v])));
      }
      for (const [name, v] of Object.entries(m.state())) got[`state.${name}`] = v;
      return got;
    });
    return { threads: m.threads, calls };
  } finally { m.dispose(); }
}

/** The op's error in a model's message (a worker's trap names its thread). */
const opError = (message: string) => message.replace(/worker thread \d+: /, '');

/**
 * Whether the model's refusal says what the reference's does: its trap carries the op's error,
 * or its input check names the value outside its range (runtime/model.ts) — never the wasm
 * engine's own trap (an access out of bounds, unreachable).
 */
const sameRefusal = (want: Refused, got: Refused) =>
  opError(got.message).includes(want.message) || / is outside the valid range \[/.test(got.message);

type Disagreement = { k: number; d: Difference } | { k: number; refusal: string };

/** The first call whose results differ from the reference's beyond the wasm tolerance, or that one refused and the other ran. */
function firstDifference(want: CallResult[], calls: CallResult[]): Disagreement | undefined {
  for (let k = 0; k < calls.length; k++) {
    const w = want[k]!, g = calls[k]!;
    if (w instanceof Refused || g instanceof Refused) {
      if (!(g instanceof Refused)) return { k, refusal: `the model ran a call the reference refused (${w instanceof Refused ? w.message : ''})` };
      if (!(w instanceof Refused)) return { k, refusal: `the model refused a call the reference ran: ${g.message}` };
      if (!sameRefusal(w, g)) return { k, refusal: `the model refused with '${g.message}', the reference with '${w.message}'` };
      const d = g.state && compareResults(w.state!, g.state, WASM_RTOL);
      if (d) return { k, d };
      continue;
    }
    const d = compareResults(w, g, WASM_RTOL);
    if (d) return { k, d };
  }
  return undefined;
}

/** A disagreement as a failure's category and line. */
function disagreement(c: FuzzCase, want: CallResult[], x: Disagreement, otherwise: string): { category: string; line: string } {
  if ('refusal' in x) return { category: 'refusal-differs', line: `call ${x.k}: ${x.refusal}` };
  const w = want[x.k]!;
  if (w instanceof Refused) return { category: 'state-after-refusal', line: `after refused call ${x.k} (${w.message}): ${describeDiff(c, x.k, x.d)}` };
  return { category: nanSemantics(c, w, x.d) ? 'nan-semantics' : otherwise, line: `first difference (wasm): ${describeDiff(c, x.k, x.d)}` };
}

/** Compiles the case to wasm, runs it through the runtime and compares. */
export async function checkWasm(c: FuzzCase, want: CallResult[] = reference(c), simFailures: Failure[] = []): Promise<Failure[]> {
  const { compileEntries } = await import('../driver/compile.ts');
  // Each wasm run compiles under one pass configuration, chosen by the seed, so unfused ops reach codegen too.
  const cfgs = passConfigs().filter((p) => appliesTo(p, c.traced));
  const cfg = cfgs[c.seed % cfgs.length]!;
  let g: Graph | undefined;
  try {
    const compiled = await compileEntries([{ name: 'run', graph: c.traced }], c.state, { name: `fuzz${c.seed}`, isas: [fuzzIsa], disablePasses: cfg.disable, ...(cfg.attention ? { attention: cfg.attention } : {}) });
    g = compiled.graph;
    const diff = firstDifference(want, (await runCalls(c, compiled.bytes)).calls);
    if (!diff) return [];
    const { category, line } = disagreement(c, want, diff, simFailures.find((f) => f.config === cfg.name)?.category ?? 'wasm-mismatch');
    return [{ seed: c.seed, config: cfg.name, target: 'wasm', category, summary: line, detail: detail(c, cfg, g, [line]) }];
  } catch (e) {
    return [{ seed: c.seed, config: cfg.name, target: 'wasm', category: 'crash', summary: (e as Error).message.split('\n')[0]!, detail: detail(c, cfg, g, [`error: ${(e as Error).stack ?? e}`]) }];
  }
}

/** Thread counts a thread check runs besides one; 3 threads on this 2-core machine also run a share late. */
const THREAD_COUNTS = [2, 3];

/** What the threads share in generated code: the ops of the nodes split across them, and of those each computes a copy of. */
export function threadedOps(source: string): { split: string[]; copies: string[] } {
  const ops = (how: string) => [...source.matchAll(new RegExp(`^// %\\d+ (\\w+)[^\\n]* \\(${how}\\)$`, 'gm'))].map((m) => m[1]!);
  return { split: ops('split across threads'), copies: ops('a copy per thread') };
}

/**
 * Compiles the case (all passes), runs it on one thread and on 2 and 3 with every split taken
 * (threadPolicy 'always'): one thread against the reference as checkWasm does, and every thread
 * count against one thread bit for bit, since a split never changes a sum's order. `split` and
 * `copies` name the ops the threads share (none: the case tested nothing about threads).
 */
export async function checkThreads(c: FuzzCase, want: CallResult[] = reference(c)): Promise<{ failures: Failure[]; split: string[]; copies: string[] }> {
  const { compileEntries } = await import('../driver/compile.ts');
  await import('../../runtime/node.ts');
  const cfg: PassConfig = { name: 'all passes, threads', disable: [], threads: true };
  let g: Graph | undefined, split: string[] = [], copies: string[] = [];
  const fail = (category: string, line: string): Failure => ({ seed: c.seed, config: cfg.name, target: 'wasm', category, summary: line, detail: detail(c, cfg, g, [line]) });
  try {
    const compiled = await compileEntries([{ name: 'run', graph: c.traced }], c.state, { name: `fuzz${c.seed}`, isas: [fuzzIsa] });
    g = compiled.graph;
    ({ split, copies } = threadedOps(compiled.source));
    const runAll = async (threads: number) => {
      const r = await runCalls(c, compiled.bytes, { threads, threadPolicy: 'always' });
      if ((split.length || copies.length) && r.threads !== threads) throw new Error(`loaded on ${r.threads} thread(s), not the ${threads} asked for`);
      return r.calls;
    };
    const one = await runAll(1);
    const diff = firstDifference(want, one);
    if (diff) {
      const { category, line } = disagreement(c, want, diff, 'wasm-mismatch');
      return { failures: [fail(category, line)], split, copies };
    }
    for (const nt of THREAD_COUNTS) {
      const got = await runAll(nt);
      for (let k = 0; k < one.length; k++) {
        const a = one[k]!, b = got[k]!;
        if (a instanceof Refused || b instanceof Refused) {
          const says = (r: CallResult) => (r instanceof Refused ? `refused (${opError(r.message)})` : 'ran');
          if (!(a instanceof Refused && b instanceof Refused && opError(a.message) === opError(b.message))) {
            return { failures: [fail('threads-differ', `call ${k}: ${says(b)} on ${nt} threads, ${says(a)} on one`)], split, copies };
          }
        }
        const [x, y] = a instanceof Refused ? [a.state ?? {}, (b as Refused).state ?? {}] : [a, b as Record<string, AnyTensorData>];
        for (const [name, v] of Object.entries(x)) {
          const i = y[name] ? firstUnequal(v, y[name]!) : 0;
          if (i < 0) continue;
          const at = unravel(i, shapeOf(c, name, k)).join(', ');
          return { failures: [fail('threads-differ', `call ${k}: ${name}[${at}] = ${y[name]?.[i]} on ${nt} threads, ${v[i]} on one`)], split, copies };
        }
      }
    }
    return { failures: [], split, copies };
  } catch (e) {
    return { failures: [fail('crash', (e as Error).message.split('\n')[0]!)], split, copies };
  }
}

export interface FuzzOptions {
  from: number; seeds: number; wasm: number; strict?: boolean;
  /** The most moves of a case (generate's `moves`; default 12): longer graphs. */
  moves?: number;
  /** The ISA of the wasm runs (default plain SIMD). */
  isa?: 'wasmsimd' | 'wasmrelaxedsimd';
  /** Of the seeds, this many (spread evenly) also generated large (`generate(seed, { big: true })`) and run on threads (checkThreads). */
  threads?: number;
  /**
   * Of the seeds, this many (spread evenly) also generated with named sizes (`sized: true`): small,
   * simulated under every pass configuration and run as wasm; and large, run on threads.
   */
  sized?: number;
  /**
   * Of the seeds, this many (spread evenly) also run with their run-time indices (idx, ids, pos)
   * redrawn past their ranges (wildIndices): the case if it takes any, simulated when the
   * reference refuses no call, and run as wasm; and the seed drawn with frequent indexed ops
   * (`indexed`): small, small with named sizes, and large on threads.
   */
  indices?: number;
}
export interface FuzzSummary {
  seeds: number; simulations: number; wasmRuns: number; wasmMs: number; ms: number; failures: Failure[]; unexpected: Failure[]; features: Record<string, number>;
  /** Thread runs: cases, the ops of the nodes split across threads and of the per-thread copies in them (counts), time. */
  threadRuns: number; splitOps: Record<string, number>; copyOps: Record<string, number>; threadMs: number;
  /** Seeds run with named sizes (each a small and a large case), and their time. */
  sizedRuns: number; sizedMs: number;
  /** Seeds run with wild indices, their cases' calls the reference refused of all their calls, and their time. */
  indexRuns: number; refused: number; wildCalls: number; indexMs: number;
}

/** Seeds `from … from+seeds−1`; `wasm` of them, spread evenly, also run as wasm. */
export async function fuzz(o: FuzzOptions, onCase?: (seed: number, failures: Failure[]) => void): Promise<FuzzSummary> {
  const t0 = performance.now();
  setFuzzIsa(o.isa ?? 'wasmsimd');
  const failures: Failure[] = [];
  const features: Record<string, number> = {};
  const wasmEvery = o.wasm > 0 ? o.seeds / Math.min(o.wasm, o.seeds) : Infinity;
  const threadsEvery = o.threads ? o.seeds / Math.min(o.threads, o.seeds) : Infinity;
  const sizedEvery = o.sized ? o.seeds / Math.min(o.sized, o.seeds) : Infinity;
  const indicesEvery = o.indices ? o.seeds / Math.min(o.indices, o.seeds) : Infinity;
  let sims = 0, wasmRuns = 0, wasmMs = 0, threadRuns = 0, threadMs = 0, sizedRuns = 0, sizedMs = 0, indexRuns = 0, refused = 0, wildCalls = 0, indexMs = 0;
  const splitOps: Record<string, number> = {}, copyOps: Record<string, number> = {};
  const configsFor = (c: FuzzCase) => passConfigs().filter((p) => appliesTo(p, c.traced)).length;
  const onThreads = async (big: FuzzCase, found: Failure[]) => {
    const bigWant = reference(big);
    // The large case's plan too: conv2d and the recurrent layers (multi-result) occur only in large cases.
    found.push(...checkSimulated(big, bigWant));
    sims += configsFor(big);
    const r = await checkThreads(big, bigWant);
    found.push(...r.failures);
    for (const op of r.split) splitOps[op] = (splitOps[op] ?? 0) + 1;
    for (const op of r.copies) copyOps[op] = (copyOps[op] ?? 0) + 1;
  };
  const hasIndices = (c: FuzzCase) => c.traced.inputs.some((n) => n.type.dtype === 'i32');
  /** A case with wild indices: simulated when the reference refuses no call, then as wasm (or on threads). */
  const wild = async (tame: FuzzCase, found: Failure[], threads: boolean) => {
    if (!hasIndices(tame)) return;
    const c = wildIndices(tame), want = reference(c, true);
    const n = want.filter((w) => w instanceof Refused).length;
    refused += n; wildCalls += want.length;
    if (n === 0) { found.push(...checkSimulated(c, want as Array<Record<string, AnyTensorData>>)); sims += configsFor(c); }
    if (threads) found.push(...(await checkThreads(c, want)).failures);
    else found.push(...await checkWasm(c, want));
  };
  const generate = (seed: number, g: Parameters<typeof generateCase>[1] = {}) => generateCase(seed, o.moves ? { ...g, moves: o.moves } : g);
  for (let i = 0; i < o.seeds; i++) {
    const seed = o.from + i;
    let found: Failure[];
    try {
      const c = generate(seed);
      for (const f of c.features) features[f] = (features[f] ?? 0) + 1;
      const want = reference(c);
      found = checkSimulated(c, want);
      sims += configsFor(c);
      if (Math.floor(i % wasmEvery) === 0 && wasmRuns < o.wasm) {
        wasmRuns++;
        const t = performance.now();
        found.push(...await checkWasm(c, want, found));
        wasmMs += performance.now() - t;
      }
      if (Math.floor(i % threadsEvery) === 0 && threadRuns < (o.threads ?? 0)) {
        threadRuns++;
        const t = performance.now();
        await onThreads(generate(seed, { big: true }), found);
        threadMs += performance.now() - t;
      }
      if (Math.floor(i % sizedEvery) === 0 && sizedRuns < (o.sized ?? 0)) {
        sizedRuns++;
        const t = performance.now(), small = generate(seed, { sized: true }), smallWant = reference(small);
        const sim = checkSimulated(small, smallWant);
        sims += configsFor(small);
        found.push(...sim, ...await checkWasm(small, smallWant, sim));
        await onThreads(generate(seed, { big: true, sized: true }), found);
        sizedMs += performance.now() - t;
      }
      if (Math.floor(i % indicesEvery) === 0 && indexRuns < (o.indices ?? 0)) {
        indexRuns++;
        const t = performance.now();
        await wild(c, found, false);
        await wild(generate(seed, { indexed: true }), found, false);
        await wild(generate(seed, { sized: true, indexed: true }), found, false);
        await wild(generate(seed, { big: true, indexed: true }), found, true);
        indexMs += performance.now() - t;
      }
    } catch (e) {
      found = [{ seed, config: '-', target: 'simulator', category: 'generator', summary: (e as Error).message, detail: `seed ${seed}: the generator or the reference failed:\n${(e as Error).stack}` }];
    }
    failures.push(...found);
    onCase?.(seed, found);
  }
  const unexpected = failures.filter((f) => o.strict || !(f.category in KNOWN_FAILURES));
  return { seeds: o.seeds, simulations: sims, wasmRuns, wasmMs, ms: performance.now() - t0, failures, unexpected, features, threadRuns, splitOps, copyOps, threadMs, sizedRuns, sizedMs, indexRuns, refused, wildCalls, indexMs };
}

/** A hand-written graph as a case (one call, no state), for tests and reproductions. */
export function caseOf(traced: Graph, feeds: Record<string, AnyTensorData>): FuzzCase {
  return { seed: 0, traced, state: [], initialState: {}, steps: [feeds], features: [], program: [], special: false };
}
