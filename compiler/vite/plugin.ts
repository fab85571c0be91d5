// The Vite plugin: `import url from './mlp.model.ts?simdflow'` (or an ONNX file,
// `./model.onnx?simdflow`) compiles the model file at build time and gives the app the artifact's URL (an emitted asset in `vite build`, served from
// memory by `vite dev`, which recompiles and reloads the page when the model file, a file it
// imports or its weights change).
//
// Model files are loaded by Vite's own SSR module loader, in a private server (the app's
// plugins and client aliases do not apply). The compiler is loaded by the same loader, and
// `simdflow` in a model file is bound to that copy: two copies of the DSL would make a
// model's tensors foreign to the tracer. The compiler, binaryen and asc are loaded on the
// first `?simdflow` import, not when the plugin is.
import { createHash } from 'node:crypto';
import { basename, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin, ResolvedConfig, ViteDevServer } from 'vite';
import type { CompileOptions } from '../driver/compile.ts';
import { compileOptionsProblem } from '../driver/options.ts';
import { describeValue } from '../ir/print.ts';
import type { Artifact } from './artifact.ts';
import type { ImportOptions } from '../onnx/import.ts';

export interface SimdflowOptions {
  /** The import suffix that asks for a compiled model (default `simdflow`: `?simdflow`). */
  query?: string;
  /** Passed to compileModel (instruction sets, disabled passes…). */
  compile?: CompileOptions;
  /** For `.onnx` files: sizes of symbolic dimensions, e.g. { dims: { batch: 1 } } (see importOnnx). */
  onnx?: Pick<ImportOptions, 'dims' | 'shapes'>;
}

