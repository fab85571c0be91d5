// PyTorch's self.fc(x): a module is called as a function, this.fc(x), and that is this.fc.call(x)
// (the same scope for errors, the same arity checks). A model written so is compiled and run in the
// reference against the same model written with .call and against its forward done by hand in f64.
import { describe, expect, test } from 'vitest';
import { compileModel, defineModel, F, interpret, Module, nn, printGraph, trace, traceModel, type ModelDefinition, type Tensor } from '../compiler/index.ts';
import { describeValue } from '../compiler/ir/print.ts';
import { loadModelBytes } from '../runtime/model.ts';
import '../runtime/node.ts';
import { TEST_ISAS } from './helpers/isa.ts';

/** A user's submodule, called as a function by its parent; it has a class field, a #private one, and a name. */
class Block extends Module {
  fc = new nn.Linear(3, 3);
  #gain = 2;
  // (override: Module's type declares name and length, which a function would have; with
  // noImplicitOverride, as here, a field of that name says so.)
  override name = 'block';
  forward(x: Tensor): Tensor { return this.fc(x).relu().mul(this.#gain); }
}

class CallNet extends Module {
  layers = [new nn.Linear(4, 3), new nn.Linear(3, 3)]; // an array of modules: PyTorch's ModuleList
  seq = new nn.Sequential(new nn.Linear(3, 3), new nn.Tanh());
  block = new Block();
  fc = new nn.Linear(3, 2);
  heads = new nn.ModuleList([new nn.Linear(2, 2)]);
  forward(x: Tensor): Tensor {
    let h = x;
    for (let i = 0; i < this.layers.length; i++) h = this.layers[i]!(h).relu();
    return this.heads.get(-1)(this.fc(this.block(this.seq(h))));
  }
}

/** The same model with .call. */
class DotCallBlock extends Module {
  fc = new nn.Linear(3, 3);
  forward(x: Tensor): Tensor { return this.fc.call(x).relu().mul(2); }
}
class DotCallNet extends Module {
  layers = [new nn.Linear(4, 3), new nn.Linear(3, 3)];
  seq = new nn.Sequential(new nn.Linear(3, 3), new nn.Tanh());
  block = new DotCallBlock();
  fc = new nn.Linear(3, 2);
  heads = new nn.ModuleList([new nn.Linear(2, 2)]);
  forward(x: Tensor): Tensor {
    let h = x;
    for (let i = 0; i < this.layers.length; i++) h = this.layers[i]!.call(h).relu();
    return this.heads.get(-1).call(this.fc.call(this.block.call(this.seq.call(h))));
  }
}

/** x @ W^T + b in f64, rows of x. */
function linear(x: number[][], w: Float32Array, b: Float32Array): number[][] {
  const out = b.length, inp = w.length / out;
  return x.map((r) => Array.from({ length: out }, (_, o) => b[o]! + r.reduce((s, v, k) => s + v * w[o * inp + k]!, 0)));
}

async function runCompiled(def: ModelDefinition, x: Float32Array): Promise<Float32Array> {
  const m = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes);
  try { return m.run({ x }).y as Float32Array; } finally { m.dispose(); }
}

describe('a module called as a function', () => {
  test('this.fc(x), this.layers[i](x), a Sequential, a ModuleList item and a user submodule called as functions compute the .call model, compiled and in the reference, and the forward by hand', async () => {
    const net = new CallNet();
    expect(typeof net).toBe('function');
    expect(net).toBeInstanceOf(Module);
    expect(net.block).toBeInstanceOf(Block);
    // state_dict names as PyTorch's, and the .call model loads them.
    const sd = net.stateDict();
    expect([...sd.keys()]).toEqual(['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias', 'seq.0.weight', 'seq.0.bias', 'block.fc.weight', 'block.fc.bias', 'fc.weight', 'fc.bias', 'heads.0.weight', 'heads.0.bias']);
    const twin = new DotCallNet().loadStateDict(sd);
    const def = defineModel({ name: 'callable', module: net, inputs: { x: [2, 4] } });
    const twinDef = defineModel({ name: 'dotcall', module: twin, inputs: { x: [2, 4] } });
    // (The graphs differ only in the constants' names, which are the same state_dict names.)
    expect(printGraph(traceModel(def))).toBe(printGraph(traceModel(twinDef)));

    const x = Float32Array.of(0.5, -1, 2, 0.25, -0.75, 1.5, -2, 1);
    const p = (k: string) => sd.get(k)!.data as Float32Array;
    let h = [[...x.slice(0, 4)], [...x.slice(4)]];
    for (const i of [0, 1]) h = linear(h, p(`layers.${i}.weight`), p(`layers.${i}.bias`)).map((r) => r.map((v) => Math.max(v, 0)));
    h = linear(h, p('seq.0.weight'), p('seq.0.bias')).map((r) => r.map(Math.tanh));
    h = linear(h, p('block.fc.weight'), p('block.fc.bias')).map((r) => r.map((v) => Math.max(v, 0) * 2));
    h = linear(linear(h, p('fc.weight'), p('fc.bias')), p('heads.0.weight'), p('heads.0.bias'));
    const want = h.flat();
    // (A forward that gives zeros would not test much: the default weights give a varied output.)
    expect(new Set(want.map((v) => v.toFixed(3))).size).toBe(4);

    const ref = interpret(traceModel(def), { x }).y as Float32Array;
    const [got, gotTwin] = [await runCompiled(def, x), await runCompiled(twinDef, x)];
    expect(Array.from(got)).toEqual(Array.from(gotTwin));
    for (const [out, where] of [[got, 'compiled'], [ref, 'reference']] as const) {
      expect(out.length, where).toBe(4);
      out.forEach((v, i) => expect(Math.abs(v - want[i]!), `${where} y[${i}] = ${v}, by hand ${want[i]}`).toBeLessThan(1e-5 + 1e-5 * Math.abs(want[i]!)));
    }
  });

  test('LSTM, MultiheadAttention, a Transformer layer and a Sequential iterated are called as functions as with .call', () => {
    class Seq extends Module {
      lstm = new nn.LSTM(4, 4, { batchFirst: true });
      mha = new nn.MultiheadAttention(4, 2, { batchFirst: true });
      enc = new nn.TransformerEncoderLayer(4, 2, { dimFeedforward: 8, dropout: 0, batchFirst: true });
      conv = new nn.Conv2d(1, 2, 3, { padding: 1 });
      stack = new nn.Sequential(new nn.Linear(4, 4), new nn.GELU());
      constructor(readonly callable: boolean) { super(); }
      forward(x: Tensor): Record<string, Tensor> {
        if (this.callable) {
          const [y, [hN]] = this.lstm(x);
          const [a] = this.mha(y, y, y, { needWeights: false });
          let s = this.enc(a);
          for (const layer of this.stack) s = (layer as nn.Linear)(s);
          return { s, h: hN, c: this.conv(x.unsqueeze(1)) };
        }
        const [y, [hN]] = this.lstm.call(x);
        const [a] = this.mha.call(y, y, y, { needWeights: false });
        let s = this.enc.call(a);
        for (const layer of this.stack) s = (layer as nn.Linear).call(s);
        return { s, h: hN, c: this.conv.call(x.unsqueeze(1)) };
      }
    }
    const a = new Seq(true), b = new Seq(false).loadStateDict(a.stateDict());
    const ga = traceModel(defineModel({ name: 'a', module: a, inputs: { x: [2, 3, 4] } }));
    const gb = traceModel(defineModel({ name: 'b', module: b, inputs: { x: [2, 3, 4] } }));
    expect(printGraph(ga)).toBe(printGraph(gb));
    const x = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i * 0.7));
    const ra = interpret(ga, { x }), rb = interpret(gb, { x });
    for (const k of ['s', 'h', 'c']) expect(Array.from(ra[k] as Float32Array), k).toEqual(Array.from(rb[k] as Float32Array));
    expect((ra.s as Float32Array).some((v) => v !== 0)).toBe(true);
  });

