// Loads an artifact and runs its entries. No Node-only imports: this runs in browsers too.
// Every public method checks its arguments before it writes anything to wasm memory, so a
// refused call leaves the model exactly as it was.

import { DTYPE_BYTES, ISAS, SYNC_SIZES, describe, knownOptions, numel, readContainer, typedKind, typedLength, type DType, type EntryInfo, type Isa, type Manifest, type TensorInfo } from './format.ts';
import { atomicWait, canBlock, memoryImport, requestedThreads, ThreadPool, threadsUnavailable, trap, withSharedMemory } from './threads.ts';
import { checksum } from './checksum.ts';
import { evalDim } from './dims.ts';
import { feedSizes, fmt, isIndex, list, showShape } from './feed-sizes.ts';
import { ThreadChoice } from './thread-choice.ts';
import { argmax, drawToken, samplingOf, uniform } from './sample.ts';

export type TensorData = Float32Array | Int32Array | Uint8Array;
/**
 * An input: a typed array of the input's dtype (or a plain array of numbers, converted),
 * optionally with its shape for checking.
 */
export type Feed = TensorData | readonly number[] | { data: TensorData | readonly number[]; shape: readonly number[] };
export type Feeds = Record<string, Feed>;
export type Outputs = Record<string, TensorData>;

/** Options of Model.generate(): docs/guide.md (Stream tokens) has the exact rules. */
export interface GenerateOptions {
  maxNewTokens: number;
  /** Sees each new token (with the prompt's index when several generate together); false ends that sequence after this token. */
  onToken?: (token: number, index: number, seq: number) => unknown;
  /** Absent or 0: greedy (the argmax). Above 0: tokens are drawn from softmax(logits / temperature). */
  temperature?: number;
  /** Sampling keeps only the k most likely tokens (the lower id first among equal logits). */
  topK?: number;
  /** Sampling keeps the fewest most likely tokens whose probability reaches p, in (0, 1]. */
  topP?: number;
  /** Sampling keeps the tokens at least minP (in [0, 1]) times as likely as the most likely. */
  minP?: number;
  /** Seeds the draws (an integer in [0, 2^53)): the same seed gives the same tokens everywhere; without one, Math.random picks it. */
  seed?: number;
  /** A sequence ends after it produces one of these tokens (which is kept). */
  eosTokenId?: number | readonly number[];
}

export interface LoadOptions {
  /** Which code to run: 'auto' prefers relaxed SIMD when the host validates it. */
  isa?: 'auto' | Isa;
  /**
   * Threads to run on (default 1): a count, or 'auto' (the host's cores, at most 8). More than
   * one needs shared memory and Workers (a cross-origin-isolated page in browsers; in Node, load
   * through simdflow/runtime/node); without them the model runs on one thread and warns.
   * `model.threads` says how many it uses (1 also when no node of the model is worth splitting).
   */
  threads?: number | 'auto';
  /**
   * With threads: 'measure' (default) times each entry's calls on the threads and on one thread and
   * keeps the faster (results are bit-identical either way; runtime/thread-choice.ts); 'always' runs
   * every call of a splitting entry on all threads (for tests and benchmarks of the split itself).
   */
  threadPolicy?: 'measure' | 'always';
}

type Exports = Record<string, (...a: number[]) => number>;

const ARRAY_FOR: Record<DType, { new (buf: ArrayBuffer, off: number, len: number): TensorData; new (len: number): TensorData; new (copyOf: TensorData): TensorData; name: string }> = {
  f32: Float32Array, i32: Int32Array, bool: Uint8Array,
};

/** An entry's inputs as an error shows them: `x: f32[B, T, 16], pad: bool[B, T]`. */
const expects = (e: EntryInfo) => list(e.inputs.map((i) => `${i.name}: ${i.dtype}${fmt(i.dims ?? i.shape)}`));

/** A tensor's type as an error names it: `Float32Array (f32[1, 16])`. */
const wanted = (t: TensorInfo) => `${ARRAY_FOR[t.dtype].name} (${t.dtype}${fmt(t.shape)})`;

/** A tensor's shape at the given sizes (its static shape when it names none). */
const shapeAt = (t: TensorInfo, sizes: Record<string, number>): number[] => (t.dims ? t.dims.map((d) => evalDim(d, sizes)) : t.shape);

function deepFreeze(v: unknown): void {
  if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return;
  Object.freeze(v);
  for (const x of Object.values(v)) deepFreeze(x);
}

/** Ends a threaded model's workers: thread 0's quit wakes them out of their wait, then each is terminated. */
const endThreads = (pool: ThreadPool, quit: ((nt: number) => unknown) | undefined) => (): void => {
  quit?.(pool.size + 1);
  pool.terminate();
};

/**
 * Ends the workers of a threaded model collected without dispose(). They hold its memory and an OS
 * thread each, and nothing else would end them: an unreferenced one-thread model is simply
 * collected, but 20 models on 4 threads left 60 threads and ~480 MB behind. The held value is
 * the pool and thread 0's quit, never the model (which it would keep alive).
 */
const undisposed = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<() => void>((end) => end()) : undefined;

/**
 * The methods that work taken off the model (const { decode } = model, tokens.forEach(model.decode)),
 * with the parameters each takes: more arguments (a JavaScript caller's decode(5, 7), run(feeds,
 * { threads: 2 }), reset(0, 1)) are refused by name, not ignored.
 */
