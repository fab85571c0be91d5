// Cold start, ONNX Runtime Web 1.30: a fresh process imports onnxruntime-web, loads its wasm from
// the package on disk (SIMD, 1 thread, no proxy), creates a session from the .onnx file, runs the
// MLP once, and prints the time since the process started. Run by bench/cold.ts: node ort.mjs MODEL
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as ort from 'onnxruntime-web';

ort.env.wasm.numThreads = 1;
ort.env.wasm.proxy = false;
ort.env.wasm.wasmPaths = dirname(createRequire(import.meta.url).resolve('onnxruntime-web')) + '/';
const session = await ort.InferenceSession.create(readFileSync(process.argv[2]), { executionProviders: ['wasm'] });
const x = Float32Array.from({ length: 784 }, (_, i) => Math.sin(i));
const out = await session.run({ x: new ort.Tensor('float32', x, [1, 784]) });
const ms = performance.now();
process.stdout.write(JSON.stringify({ ms, y: Array.from(out.y.data) }) + '\n');
