// The demo page: `npm run demo` (dev server) or `npm run demo:build` (static files in examples/web/dist).
// An app that installed simdflow imports the plugin from 'simdflow/vite' and needs no alias.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import simdflow from '../../compiler/vite/plugin.ts';

const ISOLATED = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  root: import.meta.dirname,
  plugins: [simdflow()],
  // In this repository, `simdflow/runtime` is the source (tsconfig.json's paths say the same to tsc).
  resolve: { alias: [{ find: /^simdflow\/runtime$/, replacement: fileURLToPath(new URL('../../runtime/index.ts', import.meta.url)) }] },
  build: { target: 'es2022' },
  // Cross-origin isolation gives performance.now() 5 µs resolution (0.1 ms otherwise) for the latencies shown.
  server: { headers: ISOLATED },
  preview: { headers: ISOLATED },
});
