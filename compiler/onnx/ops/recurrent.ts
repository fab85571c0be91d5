// ONNX RNN / LSTM / GRU onto the IR's rnn_seq / lstm_seq / gru_seq (one direction each, after
// the input projection). ONNX's layouts: X [T, B, I] (layout 1: [B, T, I]); W [D, G·H, I];
// R [D, G·H, H]; B [D, 2·G·H] (W's bias then R's); initial_h/c [D, B, H]; Y [T, D, B, H]
// (layout 1: [B, T, D, H]); Y_h/Y_c [D, B, H] (layout 1: [B, D, H]). Its gate orders differ
// from PyTorch's (ours): LSTM i o f c → i f g o, GRU z r h → r z n. GRU with
// linear_before_reset = 0 (ONNX's default: the reset gate multiplies h before R_h) has no fused
// kernel, nor do LSTM peepholes: those are unrolled over time. With a symbolic batch or time
// (dims, not shape) the fused ops run the run-time sizes; the unrolled ones need a fixed T.
// Shape legend: T time, B batch, I input, H hidden, D directions.

import { isSymbolic, type Dim } from '../../ir/dims.ts';
import { cat, constant, recordMulti, zeros, type Tensor } from '../../dsl/tensor.ts';
import { Ctx, type Val } from '../ctx.ts';

type Kind = 'RNN' | 'LSTM' | 'GRU';
const GATES: Record<Kind, number> = { RNN: 1, LSTM: 4, GRU: 3 };
/** Our gate k is ONNX's gate ORDER[k]. */
const ORDER: Record<Kind, number[]> = { RNN: [0], LSTM: [0, 2, 3, 1], GRU: [1, 0, 2] };
const DEFAULT_ACTS: Record<Kind, string[]> = { RNN: ['Tanh'], LSTM: ['Sigmoid', 'Tanh', 'Tanh'], GRU: ['Sigmoid', 'Tanh'] };

/** Rows of a [G·H, …] tensor reordered gate by gate. */
function reorder(t: Tensor, kind: Kind, H: number): Tensor {
  const parts = ORDER[kind].map((g) => t.slice(0, g * H, (g + 1) * H));
  return parts.length === 1 ? t : cat(parts, 0);
}

