// Loads a model file (default export: a ModelDefinition) and, if any, its weights.
//
// The file (TypeScript or JavaScript, in an ESM or CommonJS project) is bundled by esbuild into
// one ES module in a temporary directory and imported from there, so Node needs no TypeScript
// loader. Imports of `simdflow` and of files inside this package are bound to the very modules
// this CLI runs: two copies of the DSL would make a model's tensors foreign to the tracer.
// Other packages resolve from the model's directory as usual. In the user's bundled files,
// `import.meta.url`, `.dirname` and `.filename` keep their own file's values.

import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ModelDefinition } from '../dsl/trace.ts';
import { readSafetensors, stateDictFrom } from '../weights/safetensors.ts';

const here = dirname(fileURLToPath(import.meta.url));
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** `.ts` when this runs from the sources (tests, tsx), `.js` when compiled into dist/. */
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
/** This package's root: the repository, or the installed package. */
const ROOT = resolve(here, '..', '..', ...(ext === '.js' ? ['..'] : []));
/** Our public entry points, as the modules this process already runs. */
const SELF: Record<string, string> = {
  simdflow: join(here, '..', `index${ext}`),
  'simdflow/runtime': join(here, '..', '..', 'runtime', `index${ext}`),
  'simdflow/runtime/node': join(here, '..', '..', 'runtime', `node${ext}`),
};

/** A source file of this package, as the module this process runs (dist/…/x.js when compiled). */
function compiled(path: string): string {
  if (ext === '.ts' || !path.endsWith('.ts') || path.endsWith('.d.ts')) return path;
  const rel = relative(ROOT, path);
  return ['compiler', 'runtime'].includes(rel.split(sep)[0]!) ? join(ROOT, 'dist', rel.replace(/\.ts$/, '.js')) : path;
}

async function importModelFile(file: string): Promise<Record<string, unknown>> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (e) {
    throw new Error(`loading ${file} needs esbuild (a dependency of simdflow): ${(e as Error).message}`);
  }
  const ownDirs = ['compiler', 'runtime', 'dist'].map((d) => join(ROOT, d));
  const inside = (p: string) => ownDirs.some((d) => !relative(d, p).startsWith('..'));
  const dir = mkdtempSync(join(tmpdir(), 'simdflow-model-')), out = join(dir, 'model.mjs');
  try {
    return await runBundle(file, out, await bundle(esbuild, file, out, inside));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The model file and the user's files it imports as one ES module, with an inline source map whose paths resolve from `out`. */
async function bundle(esbuild: typeof import('esbuild'), file: string, out: string, inside: (p: string) => boolean): Promise<Uint8Array> {
  const result = await esbuild.build({
    entryPoints: [file], outfile: out, bundle: true, write: false, format: 'esm', platform: 'node', target: 'node20',
    logLevel: 'silent', sourcemap: 'inline',
    plugins: [{
      name: 'simdflow-externals',
      setup(b) {
        b.onResolve({ filter: /.*/ }, async (args) => {
          if (args.kind === 'entry-point' || args.pluginData === 'inner') return undefined;
          if (isBuiltin(args.path)) return { external: true };
          const self = SELF[args.path];
          const r = self ? { path: self, errors: [] } : await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'inner' });
          if (r.errors.length) return { errors: r.errors };
          const own = self !== undefined || inside(r.path);
          if (own && args.kind === 'require-call') {
            return { errors: [{ text: `require('${args.path}') is not supported in a model file (simdflow is an ES module package): write import { defineModel, nn } from 'simdflow' and export default defineModel(...)` }] };
          }
          // This package's own modules and other packages load natively (packages required
          // from CommonJS code are bundled); the user's files are bundled.
          const pkg = !args.path.startsWith('.') && !args.path.startsWith('/');
          if (own || (pkg && args.kind !== 'require-call')) return { path: pathToFileURL(compiled(r.path)).href, external: true };
          return { path: r.path };
        });
        b.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, (args) => {
          const meta = { url: pathToFileURL(args.path).href, dirname: dirname(args.path), filename: args.path };
          const text = readFileSync(args.path, 'utf8').replace(/\bimport\.meta\.(url|dirname|filename)\b/g, (_, k: keyof typeof meta) => JSON.stringify(meta[k]));
          const ext = args.path.replace(/^.*\.[cm]?/, '') as 'js' | 'ts' | 'jsx' | 'tsx';
          return { contents: text, loader: ext, resolveDir: dirname(args.path) };
        });
      },
    }],
  }).catch((e: { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }) => {
    const why = e.errors?.map((m) => `${m.location ? `${m.location.file}:${m.location.line}: ` : ''}${m.text}`).join('\n') ?? String(e);
    throw new Error(`${file}: could not load the model file:\n${why}`);
  });
  return result.outputFiles[0]!.contents;
}

