// Loads an artifact and runs its entries. No Node-only imports: this runs in browsers too.

import { DTYPE_BYTES, numel, readContainer, type DType, type EntryInfo, type Isa, type Manifest, type TensorInfo } from './format.ts';

export type TensorData = Float32Array | Int32Array | Uint8Array;
/** An input: a typed array of the input's dtype, optionally with its shape for checking. */
export type Feed = TensorData | { data: TensorData; shape: readonly number[] };
export type Feeds = Record<string, Feed>;
export type Outputs = Record<string, TensorData>;

export interface LoadOptions {
  /** Which code to run: 'auto' prefers relaxed SIMD when the host validates it. */
  isa?: 'auto' | Isa;
}

const ARRAY_FOR: Record<DType, { new (buf: ArrayBuffer, off: number, len: number): TensorData; name: string }> = {
  f32: Float32Array, i32: Int32Array, bool: Uint8Array,
};

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

export class Model {
  private memory: WebAssembly.Memory | undefined;
  private readonly exports: Record<string, (...a: number[]) => unknown>;

  constructor(readonly manifest: Manifest, readonly isa: Isa, instance: WebAssembly.Instance, weights: Uint8Array) {
    this.exports = instance.exports as never;
    this.memory = instance.exports.memory as WebAssembly.Memory;
    new Uint8Array(this.memory.buffer, manifest.memory.weights.offset, weights.length).set(weights);
  }

  get name(): string { return this.manifest.name; }
  get entries(): string[] { return Object.keys(this.manifest.entries); }
  entry(name = 'run'): EntryInfo {
    const e = this.manifest.entries[name];
    if (!e) throw new Error(`model '${this.name}' has no entry '${name}'; entries: ${this.entries.join(', ')}`);
    return e;
  }
  get inputs(): TensorInfo[] { return this.entry().inputs; }
  get outputs(): TensorInfo[] { return this.entry().outputs; }

  /** Runs the whole model (entry `run`). Outputs are fresh arrays, safe to keep. */
  run(feeds: Feeds): Outputs { return this.call('run', feeds); }

  /** Advances a stateful model by one step (entry `step`); its state stays in wasm memory. */
  step(feeds: Feeds): Outputs { return this.call('step', feeds); }

  /** Copies of the persistent state tensors (recurrent state, caches), by name. */
  state(): Record<string, TensorData> {
    return Object.fromEntries(this.manifest.state.map((t) => [t.name, this.read(t)]));
  }

  /** Overwrites some or all state tensors. */
  setState(values: Record<string, Feed>): void {
    const byName = new Map(this.manifest.state.map((t) => [t.name, t]));
    for (const [name, v] of Object.entries(values)) {
      const t = byName.get(name);
      if (!t) throw new Error(`model '${this.name}' setState(): unknown state '${name}' (state: ${[...byName.keys()].join(', ') || 'none'})`);
      this.write(t, v, `model '${this.name}' setState() '${name}'`);
    }
  }

  /** The KV-cache generation description, or a clear error for models without one. */
  private gen() {
    const g = this.manifest.generation;
    if (!g) throw new Error(`model '${this.name}' is not a language model with a KV cache (no prefill/decode entries)`);
    return g;
  }

  /** Tokens held in the KV cache (the next position). */
  get position(): number {
    const g = this.gen();
    const t = this.manifest.state.find((s) => s.name === g.position)!;
    return new DataView(this.mem().buffer).getInt32(t.offset, true);
  }

  private checkRoom(n: number): void {
    const g = this.gen(), at = this.position;
    if (at + n > g.capacity) {
      throw new Error(`model '${this.name}': the KV cache holds ${g.capacity} tokens; at position ${at} it cannot take ${n} more (reset() to start over)`);
    }
  }

