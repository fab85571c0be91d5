#!/usr/bin/env node
// The `simdflow` command.
import { setFlagsFromString } from 'node:v8';
import { main } from './main.ts';

// Node 20 validates relaxed-SIMD wasm only behind this flag; the loader then picks that build.
setFlagsFromString('--experimental-wasm-relaxed-simd');
// `simdflow ir model.ts | head`: a closed pipe ends the command quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); throw e; });
process.exitCode = await main(process.argv.slice(2), process);