const BOUND = { run: 'feeds', step: 'feeds', call: 'entryName, feeds', state: '', setState: 'values', prefill: 'tokens, seq', decode: 'token', generate: 'prompts, opts', reset: 'seq', dispose: '', entry: 'name' };
/** What a caller giving more arguments plausibly meant. */
const MEANT: Partial<Record<keyof typeof BOUND, string>> = {
  run: "options are loadModel()'s", step: "options are loadModel()'s", call: "options are loadModel()'s",
  decode: 'several tokens: prefill([…]); a batched cache: decode([one per sequence])',
  reset: 'one sequence at a time', setState: 'setState({ name: data })', generate: 'onToken is a field of opts',
};

export class Model {
  private memory: WebAssembly.Memory | undefined;
  private exports: Exports | undefined;
  /** The last call's outputs and sizes: its output shapes are computed when asked for. */
  private last: { outputs: TensorInfo[]; sizes: Record<string, number> } = { outputs: [], sizes: {} };
  /** State a trapped call may have left partly written (EntryInfo.stateInPlace): calls are refused until it is reset or set. */
  private stale: ReadonlySet<string> | undefined;
  /** Bumped by everything that may change the state (calls, setState, reset): generate() watches it across onToken. */
  private stateWrites = 0;

  /** With threads and policy 'measure': which way each entry runs faster. */
  private readonly choice: ThreadChoice | undefined;
  /** Each entry's named sizes in the order its export takes them (sorted), computed once: call() runs per decoded token. */
  private readonly sizeNames = new Map<EntryInfo, string[]>();
  private readonly stateByName: ReadonlyMap<string, TensorInfo>;

  constructor(readonly manifest: Manifest, readonly isa: Isa, instance: WebAssembly.Instance, weights: Uint8Array, private pool?: ThreadPool, threadPolicy: LoadOptions['threadPolicy'] = 'measure') {
    this.choice = pool && threadPolicy === 'measure' ? new ThreadChoice() : undefined;
    const exports = instance.exports as Record<string, unknown>;
    const memory = exports.memory;
    if (!(memory instanceof WebAssembly.Memory)) throw new Error(`invalid simdflow artifact: the ${isa} code exports no memory`);
    if (memory.buffer.byteLength < manifest.memory.pages * 65536) throw new Error(`invalid simdflow artifact: the ${isa} code has ${memory.buffer.byteLength} bytes of memory, the manifest lays out ${manifest.memory.pages} pages`);
    for (const [name, e] of Object.entries(manifest.entries)) {
      if (typeof exports[e.export] !== 'function') throw new Error(`invalid simdflow artifact: entry '${name}' names export '${e.export}', which the ${isa} code does not have`);
      const nSizes = Object.keys(e.sizes ?? {}).length, arity = (exports[e.export] as (...a: number[]) => unknown).length;
      // (tid, nt, the sizes…)
      if (arity !== nSizes + 2) throw new Error(`invalid simdflow artifact: entry '${name}' has ${nSizes} named sizes but its ${isa} export takes ${arity} arguments (expected ${nSizes + 2}: the thread index and count first)`);
    }
    // The checks read the manifest on every call: a caller editing model.inputs[0].shape must not be able to move a write.
    deepFreeze(manifest);
    for (const e of Object.values(manifest.entries)) this.sizeNames.set(e, Object.keys(e.sizes ?? {}).sort());
    this.stateByName = new Map(manifest.state.map((t) => [t.name, t]));
    // Taken off the model, a method read `this` as undefined: a raw TypeError ("Cannot read properties of undefined (reading 'call')").
    const self = this;
    for (const [k, params] of Object.entries(BOUND) as Array<[keyof typeof BOUND, string]>) {
      const f = this[k] as (...a: unknown[]) => unknown, n = params ? params.split(',').length : 0;
      Object.defineProperty(this, k, {
        value: function () {
          // (arguments, not ...rest: decode() and call() run per generated token.) As a forEach or map
          // callback, a method is also given the item's index and the array: that is not a caller's extra argument.
          const a = arguments;
          if (a.length <= n) return f.apply(self, a as never);
          if (a.length === 3 && typeof a[2] === 'object' && a[2]?.[a[1]] === a[0]) {
            try { return f.apply(self, [].slice.call(a, 0, n)); } catch (e) {
              // prompts.map(model.prefill) fills sequence i with prompt i: say where a bad sequence came from.
              if (n > 1 && e instanceof Error) e.message += ` (as a map or forEach callback: ${a[1]} was the item's index)`;
              throw e;
            }
          }
          throw new Error(`model '${self.name}' ${k}(${params}) takes ${n}, got ${a.length} arguments: ${Array.from(a, describe).join(', ')}${MEANT[k] ? ` (${MEANT[k]})` : ''}`);
        }, writable: true, configurable: true,
      });
    }
    this.exports = exports as never;
    this.memory = memory;
    const w = new Uint8Array(memory.buffer, manifest.memory.weights.offset, weights.length);
    w.set(weights);
    // The weights' one checksum (readContainer leaves it to this): of what was written, since the
    // caller's bytes are read only now, after loadModel's awaits, and bytes changed meanwhile would run
    // silently. (Copying them at the call took ~700 ms and as much memory again for 100 MiB.)
    if (checksum(w) !== manifest.weights.checksum) throw new Error("corrupt simdflow artifact: checksum mismatch in the weights (the file was damaged, or the bytes changed while loadModel read them: keep them unchanged until it resolves)");
    if (pool) undisposed?.register(this, endThreads(pool, exports.__threads_quit as (nt: number) => unknown), this);
  }

