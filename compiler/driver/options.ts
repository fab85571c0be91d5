// compileModel's options, checked by key and type before anything is compiled (a misspelt
// option would otherwise be ignored, and a bad `isas` fail only after the whole compile).
import { ISAS, MAX_NAME } from '../../runtime/format.ts';
import { describeValue as show } from '../ir/print.ts';

const OPTIONS = ['name', 'disablePasses', 'isas', 'attention', 'onStage'];

/** The first problem with `opts` as a message (`where` names the caller), or undefined. */
export function compileOptionsProblem(opts: unknown): string | undefined {
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) return `options must be an object with keys among ${OPTIONS.join(', ')}; got ${show(opts)}`;
  const unknown = Object.keys(opts).find((k) => !OPTIONS.includes(k));
  if (unknown !== undefined) return `unknown option '${unknown.slice(0, 60)}' (allowed: ${OPTIONS.join(', ')})`;
  const { isas, disablePasses, attention, onStage, name } = opts as Record<string, unknown>;
  if (isas !== undefined && !(Array.isArray(isas) && isas.length > 0 && isas.every((i) => ISAS.includes(i)))) return `option isas must be a non-empty array of ${ISAS.join(', ')}; got ${show(isas)}${Array.isArray(isas) ? ` ([${isas.slice(0, 4).map(show).join(', ')}])` : ''}`;
  // The same ISA twice was compiled twice (the second overwrote the first).
  const twice = Array.isArray(isas) ? isas.find((x, i) => isas.indexOf(x) !== i) : undefined;
  if (twice !== undefined) return `option isas names ${twice} twice`;
  if (disablePasses !== undefined && !(Array.isArray(disablePasses) && disablePasses.every((p) => typeof p === 'string'))) return `option disablePasses must be an array of pass names; got ${show(disablePasses)}`;
  if (attention !== undefined && !['auto', 'fused', 'unfused'].includes(attention as string)) return `option attention must be 'auto', 'fused' or 'unfused'; got ${show(attention)}`;
  if (onStage !== undefined && typeof onStage !== 'function') return `option onStage must be a function; got ${show(onStage)}`;
  if (name !== undefined && (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME)) return `option name must be a string of 1 to ${MAX_NAME} characters (the artifact's limit); got ${show(name)}`;
  return undefined;
}

