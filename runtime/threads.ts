// Worker threads for one model: each worker instantiates the same compiled module on the same
// shared memory and loops in its __threads_worker export (assembly/threads.ts is the protocol:
// thread 0 posts a call through shared words, workers spin briefly and then sleep between calls,
// so an idle model burns no core). No Node-only imports: Node's worker_threads factory is
// registered by ./node.ts; browsers get a Blob-URL Worker, so apps ship no extra file.

import { describe } from './format.ts';

/** What the runtime needs from a worker, in Node or a browser. */
export interface ThreadWorker {
  post(message: unknown): void;
  /** Calls `onMessage` with each message's data; `onError` with a load or uncaught error. */
  listen(onMessage: (data: unknown) => void, onError: (message: string) => void): void;
  /** Whether the worker keeps a Node process alive (browsers: no-op). */
  ref(yes: boolean): void;
  terminate(): void;
}

export interface ThreadHost {
  /** Logical cores, for threads: 'auto'. */
  cores(): number;
  /** A worker running `source`, a classic script that talks to its parent through `self` (postMessage, message events or `on`). */
  spawn(source: string): ThreadWorker;
}

let registered: ThreadHost | undefined;
/** Node's runtime/node.ts registers worker_threads here. */
export function setThreadHost(host: ThreadHost): void { registered = host; }

const browserHost = (): ThreadHost | undefined => {
  if (typeof Worker !== 'function' || typeof Blob !== 'function' || typeof URL?.createObjectURL !== 'function') return undefined;
  return {
    cores: () => (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) || 1,
    spawn: (source) => {
      const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
      const w = new Worker(url);
      URL.revokeObjectURL(url);
      return {
        post: (m) => w.postMessage(m),
        listen: (onMessage, onError) => {
          w.onmessage = (e) => onMessage(e.data);
          w.onerror = (e) => { e.preventDefault?.(); onError(e.message || 'the worker failed to start (a Content-Security-Policy without worker-src blob:?)'); };
        },
        ref: () => {},
        terminate: () => w.terminate(),
      };
    },
  };
};

/** Cap for threads: 'auto' (GEMM panels of a 512-wide layer split 8 ways are still 8 panels each). */
export const AUTO_MAX_THREADS = 8;

/** The `threads` option as a count (validated), before what the host allows is known. */
export function requestedThreads(v: unknown, max: number): number {
  if (v === undefined) return 1;
  if (v === 'auto') {
    const host = registered ?? browserHost();
    return Math.max(1, Math.min(host ? host.cores() : 1, AUTO_MAX_THREADS, max));
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new Error(`loadModel(): option threads must be 'auto' or an integer from 1 to ${max}, got ${describe(v)}`);
  }
  return v;
}

/** Why `n` threads cannot run here (undefined: they can). */
export function threadsUnavailable(): string | undefined {
  if (typeof SharedArrayBuffer !== 'function') {
    return 'this page has no SharedArrayBuffer: serve it cross-origin isolated (Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy: require-corp or credentialless)';
  }
  if (typeof globalThis.crossOriginIsolated === 'boolean' && !globalThis.crossOriginIsolated) {
    return 'this page is not cross-origin isolated, so wasm memory cannot be shared (Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy: require-corp or credentialless)';
  }
  if (!registered && !browserHost()) return 'no Worker here (in Node, import the runtime as simdflow-runtime or simdflow/runtime, whose Node build registers worker_threads)';
  return undefined;
}

/** May this thread block in Atomics.wait? Not a browser's main thread. */
export function canBlock(): boolean {
  try { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0); return true; } catch { return false; }
}

/** The module's memory import: where its limits flags byte is, and its sizes in pages. */
export function memoryImport(wasm: Uint8Array): { flagsAt: number; min: number; max?: number } | undefined {
  let i = 8;
  const leb = (): number => { let r = 0, s = 0, b: number; do { b = wasm[i++]!; r |= (b & 0x7f) << s; s += 7; } while (b & 0x80 && i < wasm.length); return r >>> 0; };
  const name = () => { const len = leb(); i += len; };
  while (i < wasm.length) {
    const id = wasm[i++]!, size = leb(), end = i + size;
    if (id !== 2) { i = end; continue; }
    for (let n = leb(); n > 0 && i < end; n--) {
      name(); name();
      const kind = wasm[i++]!;
      if (kind === 0) leb();
      else if (kind === 1) { i++; const f = wasm[i++]!; leb(); if (f & 1) leb(); }
      else if (kind === 3) i += 2;
      else if (kind === 4) { i++; leb(); }
      else if (kind === 2) {
        const flagsAt = i++, min = leb();
        return { flagsAt, min, ...(wasm[flagsAt]! & 1 ? { max: leb() } : {}) };
      } else return undefined;
    }
    return undefined;
  }
  return undefined;
}

/**
 * The module with its memory import's shared flag set or cleared (one byte; sizes do not
 * change): code built for shared memory runs unchanged on an unshared one, on one thread.
 */
export function withSharedMemory(wasm: Uint8Array, shared: boolean): Uint8Array {
  const at = memoryImport(wasm)?.flagsAt;
  if (at === undefined) return wasm;
  const flags = wasm[at]!, want = shared ? flags | 2 : flags & ~2;
  if (want === flags) return wasm;
  const out = new Uint8Array(wasm); // a copy: a Node Buffer's slice() is a view, and the caller's bytes must stay as they are
  out[at] = want;
  return out;
}