  test('a value typed only as Module is callable (its result typed unknown); a subclass keeps its own call types', () => {
    class Chain extends Module {
      layers: Module[] = [new nn.Linear(4, 4), new nn.ReLU(), new nn.Linear(4, 2)];
      forward(x: Tensor): Tensor {
        for (const m of this.layers) x = m(x) as Tensor;
        return x;
      }
    }
    const chain = new Chain();
    const x = Float32Array.from({ length: 8 }, (_, i) => Math.cos(i));
    const got = interpret(traceModel(defineModel({ name: 'c', module: chain, inputs: { x: [2, 4] } })), { x }).y as Float32Array;
    const [l1, , l2] = chain.layers as [nn.Linear, Module, nn.Linear];
    const lin = (l: nn.Linear, v: number[]) => Array.from({ length: l.weight.shape[0]! }, (_, o) => v.reduce((s, xi, i) => s + xi * l.weight.data[o * v.length + i]!, l.bias!.data[o]!));
    const want = [0, 1].flatMap((r) => lin(l2, lin(l1, Array.from(x.slice(r * 4, r * 4 + 4))).map((v) => Math.max(v, 0))));
    Array.from(got).forEach((v, j) => expect(v).toBeCloseTo(want[j]!, 5));
    // @ts-expect-error: a Linear is called with a tensor (its forward's types)
    expect(() => new nn.Linear(2, 2)(3)).toThrow(/tensor operations run only inside trac/);
  });

  test('a module as a Transformer layer\'s activation is called as PyTorch\'s activation=nn.GELU() is, as \'gelu\'', () => {
    const byName = new nn.TransformerEncoderLayer(4, 2, { dimFeedforward: 8, dropout: 0, activation: 'gelu' });
    const byModule = new nn.TransformerEncoderLayer(4, 2, { dimFeedforward: 8, dropout: 0, activation: new nn.GELU() }).loadStateDict(byName.stateDict());
    const x = Float32Array.from({ length: 24 }, (_, i) => Math.cos(i * 0.3));
    const run = (m: Module) => Array.from(interpret(traceModel(defineModel({ name: 'e', module: m, inputs: { x: [3, 2, 4] } })), { x }).y as Float32Array);
    expect(run(byModule)).toEqual(run(byName));
  });

