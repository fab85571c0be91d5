// The command line, run as users run it: build, ir, and conformance on a directory of
// cases other than the vendored ones (other sizes and seeds, same case names and keys).
import { execFileSync, spawnSync } from 'node:child_process';
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

const ROOT = join(import.meta.dirname, '..');
const cli = (...args: string[]) => spawnSync('node', [join(ROOT, 'compiler/cli/bin.js'), ...args], { cwd: ROOT, encoding: 'utf8' });

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
  test('--help lists the commands', () => {
    const r = cli('--help');
    expect(r.status).toBe(0);
    for (const c of ['build', 'ir', 'conformance', 'start']) expect(r.stdout).toContain(`simdflow ${c}`);
  });

  test('conformance runs any directory of cases: passes, failures with their error, skips', () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdflow-cases-'));
    writeCase(join(dir, 'a_mlp'), mlp([13, 9, 7, 4], 3), 1);
    writeCase(join(dir, 'b_lenet'), { name: 'cnn_lenet', module: 'Sequential', config: { channels: [4, 8] }, inputs: { x: { shape: [1, 1, 28, 28], dtype: 'F32' } }, outputs: { y: { shape: [1, 10], dtype: 'F32' } }, tolerance: tol }, 2);
    writeCase(join(dir, 'c_gru'), { name: 'gru', module: 'GRU', config: { input: 5, hidden: 11, layers: 2 }, inputs: { x: { shape: [3, 4, 5], dtype: 'F32' }, h0: { shape: [2, 3, 11], dtype: 'F32' } }, outputs: { y: { shape: [3, 4, 11], dtype: 'F32' }, h_n: { shape: [2, 3, 11], dtype: 'F32' } }, tolerance: tol }, 3);
    mkdirSync(join(dir, 'd_future'));
    writeFileSync(join(dir, 'd_future', 'case.json'), JSON.stringify({ name: 'mamba', module: 'Mamba', inputs: {}, outputs: {}, tolerance: tol }));
    let r = cli('conformance', dir);
    expect(r.stdout).toMatch(/^mlp +passed +y max err/m);
    expect(r.stdout).toMatch(/^cnn_lenet +passed/m);
    expect(r.stdout).toMatch(/^gru +passed/m);
    expect(r.stdout).toMatch(/^mamba +skipped +family 'Mamba' is not supported yet/m);
    expect(r.stdout.trim().split('\n').pop()).toBe('3 passed, 0 failed, 1 skipped');
    expect(r.status).toBe(0);
    writeCase(join(dir, 'e_bad'), mlp([6, 5, 4, 3], 2), 4, true);
    r = cli('conformance', dir);
    expect(r.stdout).toMatch(/^mlp +failed +y\[3\]: got .*, want .*/m);
    expect(r.stdout.trim().split('\n').pop()).toBe('3 passed, 1 failed, 1 skipped');
    expect(r.status).toBe(1);
  }, 300_000);

  test('build writes an artifact that loads and runs; ir prints before and after passes', async () => {
    const out = mkdtempSync(join(tmpdir(), 'simdflow-out-'));
    const r = cli('build', 'models/mlp.ts', '-o', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/mlp\.simdflow: \d+ bytes/);
    const m = await loadModelFile(join(out, 'mlp.simdflow'));
    expect(m.run({ x: new Float32Array(784) }).y!.length).toBe(10);
    const ir = execFileSync('node', [join(ROOT, 'compiler/cli/bin.js'), 'ir', 'models/mlp.ts', '--disable-pass', 'epilogue-fusion'], { cwd: ROOT, encoding: 'utf8' });
    expect(ir).toContain('// after passes (disabled: epilogue-fusion)');
    expect(ir.split('// after passes')[1]).toContain('matmul(');
    expect(ir).toMatch(/memory plan: arena \d+ bytes/);
    const bad = cli('build', 'models/mlp.ts', '--weights', join(ROOT, 'tests/fixtures/torch/cnn_lenet/weights.safetensors'), '-o', out);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('loadStateDict into Sequential: mis-shaped: 0.bias: expected [256], found [6]; 0.weight: expected [256, 784], found [6, 1, 5, 5] | missing: 2.weight, 2.bias, 4.weight, 4.bias | unexpected: 11.bias');
    expect(existsSync(join(out, 'mlp.simdflow'))).toBe(true);
    expect(readFileSync(join(out, 'mlp.simdflow')).subarray(0, 4).toString()).toBe('SFLW');
  }, 120_000);
});
