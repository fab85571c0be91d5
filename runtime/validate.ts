// Checks a manifest before anything uses it: every field present with its type, dtypes and
// shapes from the allowed set, sizes consistent, and every tensor inside the region it must
// live in — inputs in the arena, state tensors in the state region, outputs in the arena or
// the state (or among the weights for a constant output) — with regions inside memory and
// apart. A crafted manifest can then neither write over the weights nor read past memory.

import { DTYPE_BYTES, SYNC_BYTES, SYNC_MAX_SIZES, ISAS, MAX_NAME, numel, type BlobRef, type Manifest, type Region, type TensorInfo } from './format.ts';
import { evalDim, linearDim, namesOf, SIZE_NAME } from './dims.ts';

const PAGE = 65536, MAX_PAGES = 65536;

class Invalid extends Error {}
const fail = (field: string, msg: string): never => { throw new Invalid(`invalid simdflow manifest: ${field} ${msg}`); };
const show = (v: unknown): string => {
  let s: string;
  try { s = JSON.stringify(v) ?? String(v); } catch { s = String(v); }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: Record<string, unknown>, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);

function obj(v: unknown, field: string): Record<string, unknown> {
  if (!isObj(v)) fail(field, `must be an object, found ${show(v)}`);
  return v as Record<string, unknown>;
}
function count(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(field, `must be a non-negative integer, found ${show(v)}`);
  return v as number;
}
function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_NAME) fail(field, `must be a string of 1 to ${MAX_NAME} characters, found ${show(v)}`);
  return v as string;
}
function region(v: unknown, field: string): Region {
  const o = obj(v, field);
  return { offset: count(own(o, 'offset'), `${field}.offset`), bytes: count(own(o, 'bytes'), `${field}.bytes`) };
}
function blobRef(v: unknown, field: string): BlobRef {
  const o = obj(v, field), c = own(o, 'checksum');
  if (typeof c !== 'string' || !/^[0-9a-f]{32}$/.test(c)) fail(`${field}.checksum`, `must be 32 hex digits, found ${show(c)}`);
  return { offset: count(own(o, 'offset'), `${field}.offset`), length: count(own(o, 'length'), `${field}.length`), checksum: c as string };
}

/** A tensor's description; its bytes are numel × dtype size. */
function tensor(v: unknown, field: string): TensorInfo {
  const o = obj(v, field);
  const name = str(own(o, 'name'), `${field}.name`), dtype = own(o, 'dtype'), shape = own(o, 'shape');
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) fail(`${field}.dtype`, `must be one of ${Object.keys(DTYPE_BYTES).join(', ')}, found ${show(dtype)}`);
  if (!Array.isArray(shape) || shape.length > 8) fail(`${field}.shape`, `must be a list of at most 8 dimensions, found ${show(shape)}`);
  (shape as unknown[]).forEach((d, i) => count(d, `${field}.shape[${i}]`));
  const size = DTYPE_BYTES[dtype as keyof typeof DTYPE_BYTES];
  const bytes = numel(shape as number[]) * size;
  if (!Number.isSafeInteger(bytes) || bytes > MAX_PAGES * PAGE) fail(`${field}.shape`, `${show(shape)} is larger than wasm32 memory`);
  const offset = count(own(o, 'offset'), `${field}.offset`);
  if (offset % size) fail(`${field}.offset`, `${offset} is not aligned to ${size} bytes for ${dtype}`);
  const t: TensorInfo = { name, dtype: dtype as TensorInfo['dtype'], shape: shape as number[], offset };
  const range = own(o, 'range');
  if (range !== undefined) {
    if (dtype !== 'i32' || !Array.isArray(range) || range.length !== 2 || !range.every((r) => Number.isSafeInteger(r)) || range[0] >= range[1]) {
      fail(`${field}.range`, `must be [lo, hi) integers with lo < hi on an i32 tensor, found ${show(range)}`);
    }
    t.range = [(range as number[])[0]!, (range as number[])[1]!];
  }
  const dims = own(o, 'dims');
  if (dims !== undefined) {
    if (!Array.isArray(dims) || dims.length !== t.shape.length || dims.some((d) => namesOf(d) === undefined)) {
      fail(`${field}.dims`, `must be a list of ${t.shape.length} dims (integers or polynomials of size names), found ${show(dims)}`);
    }
    t.dims = [...dims as Array<number | string>];
  }
  const constant = own(o, 'constant');
  if (constant !== undefined && constant !== true) fail(`${field}.constant`, `must be true when present, found ${show(constant)}`);
  if (constant) t.constant = true;
  return t;
}

