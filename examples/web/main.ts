// The demo page. The `?simdflow` imports are compiled by the Vite plugin (compiler/vite) and
// arrive as artifact URLs; `simdflow/runtime` is the browser-safe runtime. For tests, URL
// parameters drive the same controls a user clicks: ?seed=…&temperature=…&count=…&start=…&digit=<64 pixels 0..16>&isa=wasmsimd; the outputs are
// then written as JSON into #results.
import { loadModel, uniform, type Isa, type Model } from 'simdflow/runtime';
import { classifyDigit, toDigitPixels, type Classification } from './digits.ts';
import digitsInfo from './models/digits.json';
import digitsUrl from './models/digits.model.ts?simdflow';
import wordsUrl from './models/words.model.ts?simdflow';
import { inventWord } from './words.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const automated = params.has('seed') || params.has('digit');

async function load(url: string): Promise<{ model: Model; ms: number; bytes: number }> {
  const t0 = performance.now();
  const res = await fetch(url);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const model = await loadModel(bytes, { isa: (params.get('isa') as Isa | null) ?? 'auto' });
  return { model, ms: performance.now() - t0, bytes: bytes.length };
}

// Without cross-origin isolation browsers round performance.now() to 0.1 ms.
const fmtMs = (ms: number) => (ms < 0.1 && !globalThis.crossOriginIsolated ? '< 0.1' : ms < 1 ? ms.toFixed(3) : ms.toFixed(1));
const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;

// ---- words ----
async function inventWords(words: Model): Promise<string[]> {
  const seed = Number($<HTMLInputElement>('seed').value), temperature = Number($<HTMLInputElement>('temperature').value);
  const start = $<HTMLInputElement>('start').value.trim().toLowerCase(), count = Number($<HTMLInputElement>('count').value);
  const random = uniform(seed), list = $('word-list'), out: string[] = [];
  list.replaceChildren();
  let calls = 0, ms = 0;
  for (let i = 0; i < count; i++) {
    const li = list.appendChild(document.createElement('li'));
    const text = li.appendChild(document.createElement('span'));
    text.textContent = start;
    const w = await inventWord(words, { start, temperature, random, onLetter: async (c) => {
      text.textContent += c;
      if (!automated) await new Promise((r) => setTimeout(r, 25)); // let the reader watch the letters stream
    } });
    calls += w.calls; ms += w.ms;
    const note = li.appendChild(document.createElement('span'));
    note.className = 'ms';
    note.textContent = `${w.calls} calls, ${fmtMs(w.ms)} ms`;
    out.push(w.word);
  }
  $('word-stats').textContent = `${out.length} words: ${calls} model calls (prefill or decode, with sampling) in ${fmtMs(ms)} ms, ${fmtMs(ms / calls)} ms per call; seed ${seed}, temperature ${temperature}`;
  return out;
}

// ---- digits ----
const pad = $<HTMLCanvasElement>('pad'), padCtx = pad.getContext('2d', { willReadFrequently: true })!;

function showPixels(pixels: Float32Array): void {
  const ctx = $<HTMLCanvasElement>('preview').getContext('2d')!, img = ctx.createImageData(8, 8);
  pixels.forEach((p, i) => { const v = 255 - Math.round(p / 16 * 255); img.data.set([v, v, v, 255], i * 4); });
  ctx.putImageData(img, 0, 0);
}

function showClassification(c: Classification): void {
  const rows = Array.from(c.probs, (p, d) => {
    const row = document.createElement('div');
    row.className = `bar${d === c.predicted ? ' best' : ''}`;
    row.innerHTML = `<span>${d}</span><span class="fill" style="width:${(p * 12).toFixed(2)}rem"></span><span>${(p * 100).toFixed(1)}%</span>`;
    return row;
  });
  $('probs').replaceChildren(...rows);
  $('digit-stats').textContent = `predicted ${c.predicted} (${(c.probs[c.predicted]! * 100).toFixed(1)}%) in ${fmtMs(c.ms)} ms`;
}

function drawPixels(pixels: ArrayLike<number>): void {
  padCtx.clearRect(0, 0, pad.width, pad.height);
  const cell = pad.width / 8;
  for (let i = 0; i < 64; i++) {
    padCtx.fillStyle = `rgba(0, 0, 0, ${pixels[i]! / 16})`;
    padCtx.fillRect((i % 8) * cell, Math.floor(i / 8) * cell, cell, cell);
  }
}

