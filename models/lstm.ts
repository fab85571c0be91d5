// An LSTM over a sequence of 64 steps (input 128, hidden 256), with a stateful
// `step` entry: one time step per call, h and c kept in wasm memory between calls.
import { defineModel, nn, type Tensor } from 'simdflow';

const L = 1, I = 128, H = 256, T = 64;
const lstm = new nn.LSTM(I, H, { numLayers: L, batchFirst: true });

export default defineModel({
  name: 'lstm',
  description: 'nn.LSTM(128, 256, batch_first) over 64 steps, batch 1, plus step()',
  module: lstm,
  inputs: { x: [1, T, I] },
  forward: (m, i) => { const [y, [h, c]] = m.call(i.x!); return { y, h_n: h, c_n: c }; },
  state: { h: [L, 1, H], c: [L, 1, H] },
  entries: {
    step: {
      inputs: { x: [1, I] },
      forward: (m, i, s) => {
        const [y, [h, c]] = m.call(i.x!.unsqueeze(1), [s.h!, s.c!] as [Tensor, Tensor]);
        return { outputs: { y: y.squeeze(1) }, state: { h, c } };
      },
    },
  },
});