/**
 * An entry's named sizes: bounds from 2 to 2^30; every input dim a number, one name or c*NAME+d
 * (linearDim: the runtime reads the sizes off the inputs); every name an input uses, and only those, bounded;
 * every dim's value at the bounds equal to its shape (what memory was planned for).
 */
function sizes(v: unknown, inputs: TensorInfo[], outputs: TensorInfo[], f: string): Record<string, number> {
  const o = obj(v, `${f}.sizes`), out: Record<string, number> = {};
  for (const [k, b] of Object.entries(o)) {
    if (!SIZE_NAME.test(k) || k in out) fail(`${f}.sizes`, `has size name ${show(k)}, which is not a name`);
    if (typeof b !== 'number' || !Number.isInteger(b) || b < 2 || b > 2 ** 30) fail(`${f}.sizes.${k}`, `must be an integer bound from 2 to 2^30, found ${show(b)}`);
    out[k] = b as number;
  }
  const used = new Set<string>();
  for (const t of inputs) (t.dims ?? []).forEach((d, i) => {
    const l = linearDim(d);
    if (typeof d === 'string' && !l) fail(`${f} input '${t.name}'.dims[${i}]`, `must be a number, a size name or c*NAME+d, found ${show(d)}`);
    if (l) used.add(l.name);
  });
  for (const k of Object.keys(out)) if (!used.has(k)) fail(`${f}.sizes.${k}`, 'is not a dim of any input');
  for (const t of [...inputs, ...outputs]) (t.dims ?? []).forEach((d, i) => {
    for (const n of namesOf(d)!) if (out[n] === undefined) fail(`${f} '${t.name}'.dims[${i}]`, `uses size '${n}', which the entry does not bound`);
    if (typeof d === 'string' && /(^|[+])-[^+]*[A-Za-z_]/.test(d.replace(/-/g, '+-'))) fail(`${f} '${t.name}'.dims[${i}]`, `${show(d)} shrinks as a size grows, so the bounds do not bound it`);
    if (evalDim(d, out) !== t.shape[i]) fail(`${f} '${t.name}'.dims[${i}]`, `${show(d)} is ${evalDim(d, out)} at the bounds, but shape[${i}] is ${t.shape[i]}`);
  });
  return out;
}

type Span = { offset: number; bytes: number };
const span = (t: TensorInfo | Region): Span => ('bytes' in t ? t : { offset: t.offset, bytes: numel(t.shape) * DTYPE_BYTES[t.dtype] });
const end = (r: TensorInfo | Region) => span(r).offset + span(r).bytes;
const inside = (t: TensorInfo, r: Region) => t.offset >= r.offset && end(t) <= end(r);
const overlap = (a: TensorInfo | Region, b: TensorInfo | Region) => span(a).bytes > 0 && span(b).bytes > 0 && a.offset < end(b) && b.offset < end(a);

/** Tensors that must not share bytes (the inputs of one entry; the state tensors). */
function apart(ts: TensorInfo[], field: string): void {
  const sorted = ts.map((t, i) => ({ t, i })).sort((a, b) => a.t.offset - b.t.offset);
  for (let k = 1; k < sorted.length; k++) {
    const a = sorted[k - 1]!, b = sorted[k]!;
    if (overlap(a.t, b.t)) fail(`${field}[${b.i}] '${b.t.name}'`, `(bytes ${b.t.offset}..${end(b.t)}) overlaps ${field}[${a.i}] '${a.t.name}' (bytes ${a.t.offset}..${end(a.t)})`);
  }
}
function uniqueNames(ts: TensorInfo[], field: string): void {
  const seen = new Set<string>();
  ts.forEach((t, i) => { if (seen.has(t.name)) fail(`${field}[${i}].name`, `'${t.name}' appears twice`); seen.add(t.name); });
}

