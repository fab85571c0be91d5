// Headless Chromium for the browser tests: Debian's package, no browser download by npm.
// Without it the tests fail with the install command, unless SIMDFLOW_SKIP_BROWSER=1 opts out.
import { execFile, spawn } from 'node:child_process';
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

/** Headless, without a sandbox or a GPU, nothing fetched but the page's own requests. */
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

/**
 * Loads `url` in headless Chromium and returns the DOM once the page has settled (or 10 s of
 * virtual time passed). For pages that start no workers: see chromiumReport.
 */
export async function chromium(url: string, o: { screenshot?: string; windowSize?: [number, number] } = {}): Promise<{ dom: string; log: string }> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-'));
  const args = [...FLAGS, `--user-data-dir=${profile}`, '--virtual-time-budget=10000',
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

/**
 * Loads `url` in headless Chromium in real time until the page POSTs its report to the server's
 * /report (see serve: `report`), then ends Chromium; resolves to the report's text. No virtual
 * clock: --virtual-time-budget runs ahead of workers that start in real time, and with two busy
 * loops beside the test suite a page waiting on its workers was dumped still pending, again at
 * each longer budget (2026-12-02).
 */
export async function chromiumReport(url: string, report: Promise<string>, o: { timeoutMs?: number } = {}): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-'));
  // A DevTools port keeps headless Chromium open after the page loads (without it, or a dump flag, it may exit).
  const p = spawn(requireChromium(), [...FLAGS, `--user-data-dir=${profile}`, '--remote-debugging-port=0', url], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let log = '';
  p.stderr.on('data', (c: Buffer) => { log = (log + c.toString()).slice(-4000); });
  const exited = new Promise<never>((_r, reject) => p.on('exit', (code) => reject(new Error(`Chromium exited (${code}) before the page reported: ${log.slice(-500)}`))));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_r, reject) => { timer = setTimeout(() => reject(new Error(`no report from the page in ${o.timeoutMs ?? 60_000} ms: ${log.slice(-500)}`)), o.timeoutMs ?? 60_000); });
  try {
    return await Promise.race([report, exited, late]);
  } finally {
    clearTimeout(timer);
    // Its own process group (detached): the renderer and the other helpers end with it.
    try { process.kill(-p.pid!, 'SIGKILL'); } catch { /* already gone */ }
    await new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(undefined) : p.once('exit', r)));
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm',
};

/** COOP + COEP: a page served with these is cross-origin isolated (SharedArrayBuffer, so threads). */
export const ISOLATED = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

/**
 * Serves in-memory `files` (by URL path) and the files under `dir` on 127.0.0.1, each response
 * with `headers` (e.g. ISOLATED); resolves to the base URL, and `report`: the body of the first
 * POST to /report (for chromiumReport).
 */
export async function serve(o: { dir?: string; files?: Record<string, Uint8Array | string>; headers?: Record<string, string> }): Promise<{ url: string; server: Server; report: Promise<string> }> {
  const files = o.files ?? {};
  let reported: (body: string) => void = () => {};
  const report = new Promise<string>((r) => { reported = r; });
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/report') {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => { res.writeHead(204).end(); reported(body); });
      return;
    }
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    const rel = normalize(path === '/' ? '/index.html' : path);
    const file = o.dir && !rel.includes('..') ? join(o.dir, rel) : undefined;
    const body = files[rel] ?? (file && existsSync(file) && statSync(file).isFile() ? readFileSync(file) : undefined);
    if (body === undefined) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(rel)] ?? 'application/octet-stream', ...o.headers }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, report };
}