  get name(): string { return this.manifest.name; }
  /** Threads this model runs on (the caller's and its workers). */
  get threads(): number { return this.pool ? this.pool.size + 1 : 1; }
  /** With threadPolicy 'measure': per entry (and size class, by powers of two), whether its calls now run on the threads, on one thread, or are still being measured. */
  get threadChoices(): Record<string, 'threads' | 'one' | 'measuring'> { return this.choice?.summary() ?? {}; }
  get entries(): string[] { return Object.keys(this.manifest.entries); }
  entry(name = 'run'): EntryInfo {
    const e = typeof name === 'string' && Object.hasOwn(this.manifest.entries, name) ? this.manifest.entries[name] : undefined;
    if (!e) throw new Error(`model '${this.name}' has no entry ${typeof name === 'string' ? `'${name.slice(0, 60)}'` : describe(name)}; entries: ${list(this.entries)}`);
    return e;
  }
  get inputs(): TensorInfo[] { return this.entry().inputs; }
  get outputs(): TensorInfo[] { return this.entry().outputs; }
  /** The shapes of the last call's outputs, by name (an entry with named sizes returns outputs of the actual size). */
  get outputShapes(): Record<string, number[]> { return Object.fromEntries(this.last.outputs.map((o) => [o.name, [...shapeAt(o, this.last.sizes)]])); }
  /** The named sizes of the last call (e.g. { B: 2, T: 7 }); empty for entries without any. */
  get sizes(): Record<string, number> { return { ...this.last.sizes }; }

  /** Runs the whole model (entry `run`). Outputs are fresh arrays, safe to keep. */
  run(feeds: Feeds): Outputs { return this.call('run', feeds); }

  /** Advances a stateful model by one step (entry `step`); its state stays in wasm memory. */
  step(feeds: Feeds): Outputs { return this.call('step', feeds); }

  /** Copies of the persistent state tensors (recurrent state, caches), by name. */
  state(): Record<string, TensorData> {
    this.mem();
    return Object.fromEntries(this.manifest.state.map((t) => [t.name, this.read(t)]));
  }

  /** Overwrites some or all state tensors: all are checked before any is written. */
  setState(values: Record<string, Feed>): void {
    const where = `model '${this.name}' setState()`;
    this.mem();
    if (typeof values !== 'object' || values === null || Array.isArray(values) || ArrayBuffer.isView(values) || values instanceof Map) throw new Error(`${where}: expected an object of state tensors by name, got ${describe(values)}`);
    const byName = this.stateByName;
    const writes = Object.keys(values).map((name) => {
      const t = byName.get(name);
      if (!t) throw new Error(`${where}: unknown state '${name.slice(0, 60)}' (state: ${list([...byName.keys()]) || 'none'})`);
      const data = this.check(t, values[name], `${where} '${name}'`);
      const g = this.manifest.generation;
      if (g && name === g.position) {
        for (let b = 0; b < data.length; b++) {
          if (!(data[b]! >= 0 && data[b]! <= g.capacity)) throw new Error(`${where} '${name}': the KV-cache position${data.length > 1 ? ` of sequence ${b}` : ''} must be an integer in [0, ${g.capacity}], got ${data[b]}`);
        }
      }
      return { t, data };
    });
    this.stateWrites++;
    for (const { t, data } of writes) this.put(t, data);
    if (this.stale) this.stale = new Set([...this.stale].filter((k) => !Object.hasOwn(values, k)));
    if (this.stale?.size === 0) this.stale = undefined;
  }

  /** The KV-cache generation description, or a clear error for models without one. */
  private gen() {
    const g = this.manifest.generation;
    if (!g) throw new Error(`model '${this.name}' is not a language model with a KV cache (no prefill/decode entries)`);
    return g;
  }

  /** Sequences the KV cache holds: `decode` advances all of them at once (1 unless compiled with defineGPT's `batch`). */
  get batch(): number { return this.gen().batch ?? 1; }

  /** Tokens held in the KV cache (the next position); a batched cache has one per sequence: `positions`. */
  get position(): number {
    const g = this.gen();
    if ((g.batch ?? 1) > 1) throw new Error(`model '${this.name}' position: the KV cache holds ${g.batch} sequences, each at its own position; read model.positions`);
    return this.positions[0]!;
  }

  /** Tokens held in the KV cache for each sequence (their next positions). */
  get positions(): number[] {
    const g = this.gen();
    const t = this.manifest.state.find((s) => s.name === g.position)!;
    return Array.from(new Int32Array(this.mem().buffer, t.offset, g.batch ?? 1));
  }

  /** A sequence index of a batched cache (0 for a batch of one), or a clear error. */
  private sequenceIndex(seq: unknown, where: string): number {
    const B = this.batch;
    if (seq === undefined && B === 1) return 0;
    if (seq === undefined) throw new Error(`model '${this.name}' ${where}: the KV cache holds ${B} sequences: say which one, as the second argument (an integer in [0, ${B}))`);
    if (!isIndex(seq) || seq < 0 || seq >= B) throw new Error(`model '${this.name}' ${where}: the sequence must be an integer in [0, ${B}), got ${describe(seq)}`);
    return seq;
  }

  /** Each sequence `seqs` (default: all) must have room for n more tokens. */
  private checkRoom(n: number, where: string, seqs?: readonly number[]): void {
    const g = this.gen(), at = this.positions, B = at.length;
    for (const b of seqs ?? at.keys()) {
      if (at[b]! + n > g.capacity) {
        const which = B > 1 ? `sequence ${b} of the KV cache` : 'the KV cache';
        throw new Error(`model '${this.name}' ${where}: ${which} holds ${g.capacity} tokens; at position ${at[b]} it cannot take ${n} more (reset(${B > 1 ? b : ''}) to start over)`);
      }
    }
  }

