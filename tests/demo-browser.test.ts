// The demo page (examples/web) in a real browser: built by Vite with the simdflow plugin,
// served on 127.0.0.1, driven in headless Chromium through its URL parameters (invent words
// with a fixed seed; classify a test image of the digits data set), and its outputs must equal
// the Node runtime's for the same artifacts and inputs.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readSafetensors } from '../compiler/weights/safetensors.ts';
import { loadModelBytes } from '../runtime/model.ts';
import type { Isa } from '../runtime/format.ts';
import { classifyDigit } from '../examples/web/digits.ts';
import { inventWord } from '../examples/web/words.ts';
import { uniform } from '../runtime/index.ts';
import { chromium, requireChromium, serve, SKIP_BROWSER } from './helpers/chromium.ts';

const WEB = join(import.meta.dirname, '../examples/web');
const SEED = 7, TEMPERATURE = 0.8, COUNT = 6, START = 'un', IMAGE = 3;

describe.skipIf(SKIP_BROWSER)('demo page in Chromium', () => {
  test('the Vite-built page invents the same words and classifies a digit as the Node runtime does', async () => {
    requireChromium();
    const out = mkdtempSync(join(tmpdir(), 'simdflow-demo-'));
    try {
      const { build } = await import('vite');
      await build({ configFile: join(WEB, 'vite.config.ts'), logLevel: 'warn', build: { outDir: out, emptyOutDir: true } });
      const assets = readdirSync(join(out, 'assets'));
      const artifact = (name: string) => {
        const f = assets.find((a) => a.startsWith(`${name}-`) && a.endsWith('.simdflow'));
        expect(f, `vite build emitted ${assets.join(', ')}`).toBeDefined();
        return new Uint8Array(readFileSync(join(out, 'assets', f!)));
      };
      const io = readSafetensors(readFileSync(join(import.meta.dirname, 'fixtures/demo/digits_io.safetensors')));
      const image = (io.get('images')!.data as Float32Array).slice(IMAGE * 64, IMAGE * 64 + 64);
      const label = (io.get('labels')!.data as Int32Array)[IMAGE]!;

      const { url, server } = await serve({ dir: out });
      let page: { isa: Isa; words: string[]; digit: { probs: number[]; predicted: number; ms: number }; error?: string };
      try {
        const query = new URLSearchParams({ seed: String(SEED), temperature: String(TEMPERATURE), count: String(COUNT), start: START, digit: Array.from(image).join(',') });
        const { dom, log } = await chromium(`${url}/?${query}`);
        const m = /<pre id="results" hidden="">(.*?)<\/pre>/s.exec(dom);
        expect(m?.[1], `Chromium printed: ${dom.slice(0, 800)} ${log.slice(-800)}`).toBeTruthy();
        page = JSON.parse(m![1]!.replace(/&quot;/g, '"').replace(/&amp;/g, '&'));
      } finally {
        server.close();
      }
      expect(page.error).toBeUndefined();
      expect(['wasmsimd', 'wasmrelaxedsimd']).toContain(page.isa);

      const words = await loadModelBytes(artifact('words'), { isa: page.isa });
      const random = uniform(SEED);
      const want: string[] = [];
      for (let i = 0; i < COUNT; i++) want.push((await inventWord(words, { start: START, temperature: TEMPERATURE, random })).word);
      expect(page.words).toEqual(want);
      for (const w of want) expect(w).toMatch(/^un[a-z]*$/);

      const digits = await loadModelBytes(artifact('digits'), { isa: page.isa });
      const node = classifyDigit(digits, image);
      expect(page.digit.predicted).toBe(node.predicted);
      expect(node.predicted).toBe(label);
      page.digit.probs.forEach((p, i) => expect(Math.abs(p - node.probs[i]!)).toBeLessThan(1e-6));
      expect(page.digit.ms).toBeGreaterThanOrEqual(0);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);
});
