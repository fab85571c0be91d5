// ONNX Runtime Web in a process of its own, for the thread columns. ORT-web reads
// `env.wasm.numThreads` once, when its wasm starts (the session option intraOpNumThreads does
// not exist in ort-web), so one process holds one thread count: the 2-thread peer needs its own
// ORT instance. A child process, not a worker thread: ORT's pthreads started from a worker
// thread ran no faster than 1 thread here (gemm512 min 9.3–13.9 ms vs 5.3 ms from a main
// thread, 1 thread 8.8 ms). The child times its own calls (`time`), so the columns exclude the
// message round trip, which the 1-thread peer in the bench's own thread does not pay.
import * as ort from 'onnxruntime-web';

export type Request =
  | { op: 'init'; model: Uint8Array; feeds: Record<string, { type: 'float32' | 'int32'; data: Float32Array | Int32Array; dims: number[] }>; numThreads: number; wasmPaths: string }
  | { op: 'run' }
  | { op: 'time'; calls: number }
  | { op: 'dispose' };
export type Reply = { error: string } | { setupMs: number } | { y: Float32Array } | { times: number[] } | { disposed: true };

let session: ort.InferenceSession | undefined;
let feeds: Record<string, ort.Tensor> = {};

async function handle(r: Request): Promise<Reply> {
  switch (r.op) {
    case 'init': {
      ort.env.wasm.numThreads = r.numThreads;
      ort.env.wasm.proxy = false;
      ort.env.wasm.wasmPaths = r.wasmPaths;
      const t0 = performance.now();
      session = await ort.InferenceSession.create(r.model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
      feeds = Object.fromEntries(Object.entries(r.feeds).map(([k, f]) => [k, f.type === 'int32' ? new ort.Tensor('int32', f.data as Int32Array, f.dims) : new ort.Tensor('float32', f.data as Float32Array, f.dims)]));
      return { setupMs: performance.now() - t0 };
    }
    case 'run': return { y: (await session!.run(feeds))[session!.outputNames[0]!]!.data as Float32Array };
    case 'time': {
      const times: number[] = [];
      for (let i = 0; i < r.calls; i++) {
        const t0 = performance.now();
        await session!.run(feeds);
        times.push(performance.now() - t0);
      }
      return { times };
    }
    case 'dispose': await session?.release(); session = undefined; return { disposed: true };
  }
}

process.on('message', (r: Request) => {
  handle(r).then((rep) => rep, (e: unknown) => ({ error: String((e as Error)?.stack ?? e) }))
    .then((rep) => process.send!(rep, () => { if (r.op === 'dispose') process.disconnect(); }));
});
