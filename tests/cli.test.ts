// The command line, in process (main(argv, io)): build, ir, and conformance on a directory of
// cases other than the vendored ones (other sizes and seeds, same case names and keys); usage
// errors. One real start of the compiled CLI checks `--help` under plain node.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BUILDERS, type CaseSpec } from '../compiler/conformance/cases.ts';
import { traceModel } from '../compiler/dsl/trace.ts';
import { interpret } from '../compiler/reference/interpret.ts';
import { writeSafetensors, type SafeTensor } from '../compiler/weights/safetensors.ts';
import { rng } from '../compiler/dsl/module.ts';
import { loadModelFile } from '../runtime/node.ts';
import { main } from '../compiler/cli/main.ts';

const ROOT = join(import.meta.dirname, '..');
/** Runs the CLI in process from the repository root, capturing its output. */
async function cli(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '', stderr = '';
  const status = await main(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { status, stdout, stderr };
}

/** Writes a case in the torch format with fresh weights; expected outputs from the reference interpreter. */
function writeCase(dir: string, spec: CaseSpec, seed: number, corrupt = false): void {
  const def = BUILDERS[spec.name]!(spec);
  const r = rng(seed);
  const weights: Record<string, SafeTensor> = {};
  for (const [k, p] of def.module.namedParameters()) weights[k] = { dtype: 'F32', shape: [...p.shape], data: Float32Array.from(p.data, () => (r() * 2 - 1) * 0.3) };
  const inputs: Record<string, SafeTensor> = {};
  for (const [k, v] of Object.entries(spec.inputs)) inputs[`input.${k}`] = { dtype: 'F32', shape: v.shape, data: Float32Array.from({ length: v.shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1) };
  def.module.loadStateDict(new Map(Object.entries(weights).map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }])));
  const out = interpret(traceModel(def), Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k.slice(6), t.data])));
  const outputs: Record<string, SafeTensor> = {};
  for (const [k, v] of Object.entries(spec.outputs)) {
    const data = Float32Array.from(out[k]!);
    if (corrupt) data[3]! += 0.01;
    outputs[`output.${k}`] = { dtype: 'F32', shape: v.shape, data };
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'case.json'), JSON.stringify(spec));
  writeFileSync(join(dir, 'weights.safetensors'), writeSafetensors(weights));
  writeFileSync(join(dir, 'io.safetensors'), writeSafetensors({ ...inputs, ...outputs }));
}

const tol = { atol: 1e-4, rtol: 1e-4 };
const mlp = (dims: number[], batch: number): CaseSpec => ({ name: 'mlp', module: 'Sequential', config: { dims }, inputs: { x: { shape: [batch, dims[0]!], dtype: 'F32' } }, outputs: { y: { shape: [batch, dims[dims.length - 1]!], dtype: 'F32' } }, tolerance: tol });