/**
 * The module's blocking wait (assembly/threads.ts, host_wait): Atomics.wait on the i32 at byte p
 * while it holds v. Imported because V8's memory.atomic.wait32 broke barriers in Liftoff code
 * (see host_wait). Only threads that may block call it, and only on shared memory.
 */
export function atomicWait(memory: WebAssembly.Memory): (p: number, v: number) => void {
  return (p, v) => { Atomics.wait(new Int32Array(memory.buffer, p, 1), 0, v); };
}

/**
 * atomicWait for a worker's source text, which cannot import it: `const atomic_wait = …` over the
 * worker's `memory`. (Not atomicWait.toString(): coverage tools rewrite function bodies.)
 */
export const ATOMIC_WAIT_JS = 'const atomic_wait = (p, v) => { Atomics.wait(new Int32Array(memory.buffer, p, 1), 0, v); };';

/**
 * The module's `abort(message, file, a, b)` (a run-time check that failed, codegen's trapUnless;
 * or AssemblyScript's own, whose a and b are a line and column): throws the AssemblyScript string
 * at `m` (its byte length 4 bytes before it; never null, as --noAssert leaves no bare assert) with
 * `{0}` and `{1}` replaced by the i32 values a and b. `memory()` is read at the trap: it may not
 * exist yet when the import is made.
 */
export function trap(memory: () => WebAssembly.Memory): (m: number, f: number, a: number, b: number) => never {
  return (m, _f, a, b) => {
    const buf = memory().buffer;
    throw new Error(String.fromCharCode(...new Uint16Array(buf, m, new Uint32Array(buf, m - 4, 1)[0]! / 2)).replace('{0}', `${a | 0}`).replaceAll('{1}', `${b | 0}`));
  };
}
/** trap() for a worker's source text, over its `memory`, as `abort` (see ATOMIC_WAIT_JS). */
const TRAP_JS = `const abort = (m, f, a, b, u = memory.buffer) => { throw Error(String.fromCharCode(...new Uint16Array(u, m, new Uint32Array(u, m - 4, 1)[0] / 2)).replace('{0}', a | 0).replaceAll('{1}', b | 0)); };`;

// The worker: instantiate, say ready, then live in __threads_worker. A trap there is reported
// through `ctrl` (its message, unless it only followed another thread's trap), the other threads
// are released (__threads_abort) and the call is marked done; then the worker waits for the next call.
const WORKER_SOURCE = `"use strict";
const port = self;  // in Node, the host's prelude makes self the parentPort
const on = (f) => (port.on ? port.on('message', f) : port.addEventListener('message', (e) => f(e.data)));
on(async ({ module, memory, tid, ctrl, abortAt }) => {
  let x;
  try {
    ${TRAP_JS}
    ${ATOMIC_WAIT_JS}
    x = (await WebAssembly.instantiate(module, { env: { memory, abort, atomic_wait } })).exports;
    x.__threads_may_wait(1);
  } catch (e) {
    port.postMessage({ error: String((e && e.message) || e) });
    return;
  }
  port.postMessage({ ready: true });
  const words = new Int32Array(memory.buffer), c = new Int32Array(ctrl);
  for (;;) {
    try { x.__threads_worker(tid); return; } catch (e) {
      if (Atomics.load(words, abortAt >> 2) === 0 && Atomics.compareExchange(c, 0, 0, 1) === 0) {
        const msg = ('worker thread ' + tid + ': ' + String((e && e.message) || e)).slice(0, c.length - 2);
        for (let i = 0; i < msg.length; i++) c[2 + i] = msg.charCodeAt(i);
        c[1] = msg.length;
      }
      x.__threads_abort();
      x.__threads_done();
    }
  }
});
`;

/** Offset of the ABORT word in the sync region (assembly/threads.ts). */
const ABORT_WORD = 256;

/** The workers of one model (threads 1..n-1) and the message buffer of their traps. */
export class ThreadPool {
  readonly ctrl = new Int32Array(new SharedArrayBuffer(4 * 258));
  private constructor(private readonly workers: ThreadWorker[]) {}

  /** Starts `count` workers on `module` and `memory`; resolves once each has instantiated it. */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, count: number, sync: number): Promise<ThreadPool> {
    const h = registered ?? browserHost();
    if (!h) throw new Error('no Worker here');
    const workers: ThreadWorker[] = [];
    const pool = new ThreadPool(workers);
    try {
      await Promise.all(Array.from({ length: count }, (_, k) => new Promise<void>((resolve, reject) => {
        const w = h.spawn(WORKER_SOURCE);
        workers.push(w);
        w.listen((d) => {
          const m = d as { ready?: boolean; error?: string };
          if (m?.ready) { w.ref(false); resolve(); } else reject(new Error(`worker thread ${k + 1} could not start: ${m?.error ?? describe(d)}`));
        }, (msg) => reject(new Error(`worker thread ${k + 1} failed: ${msg}`)));
        w.post({ module, memory, tid: k + 1, ctrl: pool.ctrl.buffer, abortAt: sync + ABORT_WORD });
      })));
    } catch (e) {
      pool.terminate();
      throw e;
    }
    return pool;
  }

  get size(): number { return this.workers.length; }

  /** The message of the first worker trap since the last clear, if any. */
  takeMessage(): string | undefined {
    if (Atomics.load(this.ctrl, 0) === 0) return undefined;
    const n = this.ctrl[1]!;
    const msg = String.fromCharCode(...this.ctrl.subarray(2, 2 + n));
    this.ctrl.fill(0, 1);
    Atomics.store(this.ctrl, 0, 0);
    return msg || 'a worker thread trapped';
  }

  terminate(): void { for (const w of this.workers) w.terminate(); }
}
