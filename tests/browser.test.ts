// The runtime in a real browser: headless Chromium fetches an artifact by URL, runs it,
// and must produce the numbers Node produces. .ci/run installs Chromium (Debian package).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { compileModel } from '../compiler/codegen/compile.ts';
import { nn } from '../compiler/dsl/index.ts';
import { loadModelBytes } from '../runtime/model.ts';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);

describe.skipIf(!CHROMIUM && !process.env.CI)('browser', () => {
  test('loadModel(URL) runs an artifact in Chromium with the same numbers as Node', async () => {
    expect(CHROMIUM, 'CI must install Chromium (see .ci/run)').toBeDefined();
    const module = new nn.Sequential(new nn.Linear(20, 16), new nn.GELU(), new nn.Linear(16, 5), new nn.Softmax(-1));
    const { bytes } = await compileModel({ name: 'web', module, inputs: { x: [2, 20] } });
    const x = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i));
    const want = Array.from((await loadModelBytes(bytes)).run({ x }).y!);
    const { build } = await import('esbuild');
    const runtime = (await build({ entryPoints: [join(import.meta.dirname, '../runtime/index.ts')], bundle: true, platform: 'browser', format: 'esm', write: false })).outputFiles[0]!.text;
    const page = `<!doctype html><body>pending<script type="module">
      import { loadModel } from './runtime.js';
      try {
        const m = await loadModel(new URL('web.simdflow', location.href));
        const y = m.run({ x: Float32Array.from(${JSON.stringify(Array.from(x))}) }).y;
        document.body.textContent = 'RESULT ' + JSON.stringify({ isa: m.isa, y: Array.from(y) });
      } catch (e) { document.body.textContent = 'ERROR ' + e.message; }
    </script></body>`;
    const files: Record<string, [string, string | Uint8Array]> = {
      '/index.html': ['text/html', page], '/runtime.js': ['text/javascript', runtime], '/web.simdflow': ['application/octet-stream', bytes],
    };
    const server = createServer((req, res) => {
      const f = files[req.url ?? ''];
      if (!f) { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-type': f[0] }).end(f[1]);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/index.html`;
      const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', `--user-data-dir=${mkdtempSync(join(tmpdir(), 'chromium-'))}`,
        '--virtual-time-budget=10000', '--dump-dom', url];
      // Asynchronous: this process must keep serving the page while Chromium runs.
      const r = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
        execFile(CHROMIUM!, args, { encoding: 'utf8', timeout: 120_000 }, (_e, stdout, stderr) => resolve({ stdout, stderr }));
      });
      const dom = r.stdout;
      const m = /RESULT (\{.*?\})</.exec(dom);
      expect(m, `Chromium printed: ${dom.slice(0, 500)} ${String(r.stderr).slice(-500)}`).not.toBeNull();
      const got = JSON.parse(m![1]!) as { isa: string; y: number[] };
      expect(['wasmsimd', 'wasmrelaxedsimd']).toContain(got.isa);
      expect(got.y.length).toBe(want.length);
      got.y.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-6));
    } finally {
      server.close();
    }
  }, 180_000);
});