describe('CLI', () => {
  test('--help lists the commands', async () => {
    const r = await cli('--help');
    expect(r.status).toBe(0);
    for (const c of ['build', 'ir', 'conformance', 'start']) expect(r.stdout).toContain(`simdflow ${c}`);
  });

  test('usage errors name the mistake, print the usage and exit with 2', async () => {
    const cases: Array<[string[], string]> = [
      [[], 'no command given'],
      [['bild', 'models/mlp.ts'], "unknown command 'bild'"],
      [['build'], 'build needs a model file'],
      [['ir'], 'ir needs a model file'],
      [['build', 'a.ts', 'b.ts'], "build: unexpected argument 'b.ts'"],
      [['build', 'models/mlp.ts', '--wieghts', 'w'], 'unknown option --wieghts'],
      [['build', 'models/mlp.ts', '-o'], '-o needs a value'],
      [['build', 'models/mlp.ts', '--weights', '--quiet'], '--weights needs a value'],
      [['start', '--weights', 'w.safetensors'], 'start does not take --weights'],
      [['conformance', 'cases', '-o', 'out'], 'conformance does not take -o'],
      [['ir', 'models/mlp.ts', '--quiet'], 'ir does not take --quiet'],
      [['build', 'models/mlp.ts', '--isa', 'sse4'], "--isa must be one of wasmsimd, wasmrelaxedsimd, not 'sse4'"],
      [['build', 'models/mlp.ts', '--isa', 'wasmsimd', '--isa', 'wasmsimd'], '--isa wasmsimd is given twice'],
      [['ir', 'models/mlp.ts', '--isa', 'wasmsimd'], 'ir does not take --isa'],
      [['conformance', '--threads', '1'], "--threads must be a thread count from 2 (compared with one thread) to 16, not '1'"],
      [['conformance', '--threads', '17'], "--threads must be a thread count from 2 (compared with one thread) to 16, not '17'"],
      [['build', 'models/mlp.ts', '--threads', '2'], 'build does not take --threads'],
    ];
    for (const [argv, msg] of cases) {
      const r = await cli(...argv);
      expect(r.status, argv.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe(`simdflow: ${msg}`);
      expect(r.stderr).toContain('Usage:');
      expect(r.stdout).toBe('');
    }
  });

  test('a model file that does not exist or does not export a definition is a clear error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdflow-bad-'));
    let r = await cli('build', join(dir, 'nope.ts'), '-o', dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`simdflow: ${join(dir, 'nope.ts')}: no such model file\n`);
    writeFileSync(join(dir, 'missing-import.ts'), `import { x } from './nope.ts';\nexport default x;\n`);
    r = await cli('build', join(dir, 'missing-import.ts'), '-o', dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/missing-import\.ts: could not load the model file:\n.*missing-import\.ts:1: Could not resolve "\.\/nope\.ts"/);
    writeFileSync(join(dir, 'empty.ts'), 'export const x: number = 1;\n');
    r = await cli('ir', join(dir, 'empty.ts'));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`simdflow: ${join(dir, 'empty.ts')}: the default export must be defineModel({ name, module, inputs, ... })\n`);
    writeFileSync(join(dir, 'syntax.ts'), 'export default defineModel({ name: \n');
    r = await cli('ir', join(dir, 'syntax.ts'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/syntax\.ts:2: Unexpected end of file/);
    const models = join(dir, 'models');
    mkdirSync(models);
    writeFileSync(join(models, 'a.ts'), `import { defineModel, nn } from 'simdflow';\nexport default defineModel({ name: '../a', module: new nn.Linear(2, 2), inputs: { x: [1, 2] } });\n`);
    r = await cli('start', models, '-o', join(dir, 'out'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`a.ts: model name "../a" is not a plain file name (the artifact would be written outside ${join(dir, 'out')})`);
    writeFileSync(join(dir, 'required.js'), `const { defineModel, nn } = require('simdflow');\nmodule.exports = defineModel({ name: 'r', module: new nn.Linear(2, 2), inputs: { x: [1, 2] } });\n`);
    r = await cli('ir', join(dir, 'required.js'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`required.js:1: require('simdflow') is not supported in a model file (simdflow is an ES module package): write import`);
  });

  test('a .ts model file in a CommonJS project: local imports, import.meta and simdflow itself work', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdflow-cjs-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', type: 'commonjs' }));
    writeFileSync(join(dir, 'sizes.json'), JSON.stringify({ hidden: 7 }));
    writeFileSync(join(dir, 'helper.ts'), `import { nn } from 'simdflow';\nexport const head = (n: number) => new nn.Linear(n, 3);\n`);
    writeFileSync(join(dir, 'model.ts'), [
      `import { readFileSync } from 'node:fs';`,
      `import { defineModel, nn } from 'simdflow';`,
      `import { head } from './helper.ts';`,
      `const { hidden } = JSON.parse(readFileSync(new URL('./sizes.json', import.meta.url), 'utf8')) as { hidden: number };`,
      `if (import.meta.dirname !== ${JSON.stringify(dir)}) throw new Error('import.meta.dirname is ' + import.meta.dirname);`,
      `export default defineModel({ name: 'cjs', module: new nn.Sequential(new nn.Linear(5, hidden), new nn.Tanh(), head(hidden)), inputs: { x: [2, 5] } });`,
    ].join('\n'));
    const r = await cli('ir', join(dir, 'model.ts'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('const "0.weight"() : f32[7, 5]');
    expect(r.stdout).toContain('const "2.weight"() : f32[3, 7]');
  });

  test('the compiled CLI under plain node: --help, and one DSL whether a model imports simdflow or its sources', () => {
    const bin = join(ROOT, 'dist/compiler/cli/bin.js');
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build (npm ci and npm install run it)`);
    const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: ROOT, encoding: 'utf8' });
    let r = run('--help');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('simdflow build <model.ts>');
    r = run('ir', 'models/mlp.ts');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('input "x"() : f32[1, 784]');
    const dir = mkdtempSync(join(tmpdir(), 'simdflow-src-'));
    writeFileSync(join(dir, 'model.ts'), `import { defineModel, nn } from ${JSON.stringify(join(ROOT, 'compiler/dsl/index.ts'))};\n` +
      `export default defineModel({ name: 'src', module: new nn.Linear(4, 2), inputs: { x: [1, 4] } });\n`);
    r = run('ir', join(dir, 'model.ts'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('const "weight"() : f32[2, 4]');
  });

  test('conformance runs any directory of cases: passes, failures with their error, skips', async () => {
    const ok = mkdtempSync(join(tmpdir(), 'simdflow-cases-'));
    writeCase(join(ok, 'a_mlp'), mlp([13, 9, 7, 4], 3), 1);
    mkdirSync(join(ok, 'd_future'));
    writeFileSync(join(ok, 'd_future', 'case.json'), JSON.stringify({ name: 'mamba', module: 'Mamba', inputs: {}, outputs: {}, tolerance: tol }));
    // One ISA: the cases' generated code is the same for both, and the CLI is what is tested here.
    let r = await cli('conformance', ok, '--isa', 'wasmsimd');
    expect(r.stdout).toMatch(/^mlp +passed +y max err/m);
    expect(r.stdout).toMatch(/^mamba +skipped +family 'Mamba' is not supported yet/m);
    expect(r.stdout.trim().split('\n').pop()).toBe('1 passed, 0 failed, 1 skipped');
    expect(r.status).toBe(0);
    // On two threads too: this small MLP splits nothing, and says so.
    r = await cli('conformance', ok, '--isa', 'wasmsimd', '--threads', '2');
    expect(r.stdout).toMatch(/^mlp +passed +no node splits: one thread, y max err/m);
    const dir = mkdtempSync(join(tmpdir(), 'simdflow-cases-'));
    writeCase(join(dir, 'b_lenet'), { name: 'cnn_lenet', module: 'Sequential', config: { channels: [4, 8] }, inputs: { x: { shape: [1, 1, 28, 28], dtype: 'F32' } }, outputs: { y: { shape: [1, 10], dtype: 'F32' } }, tolerance: tol }, 2);
    writeCase(join(dir, 'c_gru'), { name: 'gru', module: 'GRU', config: { input: 5, hidden: 11, layers: 2 }, inputs: { x: { shape: [3, 4, 5], dtype: 'F32' }, h0: { shape: [2, 3, 11], dtype: 'F32' } }, outputs: { y: { shape: [3, 4, 11], dtype: 'F32' }, h_n: { shape: [2, 3, 11], dtype: 'F32' } }, tolerance: tol }, 3);
    writeCase(join(dir, 'e_bad'), mlp([6, 5, 4, 3], 2), 4, true);
    r = await cli('conformance', dir, '--isa', 'wasmsimd');
    expect(r.stdout).toMatch(/^cnn_lenet +passed/m);
    expect(r.stdout).toMatch(/^gru +passed/m);
    expect(r.stdout).toMatch(/^mlp +failed +y\[3\]: got .*, want .*/m);
    expect(r.stdout.trim().split('\n').pop()).toBe('2 passed, 1 failed, 0 skipped');
    expect(r.status).toBe(1);
  }, 300_000);

  test('build writes an artifact that loads and runs; ir prints before and after passes', async () => {
    const out = mkdtempSync(join(tmpdir(), 'simdflow-out-'));
    const r = await cli('build', 'models/mlp.ts', '-o', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/mlp\.simdflow: \d+ bytes/);
    expect(r.stderr).toMatch(/^simdflow: mlp: trace \(0\.\d s\)\n(simdflow: mlp: .*\n)*simdflow: mlp: done \(\d+\.\d s\)\n$/);
    expect(r.stderr).toContain('simdflow: mlp: asc+binaryen wasmrelaxedsimd');
    const m = await loadModelFile(join(out, 'mlp.simdflow'));
    expect(m.run({ x: new Float32Array(784) }).y!.length).toBe(10);
    const ir = (await cli('ir', 'models/mlp.ts', '--disable-pass', 'epilogue-fusion')).stdout;
    expect(ir).toContain('// after passes (disabled: epilogue-fusion)');
    expect(ir.split('// after passes')[1]).toContain('matmul(');
    expect(ir).toMatch(/memory plan: arena \d+ bytes/);
    const bad = await cli('build', 'models/mlp.ts', '--weights', join(ROOT, 'tests/fixtures/torch/cnn_lenet/weights.safetensors'), '-o', out);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('loadStateDict into Sequential: mis-shaped: 0.bias: expected [256], found [6]; 0.weight: expected [256, 784], found [6, 1, 5, 5] | missing: 2.weight, 2.bias, 4.weight, 4.bias | unexpected: 11.bias');
    expect(existsSync(join(out, 'mlp.simdflow'))).toBe(true);
    expect(readFileSync(join(out, 'mlp.simdflow')).subarray(0, 4).toString()).toBe('SFLW');
    const one = await cli('build', 'models/mlp.ts', '-o', join(out, 'simd'), '--isa', 'wasmsimd', '--quiet');
    expect(one.status, one.stderr).toBe(0);
    expect(one.stderr).toBe('');
    expect(one.stdout).toMatch(/code \{"wasmsimd":\d+\}/);
    const simd = await loadModelFile(join(out, 'simd', 'mlp.simdflow'));
    expect(simd.isa).toBe('wasmsimd');
    const x = new Float32Array(784).fill(0.5), want = m.run({ x }).y!;
    simd.run({ x }).y!.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-6)); // relaxed FMA may round differently
  }, 120_000);
});
