// The Vite plugin (compiler/vite/plugin.ts) on a small app in a temporary directory: a model
// file importing `simdflow`, its weights beside it, `import url from './tiny.model.ts?simdflow'`.
// Build mode emits the artifact; dev mode serves it and recompiles when the weights change;
// compiler errors name the model file. One ISA keeps the compiles short.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, test } from 'vitest';
import { writeSafetensors } from '../compiler/weights/safetensors.ts';
import simdflow from '../compiler/vite/plugin.ts';
import { loadModelBytes } from '../runtime/model.ts';

const app = mkdtempSync(join(tmpdir(), 'simdflow-vite-'));
afterAll(() => rmSync(app, { recursive: true, force: true }));
const plugin = () => simdflow({ compile: { isas: ['wasmsimd'] } });

// y = W x + b with W [2, 3], b [2]: hand-checkable.
function writeWeights(w: number[], b: number[]): void {
  writeFileSync(join(app, 'tiny.safetensors'), writeSafetensors({
    weight: { dtype: 'F32', shape: [2, 3], data: Float32Array.from(w) }, bias: { dtype: 'F32', shape: [2], data: Float32Array.from(b) },
  }));
}
writeFileSync(join(app, 'tiny.model.ts'), `import { defineModel, nn } from 'simdflow';
export default defineModel({ name: 'tiny', module: new nn.Linear(3, 2), inputs: { x: [1, 3] }, weights: './tiny.safetensors' });
`);
writeFileSync(join(app, 'broken.model.ts'), `import { defineModel, nn } from 'simdflow';
export default defineModel({ name: 'broken', module: new nn.Sequential(new nn.Linear(3, 4), new nn.Linear(5, 2)), inputs: { x: [1, 3] } });
`);
writeFileSync(join(app, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>');
writeFileSync(join(app, 'main.js'), "import url from './tiny.model.ts?simdflow';\ndocument.body.dataset.model = url;\n");
const x = Float32Array.of(1, 2, 3);

describe('vite plugin', () => {
  test('options are checked when vite.config is read: a misspelt option or a bad compile option throws', () => {
    expect(() => simdflow({ compil: { isas: ['wasmsimd'] } } as never)).toThrow("simdflow(): unknown option 'compil' (allowed: query, compile, onnx)");
    expect(() => simdflow({ onnx: { dim: {} } } as never)).toThrow("simdflow(): option onnx has unknown key 'dim' (allowed: dims, shapes)");
    expect(() => simdflow({ compile: { isa: 'wasmsimd' } } as never)).toThrow("simdflow(): compile: unknown option 'isa' (allowed: name, disablePasses, isas, attention, onStage)");
    expect(() => simdflow({ compile: { isas: ['sse'] } } as never)).toThrow('simdflow(): compile: option isas must be a non-empty array of wasmsimd, wasmrelaxedsimd; got an array of 1 (["sse"])');
    expect(() => simdflow({ query: 'a&b' })).toThrow('simdflow(): option query must be a word (letters, digits, _ or -), got "a&b"');
    expect(() => simdflow(null as never)).toThrow('simdflow(): options must be an object { query?, compile? }, got null');
    expect(simdflow({ compile: { isas: ['wasmsimd'] } }).name).toBe('simdflow');
  });

  test('build: the artifact is emitted as an asset, its URL is in the bundle, and the weights beside the model file are in it', async () => {
    writeWeights([1, 2, 3, -1, 0, 1], [0.5, -0.5]);
    const { build } = await import('vite');
    const outDir = join(app, 'dist');
    await build({ configFile: false, root: app, logLevel: 'silent', plugins: [plugin()], build: { outDir, emptyOutDir: true } });
    const assets = readdirSync(join(outDir, 'assets'));
    const artifact = assets.find((a) => /^tiny-.*\.simdflow$/.test(a));
    expect(artifact, assets.join(', ')).toBeDefined();
    const js = assets.filter((a) => a.endsWith('.js')).map((a) => readFileSync(join(outDir, 'assets', a), 'utf8')).join('\n');
    expect(js).toContain(`/assets/${artifact}`);
    const m = await loadModelBytes(new Uint8Array(readFileSync(join(outDir, 'assets', artifact!))));
    expect(Array.from(m.run({ x }).y!)).toEqual([1 + 4 + 9 + 0.5, -1 + 0 + 3 - 0.5]);
  });

  test('build: a model that does not trace fails the build, naming the model file and the problem', async () => {
    writeFileSync(join(app, 'main-broken.js'), "import url from './broken.model.ts?simdflow';\nexport { url };\n");
    const { build } = await import('vite');
    await expect(build({
      configFile: false, root: app, logLevel: 'silent', plugins: [plugin()],
      build: { outDir: join(app, 'dist-broken'), rollupOptions: { input: join(app, 'main-broken.js') } },
    })).rejects.toThrow(/simdflow: cannot compile broken\.model\.ts: .*(Linear|linear).*5/s);
  });

  test('build: an .onnx file imports and compiles (symbolic dims from the onnx option), and its output matches PyTorch', async () => {
    const fixture = join(import.meta.dirname, 'fixtures/onnx/mlp_dynamic_batch');
    writeFileSync(join(app, 'mlp.onnx'), readFileSync(join(fixture, 'model.onnx')));
    writeFileSync(join(app, 'main-onnx.js'), "import url from './mlp.onnx?simdflow';\nexport { url };\n");
    const { build } = await import('vite');
    const outDir = join(app, 'dist-onnx');
    const entry = { outDir, emptyOutDir: true, rollupOptions: { input: join(app, 'main-onnx.js') } };
    await expect(build({ configFile: false, root: app, logLevel: 'silent', plugins: [plugin()], build: entry }))
      .rejects.toThrow(/simdflow: cannot compile mlp\.onnx: onnx: input 'x' axis 0 is the symbolic dimension 'batch'/);
    await build({ configFile: false, root: app, logLevel: 'silent', plugins: [simdflow({ compile: { isas: ['wasmsimd'] }, onnx: { dims: { batch: 2 } } })], build: entry });
    const artifact = readdirSync(join(outDir, 'assets')).find((a) => /^mlp-.*\.simdflow$/.test(a));
    expect(artifact).toBeDefined();
    const { readOnnxTensor } = await import('../compiler/onnx/proto.ts');
    const pb = (f: string) => readOnnxTensor(readFileSync(join(fixture, 'test_data_set_0', f)));
    const m = await loadModelBytes(new Uint8Array(readFileSync(join(outDir, 'assets', artifact!))));
    const y = m.run({ x: pb('input_0.pb').data as Float32Array }).y!, want = pb('output_0.pb').data as Float32Array;
    expect(y.length).toBe(want.length);
    want.forEach((v, i) => expect(Math.abs(y[i]! - v)).toBeLessThan(1e-5));
  });

  test('build: a file without a model definition, or one that does not exist, is a clear error', async () => {
    writeFileSync(join(app, 'not-a-model.ts'), 'export default { hello: 1 };\n');
    const { build } = await import('vite');
    const buildEntry = (code: string) => {
      writeFileSync(join(app, 'main-misuse.js'), code);
      return build({ configFile: false, root: app, logLevel: 'silent', plugins: [plugin()], build: { write: false, rollupOptions: { input: join(app, 'main-misuse.js') } } });
    };
    await expect(buildEntry("import u from './not-a-model.ts?simdflow';\nconsole.log(u);\n"))
      .rejects.toThrow(/simdflow: cannot compile not-a-model\.ts: the default export must be defineModel\(/);
    await expect(buildEntry("import u from './missing.model.ts?simdflow';\nconsole.log(u);\n"))
      .rejects.toThrow(/simdflow: cannot resolve the model file '\.\/missing\.model\.ts' imported by .*main-misuse\.js/);
  });

  test('dev: serves the artifact, and recompiles after the weights change', async () => {
    writeWeights([1, 0, 0, 0, 1, 0], [0, 0]);
    const { createServer } = await import('vite');
    const server = await createServer({ configFile: false, root: app, logLevel: 'silent', plugins: [plugin()], server: { port: 0, host: '127.0.0.1' } });
    await server.listen();
    try {
      const base = `http://127.0.0.1:${(server.httpServer!.address() as AddressInfo).port}`;
      const run = async () => {
        const code = (await server.environments.client.transformRequest(`\0simdflow:${join(app, 'tiny.model.ts')}`))!.code;
        const url = /export default "([^"]+)"/.exec(code)![1]!;
        const res = await fetch(base + url);
        expect(res.status).toBe(200);
        return Array.from((await loadModelBytes(new Uint8Array(await res.arrayBuffer()))).run({ x }).y!);
      };
      expect(await run()).toEqual([1, 2]);
      writeWeights([0, 0, 1, 1, 1, 1], [1, 0]);
      const mod = server.environments.client.moduleGraph.getModuleById(`\0simdflow:${join(app, 'tiny.model.ts')}`)!;
      for (let i = 0; i < 100 && mod.transformResult; i++) await new Promise((r) => setTimeout(r, 100));
      expect(mod.transformResult, 'the ?simdflow module was not invalidated after its weights changed').toBeNull();
      expect(await run()).toEqual([4, 6]);
    } finally {
      await server.close();
    }
  });
});
