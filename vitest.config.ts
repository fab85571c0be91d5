import { defineConfig } from 'vitest/config';

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
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Node 20 runs relaxed SIMD only behind this flag; tests then cover both builds.
    execArgv: ['--experimental-wasm-relaxed-simd'],
  },
});