export function validateManifest(raw: unknown): Manifest {
  const m = obj(raw, 'the manifest');
  if (own(m, 'format') !== 'simdflow') fail('format', `must be "simdflow", found ${show(own(m, 'format'))}`);
  const version = str(own(m, 'version'), 'version'), name = str(own(m, 'name'), 'name');

  const mem = obj(own(m, 'memory'), 'memory');
  const pages = count(own(mem, 'pages'), 'memory.pages');
  if (pages < 1 || pages > MAX_PAGES) fail('memory.pages', `must be between 1 and ${MAX_PAGES}, found ${pages}`);
  const regions = { weights: region(own(mem, 'weights'), 'memory.weights'), state: region(own(mem, 'state'), 'memory.state'), arena: region(own(mem, 'arena'), 'memory.arena') };
  const names = Object.keys(regions) as Array<keyof typeof regions>;
  for (const k of names) if (end(regions[k]) > pages * PAGE) fail(`memory.${k}`, `(bytes ${regions[k].offset}..${end(regions[k])}) runs past the memory of ${pages} pages (${pages * PAGE} bytes)`);
  for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) {
    if (overlap(regions[names[i]!], regions[names[j]!])) fail(`memory.${names[j]}`, `(bytes ${regions[names[j]!].offset}..${end(regions[names[j]!])}) overlaps memory.${names[i]} (bytes ${regions[names[i]!].offset}..${end(regions[names[i]!])})`);
  }

  const stRaw = own(m, 'state');
  if (!Array.isArray(stRaw)) fail('state', `must be a list, found ${show(stRaw)}`);
  const state = (stRaw as unknown[]).map((t, i) => tensor(t, `state[${i}]`));
  state.forEach((t, i) => { if (!inside(t, regions.state)) fail(`state[${i}] '${t.name}'`, `(bytes ${t.offset}..${end(t)}) lies outside memory.state (bytes ${regions.state.offset}..${end(regions.state)})`); });
  uniqueNames(state, 'state');
  apart(state, 'state');

  const entriesRaw = obj(own(m, 'entries'), 'entries');
  const entries: Manifest['entries'] = Object.create(null); // an entry named __proto__ must not become the prototype
  const exportsSeen = new Set<string>();
  if (Object.keys(entriesRaw).length === 0) fail('entries', 'must name at least one entry');
  for (const [en, ev] of Object.entries(entriesRaw)) {
    const f = `entries['${show(en).slice(1, -1)}']`;
    if (en.length > MAX_NAME) fail(f, `has a name longer than ${MAX_NAME} characters`);
    const e = obj(ev, f);
    const exp = str(own(e, 'export'), `${f}.export`);
    if (exp === 'memory' || exportsSeen.has(exp)) fail(`${f}.export`, `'${exp}' is ${exp === 'memory' ? 'the memory' : 'another entry\'s function'}`);
    exportsSeen.add(exp);
    const ins = own(e, 'inputs'), outs = own(e, 'outputs');
    if (!Array.isArray(ins)) fail(`${f}.inputs`, `must be a list, found ${show(ins)}`);
    if (!Array.isArray(outs)) fail(`${f}.outputs`, `must be a list, found ${show(outs)}`);
    const inputs = (ins as unknown[]).map((t, i) => tensor(t, `${f}.inputs[${i}]`));
    const outputs = (outs as unknown[]).map((t, i) => tensor(t, `${f}.outputs[${i}]`));
    inputs.forEach((t, i) => { if (!inside(t, regions.arena)) fail(`${f}.inputs[${i}] '${t.name}'`, `(bytes ${t.offset}..${end(t)}) lies outside memory.arena (bytes ${regions.arena.offset}..${end(regions.arena)})`); });
    outputs.forEach((t, i) => {
      const ok = t.constant ? inside(t, regions.weights) : inside(t, regions.arena) || inside(t, regions.state);
      if (!ok) fail(`${f}.outputs[${i}] '${t.name}'`, `(bytes ${t.offset}..${end(t)}) lies outside ${t.constant ? 'memory.weights' : 'memory.arena and memory.state'}`);
    });
    uniqueNames(inputs, `${f}.inputs`);
    uniqueNames(outputs, `${f}.outputs`);
    apart(inputs, `${f}.inputs`);
    entries[en] = { export: exp, inputs, outputs };
    const sz = own(e, 'sizes');
    if (sz !== undefined) entries[en].sizes = sizes(sz, inputs, outputs, f);
    else for (const t of [...inputs, ...outputs]) if (t.dims) fail(`${f} '${t.name}'.dims`, 'names sizes but the entry declares none');
    // Declared least sizes: each of a named size, an integer from 1 to its bound (an unknown name's bound is undefined: m <= undefined is false).
    const lo = own(e, 'min') as Record<string, number> | undefined;
    if (lo !== undefined) for (const [k, m] of Object.entries(obj(entries[en].min = lo, `${f}.min`) as typeof lo)) if (!(Number.isInteger(m) && m >= 1 && m <= entries[en].sizes?.[k]!)) fail(`${f}.min.${k}`, `must be an integer in [1, its bound], found ${show(m)}`);
    const par = own(e, 'parallel');
    if (par !== undefined) entries[en]!.parallel = count(par, `${f}.parallel`);
    const sip = own(e, 'stateInPlace');
    if (sip !== undefined) {
      if (!Array.isArray(sip) || !sip.every((k) => state.some((t) => t.name === k))) fail(`${f}.stateInPlace`, `must list names of state tensors (state: ${state.map((t) => t.name).join(', ') || 'none'}), found ${show(sip)}`);
      entries[en]!.stateInPlace = [...new Set(sip as string[])];
    }
  }
  const ids = Object.values(entries).flatMap((e) => (e.parallel === undefined ? [] : [e.parallel]));
  if (new Set(ids).size !== ids.length) fail('entries', `give two entries the same parallel id (${ids.join(', ')})`);

  const codeRaw = obj(own(m, 'code'), 'code');
  const code: Manifest['code'] = {};
  for (const k of Object.keys(codeRaw)) if (!(ISAS as readonly string[]).includes(k)) fail(`code.${show(k).slice(1, -1)}`, `is not an instruction set (${ISAS.join(', ')})`);
  for (const isa of ISAS) if (own(codeRaw, isa) !== undefined) code[isa] = blobRef(codeRaw[isa], `code.${isa}`);
  if (Object.keys(code).length === 0) fail('code', 'holds no wasm module');
  const weights = blobRef(own(m, 'weights'), 'weights');
  if (weights.length !== regions.weights.bytes) fail('weights.length', `is ${weights.length} bytes, memory.weights holds ${regions.weights.bytes}`);

  const out: Manifest = {
    format: 'simdflow', version, name, entries, state, memory: { pages, ...regions }, code, weights,
    stats: (isObj(own(m, 'stats')) ? m.stats : {}) as Manifest['stats'],
  };
  if (own(m, 'generation') !== undefined) out.generation = generation(own(m, 'generation'), out);
  const th = own(m, 'threads');
  if (th !== undefined) {
    const t = obj(th, 'threads'), sync = region(own(t, 'sync'), 'threads.sync'), max = count(own(t, 'max'), 'threads.max');
    if (max < 1 || max > 256) fail('threads.max', `must be between 1 and 256, found ${max}`);
    if (sync.offset % 64 || sync.bytes !== SYNC_BYTES) fail('threads.sync', `must be 64-byte aligned and ${SYNC_BYTES} bytes (this runtime's thread protocol; recompile an artifact from another simdflow version), found ${show(sync)}`);
    for (const [en, e] of Object.entries(entries)) if (e.parallel !== undefined && Object.keys(e.sizes ?? {}).length > SYNC_MAX_SIZES) fail(`entries['${en}'].parallel`, `is set on an entry with more named sizes than the sync region holds`);
    if (end(sync) > pages * PAGE) fail('threads.sync', `(bytes ${sync.offset}..${end(sync)}) runs past the memory of ${pages} pages`);
    for (const k of names) if (overlap(sync, regions[k])) fail('threads.sync', `(bytes ${sync.offset}..${end(sync)}) overlaps memory.${k}`);
    out.threads = { sync, max };
  } else if (ids.length) fail('threads', 'is missing, but entries have parallel ids');
  return out;

}