/** Imports the bundle written to `out`. */
async function runBundle(file: string, out: string, code: Uint8Array): Promise<Record<string, unknown>> {
  writeFileSync(out, code);
  // An error thrown while the file runs is reported at its line in the user's source (the
  // bundle's inline source map), and a top-level await that never settles ends the process
  // with an empty event loop: say so rather than exit with Node's bare code 13.
  process.setSourceMapsEnabled(true);
  const unsettled = () => {
    process.stderr.write(`simdflow: ${file}: the model file never finished loading (its top-level await never settled)\n`);
    process.exitCode = 1;
  };
  process.once('exit', unsettled);
  try {
    return await import(pathToFileURL(out).href) as Record<string, unknown>;
  } catch (e) {
    throw inModelFile(file, e);
  } finally {
    process.off('exit', unsettled);
  }
}

/**
 * An error thrown by the model file's code (at import, or in forward() while tracing), as an Error
 * naming the file and, from its stack (source-mapped), the line: `model.ts:12:5: message`. With
 * `onlyThere`, an error whose stack never passes through the file is returned as it is.
 */
export function inModelFile(file: string, e: unknown, onlyThere = false): unknown {
  const at = e instanceof Error ? new RegExp(`${escape(resolve(file))}:(\\d+):(\\d+)\\)?$`, 'm').exec(e.stack ?? '') : null;
  if (onlyThere && !at) return e; // thrown by the compiler on its own (an unknown pass, memory): its message says where
  return new Error(`${file}${at ? `:${at[1]}:${at[2]}` : ''}: ${e instanceof Error ? e.message : `threw ${String(e).slice(0, 200)}`}`);
}

export async function loadDefinition(file: string, weights?: string): Promise<ModelDefinition> {
  const path = resolve(file);
  if (!existsSync(path)) throw new Error(`${file}: no such model file`);
  if (statSync(path).isDirectory()) throw new Error(`${file}: is a directory, not a model file`);
  const mod = await importModelFile(path);
  const def = mod.default as ModelDefinition | undefined;
  if (!def || !def.module || !def.inputs) throw new Error(`${file}: the default export must be defineModel({ name, module, inputs, ... })`);
  const w = weights ?? (def.weights ? join(dirname(path), def.weights) : undefined);
  if (w && !existsSync(w)) throw new Error(weights ? `--weights ${weights}: no such file` : `${file}: its weights '${def.weights}' (${w}) do not exist`);
  if (w) {
    const what = weights ? `--weights ${weights}` : `${file}: its weights ${w}`;
    let bytes: Uint8Array;
    try { bytes = readFileSync(w); } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new Error(`${what}: ${err.code === 'EISDIR' ? 'is a directory, not a safetensors file' : `cannot be read (${String(err.message).slice(0, 200)})`}`);
    }
    const tensors = stateDictFrom(readSafetensors(bytes, w));
    try { def.module.loadStateDict(tensors); } catch (e) { throw new Error(`${file}: the weights in ${w} do not fit the model: ${(e as Error).message}`); }
  }
  // Loaded: compileModel refuses a definition whose `weights` nobody read.
  return { ...def, weights: undefined };
}

/** Where a model's artifact goes: <out>/<name>.simdflow, and never outside <out>. */
export function artifactFile(out: string, def: ModelDefinition, file: string): string {
  const path = join(out, `${def.name}.simdflow`);
  if (typeof def.name !== 'string' || !def.name || dirname(path) !== out) throw new Error(`${file}: model name ${JSON.stringify(String(def.name).slice(0, 100))} is not a plain file name (the artifact would be written outside ${out})`);
  return path;
}
