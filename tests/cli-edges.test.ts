// CLI edges of issue 10: the artifact stays inside -o whatever the model's name, and a missing
// weights file names the option (or the model field) that asked for it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { main } from '../compiler/cli/main.ts';
import { writeSafetensors } from '../compiler/weights/safetensors.ts';
import { loadModelFile } from '../runtime/node.ts';

async function cli(...args: string[]): Promise<{ status: number; stderr: string }> {
  let stderr = '';
  const status = await main(args, { stdout: { write: () => true }, stderr: { write: (s: string) => (stderr += s) } } as never);
  return { status, stderr };
}
const model = (name: string, weights?: string) =>
  `import { defineModel, nn } from 'simdflow';\nexport default defineModel({ name: ${JSON.stringify(name)}, module: new nn.Linear(2, 2), inputs: { x: [1, 2] }${weights ? `, weights: ${JSON.stringify(weights)}` : ''} });\n`;

describe('CLI', () => {
  test('start and conformance name a directory that is not there (start printed a raw ENOENT)', async () => {
    const r = await cli('start', 'no-such-models-dir', '-q');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('start: no-such-models-dir is not a directory of model files');
    expect(r.stderr).not.toContain('ENOENT');
    // A directory without models is refused before -o is created.
    const empty = mkdtempSync(join(tmpdir(), 'simdflow-empty-')), out = join(empty, 'out');
    const e = await cli('start', empty, '-o', out, '-q');
    expect(e.stderr).toContain(`${empty}: no model files (.ts or .js)`);
    expect(existsSync(out)).toBe(false);
    const c = await cli('conformance', 'no-such-cases-dir');
    expect(c.stderr).toContain('conformance: no-such-cases-dir is not a directory');
  });

  test('start runs a model with several sizes chosen at run time (an even image, 2*K × 2*L) against the reference at its bounds (the reference was fed plain arrays: "sizes N, K, L that no other input fixes")', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdflow-sizes-')), models = join(dir, 'models');
    mkdirSync(models);
    writeFileSync(join(models, 'even.ts'), `import { defineModel, nn } from 'simdflow';\nexport default defineModel({ name: 'even', module: new nn.Sequential(new nn.Conv2d(3, 4, 3, { padding: 1 }), new nn.MaxPool2d(2), new nn.Upsample({ scaleFactor: 2 })), inputs: { x: { shape: ['N', 3, '2*K', '2*L'], max: { N: 2, K: 4, L: 3 } } } });\n`);
    let stdout = '', stderr = '';
    const status = await main(['start', models, '-o', join(dir, 'out'), '-q', '--isa', 'wasmsimd'], { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toMatch(/^even +\d+ +\d+ \(wasmsimd\) +448 +\d+ +[\d.]+ +\d\.\d\de-\d+$/m);
    const m = await loadModelFile(join(dir, 'out', 'even.simdflow'));
    expect(m.manifest.entries.run!.inputs[0]!.dims).toEqual(['N', 3, '2*K', '2*L']);
    m.dispose();
  }, 120_000);

  test('conformance and conformance-onnx refuse a directory with nothing to run (exited 0: "0 passed, 0 failed"), and conformance-onnx names a missing one (was a raw ENOENT)', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'simdflow-nocases-'));
    writeFileSync(join(empty, 'notes.txt'), 'no cases here');
    let r = await cli('conformance', empty);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`simdflow: conformance: ${empty} holds no cases (a case is a directory with case.json)\n`);
    r = await cli('conformance-onnx', empty);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`simdflow: conformance-onnx: ${empty} holds no tests (a test is a directory with model.onnx)\n`);
    for (const bad of ['no-such-onnx-tests', join(empty, 'notes.txt')]) {
      r = await cli('conformance-onnx', bad);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`simdflow: conformance-onnx: ${bad} is not a directory\n`);
    }
  });

  test('an -o that cannot be a directory fails before compiling, naming -o (was a raw EEXIST after the compile)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdflow-out-'));
    writeFileSync(join(dir, 'm.ts'), model('m'));
    writeFileSync(join(dir, 'file'), 'x');
    const r = await cli('build', join(dir, 'm.ts'), '-o', join(dir, 'file'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`simdflow: -o ${join(dir, 'file')}: cannot create the directory ${join(dir, 'file')} (${join(dir, 'file')} is not a directory)`);
    expect(r.stderr).not.toContain('asc+binaryen');
    // Under a file, and where a level cannot be made (Node 20's recursive mkdirSync looped forever on /proc/x).
    for (const out of [join(dir, 'file', 'sub'), '/proc/simdflow-out/sub']) {
      const q = await cli('build', join(dir, 'm.ts'), '-o', out);
      expect(q.status).toBe(1);
      expect(q.stderr).toMatch(new RegExp(`^simdflow: -o ${out}: cannot create the directory ${out} \\((ENOTDIR|ENOENT)`));
    }
  });

  test('an option that takes one value, given twice, is a usage error (the first was dropped silently)', async () => {
    for (const args of [['-o', 'a', '--out', 'b'], ['--weights', 'a', '--weights', 'b'], ['--dim', 'T=2', '--dim', 'T=3']]) {
      const r = await cli('build', 'models/mlp.ts', ...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^simdflow: (--out|--weights|--dim T) is given twice\n/);
    }
  });

  test('an empty option value is a usage error (--weights \'\' compiled the initial weights, -o \'\' wrote to the current directory)', async () => {
    for (const opt of ['-o', '--weights', '--disable-pass', '--isa', '--dim']) {
      const r = await cli('build', 'models/mlp.ts', opt, '');
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^simdflow: ${opt} needs a value \\(got an empty string\\)\n`));
    }
  });

  test('a model file that is missing or a directory, and an -o that cannot be written, are named (were raw ENOENT / EISDIR)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdflow-files-'));
    mkdirSync(join(dir, 'd.onnx'));
    mkdirSync(join(dir, 'd.ts'));
    for (const cmd of ['build', 'ir']) {
      expect((await cli(cmd, join(dir, 'none.onnx'), ...(cmd === 'build' ? ['-q'] : []))).stderr).toBe(`simdflow: ${join(dir, 'none.onnx')}: no such model file\n`);
      expect((await cli(cmd, join(dir, 'd.onnx'), ...(cmd === 'build' ? ['-q'] : []))).stderr).toBe(`simdflow: ${join(dir, 'd.onnx')}: is a directory, not a model file\n`);
      expect((await cli(cmd, join(dir, 'd.ts'), ...(cmd === 'build' ? ['-q'] : []))).stderr).toBe(`simdflow: ${join(dir, 'd.ts')}: is a directory, not a model file\n`);
    }
    // /proc/self is a directory that exists, where no file can be made.
    writeFileSync(join(dir, 'm.ts'), model('m'));
    const r = await cli('build', join(dir, 'm.ts'), '-o', '/proc/self', '-q', '--isa', 'wasmsimd');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^simdflow: -o \/proc\/self: cannot write \/proc\/self\/m\.simdflow \(ENOENT/);
  });

  test('a model file that throws while loading is named, at the line in its source', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdflow-throws-'));
    writeFileSync(join(dir, 'm.ts'), `import { defineModel, nn } from 'simdflow';\n\nfunction layer() {\n  return new nn.Linear(4, -2);\n}\nexport default defineModel({ name: 'm', module: layer(), inputs: { x: [1, 4] } });\n`);
    let r = await cli('build', join(dir, 'm.ts'), '-o', dir);
    expect(r.stderr).toBe(`simdflow: ${join(dir, 'm.ts')}:4:10: Linear: out_features must be a positive integer, got -2\n`);
    writeFileSync(join(dir, 'n.mjs'), `throw 'not an Error';\n`);
    r = await cli('build', join(dir, 'n.mjs'), '-o', dir);
    expect(r.stderr).toBe(`simdflow: ${join(dir, 'n.mjs')}: threw not an Error\n`);
  });

  test('an error in forward() while tracing names the model file and the line (printed the bare message)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdflow-forward-'));
    const f = join(dir, 'm.ts');
    writeFileSync(f, `import { defineModel, nn, F } from 'simdflow';\nconst l = new nn.Linear(4, 3);\nexport default defineModel({ name: 'm', module: l, inputs: { x: [1, 5] },\n  forward: (m, i) => F.relu(l.call(i.x!)) });\n`);
    const want = `simdflow: ${f}:4:31: linear: input [1, 5] has 5 features but weight [3, 4] expects 4 in module '<root>' (Linear)\n`;
    expect(await cli('build', f, '-o', dir, '-q')).toEqual({ status: 1, stderr: want });
    expect(await cli('ir', f)).toEqual({ status: 1, stderr: want });
    writeFileSync(f, `import { defineModel, nn } from 'simdflow';\nexport default defineModel({ name: 'm', module: new nn.Linear(4, 3), inputs: { x: [1, 4] },\n  forward: () => { throw new Error('my bug'); } });\n`);
    expect((await cli('build', f, '-o', dir, '-q')).stderr).toBe(`simdflow: ${f}:3:26: my bug\n`);
    // The compiler's own errors (no frame in the model file) keep their message as it was.
    writeFileSync(f, model('m'));
    expect((await cli('build', f, '-o', dir, '-q', '--disable-pass', 'nope')).stderr).toMatch(/^simdflow: unknown pass 'nope'; passes are: /);
  });

  test('a model file whose top-level await never settles is named (the process ended with code 13 and no word)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdflow-tla-'));
    writeFileSync(join(dir, 'm.mjs'), 'export default await new Promise(() => {});\n');
    const r = spawnSync(process.execPath, ['dist/compiler/cli/bin.js', 'build', join(dir, 'm.mjs'), '-o', dir], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe(`simdflow: ${join(dir, 'm.mjs')}: the model file never finished loading (its top-level await never settled)\n`);
    expect(r.status).toBe(1);
  });

  test('ir --list-passes refuses a model file it would ignore', async () => {
    const r = await cli('ir', '--list-passes', 'models/mlp.ts');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("simdflow: ir --list-passes takes no model file or other option (got 'models/mlp.ts')");
    expect((await cli('ir', '--list-passes', '--disable-pass', 'cse')).stderr).toContain('ir --list-passes takes no model file or other option (got --disable-pass)');
    let listed = '';
    expect(await main(['ir', '--list-passes'], { stdout: { write: (s: string) => (listed += s) }, stderr: { write: () => true } } as never)).toBe(0);
    expect(listed).toMatch(/^shape-inference /);
  });

  test('a model name cannot write outside -o', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdflow-escape-')), out = join(dir, 'out');
    mkdirSync(out);
    for (const name of ['../escape', 'a/b', '../../x']) {
      writeFileSync(join(dir, 'm.ts'), model(name));
      const r = await cli('build', join(dir, 'm.ts'), '-o', out);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`m.ts: model name ${JSON.stringify(name)} is not a plain file name (the artifact would be written outside ${out})`);
    }
    expect(existsSync(join(dir, 'escape.simdflow'))).toBe(false);
  });

  test('a missing weights file names --weights or the model field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdflow-weights-'));
    writeFileSync(join(dir, 'm.ts'), model('m'));
    let r = await cli('build', join(dir, 'm.ts'), '--weights', 'nope', '-o', dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('simdflow: --weights nope: no such file\n');
    writeFileSync(join(dir, 'w.ts'), model('w', 'missing.safetensors'));
    r = await cli('ir', join(dir, 'w.ts'));
    expect(r.stderr).toBe(`simdflow: ${join(dir, 'w.ts')}: its weights 'missing.safetensors' (${join(dir, 'missing.safetensors')}) do not exist\n`);
    writeFileSync(join(dir, 'bad.safetensors'), 'not safetensors at all, just some text');
    r = await cli('ir', join(dir, 'm.ts'), '--weights', join(dir, 'bad.safetensors'));
    expect(r.stderr).toMatch(/^simdflow: .*bad\.safetensors: not a safetensors file/);
    // Weights that do not fit the model name the model file and the weights file (the error named neither).
    writeFileSync(join(dir, 'other.safetensors'), writeSafetensors({ weight: { dtype: 'F32', shape: [3, 2], data: new Float32Array(6) }, bias: { dtype: 'F32', shape: [3], data: new Float32Array(3) } }));
    r = await cli('ir', join(dir, 'm.ts'), '--weights', join(dir, 'other.safetensors'));
    expect(r.stderr).toBe(`simdflow: ${join(dir, 'm.ts')}: the weights in ${join(dir, 'other.safetensors')} do not fit the model: loadStateDict into Linear: mis-shaped: weight: expected [2, 2], found [3, 2]; bias: expected [2], found [3]\n`);
    // A directory (was a raw EISDIR), and integer weights (said I32 for I64, and named no file).
    r = await cli('ir', join(dir, 'm.ts'), '--weights', dir);
    expect(r.stderr).toBe(`simdflow: --weights ${dir}: is a directory, not a safetensors file\n`);
    writeFileSync(join(dir, 'i64.safetensors'), writeSafetensors({ weight: { dtype: 'F32', shape: [2, 2], data: new Float32Array(4) }, bias: { dtype: 'I64', shape: [2], data: new BigInt64Array(2) as never } }));
    r = await cli('ir', join(dir, 'm.ts'), '--weights', join(dir, 'i64.safetensors'));
    expect(r.stderr).toBe(`simdflow: ${join(dir, 'm.ts')}: the weights in ${join(dir, 'i64.safetensors')} do not fit the model: loadStateDict into Linear: not floats (parameters are F32, F64, F16 or BF16): bias is I64\n`);
  });
});
