// TensorFlow.js 4.22 with its wasm backend (XNNPACK) as a peer: SIMD build, one thread, wasm
// files from the package on disk. The workloads are written from tf ops, each weight uploaded
// once and transposed once to [in, out] at setup (as a converted model would store it):
//   - tf.fused.matMul is used without transposeB (4.22 gives wrong results for transposeB with a
//     bias), and every output is checked against simdflow's before timing anyway;
//   - LSTM/GRU are the per-step cell equations from tf ops (tf.layers.lstm/gru throw with their
//     default orthogonal initializer in 4.22), with the input projection done once for all steps;
//     its per-step rows are added with tf.add, since the wasm _FusedMatMul rejects a bias that is
//     a slice of a larger tensor ("only supports rank-1 bias" — it checks the buffer's shape).
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { Peer } from '../harness.ts';
import type { GPTShape, TransformerShape, Workload } from '../workloads.ts';

let ready: Promise<void> | undefined;

export function initTfjs(): Promise<void> {
  ready ??= (async () => {
    setWasmPaths(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')) + '/');
    setThreadsCount(1);
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend failed to initialise');
    await tf.ready();
    if (!tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) throw new Error('tfjs: the wasm backend runs without SIMD');
  })();
  return ready;
}

type T2 = tf.Tensor2D;

export async function tfjsPeer(wl: Workload): Promise<Peer> {
  await initTfjs();
  const t0 = performance.now();
  const kept: tf.Tensor[] = [];
  const keep = <X extends tf.Tensor>(t: X): X => { kept.push(t); return t; };
  const get = (name: string) => {
    const t = wl.weights.get(name);
    if (!t) throw new Error(`tfjs: no weight '${name}'`);
    return t;
  };
  /** PyTorch [out, in] → [in, out], once. */
  const wT = (name: string): T2 => keep(tf.tidy(() => tf.transpose(tf.tensor2d(get(name).data, get(name).shape as [number, number]))));
  const vec = (name: string): tf.Tensor1D => keep(tf.tensor1d(get(name).data));
  const mat = (name: string): T2 => keep(tf.tensor2d(get(name).data, get(name).shape as [number, number]));
  const at = (p: string, n: string) => (p ? `${p}.${n}` : n);

  /** nn.Linear at prefix: x·Wᵀ + b with an optional fused activation. */
  const linear = (p: string, bias = true, activation?: 'relu') => {
    const W = wT(at(p, 'weight')), b = bias ? vec(at(p, 'bias')) : undefined;
    return (x: T2): T2 => tf.fused.matMul({ a: x, b: W, bias: b, activation: activation ?? 'linear' }) as T2;
  };
  const layerNorm = (p: string) => {
    const g = vec(at(p, 'weight')), b = vec(at(p, 'bias'));
    return (x: T2): T2 => {
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), g), b);
    };
  };
  const attention = (p: string, s: TransformerShape, mask?: tf.Tensor) => {
    const { T, E, heads } = s, d = E / heads, sa = at(p, 'self_attn');
    const Win = wT(`${sa}.in_proj_weight`), bin = vec(`${sa}.in_proj_bias`), out = linear(`${sa}.out_proj`);
    const split = (t: T2) => tf.transpose(tf.reshape(t, [T, heads, d]), [1, 0, 2]) as tf.Tensor3D;
    return (x: T2): T2 => {
      const [q, k, v] = tf.split(tf.fused.matMul({ a: x, b: Win, bias: bin }), 3, 1) as [T2, T2, T2];
      let scores = tf.matMul(split(tf.mul(q, 1 / Math.sqrt(d))), split(k), false, true);  // [h, T, T]
      if (mask) scores = tf.add(scores, mask);
      const o = tf.matMul(tf.softmax(scores), split(v));                                   // [h, T, d]
      return out(tf.reshape(tf.transpose(o, [1, 0, 2]), [T, E]));
    };
  };

  // The input is uploaded inside each call, as the other engines copy theirs in on every run.
  const input = (): T2 => tf.tensor2d(wl.x, [wl.x.length / wl.xShape.at(-1)!, wl.xShape.at(-1)!]);
  let forward: () => tf.Tensor;
  const sp = wl.spec;
  switch (sp.kind) {
    case 'gemm': {
      const W = mat('weight');
      forward = () => tf.matMul(input(), W);
      break;
    }
    case 'mlp': {
      const layers = sp.sizes.slice(1).map((_, i) => linear(String(2 * i), true, i < sp.sizes.length - 2 ? 'relu' : undefined));
      forward = () => layers.reduce((h, f) => f(h), input());
      break;
    }
    case 'lstm': case 'gru': {
      const { T, H } = sp;
      const Wih = wT('weight_ih_l0'), Whh = wT('weight_hh_l0');
      const bih = vec('bias_ih_l0'), bhh = vec('bias_hh_l0');
      const bsum = keep(tf.add(bih, bhh));
      const h0 = keep(tf.zeros([1, H]));
      forward = sp.kind === 'lstm'
        ? () => {
          const xp = tf.split(tf.fused.matMul({ a: input(), b: Wih, bias: bsum }), T, 0) as T2[];  // T × [1, 4H]
          let h = h0 as T2, c = h0 as T2;
          const hs: T2[] = [];
          for (let t = 0; t < T; t++) {
            const [i, f, g, o] = tf.split(tf.add(tf.matMul(h, Whh), xp[t]!), 4, 1) as [T2, T2, T2, T2];
            c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
            h = tf.mul(tf.sigmoid(o), tf.tanh(c));
            hs.push(h);
          }
          return tf.reshape(tf.concat(hs, 0), [1, T, H]);
        }
        : () => {
          const xp = tf.split(tf.fused.matMul({ a: input(), b: Wih, bias: bih }), T, 0) as T2[];   // T × [1, 3H]
          let h = h0 as T2;
          const hs: T2[] = [];
          for (let t = 0; t < T; t++) {
            const [xrz, xn] = tf.split(xp[t]!, [2 * H, H], 1) as [T2, T2];
            const [hrz, hn] = tf.split(tf.fused.matMul({ a: h, b: Whh, bias: bhh }), [2 * H, H], 1) as [T2, T2];
            const [r, z] = tf.split(tf.sigmoid(tf.add(xrz, hrz)), 2, 1) as [T2, T2];
            const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
            h = tf.add(n, tf.mul(z, tf.sub(h, n)));
            hs.push(h);
          }
          return tf.reshape(tf.concat(hs, 0), [1, T, H]);
        };
      break;
    }
    case 'transformer': {
      const sa = attention('', sp), n1 = layerNorm('norm1'), n2 = layerNorm('norm2');
      const l1 = linear('linear1', true, 'relu'), l2 = linear('linear2');
      forward = () => {
        const x = input(), x1 = n1(tf.add(x, sa(x)));
        return tf.reshape(n2(tf.add(x1, l2(l1(x1)))), [1, sp.T, sp.E]);
      };
      break;
    }
    case 'gpt': forward = gptForward(sp, wl.tokens!, { keep, mat, linear, layerNorm, attention }); break;
  }
  const setupMs = performance.now() - t0;
  return {
    name: 'tfjs-wasm',
    setupMs,
    run: () => {
      const y = tf.tidy(forward);
      const data = y.dataSync() as Float32Array;
      y.dispose();
      return data;
    },
    dispose: () => { for (const t of kept) t.dispose(); },
  };
}

