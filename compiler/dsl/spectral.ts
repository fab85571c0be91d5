// torch.stft as an audio front end calls it: one strided Conv1d whose kernel is the windowed DFT
// basis (cos and −sin rows), over the signal padded by n_fft/2 at each end when centered. The DSL
// has no complex tensors: the result is torch's real form [..., freq, frames, 2] (real, imaginary),
// what return_complex=False (PyTorch 1.13's default) and torch.view_as_real give. torch computes
// an FFT; the sums here run over n_fft products in f32, within f32 rounding of its values.
import { describeValue } from '../ir/print.ts';
import { fmtShape } from '../ir/types.ts';
import { conv1d, floatArg, pad, PAD_MODES, type PadMode } from './functional.ts';
import { checkOptions } from './options.ts';
import { constant, ModelDefinitionError, Tensor, where } from './tensor.ts';

export interface StftOptions {
  hopLength?: number | null; winLength?: number | null; window?: Tensor | null; center?: boolean; padMode?: PadMode;
  normalized?: boolean; onesided?: boolean | null; returnComplex?: boolean | null;
}

/** torch.stft(x [L] or [B, L], nFft, …): [(B,) freq, frames, 2], freq nFft/2 + 1 (onesided) or nFft. */
export function stft(x: Tensor, nFft: number, o: StftOptions = {}): Tensor {
  checkOptions('stft', o, ['hopLength', 'winLength', 'window', 'center', 'padMode', 'normalized', 'onesided', 'returnComplex']);
  x = floatArg('stft', 'input', x);
  if (x.rank !== 1 && x.rank !== 2) throw new ModelDefinitionError(`stft: expected a 1-D [L] or 2-D [B, L] signal, got ${fmtShape(x.dims)}${where()}`);
  if (!Number.isInteger(nFft) || nFft < 1 || nFft > 4096) throw new ModelDefinitionError(`stft: n_fft must be an integer in [1, 4096], got ${describeValue(nFft)}${where()}`);
  const { center = true, padMode = 'reflect', normalized = false } = o;
  if (o.returnComplex === true) throw new ModelDefinitionError(`stft: returnComplex: true is refused (the DSL has no complex tensors); give returnComplex: false for the real form [..., freq, frames, 2], whose magnitude is s.pow(2).sum(-1).sqrt()${where()}`);
  const hop = o.hopLength ?? Math.floor(nFft / 4), win = o.winLength ?? nFft;
  if (!Number.isInteger(hop) || hop < 1) throw new ModelDefinitionError(`stft: hopLength must be a positive integer, got ${describeValue(o.hopLength)}${where()}`);
  if (!Number.isInteger(win) || win < 1 || win > nFft) throw new ModelDefinitionError(`stft: winLength must be an integer in [1, n_fft = ${nFft}], got ${describeValue(o.winLength)}${where()}`);
  for (const [name, v] of [['center', center], ['normalized', normalized], ['onesided', o.onesided ?? true]] as const) {
    if (typeof v !== 'boolean') throw new ModelDefinitionError(`stft: ${name} must be true or false, got ${describeValue(v)}${where()}`);
  }
  if (typeof padMode !== 'string' || !PAD_MODES.includes(padMode)) throw new ModelDefinitionError(`stft: padMode must be one of ${PAD_MODES.join(', ')}, got ${describeValue(padMode)}${where()}`);
  const window = o.window ?? null;
  if (window !== null && (!(window instanceof Tensor) || window.dtype !== 'f32' || window.rank !== 1 || window.dims[0] !== win)) {
    throw new ModelDefinitionError(`stft: window must be an f32 tensor [winLength = ${win}], got ${window instanceof Tensor ? `${window.dtype}${fmtShape(window.dims)}` : describeValue(window)}${where()}`);
  }
  const freqs = o.onesided ?? true ? Math.floor(nFft / 2) + 1 : nFft;
  // The basis [2·freqs, nFft]: cos(2πkn/N) rows, then −sin(2πkn/N) rows; the window is centred in n_fft.
  const basis = new Float32Array(2 * freqs * nFft), left = Math.floor((nFft - win) / 2), scale = normalized ? 1 / Math.sqrt(nFft) : 1;
  for (let k = 0; k < freqs; k++) {
    for (let n = 0; n < nFft; n++) {
      const a = (2 * Math.PI * ((k * n) % nFft)) / nFft, inWin = n >= left && n < left + win;
      basis[k * nFft + n] = inWin || window ? Math.cos(a) * scale : 0;
      basis[(freqs + k) * nFft + n] = inWin || window ? -Math.sin(a) * scale : 0;
    }
  }
  let kernel = constant(basis, [2 * freqs, nFft], 'f32', 'stft basis');
  if (window) kernel = kernel.mul(pad(window, [left, nFft - win - left]));
  const sig = x.rank === 1 ? x.unsqueeze(0) : x;
  const padded = center ? pad(sig.unsqueeze(1), [Math.floor(nFft / 2), Math.floor(nFft / 2)], padMode) : sig.unsqueeze(1);
  const s = conv1d(padded, kernel.unsqueeze(1), undefined, { stride: hop }); // [B, 2·freqs, frames]
  const y = s.reshape(s.dim(0), 2, freqs, s.dim(2)).permute(0, 2, 3, 1);
  return x.rank === 1 ? y.squeeze(0) : y;
}

/** A window's f32 constant: w(n / N) for n < length, N = length (periodic, torch's default) or length − 1. */
function windowOf(op: string, length: number, periodic: boolean, w: (t: number) => number): Tensor {
  if (!Number.isInteger(length) || length < 1 || length > 1 << 20) throw new ModelDefinitionError(`${op}: window_length must be an integer in [1, 2^20], got ${describeValue(length)}${where()}`);
  if (typeof periodic !== 'boolean') throw new ModelDefinitionError(`${op}: periodic must be true or false, got ${describeValue(periodic)}${where()}`);
  const N = periodic ? length : length - 1;
  // (torch: a window of one is [1])
  return constant(Float32Array.from({ length }, (_, n) => (length === 1 ? 1 : w(n / N))), [length], 'f32', op);
}
/** torch.hann_window(length, periodic = true): 0.5 − 0.5·cos(2πn/N). */
export const hannWindow = (length: number, periodic = true): Tensor => windowOf('hann_window', length, periodic, (t) => 0.5 - 0.5 * Math.cos(2 * Math.PI * t));
/** torch.hamming_window(length, periodic = true, alpha = 0.54, beta = 0.46): α − β·cos(2πn/N). */
export function hammingWindow(length: number, periodic = true, alpha = 0.54, beta = 0.46): Tensor {
  for (const [name, v] of [['alpha', alpha], ['beta', beta]] as const) if (typeof v !== 'number' || !Number.isFinite(v)) throw new ModelDefinitionError(`hamming_window: ${name} must be a finite number, got ${describeValue(v)}${where()}`);
  return windowOf('hamming_window', length, periodic, (t) => alpha - beta * Math.cos(2 * Math.PI * t));
}
/** torch.blackman_window(length, periodic = true): 0.42 − 0.5·cos(2πn/N) + 0.08·cos(4πn/N). */
export const blackmanWindow = (length: number, periodic = true): Tensor => windowOf('blackman_window', length, periodic, (t) => 0.42 - 0.5 * Math.cos(2 * Math.PI * t) + 0.08 * Math.cos(4 * Math.PI * t));