  private checkTokens(tokens: ArrayLike<number>): void {
    const g = this.gen();
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (!Number.isInteger(t) || t < 0 || t >= g.vocab) throw new Error(`model '${this.name}': token ${t} at index ${i} is outside the vocabulary [0, ${g.vocab})`);
    }
  }

  /** Appends tokens to the KV cache (in chunks); returns the logits after the last one. */
  prefill(tokens: ArrayLike<number>): Float32Array {
    const g = this.gen();
    if (tokens.length === 0) throw new Error(`model '${this.name}' prefill(): no tokens`);
    this.checkTokens(tokens);
    this.checkRoom(tokens.length);
    let logits: Float32Array | undefined;
    for (let at = 0; at < tokens.length; at += g.chunk) {
      const n = Math.min(g.chunk, tokens.length - at);
      if (n === 1 && g.chunk !== 1) { logits = this.decode(tokens[at]!); continue; }
      const chunk = new Int32Array(g.chunk);
      for (let i = 0; i < n; i++) chunk[i] = tokens[at + i]!;
      logits = this.call(g.prefill, { [g.tokens]: chunk, [g.count]: Int32Array.of(n) })[g.logits] as Float32Array;
    }
    return logits!;
  }

  /** Appends one token to the KV cache; returns the logits for the next one. */
  decode(token: number): Float32Array {
    const g = this.gen();
    this.checkTokens([token]);
    this.checkRoom(1);
    return this.call(g.decode, { [g.tokens]: Int32Array.of(token) })[g.logits] as Float32Array;
  }

  /**
   * Greedy generation from a fresh cache: the prompt followed by `maxNewTokens` argmax tokens.
   * `onToken` sees each new token as it is produced.
   */
  generate(prompt: ArrayLike<number>, opts: { maxNewTokens: number; onToken?: (token: number, index: number) => void }): Int32Array {
    const g = this.gen();
    const total = prompt.length + opts.maxNewTokens - 1;
    if (total > g.capacity) throw new Error(`model '${this.name}' generate(): ${prompt.length} prompt + ${opts.maxNewTokens} new tokens need ${total} cache positions, the KV cache holds ${g.capacity}`);
    this.reset();
    const out = Int32Array.from({ length: prompt.length + opts.maxNewTokens }, (_, i) => (i < prompt.length ? prompt[i]! : 0));
    let logits = this.prefill(prompt);
    for (let i = 0; i < opts.maxNewTokens; i++) {
      let best = 0;
      for (let j = 1; j < logits.length; j++) if (logits[j]! > logits[best]!) best = j;
      out[prompt.length + i] = best;
      opts.onToken?.(best, i);
      if (i + 1 < opts.maxNewTokens) logits = this.decode(best);
    }
    return out;
  }

  /** Sets every state tensor back to zero, as at load time. */
  reset(): void {
    const { offset, bytes } = this.manifest.memory.state;
    new Uint8Array(this.mem().buffer, offset, bytes).fill(0);
  }

  call(entryName: string, feeds: Feeds): Outputs {
    const e = this.entry(entryName);
    this.writeInputs(e, entryName, feeds);
    this.exports[e.export]!();
    return Object.fromEntries(e.outputs.map((o) => [o.name, this.read(o)]));
  }

  /** A copy of a tensor in wasm memory. */
  read(t: TensorInfo): TensorData {
    const n = numel(t.shape);
    return new ARRAY_FOR[t.dtype](this.mem().buffer, t.offset, n).slice();
  }

  /** Writes a tensor into wasm memory after checking dtype and size. */
  write(t: TensorInfo, feed: Feed, where: string): void {
    const data = ArrayBuffer.isView(feed) ? feed : feed.data;
    const Ctor = ARRAY_FOR[t.dtype];
    if (!ArrayBuffer.isView(feed) && (feed.shape.length !== t.shape.length || feed.shape.some((d, i) => d !== t.shape[i]))) {
      throw new Error(`${where}: expected shape ${fmt(t.shape)}, got ${fmt(feed.shape)}`);
    }
    if (!(data instanceof Ctor)) {
      throw new Error(`${where}: expected ${Ctor.name} (${t.dtype}${fmt(t.shape)}), got ${data?.constructor?.name ?? typeof data}`);
    }
    if (data.length !== numel(t.shape)) {
      throw new Error(`${where}: expected ${numel(t.shape)} values (${t.dtype}${fmt(t.shape)}), got ${data.length}`);
    }
    if (t.range) {
      const [lo, hi] = t.range;
      for (let i = 0; i < data.length; i++) {
        if (data[i]! < lo || data[i]! >= hi) throw new Error(`${where}: value ${data[i]} at flat index ${i} is outside the valid range [${lo}, ${hi})`);
      }
    }
    new Ctor(this.mem().buffer, t.offset, data.length).set(data as never);
  }

  private writeInputs(e: EntryInfo, entryName: string, feeds: Feeds): void {
    // Fast check first (this runs per call, e.g. per generated token); details only on error.
    let given = 0;
    for (const k in feeds) if (Object.prototype.hasOwnProperty.call(feeds, k)) given++;
    if (given !== e.inputs.length || e.inputs.some((i) => !(i.name in feeds))) {
      const names = new Set(e.inputs.map((i) => i.name));
      const unknown = Object.keys(feeds).filter((k) => !names.has(k));
      const missing = e.inputs.filter((i) => !(i.name in feeds)).map((i) => i.name);
      const want = e.inputs.map((i) => `${i.name}: ${i.dtype}${fmt(i.shape)}`).join(', ');
      throw new Error(`model '${this.name}' ${entryName}(): ${missing.length ? `missing input ${missing.join(', ')}` : ''}${missing.length && unknown.length ? '; ' : ''}${unknown.length ? `unknown input ${unknown.join(', ')}` : ''} (expects ${want})`);
    }
    for (const t of e.inputs) this.write(t, feeds[t.name]!, `model '${this.name}' ${entryName}() input '${t.name}'`);
  }

  private mem(): WebAssembly.Memory {
    if (!this.memory) throw new Error(`model '${this.name}' was disposed`);
    return this.memory;
  }

  /** Drops the instance and its memory; the model cannot be used afterwards. */
  dispose(): void { this.memory = undefined; }
}