  private tokenList(tokens: unknown, where: string): ArrayLike<number> {
    const g = this.gen();
    if (!(Array.isArray(tokens) || ArrayBuffer.isView(tokens)) || tokens instanceof DataView) {
      throw new Error(`model '${this.name}' ${where}: expected an array of token ids, got ${describe(tokens)}`);
    }
    const ts = tokens as ArrayLike<unknown>;
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i];
      if (!isIndex(t)) throw new Error(`model '${this.name}' ${where}: token ${describe(t)} at index ${i} is not a token id (an integer in [0, ${g.vocab}))`);
      if (t < 0 || t >= g.vocab) throw new Error(`model '${this.name}' ${where}: token ${t} at index ${i} is outside the vocabulary [0, ${g.vocab})`);
    }
    return ts as ArrayLike<number>;
  }

  /**
   * Appends tokens to the KV cache (in chunks); returns the logits after the last one. A batched
   * cache fills one sequence at a time: `prefill(tokens, seq)`.
   */
  prefill(tokens: ArrayLike<number>, seq?: number): Float32Array {
    const g = this.gen();
    this.mem();
    const ts = this.tokenList(tokens, 'prefill()');
    if (ts.length === 0) throw new Error(`model '${this.name}' prefill(): no tokens`);
    const s = this.sequenceIndex(seq, 'prefill()');
    this.checkRoom(ts.length, 'prefill()', [s]);
    const B = this.batch;
    let logits: Float32Array | undefined;
    // An entry over any number of tokens takes exactly n; a fixed-size one, a padded chunk.
    const any = this.entry(g.prefill).inputs.find((t) => t.name === g.tokens)?.dims;
    for (let at = 0; at < ts.length; at += g.chunk) {
      const n = Math.min(g.chunk, ts.length - at);
      // A padded chunk past the capacity would write (and position) its padding there, trapping
      // on tokens that fit: those go one at a time through decode.
      if (B === 1 && (n === 1 || (!any && this.positions[0]! + g.chunk > g.capacity))) { for (let i = 0; i < n; i++) logits = this.decode(ts[at + i]!); continue; }
      const chunk = new Int32Array(any ? n : g.chunk);
      for (let i = 0; i < n; i++) chunk[i] = ts[at + i]!;
      const feeds: Feeds = { [g.tokens]: chunk, ...(g.chunk > 1 ? { [g.count]: Int32Array.of(n) } : {}), ...(B > 1 ? { [g.sequence!]: Int32Array.of(s) } : {}) };
      logits = this.call(g.prefill, feeds)[g.logits] as Float32Array;
    }
    return logits!;
  }

  /**
   * Appends one token to the KV cache; returns the logits for the next one. A batched cache
   * takes an array of one token per sequence: every sequence advances, and the result is one
   * row of logits per sequence.
   */
  decode(token: number): Float32Array;
  decode(tokens: ArrayLike<number>): Float32Array[];
  decode(tokens: number | ArrayLike<number>): Float32Array | Float32Array[] {
    const g = this.gen(), B = this.batch;
    this.mem();
    if (B > 1 && (Array.isArray(tokens) || (ArrayBuffer.isView(tokens) && !(tokens instanceof DataView)))) {
      const ts = this.tokenList(tokens, 'decode()');
      if (ts.length !== B) throw new Error(`model '${this.name}' decode(): expected ${B} tokens (one per sequence of the KV cache), got ${ts.length}`);
      const logits = this.call(g.decode, { [g.tokens]: Int32Array.from(ts) })[g.logits] as Float32Array;
      return Array.from({ length: B }, (_, b) => logits.subarray(b * g.vocab, (b + 1) * g.vocab));
    }
    if (B > 1) throw new Error(`model '${this.name}' decode(): the KV cache holds ${B} sequences, which decode together: pass ${B} tokens (one per sequence), got ${describe(tokens)}`);
    if (!isIndex(tokens) || tokens < 0 || tokens >= g.vocab) throw new Error(`model '${this.name}' decode(): expected a token id, an integer in [0, ${g.vocab}), got ${describe(tokens)}`);
    const e = this.entry(g.decode), r = e.inputs[0]!.range;
    // The token checked goes straight to the entry (validate.ts made sure its input is i32[1, 1]): decode() runs
    // per generated token, and through call()'s feeds object and checks its JS took ~3.9 µs against ~1.1 (the entry stubbed out, setState included).
    if (e.inputs.length > 1 || e.sizes || (r && !(tokens >= r[0] && tokens < r[1]))) return this.call(g.decode, { [g.tokens]: Int32Array.of(tokens) })[g.logits] as Float32Array;
    this.invoke(g.decode, e, [Int32Array.of(tokens)], {});
    return this.read(e.outputs.find((o) => o.name === g.logits)!) as Float32Array;
  }

  /**
   * Generation from a fresh cache: the prompt followed by up to `maxNewTokens` new tokens, each
   * the argmax (greedy, the default) or, with a `temperature` > 0, drawn from softmax(logits / T)
   * cut by `topK`, `topP` and `minP` with a generator seeded by `seed` (runtime/sample.ts). A
   * sequence ends after a token of `eosTokenId` (kept) or one for which `onToken` returns false.
   * `onToken` sees each new token as it is produced. Several prompts (at most `batch`) generate
   * together, one sequence each: the result is one array per prompt and `onToken` also gets the
   * prompt's index. docs/guide.md (Stream tokens) has the exact rules.
   */
  generate(prompt: ArrayLike<number>, opts: GenerateOptions): Int32Array;
  generate(prompts: ReadonlyArray<ArrayLike<number>>, opts: GenerateOptions): Int32Array[];
  generate(prompts: ArrayLike<number> | ReadonlyArray<ArrayLike<number>>, opts: GenerateOptions): Int32Array | Int32Array[] {
    const g = this.gen(), B = this.batch, where = `model '${this.name}' generate()`;
    this.mem();
    const many = Array.isArray(prompts) && prompts.length > 0 && typeof prompts[0] === 'object' && prompts[0] !== null;
    const list = (many ? prompts as unknown[] : [prompts]).map((p, i) => this.tokenList(p, many ? `generate() prompt ${i}` : 'generate()'));
    if (list.length > B) throw new Error(`${where}: ${list.length} prompts, the KV cache holds ${B} sequence${B > 1 ? 's' : ''}`);
    list.forEach((ts, i) => { if (ts.length === 0) throw new Error(`${where}: ${many ? `prompt ${i}` : 'the prompt'} has no tokens`); });
    if (typeof opts !== 'object' || opts === null) throw new Error(`${where}: expected options { maxNewTokens, onToken? }, got ${describe(opts)}`);
    knownOptions(where, opts, ['maxNewTokens', 'onToken', 'temperature', 'topK', 'topP', 'minP', 'seed', 'eosTokenId']);
    const { maxNewTokens: max, onToken, eosTokenId: eos } = opts;
    if (!isIndex(max) || max < 0) throw new Error(`${where}: maxNewTokens must be a non-negative integer, got ${describe(max)}`);
    if (onToken !== undefined && typeof onToken !== 'function') throw new Error(`${where}: onToken must be a function, got ${describe(onToken)}`);
    const sampling = samplingOf(where, opts as unknown as Record<string, unknown>);
    const stops = Array.from(eos === undefined ? [] : this.tokenList(Array.isArray(eos) || ArrayBuffer.isView(eos) ? eos : [eos], 'generate() eosTokenId'));
    list.forEach((ts, i) => {
      const total = ts.length + Math.max(max - 1, 0);
      if (total > g.capacity) throw new Error(`${where}: ${many ? `prompt ${i}: ` : ''}${ts.length} prompt + ${max} new tokens need ${total} cache positions, the KV cache holds ${g.capacity}`);
    });
    // One stream of draws per sequence: its tokens do not depend on when the others stop.
    const draws = list.map((_, p) => sampling && uniform(sampling.seed, p));
    this.reset();
    const outs = list.map((ts) => Int32Array.from({ length: ts.length + max }, (_, i) => (i < ts.length ? ts[i]! : 0)));
    /** Each sequence's length once it has stopped. */
    const ended = list.map(() => 0);
    let logits = list.map((ts, i) => this.prefill(ts, B > 1 ? i : undefined));
    for (let i = 0; i < max; i++) {
      const next = new Array<number>(B).fill(0);
      logits.forEach((l, p) => {
        if (ended[p]) return; // fed token 0 from now on, as the rows of no prompt are
        const at = list[p]!.length + i;
        const best = sampling ? drawToken(l, sampling, draws[p]!(), `${where}: new token ${i} (position ${at})${many ? ` of sequence ${p}` : ''}`) : argmax(l);
        outs[p]![at] = next[p] = best;
      });
      const writes = this.stateWrites;
      list.forEach((ts, p) => {
        if (ended[p]) return;
        const said = onToken?.(next[p]!, i, p);
        if (typeof (said as PromiseLike<unknown> | undefined)?.then === 'function') {
          // generate() cannot wait: a false the promise resolves to would never end the sequence.
          // Its rejection is this error's now, not an unhandled one (which ends a Node process).
          (said as Promise<unknown>).then(undefined, () => {});
          throw new Error(`${where}: onToken returned a Promise (an async function?): generate() is synchronous and cannot wait for it, so its false would not end the sequence; return false from a plain function`);
        }
        if (said === false || stops.includes(next[p])) ended[p] = ts.length + i + 1;
      });
      // A callback that changes the cache (a call, reset or setState), even back to the same
      // position, would make the rest of this generation silently wrong.
      if (this.memory && this.stateWrites !== writes) throw new Error(`${where}: onToken changed the model's state (a call, reset() or setState()); call them after generate() returns`);
      if (ended.every(Boolean)) break;
      if (i + 1 < max) logits = B > 1 ? this.decode(next).slice(0, list.length) : [this.decode(next[0]!)];
    }
    const res = outs.map((o, p) => (ended[p] ? o.slice(0, ended[p]) : o));
    return many ? res : res[0]!;
  }

  /** Sets every state tensor back to zero, as at load time; `reset(seq)` empties one sequence of a batched KV cache. */
  reset(seq?: number): void {
    this.mem();
    if (seq === undefined) {
      this.stateWrites++;
      const { offset, bytes } = this.manifest.memory.state;
      new Uint8Array(this.mem().buffer, offset, bytes).fill(0);
      this.stale = undefined;
      return;
    }
    // A refused reset(seq) changes nothing: generate() must not see it as a write.
    const s = this.sequenceIndex(seq, 'reset()'), B = this.batch, buf = this.mem().buffer;
    this.stateWrites++;
    // Every state tensor of a batched language model has the sequences first.
    for (const t of this.manifest.state) {
      const per = numel(t.shape) / B;
      new ARRAY_FOR[t.dtype](buf, t.offset, numel(t.shape)).fill(0, s * per, (s + 1) * per);
    }
  }

  /** Runs one entry by name; a language model's prefill/decode entries are checked against the KV cache. */
  call(entryName: string, feeds: Feeds): Outputs {
    if (typeof entryName !== 'string') throw new Error(`model '${this.name}' call(): expected an entry name (entries: ${list(this.entries)}), got ${describe(entryName)}`);
    const e = this.entry(entryName);
    const where = `model '${this.name}' ${entryName}()`;
    this.exports ?? this.disposed();
    const sizes = feedSizes(e, where, feeds);
    const data = this.checkFeeds(e, where, feeds, sizes);
    this.invoke(entryName, e, data, sizes);
    return Object.fromEntries(e.outputs.map((o) => [o.name, this.read(o, shapeAt(o, sizes))]));
  }

  /** Runs entry e on inputs already checked, then keeps its output shapes; its outputs are read by the caller. */
  private invoke(entryName: string, e: EntryInfo, data: TensorData[], sizes: Record<string, number>): void {
    const where = `model '${this.name}' ${entryName}()`, exports = this.exports ?? this.disposed();
    if (this.stale) throw new Error(`${where}: ${this.staleError()}`);
    const g = this.manifest.generation;
    if (g && (entryName === g.prefill || entryName === g.decode)) {
      const count = e.inputs.findIndex((t) => t.name === g.count), seq = e.inputs.findIndex((t) => t.name === g.sequence);
      const tokens = e.inputs.findIndex((t) => t.name === g.tokens);
      const n = count < 0 ? 1 : data[count]![0]!;
      if (!(n >= 1 && n <= g.chunk)) throw new Error(`${where} input '${g.count}': the number of tokens must be an integer in [1, ${g.chunk}], got ${n}`);
      // The sequence's range was checked with the inputs; decode (and a batch of one) moves every sequence.
      this.checkRoom(n, `${entryName}()`, seq < 0 ? undefined : [data[seq]![0]!]);
      // A prefill over any number of tokens (tokens [1, T]): the count is T.
      if (count >= 0 && e.inputs[tokens]?.dims && data[tokens]!.length !== n) throw new Error(`${where} input '${g.count}': ${n} does not match the ${data[tokens]!.length} tokens given`);
    }
    this.stateWrites++;
    for (let i = 0; i < data.length; i++) this.put(e.inputs[i]!, data[i]!);
    const names = this.sizeNames.get(e)!;
    const key = this.choice && e.parallel !== undefined ? names.reduce((k, n) => `${k}:${31 - Math.clz32(sizes[n]!)}`, entryName) : undefined;
    const threaded = this.pool !== undefined && e.parallel !== undefined && (key === undefined || this.choice!.threaded(key));
    const t0 = key === undefined ? 0 : performance.now();
    if (threaded) {
      // Every thread's entry reads the sizes from the sync region.
      new Int32Array(this.mem().buffer, this.manifest.threads!.sync.offset + SYNC_SIZES, names.length).set(names.map((k) => sizes[k]!));
      this.callThreads(exports, e, where);
    } else {
      try {
        if (names.length) exports[e.export]!(0, 1, ...names.map((k) => sizes[k]!));
        else exports[e.export]!(0, 1);
      } catch (err) {
        throw this.trapped(e, where, String((err as Error)?.message ?? err));
      }
    }
    if (key !== undefined) this.choice!.record(key, threaded, performance.now() - t0);
    this.last = { outputs: e.outputs, sizes };
  }

  /**
   * Runs a parallel entry on all threads (this one is thread 0). A trap in any thread releases
   * the others from their barriers (they trap too) and is this call's error once every thread
   * has left the call; the threads are then ready for the next call.
   */
  private callThreads(exports: Exports, e: EntryInfo, where: string): void {
    const pool = this.pool!;
    let own: unknown, failed: number;
    try {
      failed = exports.__threads_call!(e.parallel!, pool.size + 1);
    } catch (err) {
      own = err;
      exports.__threads_abort!();
      exports.__threads_join!();
      failed = 1;
    }
    if (!failed) return;
    const worker = pool.takeMessage();
    exports.__threads_reset!();
    throw this.trapped(e, where, worker ?? String((own as Error)?.message ?? own ?? 'a thread trapped'));
  }

  /** A call of entry e trapped: its error, and the state it may have written part of is marked stale. */
  private trapped(e: EntryInfo, where: string, why: string): Error {
    if (e.stateInPlace?.length) this.stale = new Set([...(this.stale ?? []), ...e.stateInPlace]);
    return new Error(`${where}: the wasm code trapped (${why.slice(0, 200)})${e.stateInPlace?.length ? `; ${this.staleError()}` : ''}`);
  }

  private staleError(): string {
    const s = [...this.stale!];
    return `state ${list(s.map((k) => `'${k}'`))} may be partly written by a call that failed: reset() the model or setState() ${s.length > 1 ? 'them' : 'it'} first`;
  }

  /** A copy of a tensor in wasm memory (at its actual shape). */
  private read(t: TensorInfo, shape: readonly number[] = t.shape): TensorData {
    // A copy made by the constructor, not .slice(): 1 MiB in 62–65 µs against 139–143 (Node 20,
    // shared or not), never slower for small outputs.
    const Ctor = ARRAY_FOR[t.dtype];
    return new Ctor(new Ctor(this.mem().buffer, t.offset, numel(shape)));
  }

  /** The feed as an array of the tensor's type, or a clear error saying what is wrong. */
  private check(t: TensorInfo, feed: unknown, where: string, shapeNow: readonly number[] = t.shape): TensorData {
    const Ctor = ARRAY_FOR[t.dtype], n = numel(shapeNow);
    if (shapeNow !== t.shape) t = { ...t, shape: [...shapeNow] };
    let data: unknown = feed;
    if (typeof feed === 'object' && feed !== null && !ArrayBuffer.isView(feed) && !Array.isArray(feed)) {
      const { data: d, shape } = feed as { data?: unknown; shape?: unknown };
      if (shape === undefined && d === undefined) throw new Error(`${where}: expected ${wanted(t)} or { data, shape }, got ${describe(feed)}`);
      if (!Array.isArray(shape) || !shape.every(isIndex)) throw new Error(`${where}: expected ${wanted(t)} or { data, shape }, got an object with shape ${showShape(shape)}`);
      if (shape.length !== t.shape.length || shape.some((d, i) => d !== t.shape[i])) throw new Error(`${where}: expected shape ${fmt(t.shape)}, got ${fmt(shape.slice(0, 10))}`);
      data = d;
    }
    if (Array.isArray(data)) {
      if (data.length !== n) throw new Error(`${where}: expected ${n} values (${t.dtype}${fmt(t.shape)}), got ${data.length}`);
      const out = new Ctor(n);
      for (let i = 0; i < n; i++) {
        const v: unknown = data[i];
        const ok = t.dtype === 'f32' ? typeof v === 'number' : t.dtype === 'i32' ? isIndex(v) && v === (v | 0) : v === 0 || v === 1 || typeof v === 'boolean';
        if (!ok) throw new Error(`${where}: value ${describe(v)} at index ${i} is not ${t.dtype === 'f32' ? 'a number' : t.dtype === 'i32' ? 'a 32-bit integer' : 'a boolean (0 or 1)'}`);
        out[i] = Number(v);
      }
      data = out;
    }
    if (typedKind.call(data) !== Ctor.name) throw new Error(`${where}: expected ${wanted(t)}, got ${describe(data)}`);
    const length = typedLength.call(data);
    if (length !== n) throw new Error(`${where}: expected ${n} values (${t.dtype}${fmt(t.shape)}), got ${length}`);
    // What is written is what was checked: integers and booleans (token ids, positions, counts,
    // masks) are copied, since the caller's array could change before the write (a getter of a
    // later feed, another thread on a shared buffer), and so is an array whose buffer can shrink or grow.
    const buffer = (data as TensorData).buffer as { resizable?: boolean; growable?: boolean };
    const own: TensorData = t.dtype !== 'f32' || buffer.resizable || buffer.growable ? new Ctor(data as never) : data as TensorData;
    if (t.dtype === 'bool') {
      for (let i = 0; i < n; i++) {
        if (own[i]! > 1) throw new Error(`${where}: value ${own[i]} at flat index ${i} is not a boolean (0 or 1)`);
      }
    }
    if (t.range) {
      const [lo, hi] = t.range;
      for (let i = 0; i < n; i++) {
        if (own[i]! < lo || own[i]! >= hi) throw new Error(`${where}: value ${own[i]} at flat index ${i} is outside the valid range [${lo}, ${hi})`);
      }
    }
    return own;
  }

  private put(t: TensorInfo, data: TensorData): void {
    new ARRAY_FOR[t.dtype](this.mem().buffer, t.offset, data.length).set(data as never);
  }

  /** Every input checked (names, types, sizes, ranges) before any is written. */
  private checkFeeds(e: EntryInfo, where: string, feeds: Feeds, sizes: Record<string, number>): TensorData[] {
    // (A Map of inputs said "missing input x".)
    if (typeof feeds !== 'object' || feeds === null || Array.isArray(feeds) || ArrayBuffer.isView(feeds) || feeds instanceof Map) {
      throw new Error(`${where}: expected an object of inputs by name, got ${describe(feeds)} (expects ${expects(e)})`);
    }
    // Fast check first (this runs per call, e.g. per generated token); details only on error.
    let given = 0;
    for (const k in feeds) if (Object.hasOwn(feeds, k)) given++;
    if (given !== e.inputs.length || e.inputs.some((i) => !Object.hasOwn(feeds, i.name))) {
      const names = new Set(e.inputs.map((i) => i.name));
      const unknown = Object.keys(feeds).filter((k) => !names.has(k)).map((k) => k.slice(0, 60));
      const missing = e.inputs.filter((i) => !Object.hasOwn(feeds, i.name)).map((i) => i.name);
      throw new Error(`${where}: ${missing.length ? `missing input ${list(missing)}` : ''}${missing.length && unknown.length ? '; ' : ''}${unknown.length ? `unknown input ${list(unknown)}` : ''} (expects ${expects(e)})`);
    }
    return e.inputs.map((t) => this.check(t, feeds[t.name], `${where} input '${t.name}'`, shapeAt(t, sizes)));
  }

  private disposed(): never { throw new Error(`model '${this.name}' was disposed`); }
  private mem(): WebAssembly.Memory { return this.memory ?? this.disposed(); }

  /** Drops the instance and its memory and ends the worker threads; the model cannot be used afterwards. */
  dispose(): void {
    if (this.pool) {
      undisposed?.unregister(this);
      endThreads(this.pool, this.exports?.__threads_quit)();
      this.pool = undefined;
    }
    this.memory = undefined;
    this.exports = undefined;
  }
}

