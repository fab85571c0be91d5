// `npm run size` (in CI, after `npm start` wrote out/): checks the size budget in
// bench/size-budget.json — the runtime's JS as an app ships it (bundled for the browser by
// esbuild, minified, gzipped) and each example model's wasm code, per instruction set.
// Prints every measure against its budget; exits 1 when any is over or missing.
//   node scripts/size-check.mjs [artifact dir (default out)]
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const budget = JSON.parse(readFileSync(join(ROOT, 'bench/size-budget.json'), 'utf8'));
const dir = process.argv[2] ?? join(ROOT, 'out');
const rows = [];
let over = 0;
const check = (what, bytes, limit) => {
  const status = limit === undefined ? 'NO BUDGET' : bytes === undefined ? 'MISSING' : bytes > limit ? 'OVER' : 'ok';
  if (status !== 'ok') over++;
  rows.push([what, String(bytes ?? '-'), String(limit ?? '-'), status]);
};

const bundle = await build({
  entryPoints: [join(ROOT, 'runtime/index.ts')], bundle: true, minify: true, format: 'esm', platform: 'browser',
  target: 'es2022', write: false, logLevel: 'silent',
});
const js = bundle.outputFiles[0].contents;
check('runtime JS, minified + gzipped', gzipSync(js, { level: 9 }).length, budget.runtimeJsGzipBytes);
rows.push(['  (minified, not gzipped)', String(js.length), '', '']);

// The runtime's own reader (built by npm run build, which npm start runs first).
const { readContainer } = await import('../dist/runtime/format.js');
const manifestOf = (file) => {
  try {
    return readContainer(new Uint8Array(readFileSync(file))).manifest;
  } catch (e) {
    console.error(`size-check: ${file}: ${e.message} (npm start rebuilds the artifacts)`);
    process.exit(1);
  }
};
let files;
try {
  files = readdirSync(dir).filter((f) => f.endsWith('.simdflow'));
} catch {
  console.error(`size-check: ${dir} does not exist: run npm start first (it writes every example model there)`);
  process.exit(1);
}
const found = new Map(files.map((f) => [f.replace(/\.simdflow$/, ''), manifestOf(join(dir, f))]));
for (const [model, isas] of Object.entries(budget.modelCodeBytes)) {
  for (const [isa, limit] of Object.entries(isas)) check(`${model} wasm code (${isa})`, found.get(model)?.code?.[isa]?.length, limit);
}
for (const [model, m] of found) {
  if (!(model in budget.modelCodeBytes)) rows.push([`${model} (no budget: not an example model)`, JSON.stringify(Object.fromEntries(Object.entries(m.code).map(([k, v]) => [k, v.length]))), '', '']);
}

const w = [0, 1, 2, 3].map((j) => Math.max(...rows.map((r) => r[j].length), ['measure', 'bytes', 'budget', ''][j].length));
for (const r of [['measure', 'bytes', 'budget', ''], ...rows]) console.log(r.map((c, j) => (j === 0 ? c.padEnd(w[j]) : c.padStart(w[j]))).join('  '));
if (over) {
  console.error(`size-check: ${over} measure(s) over budget or missing; shrink them, or raise bench/size-budget.json in a commit that says why`);
  process.exit(1);
}