/** Picks the code module: relaxed SIMD when asked for or when 'auto' and the host validates it. */
export function chooseIsa(code: Partial<Record<Isa, Uint8Array>>, want: LoadOptions['isa'] = 'auto'): Isa {
  if (want !== 'auto') {
    if (!code[want]) throw new Error(`artifact has no ${want} code (has: ${Object.keys(code).join(', ')})`);
    if (!WebAssembly.validate(code[want]! as BufferSource)) throw new Error(`this host cannot run the artifact's ${want} code`);
    return want;
  }
  if (code.wasmrelaxedsimd && WebAssembly.validate(code.wasmrelaxedsimd as BufferSource)) return 'wasmrelaxedsimd';
  if (code.wasmsimd && WebAssembly.validate(code.wasmsimd as BufferSource)) return 'wasmsimd';
  throw new Error('this host does not support WebAssembly SIMD (fixed-width 128-bit), which simdflow artifacts need');
}

export async function loadModelBytes(bytes: Uint8Array, opts: LoadOptions = {}): Promise<Model> {
  const { manifest, blob } = readContainer(bytes);
  const code = Object.fromEntries(Object.entries(manifest.code).map(([isa, ref]) => [isa, blob(ref!)])) as Partial<Record<Isa, Uint8Array>>;
  const isa = chooseIsa(code, opts.isa);
  const { instance } = await WebAssembly.instantiate(code[isa]! as BufferSource, {
    env: { abort: (_m: number, _f: number, line: number, col: number) => { throw new Error(`simdflow kernel aborted at ${line}:${col}`); } },
  });
  return new Model(manifest, isa, instance, blob(manifest.weights));
}

export { DTYPE_BYTES };
