import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

// `npm test` leaves out the hand-written model ports against PyTorch (tests/handmade-*.test.ts,
// ~90 s of compiles): with them the suite took 260–295 s on this 2-core machine with one other
// core-bound job, at the 5-minute limit. `npm run test:models` runs them, and so does .ci/run;
// `npx vitest run` (no npm script) runs everything.
const MODEL_PORTS = 'tests/handmade-*.test.ts';
const npmTest = process.env.npm_lifecycle_event === 'test';

export default defineConfig({
  // The package's own names resolve to the sources under test (as tsconfig's paths do).
  resolve: {
    alias: [
      { find: /^simdflow$/, replacement: new URL('./compiler/index.ts', import.meta.url).pathname },
      { find: /^simdflow(-runtime|\/runtime)$/, replacement: new URL('./runtime/index.ts', import.meta.url).pathname },
      { find: /^simdflow(-runtime|\/runtime)\/node$/, replacement: new URL('./runtime/node.ts', import.meta.url).pathname },
    ],
  },
  test: {
    include: ['tests/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...(npmTest ? [MODEL_PORTS] : [])],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Test files share their worker's modules: asc and binaryen are loaded (and their JIT warmed)
    // once per worker instead of once per file, and the kernel harness builds once per worker.
    // Measured on the whole suite: 5.1 CPU-minutes isolated, 2.3 shared. Weights do not depend on
    // what was built before (compiler/dsl/module.ts); setup.ts resets the rest per file.
    isolate: false,
    setupFiles: ['tests/helpers/setup.ts'],
    // vitest's default is one worker fewer than the cores: one worker on a 2-core machine.
    maxWorkers: Math.max(2, availableParallelism()),
    // Node 20 runs relaxed SIMD only behind this flag; tests then cover both builds.
    execArgv: ['--experimental-wasm-relaxed-simd'],
  },
});