/**
 * Picks the code module: relaxed SIMD when asked for or when 'auto' and the host validates it.
 * The code's checksums have matched by now, so a module the host refuses is the host's limit.
 */
export function chooseIsa(code: Partial<Record<Isa, Uint8Array>>, want: LoadOptions['isa'] = 'auto'): Isa {
  if (want !== 'auto') {
    if (!code[want]) throw new Error(`artifact has no ${want} code (has: ${Object.keys(code).join(', ')})`);
    if (!WebAssembly.validate(code[want]! as BufferSource)) throw new Error(`this host cannot run the artifact's ${want} code`);
    return want;
  }
  if (code.wasmrelaxedsimd && WebAssembly.validate(code.wasmrelaxedsimd as BufferSource)) return 'wasmrelaxedsimd';
  if (code.wasmsimd && WebAssembly.validate(code.wasmsimd as BufferSource)) return 'wasmsimd';
  throw new Error(code.wasmsimd
    ? 'this host does not support WebAssembly SIMD (fixed-width 128-bit), which simdflow artifacts need'
    : `this host cannot run the artifact's code (it has only ${Object.keys(code).join(', ')})`);
}

/**
 * The options of loadModel that need no artifact, checked before one is fetched or read: a value of
 * the wrong type or none of the allowed ones is refused by name. Undefined is the default; null is
 * not (isa: null was taken as 'auto'). threads, whose upper bound is the artifact's, is checked with it.
 */