const PREFIX = '\0simdflow:';
const SERVE = '/@simdflow/';
// Our own modules: .ts in the repository, .js in the compiled package.
const own = (path: string) => fileURLToPath(new URL(`${path}${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
const ARTIFACT_MODULE = own('./artifact'), COMPILER_ENTRY = own('../index');

/** Files a module loaded by `server` depends on (itself included), outside node_modules. */
function dependencies(server: ViteDevServer, file: string): string[] {
  const graph = server.environments.ssr.moduleGraph, seen = new Set<string>(), todo = [...(graph.getModulesByFile(file) ?? [])];
  while (todo.length) {
    const m = todo.pop()!;
    if (!m.file || seen.has(m.file) || m.file.includes('/node_modules/')) continue;
    seen.add(m.file);
    todo.push(...m.importedModules);
  }
  return [...seen];
}

export default function simdflow(options: SimdflowOptions = {}): Plugin {
  // Checked when vite.config is read, not at the first import of a model.
  if (typeof options !== 'object' || options === null) throw new Error(`simdflow(): options must be an object { query?, compile? }, got ${describeValue(options)}`);
  const unknown = Object.keys(options).find((k) => k !== 'query' && k !== 'compile' && k !== 'onnx');
  if (unknown !== undefined) throw new Error(`simdflow(): unknown option '${unknown.slice(0, 60)}' (allowed: query, compile, onnx)`);
  if (options.onnx !== undefined) {
    const o = options.onnx as Record<string, unknown> | null;
    const bad = typeof o !== 'object' || o === null ? 'must be an object { dims?, shapes? }' : Object.keys(o).find((k) => k !== 'dims' && k !== 'shapes');
    if (bad !== undefined) throw new Error(`simdflow(): option onnx ${typeof o === 'object' && o !== null ? `has unknown key '${String(bad).slice(0, 60)}' (allowed: dims, shapes)` : bad}`);
  }
  if (options.query !== undefined && !(typeof options.query === 'string' && /^[\w-]+$/.test(options.query))) throw new Error(`simdflow(): option query must be a word (letters, digits, _ or -), got ${describeValue(options.query)}`);
  const problem = options.compile === undefined ? undefined : compileOptionsProblem(options.compile);
  if (problem) throw new Error(`simdflow(): compile: ${problem}`);
  const suffix = `?${options.query ?? 'simdflow'}`;
  let config: ResolvedConfig;
  let loader: Promise<ViteDevServer> | undefined;
  let dev = false;
  const served = new Map<string, Uint8Array>(), servedKey = new Map<string, string>();
  // Which ?simdflow modules each file feeds (model files, their imports, weights).
  const dependents = new Map<string, Set<string>>();

  const getLoader = (): Promise<ViteDevServer> => loader ??= import('vite').then(({ createServer }) => createServer({
    configFile: false, root: config.root, logLevel: 'error', appType: 'custom', clearScreen: false,
    resolve: { alias: [{ find: /^simdflow$/, replacement: COMPILER_ENTRY }] },
    server: { middlewareMode: true, hmr: false, watch: null, ws: false }, optimizeDeps: { noDiscovery: true, include: [] },
  }));

  async function closeLoader(): Promise<void> {
    const l = loader;
    loader = undefined;
    await (await l)?.close();
  }

  async function compile(file: string): Promise<Artifact & { files: string[] }> {
    const server = await getLoader();
    const { buildArtifact, buildOnnxArtifact } = await server.ssrLoadModule(ARTIFACT_MODULE) as typeof import('./artifact.ts');
    if (/\.onnx$/i.test(file)) return { ...await buildOnnxArtifact(file, options.compile, options.onnx), files: [file] };
    const artifact = await buildArtifact(await server.ssrLoadModule(file), file, options.compile);
    return { ...artifact, files: [...dependencies(server, file), ...(artifact.weights ? [artifact.weights] : [])] };
  }

  return {
    name: 'simdflow',
    enforce: 'pre',
    configResolved(c) { config = c; },
    configureServer(server) {
      dev = true;
      server.middlewares.use((req, res, next) => {
        const at = req.url?.indexOf(SERVE) ?? -1;
        const bytes = at >= 0 ? served.get(req.url!.slice(at + SERVE.length).split('?')[0]!) : undefined;
        if (!bytes) { next(); return; }
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length, 'cache-control': 'no-cache' }).end(bytes);
      });
    },
    async resolveId(source, importer) {
      if (!source.endsWith(suffix)) return null;
      const path = source.slice(0, -suffix.length);
      const resolved = await this.resolve(path, importer, { skipSelf: true });
      if (!resolved) this.error(`simdflow: cannot resolve the model file '${path}'${importer ? ` imported by ${importer}` : ''}`);
      return PREFIX + resolved.id;
    },
    async load(id) {
      if (!id.startsWith(PREFIX)) return null;
      const file = id.slice(PREFIX.length);
      const watch = (files: string[]) => {
        for (const f of files) {
          this.addWatchFile(f);
          if (!dependents.has(f)) dependents.set(f, new Set());
          dependents.get(f)!.add(id);
        }
      };
      let artifact: Awaited<ReturnType<typeof compile>>;
      const t0 = performance.now();
      try {
        artifact = await compile(file);
      } catch (e) {
        watch([file]); // fixing the model file recompiles
        const err = e as Error;
        this.error({ message: `simdflow: cannot compile ${relative(config.root, file)}: ${err.message}`, id: file, stack: err.stack });
      }
      watch(artifact.files);
      const fileName = `${artifact.name || basename(file).replace(/\..*$/, '')}.simdflow`;
      config.logger.info(`simdflow: compiled ${relative(config.root, file)} → ${fileName} (${(artifact.bytes.length / 1024).toFixed(0)} KB) in ${(performance.now() - t0).toFixed(0)} ms`, { timestamp: true });
      if (dev) {
        const key = `${createHash('sha256').update(artifact.bytes).digest('hex').slice(0, 12)}/${fileName}`;
        const old = servedKey.get(file);
        if (old !== undefined && old !== key) served.delete(old);
        served.set(key, artifact.bytes);
        servedKey.set(file, key);
        return `export default ${JSON.stringify(`${config.base}${SERVE.slice(1)}${key}`)};`;
      }
      const ref = this.emitFile({ type: 'asset', name: fileName, source: artifact.bytes });
      return `export default import.meta.ROLLUP_FILE_URL_${ref};`;
    },
    async hotUpdate({ file, modules, timestamp }) {
      // Vite does not tie watched files to a virtual module's HMR: invalidate ours, and start
      // the loader afresh so the changed model (and whatever imports it) is executed again.
      const ids = this.environment.name === 'client' ? dependents.get(file) : undefined;
      if (!ids) return;
      await closeLoader();
      const graph = this.environment.moduleGraph;
      const stale = [...ids].flatMap((id) => graph.getModuleById(id) ?? []);
      for (const m of stale) graph.invalidateModule(m, new Set(), timestamp, true);
      return [...modules, ...stale];
    },
    async buildEnd() { await closeLoader(); }, // the end of a build, or the dev server closing
  };
}
