// `npm run test:package` (in CI): the packages as users get them. Packs simdflow and
// simdflow-runtime, installs the tarballs into fresh projects — a CommonJS one (`npm init -y`)
// and an ES module one — compiles a model with the CLI under plain node, runs it from plain
// JavaScript and checks the numbers against a hand-computed tiny network, runs the README's
// example verbatim, type-checks an app with tsc (NodeNext) and a runtime-only app, and
// reports the installed sizes. Dependencies come from the npm cache (--prefer-offline).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const work = mkdtempSync(join(tmpdir(), 'simdflow-package-'));
const t0 = performance.now();
const step = (what) => console.log(`[${((performance.now() - t0) / 1000).toFixed(1)} s] ${what}`);

function run(cmd, args, cwd, { fail = false } = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_yes: 'true' } });
  if (fail) {
    assert.notEqual(r.status, 0, `${cmd} ${args.join(' ')} should fail`);
    return r;
  }
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} in ${cwd} failed:\n${r.stdout}\n${r.stderr}`);
  return r;
}
const npm = (args, cwd) => run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], cwd);
const bytesIn = (dir) => readdirSync(dir, { withFileTypes: true, recursive: true })
  .filter((e) => e.isFile()).reduce((n, e) => n + statSync(join(e.parentPath, e.name)).size, 0);
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;

function project(name, type) {
  const dir = join(work, name);
  mkdirSync(dir);
  npm(['init', '-y'], dir);
  if (type) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...pkg, type }, null, 2));
  }
  return dir;
}

// 1. Pack: `npm pack` builds (prepare), the runtime package reuses that build.
step('npm pack');
npm(['pack', '--pack-destination', work], ROOT);
npm(['pack', './packages/runtime', '--ignore-scripts', '--pack-destination', work], ROOT);
const full = join(work, 'simdflow-0.1.0.tgz'), runtime = join(work, 'simdflow-runtime-0.1.0.tgz');
const listed = execFileSync('tar', ['tzf', full], { encoding: 'utf8' }).trim().split('\n');
for (const f of ['package/dist/compiler/index.js', 'package/dist/compiler/index.d.ts', 'package/dist/compiler/cli/bin.js',
  'package/dist/runtime/index.js', 'package/dist/runtime/node.d.ts', 'package/dist/assembly/gemm.ts', 'package/README.md']) {
  assert.ok(listed.includes(f), `the tarball lacks ${f}`);
}
const stray = listed.filter((f) => /^package\/(tests|bench|examples|models|scripts|compiler|runtime|assembly)\//.test(f) || /\.test\./.test(f));
assert.deepEqual(stray, [], 'the tarball holds files users do not need');
console.log(`  simdflow: ${listed.length} files, ${statSync(full).size} bytes packed; simdflow-runtime: ${statSync(runtime).size} bytes packed`);

// A tiny network computed by hand: y = relu(W x + b) with W = [[1, 2, 3], [-1, 0.5, 0]], b = [0.25, -2].
const MODEL = `import { defineModel, nn } from 'simdflow';
const net = new nn.Sequential(new nn.Linear(3, 2), new nn.ReLU());
net.loadStateDict(new Map([
  ['0.weight', { shape: [2, 3], data: Float32Array.from([1, 2, 3, -1, 0.5, 0]) }],
  ['0.bias', { shape: [2], data: Float32Array.from([0.25, -2]) }],
]));
export default defineModel({ name: 'tiny', module: net, inputs: { x: [1, 3] } });
`;
const CASES = [[[1, 2, 3], [14.25, 0]], [[-1, 4, 0.5], [8.75, 1]], [[0, 0, 0], [0.25, 0]]];
const checkOutput = (stdout) => assert.deepEqual(JSON.parse(stdout), CASES.map(([, y]) => y));
const RUN = (load) => `${load}
const model = await loadModelFile('out/tiny.simdflow');
console.log(JSON.stringify(${JSON.stringify(CASES.map(([x]) => x))}.map((x) => Array.from(model.run({ x: Float32Array.from(x) }).y))));
`;

// 2. A CommonJS project (npm init -y): a .ts model through the CLI, run from a .cjs script.
step('CommonJS project: install the tarball');
const cjs = project('app-cjs');
npm(['install', '--prefer-offline', full], cjs);
console.log(`  installed size with the toolchain: ${mb(bytesIn(join(cjs, 'node_modules')))}`);
const bin = join(cjs, 'node_modules/.bin/simdflow');
let s = performance.now();
run(bin, ['--help'], cjs);
console.log(`  simdflow --help: ${(performance.now() - s).toFixed(0)} ms (process start to exit)`);
assert.match(run(bin, ['buidl'], cjs, { fail: true }).stderr, /^simdflow: unknown command 'buidl'/);
writeFileSync(join(cjs, 'tiny.ts'), MODEL);
step('CommonJS project: simdflow build tiny.ts');
run(bin, ['build', 'tiny.ts', '-o', 'out'], cjs);
writeFileSync(join(cjs, 'run.cjs'), `(async () => {
${RUN("const { loadModelFile } = await import('simdflow/runtime/node');")}
})();
`);
checkOutput(run('node', ['run.cjs'], cjs).stdout);

// 3. An ES module project: the same through simdflow/runtime (bytes) and the README's example.
step('ES module project: install the tarball');
const esm = project('app-esm', 'module');
const VITE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).devDependencies.vite;
npm(['install', '--prefer-offline', full, `vite@${VITE}`], esm);
writeFileSync(join(esm, 'tiny.ts'), MODEL);
step('ES module project: simdflow build tiny.ts');
run(join(esm, 'node_modules/.bin/simdflow'), ['build', 'tiny.ts', '-o', 'out', '--quiet'], esm);
writeFileSync(join(esm, 'run.js'), RUN(`import { readFile } from 'node:fs/promises';
import { loadModel } from 'simdflow/runtime';
const loadModelFile = async (p) => loadModel(await readFile(p));`));
checkOutput(run('node', ['run.js'], esm).stdout);
step("ES module project: the README's example, verbatim");
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const example = /## Example\n+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
assert.ok(example, "README.md has no ```ts block under '## Example'");
writeFileSync(join(esm, 'example.mjs'), example);
assert.match(run('node', ['example.mjs'], esm).stdout, /^Float32Array\(10\) \[/);

step('ES module project: vite build with simdflow/vite');
writeFileSync(join(esm, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>');
writeFileSync(join(esm, 'main.js'), `import { loadModel } from 'simdflow/runtime';
import url from './tiny.ts?simdflow';
const model = await loadModel(url);
document.body.textContent = String(model.run({ x: Float32Array.of(1, 2, 3) }).y);
`);
writeFileSync(join(esm, 'vite.config.js'), `import simdflow from 'simdflow/vite';
export default { plugins: [simdflow()], build: { target: 'es2022' }, logLevel: 'warn' };
`);
run(join(esm, 'node_modules/.bin/vite'), ['build'], esm);
const assets = readdirSync(join(esm, 'dist/assets'));
const emitted = assets.find((f) => f.endsWith('.simdflow'));
assert.ok(emitted, `vite build emitted no .simdflow artifact: ${assets.join(', ')}`);
const js = assets.filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(esm, 'dist/assets', f), 'utf8')).join('');
assert.ok(js.includes(emitted), 'the bundle does not reference the emitted artifact');
mkdirSync(join(esm, 'from-vite/out'), { recursive: true });
writeFileSync(join(esm, 'from-vite/out/tiny.simdflow'), readFileSync(join(esm, 'dist/assets', emitted)));
writeFileSync(join(esm, 'from-vite/run.js'), RUN("import { loadModelFile } from 'simdflow/runtime/node';"));
checkOutput(run('node', ['run.js'], join(esm, 'from-vite')).stdout);

step('ES module project: tsc (NodeNext, then bundler; strict, no skipLibCheck) on an app');
writeFileSync(join(esm, 'app.ts'), `import { nn, F, defineModel, compileModel, readSafetensors, stateDictFrom, type Compiled } from 'simdflow';
import { loadModel, type Model, type Outputs } from 'simdflow/runtime';
import { loadModelFile } from 'simdflow/runtime/node';
const def = defineModel({ name: 'a', module: new nn.Sequential(new nn.Linear(4, 2), new nn.ReLU()), inputs: { x: [1, 4] } });
const c: Compiled = await compileModel(def, { disablePasses: ['cse'] });
const m: Model = await loadModel(c.bytes);
const out: Outputs = m.run({ x: new Float32Array(4) });
export const used = [F.relu, readSafetensors, stateDictFrom, loadModelFile, out];
`);
const tsconfig = (files, options = { module: 'NodeNext' }) => JSON.stringify({ compilerOptions: { ...options, target: 'ES2022', strict: true, noEmit: true, types: [] }, files });
writeFileSync(join(esm, 'tsconfig.json'), tsconfig(['app.ts']));
run('node', [TSC, '-p', '.'], esm);
writeFileSync(join(esm, 'tsconfig.bundler.json'), tsconfig(['app.ts'], { module: 'ESNext', moduleResolution: 'bundler' }));
run('node', [TSC, '-p', 'tsconfig.bundler.json'], esm);
// The Vite side, as Vite's own app template checks it (skipLibCheck: vite's .d.ts need @types/node).
writeFileSync(join(esm, 'vite-app.ts'), `/// <reference types="simdflow/vite/client" />
import simdflow from 'simdflow/vite';
import url from './tiny.ts?simdflow';
export const plugins = [simdflow()];
export const artifact: string = url;
`);
writeFileSync(join(esm, 'tsconfig.vite.json'), tsconfig(['vite-app.ts'], { module: 'ESNext', moduleResolution: 'bundler', skipLibCheck: true }));
run('node', [TSC, '-p', 'tsconfig.vite.json'], esm);
// The types are real: a wrong call is an error.
writeFileSync(join(esm, 'wrong.ts'), `import { loadModel } from 'simdflow/runtime';
const m = await loadModel(new Uint8Array(0));
m.run({ x: 'not a tensor' });
`);
writeFileSync(join(esm, 'tsconfig.wrong.json'), tsconfig(['wrong.ts']));
assert.match(run('node', [TSC, '-p', 'tsconfig.wrong.json'], esm, { fail: true }).stdout, /wrong\.ts\(3,/);

// 4. The runtime alone: no dependencies; it runs the artifact compiled above.
step('runtime-only project');
const rt = project('app-runtime', 'module');
npm(['install', '--prefer-offline', runtime], rt);
assert.deepEqual(readdirSync(join(rt, 'node_modules')).filter((d) => !d.startsWith('.')), ['simdflow-runtime']);
console.log(`  installed size of simdflow-runtime alone: ${(bytesIn(join(rt, 'node_modules')) / 1e3).toFixed(1)} KB`);
mkdirSync(join(rt, 'out'));
writeFileSync(join(rt, 'out/tiny.simdflow'), readFileSync(join(esm, 'out/tiny.simdflow')));
writeFileSync(join(rt, 'run.js'), RUN("import { loadModelFile } from 'simdflow-runtime/node';"));
checkOutput(run('node', ['run.js'], rt).stdout);
writeFileSync(join(rt, 'app.ts'), `import { loadModel, type Model } from 'simdflow-runtime';
import { loadModelFile } from 'simdflow-runtime/node';
export const m: Promise<Model> = loadModel(new URL('https://example.com/tiny.simdflow'));
export const f = loadModelFile;
`);
writeFileSync(join(rt, 'tsconfig.json'), tsconfig(['app.ts']));
run('node', [TSC, '-p', '.'], rt);

rmSync(work, { recursive: true, force: true });
step('package test passed');
