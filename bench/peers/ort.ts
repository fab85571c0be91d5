// ONNX Runtime Web 1.30 as a peer: the wasm backend (its SIMD build; the package ships no
// non-SIMD one), one thread, no proxy worker, wasm files loaded from the package on disk,
// default graph optimizations ('all'). A session per workload from the ONNX bytes of ort-models.ts.
import * as ort from 'onnxruntime-web';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { Peer } from '../harness.ts';
import type { Workload } from '../workloads.ts';

export const ORT_DIST = dirname(createRequire(import.meta.url).resolve('onnxruntime-web')) + '/';

export function configureOrt(): void {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = ORT_DIST;
}

export async function ortPeer(wl: Workload, model: Uint8Array): Promise<Peer> {
  configureOrt();
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const createMs = performance.now() - t0;
  const feeds: Record<string, ort.Tensor> = wl.tokens
    ? { tokens: new ort.Tensor('int32', wl.tokens, [1, wl.tokens.length]) }
    : { x: new ort.Tensor('float32', wl.x, wl.xShape) };
  const out = session.outputNames[0]!;
  return {
    name: 'ort-web',
    setupMs: createMs,
    run: async () => (await session.run(feeds))[out]!.data as Float32Array,
    dispose: () => session.release(),
  };
}