interface Builders {
  keep<X extends tf.Tensor>(t: X): X;
  mat(name: string): T2;
  linear(p: string, bias?: boolean): (x: T2) => T2;
  layerNorm(p: string): (x: T2) => T2;
  attention(p: string, s: TransformerShape, mask?: tf.Tensor): (x: T2) => T2;
}

/** Pre-LN GELU GPT over all T tokens; logits of every position, or of the last one for prefill. */
function gptForward(s: GPTShape & { mode: string }, tokens: Int32Array, b: Builders): () => tf.Tensor {
  const { T, V } = s;
  const tok = b.mat('tok_emb.weight'), pos = b.mat('pos_emb.weight'), ids = () => tf.tensor1d(tokens, 'int32');
  const maskData = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) maskData[i * T + j] = -Infinity;
  const mask = b.keep(tf.tensor2d(maskData, [T, T]));
  const blocks = Array.from({ length: s.layers }, (_, l) => {
    const p = `blocks.${l}`;
    const sa = b.attention(p, s, mask), n1 = b.layerNorm(`${p}.norm1`), n2 = b.layerNorm(`${p}.norm2`);
    const l1 = b.linear(`${p}.linear1`), l2 = b.linear(`${p}.linear2`);
    const gelu = (x: T2): T2 => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.div(x, Math.SQRT2)), 1));
    return (x: T2): T2 => {
      const x1: T2 = tf.add(x, sa(n1(x)));
      return tf.add(x1, l2(gelu(l1(n2(x1)))));
    };
  });
  const lnf = b.layerNorm('ln_f'), head = b.linear('head', false);
  const lastOnly = s.mode === 'prefill';
  return () => {
    let x = tf.add(tf.gather(tok, ids()), pos) as T2;
    for (const blk of blocks) x = blk(x);
    if (lastOnly) x = tf.slice(x, [T - 1, 0], [1, s.E]);
    const logits = head(lnf(x));
    return lastOnly ? logits : tf.reshape(logits, [1, T, V]);
  };
}
