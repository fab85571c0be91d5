// `simdflow build model.onnx` and `simdflow conformance-onnx DIR`, in process.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { main } from '../../compiler/cli/main.ts';
import { readOnnxTensor } from '../../compiler/onnx/proto.ts';
import { loadModelFile } from '../../runtime/node.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/onnx');
async function cli(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '', stderr = '';
  const status = await main(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { status, stdout, stderr };
}

describe('simdflow CLI with ONNX', () => {
  test('build model.onnx --dim batch=2 writes an artifact matching PyTorch; a missing --dim names the dimension', async () => {
    const out = mkdtempSync(join(tmpdir(), 'simdflow-onnx-'));
    const model = join(FIXTURES, 'mlp_dynamic_batch/model.onnx');
    const missing = await cli('build', model, '-o', out, '-q', '--isa', 'wasmsimd');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/symbolic dimension 'batch'; give its size/);
    const r = await cli('build', model, '-o', out, '-q', '--isa', 'wasmsimd', '--dim', 'batch=2');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const m = await loadModelFile(join(out, 'model.simdflow'));
    const pb = (f: string) => readOnnxTensor(readFileSync(join(FIXTURES, 'mlp_dynamic_batch/test_data_set_0', f)));
    const y = m.run({ x: pb('input_0.pb').data as Float32Array }).y!;
    (pb('output_0.pb').data as Float32Array).forEach((v, i) => expect(Math.abs(y[i]! - v)).toBeLessThan(1e-5));
    expect((await cli('build', model, '--dim', 'batch')).stderr).toMatch(/--dim must be NAME=SIZE or NAME=max:BOUND/);
    expect((await cli('build', model, '--weights', 'w.safetensors')).stderr).toMatch(/--weights is for DSL models/);
  }, 60_000);

  test('ir model.onnx prints the imported graph and the graph after passes (the MatMul + bias became a gemm)', async () => {
    const r = await cli('ir', join(FIXTURES, 'mlp/model.onnx'));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/traced[\s\S]*matmul[\s\S]*after passes[\s\S]*gemm/);
  });

  test('conformance-onnx runs a directory of node-test-style folders and summarises them', async () => {
    const r = await cli('conformance-onnx', FIXTURES, '--verbose', '--isa', 'wasmsimd');
    expect(r.stdout).toMatch(/pass +mlp /);
    expect(r.stdout).toMatch(/pass +cnn /);
    expect(r.stdout).toMatch(/all +3 tests: +3 pass, +0 fail/);
    expect(r.status).toBe(0);
  }, 60_000);
});