function recurrent(kind: Kind) {
  return (c: Ctx): (Val | undefined)[] => {
    c.only('activation_alpha', 'activation_beta', 'activations', 'clip', 'direction', 'hidden_size', 'input_forget', 'layout', 'linear_before_reset');
    if (c.attr('clip')) c.unsupported("attribute 'clip'");
    if (c.int('input_forget', 0)) c.unsupported('input_forget = 1');
    if (c.attr('activation_alpha') || c.attr('activation_beta')) c.unsupported('activation_alpha/activation_beta');
    const dir = c.str('direction', 'forward');
    if (!['forward', 'reverse', 'bidirectional'].includes(dir)) c.unsupported(`direction '${dir}'`);
    const D = dir === 'bidirectional' ? 2 : 1, G = GATES[kind];
    const acts = c.stringList('activations') ?? [];
    const rnnAct: Array<'tanh' | 'relu'> = [];
    for (let d = 0; d < D; d++) {
      const n = DEFAULT_ACTS[kind].length;
      const mine = acts.length ? acts.slice(d * n, (d + 1) * n) : DEFAULT_ACTS[kind];
      if (mine.length !== n) c.unsupported(`activations [${acts.join(', ')}] (${n} per direction expected)`);
      rnnAct.push(kind === 'RNN' && mine[0]!.toLowerCase() === 'relu' ? 'relu' : 'tanh');
      if (kind === 'RNN' && rnnAct[d] === 'relu') continue;
      if (mine.some((a, i) => a.toLowerCase() !== DEFAULT_ACTS[kind][i]!.toLowerCase())) c.unsupported(`activations [${acts.join(', ')}]`);
    }
    const layout = c.int('layout', 0);
    let x = c.t(0, 'X');
    if (x.dtype !== 'f32' || x.rank !== 3) c.unsupported(`X ${x.dtype}[${x.maxShape}]`);
    if (layout === 0) x = x.permute(1, 0, 2); // [B, T, I]
    const [B, T] = x.dims as [Dim, Dim];
    const W = c.t(1, 'W'), R = c.constTensor(2, 'R (recurrence weights)');
    const H = R.maxSize(2);
    if (c.attr('hidden_size') && c.int('hidden_size', H) !== H) c.unsupported(`hidden_size ${c.int('hidden_size', H)} with R of shape [${R.maxShape}]`);
    if (W.rank !== 3 || W.maxSize(0) !== D || W.maxSize(1) !== G * H) c.unsupported(`W of shape [${W.maxShape}] (expected [${D}, ${G * H}, I])`);
    if (c.has(4)) {
      if (isSymbolic(T)) c.unsupported(`sequence_lens with the symbolic sequence length ${T}`);
      const lens = c.ints(4, 'sequence_lens');
      if (lens.some((l) => l !== T)) c.unsupported(`sequence_lens [${lens}] shorter than the sequence (${T})`);
    }
    // Peepholes (LSTM input 7, [D, 3H] in ONNX's order i, o, f) run unrolled; all zeros is no peephole.
    const P = kind === 'LSTM' && c.has(7) && Array.from(c.host(7, 'P (peepholes)').data as ArrayLike<number>).some((v) => v !== 0) ? c.t(7, 'P') : undefined;
    const bias = c.has(3) ? c.constTensor(3, 'B (biases)') : undefined;
    const state = (i: number) => {
      if (!c.has(i)) return undefined;
      const s = c.t(i, i === 5 ? 'initial_h' : 'initial_c');
      return layout === 0 ? s : s.permute(1, 0, 2); // [D, B, H]
    };
    const h0 = state(5), c0 = kind === 'LSTM' ? state(6) : undefined;
    const lbr = kind === 'GRU' ? c.int('linear_before_reset', 0) : 1;
    const ys: Tensor[] = [], hs: Tensor[] = [], cs: Tensor[] = [];
    for (let d = 0; d < D; d++) {
      const reverse = dir === 'reverse' || d === 1;
      const Wd = reorder(W.select(0, d), kind, H), Rd = reorder(R.select(0, d), kind, H);
      const bw = bias ? reorder(bias.select(0, d).slice(0, 0, G * H), kind, H) : undefined;
      const br = bias ? reorder(bias.select(0, d).slice(0, G * H, 2 * G * H), kind, H) : undefined;
      let xp = x.matmul(Wd.mT);
      if (bw) xp = xp.add(bw);
      const zeroState = () => zeros([B, H], x.bounds);
      const h = h0 ? h0.select(0, d) : zeroState();
      const unrolled = (kind === 'GRU' && !lbr) || P;
      if (unrolled && typeof T !== 'number') c.unsupported(`${kind === 'GRU' ? 'GRU with linear_before_reset = 0' : 'LSTM peepholes'} (run step by step) over the symbolic sequence length ${T}`);
      if (kind === 'GRU' && !lbr) {
        const [y, hn] = unrolledGru(xp, Rd, br, h, reverse, T as number, H);
        ys.push(y); hs.push(hn);
        continue;
      }
      if (P) {
        const Pd = P.select(0, d);
        const [y, hn, cn] = unrolledLstm(xp, Rd, br, h, c0 ? c0.select(0, d) : zeroState(), [0, 2, 1].map((g) => Pd.slice(0, g * H, (g + 1) * H)) as [Tensor, Tensor, Tensor], reverse, T as number, H);
        ys.push(y); hs.push(hn); cs.push(cn);
        continue;
      }
      const op = kind === 'RNN' ? 'rnn_seq' : kind === 'LSTM' ? 'lstm_seq' : 'gru_seq';
      const ins = [xp, Rd, br ?? constZero([G * H]), h, ...(kind === 'LSTM' ? [c0 ? c0.select(0, d) : zeroState()] : [])];
      const [y, hn, cn] = recordMulti(op, ins, { ...(kind === 'RNN' ? { act: rnnAct[d]! } : {}), ...(reverse ? { reverse: true } : {}) });
      ys.push(y!); hs.push(hn!); if (cn) cs.push(cn);
    }
    const stackDirs = (ts: Tensor[], axis: number) => cat(ts.map((t) => t.unsqueeze(axis)), axis);
    // y_d [B, T, H] → Y [T, D, B, H] or [B, T, D, H]; h_d [B, H] → [D, B, H] or [B, D, H].
    const Y = layout === 0 ? stackDirs(ys.map((y) => y.permute(1, 0, 2)), 1) : stackDirs(ys, 2);
    const Yh = stackDirs(hs, layout === 0 ? 0 : 1);
    const Yc = cs.length ? stackDirs(cs, layout === 0 ? 0 : 1) : undefined;
    return kind === 'LSTM' ? [Y, Yh, Yc] : [Y, Yh];
  };
}

