// Option objects are checked by key: a misspelt or unsupported option (PyTorch's snake_case
// `dim_feedforward`, `batch_first`, an option we do not implement) throws instead of being ignored.

import { describeValue } from '../ir/print.ts';
import { fmtShape } from '../ir/types.ts';
import { ModelDefinitionError, Tensor } from './tensor.ts';

/** The options that are flags, wherever they appear: true or false, nothing else. */
const FLAGS = new Set(['bias', 'batchFirst', 'bidirectional', 'normFirst', 'elementwiseAffine', 'countIncludePad', 'isCausal',
  'needWeights', 'averageAttnWeights', 'strict', 'tgtIsCausal', 'memoryIsCausal', 'alignCorners', 'recomputeScaleFactor', 'antialias',
  'ceilMode', 'returnIndices', 'affine', 'trackRunningStats', 'scaleGradByFreq', 'sparse', 'addBiasKv', 'addZeroAttn', 'includeLastOffset']);

/** Throws naming `where`, the unknown key and the allowed ones (or a flag that is not a boolean); returns the options (or {}). */
export function checkOptions<T extends object>(where: string, opts: T | undefined, allowed: ReadonlyArray<keyof T & string>): T {
  if (opts === undefined) return {} as T;
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts) || opts instanceof Tensor) {
    // A tensor here is PyTorch's positional mask (layer(src, mask)): here masks go in by name.
    // The first mask key is the one PyTorch takes in that position (the lists keep its order).
    const mask = allowed.find((k) => /mask$/i.test(k));
    const named = opts instanceof Tensor ? ` ${fmtShape(opts.maxShape)}${mask ? `: a mask goes in by name, as { ${mask}: tensor }` : ''}` : '';
    throw new ModelDefinitionError(`${where}: options must be an object with keys among ${allowed.join(', ')}; got ${describeValue(opts)}${named}`);
  }
  for (const k of Object.keys(opts)) {
    if (!(allowed as readonly string[]).includes(k)) throw new ModelDefinitionError(`${where}: unknown option '${k}' (allowed: ${allowed.join(', ')})`);
    // A flag given as a string ('false') or a number would otherwise count as true.
    const v = (opts as Record<string, unknown>)[k];
    if (FLAGS.has(k) && v !== undefined && typeof v !== 'boolean') throw new ModelDefinitionError(`${where}: option ${k} must be true or false, got ${describeValue(v)}`);
  }
  return opts;
}
