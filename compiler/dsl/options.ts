// Option objects are checked by key: a misspelt or unsupported option (PyTorch's snake_case
// `dim_feedforward`, `batch_first`, an option we do not implement) throws instead of being ignored.

import { ModelDefinitionError } from './tensor.ts';

/** Throws naming `where`, the unknown key and the allowed ones; returns the options (or {}). */
export function checkOptions<T extends object>(where: string, opts: T | undefined, allowed: ReadonlyArray<keyof T & string>): T {
  if (opts === undefined) return {} as T;
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
    throw new ModelDefinitionError(`${where}: options must be an object with keys among ${allowed.join(', ')}; got ${Array.isArray(opts) ? 'an array' : String(opts)}`);
  }
  for (const k of Object.keys(opts)) {
    if (!(allowed as readonly string[]).includes(k)) throw new ModelDefinitionError(`${where}: unknown option '${k}' (allowed: ${allowed.join(', ')})`);
  }
  return opts;
}
