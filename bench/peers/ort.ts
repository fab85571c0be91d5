// ONNX Runtime Web 1.30 as a peer: the wasm backend (its SIMD build; the package ships no
// non-SIMD one), no proxy worker, wasm files loaded from the package on disk, default graph
// optimizations ('all'). A session per workload from the ONNX bytes of ort-models.ts.
// 1 thread runs in this thread; n threads run in a process of their own (see ort-worker.ts).
import * as ort from 'onnxruntime-web';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fork } from 'node:child_process';
import type { Peer } from '../harness.ts';
import type { Workload } from '../workloads.ts';
import type { Reply, Request } from './ort-worker.ts';

export const ORT_DIST = dirname(createRequire(import.meta.url).resolve('onnxruntime-web')) + '/';

export function configureOrt(): void {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = ORT_DIST;
}

type Feeds = Extract<Request, { op: 'init' }>['feeds'];

function feedsOf(wl: Workload): Feeds {
  return wl.tokens
    ? { tokens: { type: 'int32' as const, data: wl.tokens, dims: [1, wl.tokens.length] } }
    : { x: { type: 'float32' as const, data: wl.x, dims: wl.xShape } };
}

export async function ortPeer(wl: Workload, model: Uint8Array): Promise<Peer> {
  configureOrt();
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const createMs = performance.now() - t0;
  const feeds = Object.fromEntries(Object.entries(feedsOf(wl)).map(([k, f]) => [k, f.type === 'int32' ? new ort.Tensor('int32', f.data as Int32Array, f.dims) : new ort.Tensor('float32', f.data as Float32Array, f.dims)]));
  const out = session.outputNames[0]!;
  return {
    name: 'ort-web',
    setupMs: createMs,
    run: async () => (await session.run(feeds))[out]!.data as Float32Array,
    dispose: () => session.release(),
  };
}

/** ORT-web with `numThreads` threads, in a child process that times its own calls. */
export async function ortThreadedPeer(wl: Workload, model: Uint8Array, numThreads: number): Promise<Peer> {
  // The bench runs under tsx: the child loads its TypeScript through tsx's loader too.
  const child = fork(new URL('./ort-worker.ts', import.meta.url), { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = (r: Request) => new Promise<Reply>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`ort-web ${numThreads}t process exited (code ${code})`));
    child.once('exit', onExit);
    child.once('message', (rep: Reply) => {
      child.off('exit', onExit);
      if ('error' in rep) reject(new Error(`ort-web ${numThreads}t process: ${rep.error}`));
      else resolve(rep);
    });
    child.send(r);
  });
  const init = await ask({ op: 'init', model, feeds: feedsOf(wl), numThreads, wasmPaths: ORT_DIST }) as { setupMs: number };
  return {
    name: `ort-web-${numThreads}t`,
    setupMs: init.setupMs,
    run: async () => ((await ask({ op: 'run' })) as { y: Float32Array }).y,
    time: async (calls) => ((await ask({ op: 'time', calls })) as { times: number[] }).times,
    dispose: async () => { await ask({ op: 'dispose' }); child.kill(); },
  };
}
