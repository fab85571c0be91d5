// A worker that loads artifacts and runs them, so that a test can time out a load or a run
// that hangs (synchronous wasm cannot be interrupted on the thread that runs it). The test
// bundles this file with esbuild and starts it with `eval: true`.
import { parentPort } from 'node:worker_threads';
import { loadModel } from '../../runtime/index.ts';

export interface Job { id: number; bytes: Uint8Array; run: Record<string, Float32Array>; steps: Array<Record<string, Float32Array>> }
export type Result = { id: number; error: string } | { id: number; outputs: unknown[] };

parentPort!.on('message', async (job: Job) => {
  try {
    const m = await loadModel(job.bytes);
    const outputs: unknown[] = [m.run(job.run)];
    for (const s of job.steps) outputs.push(m.step(s));
    outputs.push(m.state());
    m.dispose();
    parentPort!.postMessage({ id: job.id, outputs } satisfies Result);
  } catch (e) {
    parentPort!.postMessage({ id: job.id, error: String((e as Error)?.message ?? e) } satisfies Result);
  }
});
