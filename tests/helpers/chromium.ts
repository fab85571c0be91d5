// Headless Chromium for the browser tests: Debian's package, no browser download by npm.
// Without it the tests fail with the install command, unless SIMDFLOW_SKIP_BROWSER=1 opts out.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
export const SKIP_BROWSER = process.env.SIMDFLOW_SKIP_BROWSER === '1';
export const NO_CHROMIUM = 'headless Chromium is needed for the browser tests: apt-get install -y chromium (or set SIMDFLOW_SKIP_BROWSER=1 to skip them)';

export function requireChromium(): string {
  if (!CHROMIUM) throw new Error(NO_CHROMIUM);
  return CHROMIUM;
}

/** Loads `url` in headless Chromium and returns the DOM once the page has settled (or timeBudgetMs of virtual time passed). */
export async function chromium(url: string, o: { timeBudgetMs?: number; screenshot?: string; windowSize?: [number, number] } = {}): Promise<{ dom: string; log: string }> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-'));
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, `--virtual-time-budget=${o.timeBudgetMs ?? 10_000}`,
    ...(o.windowSize ? [`--window-size=${o.windowSize.join(',')}`] : []),
    ...(o.screenshot ? [`--screenshot=${o.screenshot}`, '--hide-scrollbars'] : ['--dump-dom']), url];
  try {
    // Asynchronous: this process must keep serving the page while Chromium runs.
    return await new Promise((resolve) => {
      execFile(requireChromium(), args, { encoding: 'utf8', timeout: 90_000 }, (_e, stdout, stderr) => resolve({ dom: stdout, log: stderr }));
    });
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm',
};

/** COOP + COEP: a page served with these is cross-origin isolated (SharedArrayBuffer, so threads). */
export const ISOLATED = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

/**
 * Serves in-memory `files` (by URL path) and the files under `dir` on 127.0.0.1, each response
 * with `headers` (e.g. ISOLATED); resolves to the base URL.
 */
export async function serve(o: { dir?: string; files?: Record<string, Uint8Array | string>; headers?: Record<string, string> }): Promise<{ url: string; server: Server }> {
  const files = o.files ?? {};
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    const rel = normalize(path === '/' ? '/index.html' : path);
    const file = o.dir && !rel.includes('..') ? join(o.dir, rel) : undefined;
    const body = files[rel] ?? (file && existsSync(file) && statSync(file).isFile() ? readFileSync(file) : undefined);
    if (body === undefined) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(rel)] ?? 'application/octet-stream', ...o.headers }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