  test('fields named name and length (function properties, read-only on a function) work, and Sequential keeps its length', () => {
    class Named extends Module {
      fc = new nn.Linear(2, 2, { bias: false });
      override length = 3; // repeats
      declare kind: string;
      constructor() { super(); this.name = 'repeat'; this.kind = 'x'; }
      forward(x: Tensor): Tensor {
        for (let i = 0; i < (this.length as number); i++) x = this.fc(x);
        return x;
      }
    }
    const m = new Named();
    expect([m.name, m.length, m.kind]).toEqual(['repeat', 3, 'x']);
    m.length = 2;
    m.fc.weight.data = Float32Array.of(1, 2, 0, -1);
    expect(m.namedParameters().map(([k]) => k)).toEqual(['fc.weight']);
    // x = [1, 1]: W x = [3, −1], then W [3, −1] = [1, 1].
    const g = traceModel(defineModel({ name: 'n', module: m, inputs: { x: [1, 2] } }));
    expect(Array.from(interpret(g, { x: Float32Array.of(1, 1) }).y as Float32Array)).toEqual([1, 1]);
    const seq = new nn.Sequential(new nn.ReLU(), new nn.Tanh());
    expect(seq.length).toBe(2);
    expect(new nn.ModuleList([new nn.ReLU()]).length).toBe(1);
    expect([...seq].map((l) => l.constructor.name)).toEqual(['ReLU', 'Tanh']);
  });

  test('a call with the wrong arguments gives .call\'s error, naming the module path', () => {
    class Net extends Module {
      fc = new nn.Linear(2, 2);
      constructor(readonly how: 'extra' | 'none' | 'number', readonly dot: boolean) { super(); }
      forward(x: Tensor): Tensor {
        const f = this.fc as unknown as (...a: unknown[]) => Tensor, c = (...a: unknown[]) => (this.fc.call as (...b: unknown[]) => Tensor).apply(this.fc, a);
        const args = this.how === 'extra' ? [x, x] : this.how === 'none' ? [] : [3];
        return this.dot ? c(...args) : f(...args);
      }
    }
    const err = (how: 'extra' | 'none' | 'number', dot: boolean) => {
      try { traceModel(defineModel({ name: 'n', module: new Net(how, dot), inputs: { x: [1, 2] } })); } catch (e) { return String(e); }
      return 'no error';
    };
    expect(err('extra', false)).toBe("ModelDefinitionError: Linear.forward: takes 1 argument (x), got 2 in module 'fc' (Linear)");
    expect(err('none', false)).toBe("ModelDefinitionError: Linear 'fc': expected a tensor as the first argument, got no arguments (does the model declare its inputs?)");
    expect(err('number', false)).toMatch(/^ModelDefinitionError: linear: input must be a tensor, got 3 in module 'fc' \(Linear\)/);
    for (const how of ['extra', 'none', 'number'] as const) expect(err(how, false)).toBe(err(how, true));
    // Not a constructor, and Function's apply/bind are not there to be confused with a module's.
    expect(() => new (new nn.ReLU() as unknown as new () => unknown)()).toThrow(TypeError);
    expect((new nn.ReLU() as { apply?: unknown }).apply).toBeUndefined();
  });

  test('a module is described as the object it is, not as a function', () => {
    const lin = new nn.Linear(2, 2);
    expect(describeValue(lin)).toBe('Linear');
    expect(String(lin)).toBe('[object Linear]');
    expect(describeValue(() => 1)).toBe('() => 1');
    expect(() => new nn.ModuleList(lin as never)).toThrow('ModuleList: expected an array of modules, got Linear (put the modules in an array: new nn.ModuleList([a, b]))');
    expect(() => new nn.Linear(2, 2).loadStateDict(lin as never)).toThrow('loadStateDict into Linear: expected a state_dict, a Map or an object of { shape, data } by parameter name (stateDictFrom(readSafetensors(bytes)) gives one); got Linear (a module: load its state_dict, linear.stateDict())');
    expect(() => defineModel({ name: 'f', module: ((x: Tensor) => x) as never, inputs: { x: [1] } })).toThrow("defineModel 'f': module must be an nn.Module (a layer, nn.Sequential or a subclass of nn.Module), got a function");
    expect(() => defineModel(lin as never)).toThrow('defineModel: expected { name, module, inputs, forward?, weights?, ... }, got Linear');
    expect(() => trace(lin as never, { x: [1, 2] })).toThrow('trace(): expected a function (inputs) => outputs, got Linear (a module: traceModel(defineModel({ name, module, inputs })) traces it, or trace((i) => m(i.x), inputs))');
    expect(() => trace((i) => F.linear(lin as never, i.w!), { w: [2, 2] })).toThrow('linear: input must be a tensor, got Linear');
  });
});
