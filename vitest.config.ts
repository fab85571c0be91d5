import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Node 20 runs relaxed SIMD only behind this flag; tests then cover both builds.
    execArgv: ['--experimental-wasm-relaxed-simd'],
  },
});
