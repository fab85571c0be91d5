#!/usr/bin/env node
// `npm run fuzz`: bundles the fuzzer (esbuild) and runs it under plain Node. Through tsx's
// loader, importing binaryen and asc for the wasm runs alone takes ~45 s; bundled, ~3 s.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, 'node_modules', '.cache', 'simdflow-fuzz', 'main.mjs');
await build({
  entryPoints: [join(root, 'compiler', 'fuzz', 'main.ts')], bundle: true, format: 'esm', platform: 'node', outfile: out,
  external: ['binaryen', 'assemblyscript', 'assemblyscript/*'], logLevel: 'error',
  // assemble.ts finds the kernels in assembly/ relative to its own file.
  define: { 'import.meta.url': JSON.stringify(pathToFileURL(join(root, 'compiler', 'codegen', 'assemble.ts')).href) },
});
// AssemblyScript's compiler reads `--wasm <module>` from process.argv when it is imported.
const argv = process.argv.splice(2);
const { main } = await import(pathToFileURL(out).href);
main(argv).then((code) => process.exit(code), (e) => { console.error(e instanceof Error ? e.message : e); process.exit(2); });
