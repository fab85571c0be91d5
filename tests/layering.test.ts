// The folders of compiler/ are layers (docs/architecture.md): each imports only the layers
// listed for it here, so the folder graph has no cycle. The runtime imports nothing from the compiler.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
/** Layer → the layers it may import (besides itself). Keep in step with docs/architecture.md. */
const ALLOWED: Record<string, string[]> = {
  ir: [],
  /** The runtime only for feedSizes: the reference reads sizes off its feeds as run() does. */
  reference: ['ir', 'runtime'],
  /** The runtime only for linearDim: an input dim must be one the runtime can read its size off. */
  dsl: ['ir', 'runtime'],
  weights: ['ir'],
  /** The ONNX front end: decodes the file, translates through the DSL's tensor ops, folds with the reference. */
  onnx: ['ir', 'dsl', 'reference'],
  passes: ['ir', 'reference'],
  /** The target: never the passes (they get the Target handed to them by the driver). */
  codegen: ['ir', 'runtime'],
  /** The compile driver: trace → passes (given codegen's Target) → emit → assemble. */
  driver: ['ir', 'dsl', 'passes', 'codegen', 'runtime'],
  conformance: ['ir', 'dsl', 'weights', 'onnx', 'reference', 'codegen', 'driver', 'runtime'],
  fuzz: ['ir', 'dsl', 'reference', 'passes', 'codegen', 'driver', 'runtime'],
  vite: ['ir', 'dsl', 'weights', 'onnx', 'codegen', 'driver', 'runtime'],
  cli: ['ir', 'dsl', 'weights', 'onnx', 'reference', 'passes', 'codegen', 'driver', 'conformance', 'fuzz', 'runtime', 'package'],
  /** Files directly in compiler/: the package's entry points (index.ts, the Vite plugin). */
  package: ['ir', 'dsl', 'weights', 'onnx', 'reference', 'passes', 'codegen', 'driver', 'runtime', 'vite'],
  runtime: [],
};

const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => {
  const p = join(dir, f);
  return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
});
/** compiler/<layer>/… → layer; a file directly in compiler/ → package; runtime/… → runtime. */
const layerOf = (p: string) => {
  const parts = relative(ROOT, p).split(/[\\/]/);
  return parts[0] === 'compiler' ? (parts.length === 2 ? 'package' : parts[1]!) : parts[0]!;
};

function edges(): Map<string, Set<string>> {
  const g = new Map<string, Set<string>>();
  for (const f of [...files(join(ROOT, 'compiler')), ...files(join(ROOT, 'runtime'))]) {
    const from = layerOf(f);
    for (const m of readFileSync(f, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const to = layerOf(resolve(dirname(f), m[1]!));
      if (to !== from) (g.get(from) ?? g.set(from, new Set()).get(from)!).add(to);
    }
  }
  return g;
}

describe('layering', () => {
  test('every folder imports only the layers below it', () => {
    const bad: string[] = [];
    for (const [from, tos] of edges()) {
      if (!(from in ALLOWED)) { bad.push(`${from}: a layer not in the table (document it in docs/architecture.md and here)`); continue; }
      for (const to of tos) if (!ALLOWED[from]!.includes(to)) bad.push(`${from} → ${to}`);
    }
    expect(bad).toEqual([]);
  });

  test('the documented layering has no cycle', () => {
    const state = new Map<string, 'open' | 'done'>();
    const visit = (n: string, path: string[]): void => {
      if (state.get(n) === 'done') return;
      if (state.get(n) === 'open') throw new Error(`cycle: ${[...path, n].join(' → ')}`);
      state.set(n, 'open');
      for (const m of ALLOWED[n] ?? []) visit(m, [...path, n]);
      state.set(n, 'done');
    };
    for (const n of Object.keys(ALLOWED)) visit(n, []);
  });
});
