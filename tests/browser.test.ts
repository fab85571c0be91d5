// The runtime in a real browser: headless Chromium fetches an artifact by URL, runs it,
// and must produce the numbers Node produces. .ci/run installs Chromium (Debian package).
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { compileModel } from '../compiler/driver/compile.ts';
import { nn } from '../compiler/dsl/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { chromiumReport, ISOLATED, requireChromium, serve, SKIP_BROWSER } from './helpers/chromium.ts';

describe.skipIf(SKIP_BROWSER)('browser', () => {
  test('loadModel(URL) runs an artifact in Chromium with the same numbers as Node', async () => {
    requireChromium();
    const module = new nn.Sequential(new nn.Linear(20, 16), new nn.GELU(), new nn.Linear(16, 5), new nn.Softmax(-1));
    const { bytes } = await compileModel({ name: 'web', module, inputs: { x: [2, 20] } });
    const x = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i));
    const want = Array.from((await loadModelBytes(bytes)).run({ x }).y!);
    const { build } = await import('esbuild');
    const runtime = (await build({ entryPoints: [join(import.meta.dirname, '../runtime/index.ts')], bundle: true, platform: 'browser', format: 'esm', write: false })).outputFiles[0]!.text;
    const page = `<!doctype html><body><script type="module">
      import { loadModel } from './runtime.js';
      const report = (text) => fetch('/report', { method: 'POST', body: text });
      try {
        const m = await loadModel(new URL('web.simdflow', location.href));
        const y = m.run({ x: Float32Array.from(${JSON.stringify(Array.from(x))}) }).y;
        await report('RESULT ' + JSON.stringify({ isa: m.isa, y: Array.from(y) }));
      } catch (e) { await report('ERROR ' + e.message); }
    </script></body>`;
    const { url, server, report } = await serve({ files: { '/index.html': page, '/runtime.js': runtime, '/web.simdflow': bytes } });
    try {
      const text = await chromiumReport(`${url}/index.html`, report, { timeoutMs: 120_000 });
      const m = /^RESULT (\{.*\})$/.exec(text);
      expect(m, `the page reported: ${text.slice(0, 500)}`).not.toBeNull();
      const got = JSON.parse(m![1]!) as { isa: string; y: number[] };
      expect(['wasmsimd', 'wasmrelaxedsimd']).toContain(got.isa);
      expect(got.y.length).toBe(want.length);
      got.y.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-6));
    } finally {
      server.close();
    }
  }, 180_000);

  test('threads: 2 in a cross-origin-isolated page equals 1 thread; without isolation it falls back to 1 with a warning', async () => {
    requireChromium();
    // Big enough that its first GEMM splits across threads (8·784·512 multiply-adds).
    const module = new nn.Sequential(new nn.Linear(784, 512), new nn.ReLU(), new nn.Linear(512, 10));
    const { bytes } = await compileModel({ name: 'web2', module, inputs: { x: [8, 784] } });
    const { build } = await import('esbuild');
    const runtime = (await build({ entryPoints: [join(import.meta.dirname, '../runtime/index.ts')], bundle: true, platform: 'browser', format: 'esm', write: false })).outputFiles[0]!.text;
    const page = `<!doctype html><body><script type="module">
      import { loadModel } from './runtime.js';
      const report = (text) => fetch('/report', { method: 'POST', body: text });
      const warnings = [];
      console.warn = (...a) => warnings.push(a.join(' '));
      try {
        const x = Float32Array.from({ length: 8 * 784 }, (_, i) => Math.sin(i * 0.01));
        const one = await loadModel(new URL('web2.simdflow', location.href));
        const two = await loadModel(new URL('web2.simdflow', location.href), { threads: 2, threadPolicy: 'always' });
        const y1 = Array.from(one.run({ x }).y), y2 = Array.from(two.run({ x }).y), y2b = Array.from(two.run({ x }).y);
        const r = { isolated: self.crossOriginIsolated, threads: two.threads, same: y1.every((v, i) => Object.is(v, y2[i]) && Object.is(v, y2b[i])), n: y1.length, warnings };
        two.dispose(); one.dispose();
        await report('RESULT ' + JSON.stringify(r));
      } catch (e) { await report('ERROR ' + e.message); }
    </script></body>`;
    const files = { '/index.html': page, '/runtime.js': runtime, '/web2.simdflow': bytes };
    const run = async (headers?: Record<string, string>) => {
      const { url, server, report } = await serve({ files, headers });
      try {
        // In real time (chromiumReport): the page waits on its workers, which virtual time outran under load.
        const text = await chromiumReport(`${url}/index.html`, report, { timeoutMs: 80_000 });
        const m = /^RESULT (\{.*\})$/.exec(text);
        expect(m, `the page reported: ${text.slice(0, 500)}`).not.toBeNull();
        return JSON.parse(m![1]!) as { isolated: boolean; threads: number; same: boolean; n: number; warnings: string[] };
      } finally {
        server.close();
      }
    };
    const isolated = await run(ISOLATED);
    expect(isolated).toMatchObject({ isolated: true, threads: 2, same: true, n: 80, warnings: [] });
    const plain = await run();
    expect(plain).toMatchObject({ isolated: false, threads: 1, same: true, n: 80 });
    expect(plain.warnings.join('\n')).toMatch(/runs on 1 thread, not 2: .*cross-origin isolated/);
  }, 180_000);
});