export function checkOptions(opts: LoadOptions): void {
  knownOptions('loadModel()', opts, ['isa', 'threads', 'threadPolicy']);
  const { isa, threadPolicy: p } = opts;
  if (p !== undefined && p !== 'measure' && p !== 'always') throw new Error(`loadModel(): option threadPolicy must be 'measure' or 'always', got ${describe(p)}`);
  if (isa !== undefined && isa !== 'auto' && !ISAS.includes(isa)) throw new Error(`loadModel(): option isa must be 'auto', 'wasmsimd' or 'wasmrelaxedsimd', got ${describe(isa)}`);
}

export async function loadModelBytes(bytes: Uint8Array, opts: LoadOptions = {}): Promise<Model> {
  checkOptions(opts);
  const { manifest, blob } = readContainer(bytes, false); // the weights' checksum: as written (Model)
  let threads = requestedThreads(opts.threads, manifest.threads?.max ?? 16);
  const code = Object.fromEntries(Object.entries(manifest.code).map(([isa, ref]) => [isa, blob(ref!)])) as Partial<Record<Isa, Uint8Array>>;
  const isa = chooseIsa(code, opts.isa);
  // A copy the caller cannot change: the code is compiled a second time below, after an await, when its threads cannot run.
  const wasm = new Uint8Array(code[isa]!);
  const imported = memoryImport(wasm);
  if (threads > 1) {
    // Threads only where some entry splits work (otherwise they could only wait) and the code imports its memory.
    const why = !manifest.threads || !imported ? undefined : threadsUnavailable();
    if (why) console.warn(`simdflow: model '${manifest.name}' runs on 1 thread, not ${threads}: ${why}`);
    if (!manifest.threads || !imported || why) threads = 1;
  }
  const pages = manifest.memory.pages;
  if (imported && (imported.min !== pages || (imported.max ?? pages) < pages)) {
    throw new Error(`invalid simdflow artifact: the ${isa} code has ${imported.min * 65536} bytes of memory, the manifest lays out ${pages} pages`);
  }
  let module = await WebAssembly.compile(withSharedMemory(wasm, threads > 1) as BufferSource);
  if (threads > 1 && !WebAssembly.Module.imports(module).some((i) => i.module === 'env' && i.name === 'atomic_wait')) {
    // Code from before threads slept through env.atomic_wait: its wait32 let barriers pass early (assembly/threads.ts).
    console.warn(`simdflow: model '${manifest.name}' runs on 1 thread, not ${threads}: it was compiled by simdflow ${manifest.version}, whose threads can give wrong results; recompile it`);
    threads = 1;
    module = await WebAssembly.compile(withSharedMemory(wasm, false) as BufferSource);
  }
  const shared = threads > 1;
  const memory = imported ? new WebAssembly.Memory({ initial: pages, maximum: imported.max ?? pages, shared }) : undefined;
  const abort = trap(() => memory ?? instance.exports.memory as WebAssembly.Memory);
  const instance: WebAssembly.Instance = await WebAssembly.instantiate(module, { env: { abort, ...(memory ? { memory, atomic_wait: atomicWait(memory) } : {}) } });
  let pool: ThreadPool | undefined;
  if (shared) {
    const missing = ['worker', 'call', 'may_wait', 'abort', 'done', 'join', 'reset', 'quit'].filter((f) => typeof instance.exports[`__threads_${f}`] !== 'function');
    if (missing.length) throw new Error(`invalid simdflow artifact: the manifest has threads but the ${isa} code lacks __threads_${missing[0]}`);
    (instance.exports.__threads_may_wait as (y: number) => void)(canBlock() ? 1 : 0);
    // Workers instantiate before the weights are written: each instantiation re-applies the data segments.
    try { pool = await ThreadPool.start(module, memory!, threads - 1, manifest.threads!.sync.offset); } catch (e) {
      console.warn(`simdflow: model '${manifest.name}' runs on 1 thread, not ${threads}: ${(e as Error).message}`);
    }
  }
  try {
    // The weights are read from the caller's bytes only now, after the awaits: bytes transferred
    // (postMessage) or shrunk meanwhile read as none (copying them was a raw TypeError).
    const weights = blob(manifest.weights);
    if (weights.length !== manifest.weights.length) throw new Error(`loadModel(): the artifact's bytes were transferred or shrunk while it loaded; keep them until it resolves`);
    return new Model(manifest, isa, instance, weights, pool, opts.threadPolicy);
  } catch (e) {
    pool?.terminate(); // an artifact the model refuses: its workers must not outlive the error
    throw e;
  }
}
export { DTYPE_BYTES };
