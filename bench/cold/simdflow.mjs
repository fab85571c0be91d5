// Cold start, simdflow: a fresh process loads the runtime (bundled JS), reads the artifact, runs
// the MLP once, and prints the time since the process started (performance.now() counts from
// performance.timeOrigin, taken as Node starts). Run by bench/cold.ts: node simdflow.mjs RUNTIME ARTIFACT
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [runtime, artifact] = process.argv.slice(2);
const { loadModelBytes } = await import(pathToFileURL(runtime).href);
const model = await loadModelBytes(readFileSync(artifact));
const x = Float32Array.from({ length: 784 }, (_, i) => Math.sin(i));
const { y } = model.run({ x });
const ms = performance.now();
process.stdout.write(JSON.stringify({ ms, y: Array.from(y), isa: model.isa }) + '\n');