const constZero = (shape: number[]): Tensor => constant(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape, 'f32', 'zeros');

/** LSTM with peepholes, step by step (gates i f c o after reordering; p = [P_i, P_f, P_o]). */
function unrolledLstm(xp: Tensor, R: Tensor, rb: Tensor | undefined, h0: Tensor, c0: Tensor, p: [Tensor, Tensor, Tensor], reverse: boolean, T: number, H: number): [Tensor, Tensor, Tensor] {
  const Rt = R.mT;
  let h = h0, cell = c0;
  const out: Tensor[] = new Array<Tensor>(T);
  const gate = (a: Tensor, g: number) => a.slice(1, g * H, (g + 1) * H);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    let a = xp.select(1, t).add(h.matmul(Rt));
    if (rb) a = a.add(rb);
    const i = gate(a, 0).add(cell.mul(p[0])).sigmoid(), f = gate(a, 1).add(cell.mul(p[1])).sigmoid();
    cell = f.mul(cell).add(i.mul(gate(a, 2).tanh()));
    const o = gate(a, 3).add(cell.mul(p[2])).sigmoid();
    h = o.mul(cell.tanh());
    out[t] = h.unsqueeze(1);
  }
  return [cat(out, 1), h, cell];
}

/** GRU with linear_before_reset = 0, step by step: n = tanh(xp_n + (r ⊙ h)·R_nᵀ + Rb_n). */
function unrolledGru(xp: Tensor, R: Tensor, rb: Tensor | undefined, h0: Tensor, reverse: boolean, T: number, H: number): [Tensor, Tensor] {
  const Rrz = R.slice(0, 0, 2 * H).mT, Rn = R.slice(0, 2 * H, 3 * H).mT;
  const brz = rb?.slice(0, 0, 2 * H), bn = rb?.slice(0, 2 * H, 3 * H);
  let h = h0;
  const out: Tensor[] = new Array<Tensor>(T);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const xt = xp.select(1, t); // [B, 3H]
    let rz = h.matmul(Rrz);
    if (brz) rz = rz.add(brz);
    rz = xt.slice(1, 0, 2 * H).add(rz).sigmoid();
    const r = rz.slice(1, 0, H), z = rz.slice(1, H, 2 * H);
    let hn = r.mul(h).matmul(Rn);
    if (bn) hn = hn.add(bn);
    const n = xt.slice(1, 2 * H, 3 * H).add(hn).tanh();
    h = n.add(z.mul(h.sub(n))); // (1 − z)·n + z·h
    out[t] = h.unsqueeze(1);
  }
  return [cat(out, 1), h];
}

export const RECURRENT = { RNN: recurrent('RNN'), LSTM: recurrent('LSTM'), GRU: recurrent('GRU') };
