// topk_f32 (assembly/topk.ts) against the kernel it replaced (insertion for every k, kept in
// tests/kernels/topk-insertion.ts), which sets the rule in assembly/topk.ts (the heap at every k:
// no small-k path). One row of n floats, uniform (logits: few elements enter the top k) and ascending (for largest, every element enters: insertion's
// worst case). Interleaved rounds; the ratio is the median of the rounds' ratios (pairedRatio).
//   npx tsx bench/topk.ts
import { loadavg } from 'node:os';
import { assemble } from '../compiler/codegen/assemble.ts';
import { TOPK_INSERTION_SRC } from '../tests/kernels/topk-insertion.ts';
import { pairedRatio, timeInterleaved } from './harness.ts';

type Fn = (...a: number[]) => number;
const memoryBase = 8 << 20;
const { wasm } = await assemble({
  sources: { '__bench.ts': 'export * from "./topk";\nexport * from "./__insertion";\n', '__insertion.ts': TOPK_INSERTION_SRC },
  entry: '__bench.ts', isa: 'wasmsimd', memoryBase, initialPages: (memoryBase >> 16) + 4,
});
const ex = (await WebAssembly.instantiate(await WebAssembly.compile(wasm as Uint8Array<ArrayBuffer>))).exports as Record<string, Fn> & { memory: WebAssembly.Memory };
const f32 = new Float32Array(ex.memory.buffer);
const X = 64, V = X + 4 * 65536, I = V + 4 * 65536;
const opts = { warmupMs: 100, budgetMs: 1500, rounds: 15 };

async function row(n: number, k: number, kind: 'uniform' | 'ascending'): Promise<string> {
  for (let j = 0; j < n; j++) f32[(X >> 2) + j] = kind === 'ascending' ? j : Math.sin(j * 12.9898) * 43758.5453 % 1;
  const call = (fn: string) => () => ex[fn]!(X, V, I, ...(fn.includes('insertion') ? [] : [0]), 1, n, 1, k, 1);
  const [a, b] = await timeInterleaved([call('topk_insertion_f32'), call('topk_f32')], opts);
  return `| ${n} | ${k} | ${kind} | ${(a!.medianMs * 1000).toFixed(1)} | ${(b!.medianMs * 1000).toFixed(1)} | ${pairedRatio(a!, b!).toFixed(2)} |`;
}

const load = () => loadavg()[0]!.toFixed(1);
console.log(`load ${load()} (1 min) at start; 2 cores shared`);
console.log('\nold kernel (insertion) against the new one\n| n | k | input | old µs | new µs | old / new |\n| --- | --- | --- | --- | --- | --- |');
for (const [n, k] of [[50257, 1], [50257, 2], [50257, 4], [50257, 8], [50257, 10], [50257, 16], [50257, 50], [50257, 1000], [1024, 256]] as const) {
  for (const kind of ['uniform', 'ascending'] as const) console.log(await row(n, k, kind));
}
console.log(`\nload ${load()} (1 min) at the end`);