/** The language-model description must point at entries and tensors of the right kind. */
function generation(v: unknown, m: Manifest): NonNullable<Manifest['generation']> {
  const o = obj(v, 'generation');
  const g = {
    prefill: str(own(o, 'prefill'), 'generation.prefill'), decode: str(own(o, 'decode'), 'generation.decode'),
    chunk: count(own(o, 'chunk'), 'generation.chunk'), capacity: count(own(o, 'capacity'), 'generation.capacity'), vocab: count(own(o, 'vocab'), 'generation.vocab'),
    tokens: str(own(o, 'tokens'), 'generation.tokens'), count: str(own(o, 'count'), 'generation.count'),
    logits: str(own(o, 'logits'), 'generation.logits'), position: str(own(o, 'position'), 'generation.position'),
  };
  const batch = own(o, 'batch') === undefined ? 1 : count(own(o, 'batch'), 'generation.batch');
  if (batch < 1) fail('generation.batch', `must be at least 1, found ${batch}`);
  const sequence = batch > 1 ? str(own(o, 'sequence'), 'generation.sequence') : undefined;
  for (const k of ['chunk', 'capacity', 'vocab'] as const) if (g[k] < 1) fail(`generation.${k}`, `must be at least 1, found ${g[k]}`);
  if (g.chunk > g.capacity) fail('generation.chunk', `${g.chunk} exceeds generation.capacity ${g.capacity}`);
  const want = (list: TensorInfo[], name: string, dtype: string, n: number, field: string) => {
    const t = list.find((x) => x.name === name);
    if (!t || t.dtype !== dtype || numel(t.shape) !== n) fail(field, `must name ${dtype} tensor '${name}' of ${n} values, found ${t ? `${t.dtype}[${t.shape.join(', ')}]` : 'none'}`);
  };
  for (const k of ['prefill', 'decode'] as const) {
    const e = Object.hasOwn(m.entries, g[k]) ? m.entries[g[k]] : undefined;
    if (!e) fail(`generation.${k}`, `names no entry ('${g[k]}')`);
    const n = k === 'prefill' ? g.chunk : 1, rows = k === 'prefill' ? 1 : batch;
    want(e!.inputs, g.tokens, 'i32', n * rows, `generation.tokens (in entry '${g[k]}')`);
    if (n > 1) want(e!.inputs, g.count, 'i32', 1, `generation.count (in entry '${g[k]}')`);
    want(e!.outputs, g.logits, 'f32', g.vocab * rows, `generation.logits (in entry '${g[k]}')`);
  }
  if (sequence !== undefined) {
    want(m.entries[g.prefill]!.inputs, sequence, 'i32', 1, `generation.sequence (in entry '${g.prefill}')`);
    // The sequence picks a cache row: the entry must refuse any other value before wasm runs.
    const r = m.entries[g.prefill]!.inputs.find((x) => x.name === sequence)!.range;
    if (!r || r[0] !== 0 || r[1] !== batch) fail('generation.sequence', `input '${sequence}' must have the range [0, ${batch}], found ${r ? `[${r.join(', ')}]` : 'none'}`);
  }
  want(m.state, g.position, 'i32', batch, 'generation.position');
  return batch > 1 ? { ...g, batch, sequence } : g;
}