function padPixels(): Float32Array {
  const rgba = padCtx.getImageData(0, 0, pad.width, pad.height).data;
  return toDigitPixels(Uint8Array.from({ length: pad.width * pad.height }, (_, i) => rgba[i * 4 + 3]!), pad.width, pad.height);
}

function classify(digits: Model, pixels: Float32Array): Classification {
  showPixels(pixels);
  const c = classifyDigit(digits, pixels);
  showClassification(c);
  // One call is below the timer's resolution without cross-origin isolation: also time a batch.
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) classifyDigit(digits, pixels);
  $('digit-stats').textContent += `; mean of 100 more calls ${((performance.now() - t0) / 100).toFixed(3)} ms`;
  return c;
}

function enableDrawing(digits: Model): void {
  let last: [number, number] | undefined;
  const at = (e: PointerEvent): [number, number] => {
    const r = pad.getBoundingClientRect();
    return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
  };
  Object.assign(padCtx, { lineWidth: 50, lineCap: 'round', lineJoin: 'round', strokeStyle: '#000' });
  pad.addEventListener('pointerdown', (e) => { last = at(e); pad.setPointerCapture(e.pointerId); });
  pad.addEventListener('pointermove', (e) => {
    if (!last) return;
    const p = at(e);
    padCtx.beginPath(); padCtx.moveTo(...last); padCtx.lineTo(...p); padCtx.stroke();
    last = p;
  });
  const end = () => { if (last) { last = undefined; classify(digits, padPixels()); } };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
  $('clear').addEventListener('click', () => { padCtx.clearRect(0, 0, pad.width, pad.height); $('probs').replaceChildren(); $('digit-stats').textContent = ''; showPixels(new Float32Array(64)); });
  let next = 0;
  $<HTMLButtonElement>('sample').disabled = false;
  $('sample').addEventListener('click', () => {
    const s = digitsInfo.samples[next++ % digitsInfo.samples.length]!;
    drawPixels(s);
    classify(digits, Float32Array.from(s));
  });
}

async function main(): Promise<void> {
  const [words, digits] = await Promise.all([load(wordsUrl), load(digitsUrl)]);
  // The first calls compile the wasm's hot code; warm up so the latencies shown are steady.
  classifyDigit(digits.model, new Float32Array(64));
  await inventWord(words.model, { temperature: 0, random: Math.random });
  $('status').textContent = `Running ${words.model.isa}: words ${kb(words.bytes)} loaded in ${words.ms.toFixed(0)} ms, digits ${kb(digits.bytes)} in ${digits.ms.toFixed(0)} ms; digits test accuracy ${(digitsInfo.testAccuracy * 100).toFixed(1)}%.`;
  $('temperature').addEventListener('input', () => { $('temperature-value').textContent = Number($<HTMLInputElement>('temperature').value).toFixed(2); });
  const invent = $<HTMLButtonElement>('invent');
  invent.disabled = false;
  invent.addEventListener('click', async () => {
    invent.disabled = true;
    try { await inventWords(words.model); } catch (e) { $('status').textContent = `Error: ${(e as Error).message}`; } finally { invent.disabled = false; }
  });
  enableDrawing(digits.model);

  if (automated) {
    for (const k of ['seed', 'temperature', 'start', 'count']) if (params.has(k)) $<HTMLInputElement>(k).value = params.get(k)!;
    const result: Record<string, unknown> = { isa: words.model.isa };
    if (params.has('seed')) result.words = await inventWords(words.model);
    if (params.has('digit')) {
      const pixels = Float32Array.from(params.get('digit')!.split(',').map(Number));
      drawPixels(pixels);
      const c = classify(digits.model, pixels);
      result.digit = { probs: Array.from(c.probs), predicted: c.predicted, ms: c.ms };
    }
    $('results').textContent = JSON.stringify(result);
  } else {
    $('sample').click();
  }
}

main().catch((e: Error) => {
  $('status').textContent = `Error: ${e.message}`;
  $('results').textContent = JSON.stringify({ error: e.message });
});
