/**
 * The training step as one TensorFlow graph, the way Keras runs it. tfjs executes every op
 * eagerly, one TFE_Execute per op, and eager TensorFlow skips the graph optimisations (Grappler,
 * oneDNN's layout rewrites) that Keras' compiled `train_step` gets; on this model that costs about
 * half the speed (docs/performance.md). So for the layer types of this project's models the
 * forward pass, the gradients (written out layer by layer with TensorFlow's own gradient kernels)
 * and Keras' Adam update are emitted as a GraphDef, wrapped in a SavedModel in a temporary folder,
 * and run through tfjs-node's SavedModel session. Weights and Adam's moments go in and come out
 * as ordinary tensors every step; the model's variables are updated in place, so everything else
 * (predict, evaluate, save) sees the trained weights. Models with other layers use the eager path.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from './backend';

/* The protobuf classes tfjs-node ships for reading SavedModels (no typings are published). */
interface Message {
  serializeBinary(): Uint8Array;
}
interface Proto {
  AttrValue: new () => Message & {
    setType(t: number): void; setShape(s: unknown): void; setList(l: unknown): void; setS(s: Uint8Array): void;
    setB(b: boolean): void; setTensor(t: unknown): void;
  };
  TensorShape: (new () => Message & { addDim(d: unknown): void }) & { Dim: new () => { setSize(n: number): void } };
  Tensor: new () => Message & { setDtype(t: number): void; setTensorShape(s: unknown): void; addFloatVal(v: number): void; addIntVal(v: number): void };
  NodeDef: new () => Message & { setName(n: string): void; setOp(o: string): void; addInput(i: string): void; getAttrMap(): Map<string, unknown> };
  GraphDef: new () => Message & { addNode(n: unknown): void; setVersions(v: unknown): void };
  VersionDef: new () => { setProducer(p: number): void };
  MetaGraphDef: (new () => Message & {
    setMetaInfoDef(i: unknown): void; setGraphDef(g: unknown): void; getSignatureDefMap(): Map<string, unknown>;
  }) & { MetaInfoDef: new () => { addTags(t: string): void } };
  SignatureDef: new () => { getInputsMap(): Map<string, unknown>; getOutputsMap(): Map<string, unknown>; setMethodName(n: string): void };
  TensorInfo: new () => { setName(n: string): void; setDtype(t: number): void; setTensorShape(s: unknown): void };
  SavedModel: new () => Message & { setSavedModelSchemaVersion(v: number): void; addMetaGraphs(m: unknown): void };
}
interface ListValue {
  addI(i: number): void;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pb = require('@tensorflow/tfjs-node/dist/proto/api_pb.js') as Proto & { AttrValue: { ListValue: new () => ListValue } };

const DT_FLOAT = 1;
const DT_INT32 = 3;
const DT_BOOL = 10;

/** A GraphDef under construction: each method adds a node and returns its output name. */
class GraphBuilder {
  readonly graph = new pb.GraphDef();
  private count = 0;

  attrType(t: number) {
    const a = new pb.AttrValue();
    a.setType(t);
    return a;
  }

  attrShape(dims: number[]) {
    const a = new pb.AttrValue();
    a.setShape(this.shape(dims));
    return a;
  }

  attrInts(values: number[]) {
    const a = new pb.AttrValue();
    const list = new pb.AttrValue.ListValue();
    for (const v of values) list.addI(v);
    a.setList(list);
    return a;
  }

  attrString(s: string) {
    const a = new pb.AttrValue();
    a.setS(Buffer.from(s));
    return a;
  }

  attrBool(b: boolean) {
    const a = new pb.AttrValue();
    a.setB(b);
    return a;
  }

  shape(dims: number[]) {
    const s = new pb.TensorShape();
    for (const d of dims) {
      const dim = new pb.TensorShape.Dim();
      dim.setSize(d);
      s.addDim(dim);
    }
    return s;
  }

  op(type: string, inputs: string[], attrs: Record<string, unknown> = {}, name?: string): string {
    const node = new pb.NodeDef();
    const nodeName = name ?? `${type}_${this.count++}`;
    node.setName(nodeName);
    node.setOp(type);
    for (const input of inputs) node.addInput(input);
    for (const [key, value] of Object.entries(attrs)) node.getAttrMap().set(key, value);
    this.graph.addNode(node);
    return nodeName;
  }

  /** A graph input; dims null leaves even the rank open. */
  placeholder(name: string, dtype: number, dims: number[] | null): string {
    return this.op('Placeholder', [], { dtype: this.attrType(dtype), ...(dims ? { shape: this.attrShape(dims) } : {}) }, name);
  }

  constant(dtype: number, values: number[], dims: number[] = []): string {
    const t = new pb.Tensor();
    t.setDtype(dtype);
    t.setTensorShape(this.shape(dims));
    for (const v of values) {
      if (dtype === DT_FLOAT) t.addFloatVal(v);
      else t.addIntVal(v);
    }
    const a = new pb.AttrValue();
    a.setTensor(t);
    return this.op('Const', [], { dtype: this.attrType(dtype), value: a });
  }

  /** Float ops: the common `T: float` attribute. */
  get T() {
    return { T: this.attrType(DT_FLOAT) };
  }
}

/** One layer of a supported Sequential model, as the graph needs it. */
type LayerPlan =
  | { kind: 'conv'; kernel: tf.Variable; bias?: tf.Variable; strides: number[]; padding: 'VALID' | 'SAME'; relu: boolean }
  | { kind: 'pool'; size: number[]; strides: number[]; padding: 'VALID' | 'SAME' }
  | { kind: 'flatten' }
  | { kind: 'dense'; kernel: tf.Variable; bias?: tf.Variable; activation: 'linear' | 'relu' | 'softmax' }
  | { kind: 'dropout'; rate: number; nextSeed: () => number | undefined };

function pair(v: unknown, fallback: number): number[] {
  if (Array.isArray(v)) return v as number[];
  if (typeof v === 'number') return [v, v];
  return [fallback, fallback];
}

/**
 * The model as a list of supported layers, or undefined when any layer (or setting) is outside
 * what the graph builder writes: then training stays on the eager path.
 */
export function planLayers(model: tf.LayersModel): LayerPlan[] | undefined {
  if (!(model instanceof tf.Sequential)) return undefined;
  const input = model.inputs[0]?.shape ?? [];
  if (input.length !== 4 || input[1] !== 28 || input[2] !== 28 || input[3] !== 1) return undefined;
  const plans: LayerPlan[] = [];
  for (const layer of model.layers) {
    const c = layer.getConfig();
    const cls = layer.getClassName();
    const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    if (cls === 'Conv2D') {
      const dilation = pair(c.dilationRate, 1);
      if (c.dataFormat !== 'channelsLast' || dilation.some((d) => d !== 1)) return undefined;
      if (c.activation !== 'linear' && c.activation !== 'relu') return undefined;
      plans.push({
        kind: 'conv', kernel: weights[0], bias: c.useBias ? weights[1] : undefined,
        strides: pair(c.strides, 1), padding: c.padding === 'same' ? 'SAME' : 'VALID', relu: c.activation === 'relu',
      });
    } else if (cls === 'MaxPooling2D') {
      if (c.dataFormat !== 'channelsLast') return undefined;
      const size = pair(c.poolSize, 2);
      plans.push({ kind: 'pool', size, strides: c.strides == null ? size : pair(c.strides, 2), padding: c.padding === 'same' ? 'SAME' : 'VALID' });
    } else if (cls === 'Flatten') {
      plans.push({ kind: 'flatten' });
    } else if (cls === 'Dense') {
      if (!['linear', 'relu', 'softmax'].includes(String(c.activation))) return undefined;
      plans.push({ kind: 'dense', kernel: weights[0], bias: c.useBias ? weights[1] : undefined, activation: c.activation as 'linear' | 'relu' | 'softmax' });
    } else if (cls === 'SeededDropout' || cls === 'Dropout') {
      if (c.noiseShape != null) return undefined;
      const seeded = layer as unknown as { nextMaskSeed?: () => number };
      plans.push({ kind: 'dropout', rate: Number(c.rate), nextSeed: () => seeded.nextMaskSeed?.() });
    } else {
      return undefined;
    }
  }
  const last = plans[plans.length - 1];
  if (!last || last.kind !== 'dense' || last.activation !== 'softmax') return undefined;
  if (plans.slice(0, -1).some((p) => p.kind === 'dense' && p.activation === 'softmax')) return undefined;
  return plans;
}

interface Built {
  dir: string;
  variables: tf.Variable[];
  /** Each dropout's rate, mask seeds and mask shape (batch left out). */
  dropouts: Array<{ rate: number; nextSeed: () => number | undefined; shape: number[] }>;
}

/**
 * Writes a SavedModel with two signatures: `train` (one step of forward, backward and Adam) and
 * `evaluate` (loss sum and correct count of a batch, no dropout).
 */
function writeSavedModel(plans: LayerPlan[], adam: { beta1: number; beta2: number; epsilon: number }): Built {
  const g = new GraphBuilder();
  const T = g.T;
  const F = g.attrType(DT_FLOAT);
  const I = g.attrType(DT_INT32);
  const variables: tf.Variable[] = [];
  for (const p of plans) if (p.kind === 'conv' || p.kind === 'dense') variables.push(p.kernel, ...(p.bias ? [p.bias] : []));
  const index = (v: tf.Variable) => variables.indexOf(v);
  const W = variables.map((v, i) => g.placeholder(`w${i}`, DT_FLOAT, v.shape));
  const M = variables.map((v, i) => g.placeholder(`m${i}`, DT_FLOAT, v.shape));
  const V = variables.map((v, i) => g.placeholder(`v${i}`, DT_FLOAT, v.shape));
  const x = g.placeholder('x', DT_FLOAT, [-1, 28, 28, 1]);
  const y = g.placeholder('y', DT_INT32, [-1]);
  const lrT = g.placeholder('lr_t', DT_FLOAT, []);
  const shapes = inputShapes(plans);
  const dropouts: Built['dropouts'] = [];
  const masks: string[] = [];
  for (const p of plans) {
    if (p.kind === 'dropout') {
      masks.push(g.placeholder(`mask${dropouts.length}`, DT_FLOAT, null));
      dropouts.push({ rate: p.rate, nextSeed: p.nextSeed, shape: shapes[plans.indexOf(p)] });
    }
  }
  const shapeOf = (t: string) => g.op('Shape', [t], { T: F, out_type: I });
  const conv = (p: Extract<LayerPlan, { kind: 'conv' }>) => ({
    ...T, strides: g.attrInts([1, p.strides[0], p.strides[1], 1]), padding: g.attrString(p.padding),
    data_format: g.attrString('NHWC'), dilations: g.attrInts([1, 1, 1, 1]), use_cudnn_on_gpu: g.attrBool(true),
  });
  const pool = (p: Extract<LayerPlan, { kind: 'pool' }>) => ({
    ...T, ksize: g.attrInts([1, p.size[0], p.size[1], 1]), strides: g.attrInts([1, p.strides[0], p.strides[1], 1]),
    padding: g.attrString(p.padding), data_format: g.attrString('NHWC'),
  });
  const biasAttrs = { ...T, data_format: g.attrString('NHWC') };
  const matmul = (a: string, b: string, ta: boolean, tb: boolean) =>
    g.op('MatMul', [a, b], { ...T, transpose_a: g.attrBool(ta), transpose_b: g.attrBool(tb) });

  /** Forward pass; with training, dropout multiplies by its mask. Returns logits and a trace. */
  const forward = (training: boolean) => {
    const trace: Array<{ input: string; output: string; pre?: string }> = [];
    let h = x;
    let maskIndex = 0;
    plans.forEach((p, i) => {
      const input = h;
      if (p.kind === 'conv') {
        let z = g.op('Conv2D', [h, W[index(p.kernel)]], conv(p));
        if (p.bias) z = g.op('BiasAdd', [z, W[index(p.bias)]], biasAttrs);
        h = p.relu ? g.op('Relu', [z], T) : z;
        trace.push({ input, output: h, pre: z });
      } else if (p.kind === 'pool') {
        h = g.op('MaxPool', [h], pool(p));
        trace.push({ input, output: h });
      } else if (p.kind === 'flatten') {
        h = g.op('Reshape', [h, g.constant(DT_INT32, [-1, shapes[i].reduce((a, b) => a * b, 1)], [2])], { ...T, Tshape: I });
        trace.push({ input, output: h });
      } else if (p.kind === 'dense') {
        let z = matmul(h, W[index(p.kernel)], false, false);
        if (p.bias) z = g.op('BiasAdd', [z, W[index(p.bias)]], biasAttrs);
        h = p.activation === 'relu' ? g.op('Relu', [z], T) : z;
        trace.push({ input, output: h, pre: z });
      } else {
        if (training) h = g.op('Mul', [h, masks[maskIndex]], T);
        maskIndex++;
        trace.push({ input, output: h });
      }
    });
    return { logits: h, trace };
  };

  // --- evaluate: loss sum and correct count over a batch.
  const evalPass = forward(false);
  const evalCe = g.op('SparseSoftmaxCrossEntropyWithLogits', [evalPass.logits, y], { ...T, Tlabels: I });
  const axis0 = g.constant(DT_INT32, [0], [1]);
  const one = g.constant(DT_INT32, [1]);
  g.op('Sum', [`${evalCe}:0`, axis0], { ...T, Tidx: I, keep_dims: g.attrBool(false) }, 'eval_loss_sum');
  const correctOf = (logits: string, name: string) => {
    const pred = g.op('ArgMax', [logits, one], { ...T, Tidx: I, output_type: I });
    const eq = g.op('Cast', [g.op('Equal', [pred, y], { T: I })], { SrcT: g.attrType(DT_BOOL), DstT: I });
    return g.op('Sum', [eq, axis0], { T: I, Tidx: I, keep_dims: g.attrBool(false) }, name);
  };
  correctOf(evalPass.logits, 'eval_correct');

  // --- train: forward with dropout, mean loss, gradients layer by layer, Keras' Adam.
  const pass = forward(true);
  const ce = g.op('SparseSoftmaxCrossEntropyWithLogits', [pass.logits, y], { ...T, Tlabels: I });
  g.op('Mean', [`${ce}:0`, axis0], { ...T, Tidx: I, keep_dims: g.attrBool(false) }, 'loss');
  correctOf(pass.logits, 'correct');
  const batch = g.op('Cast', [g.op('Size', [y], { T: I, out_type: I })], { SrcT: I, DstT: F });
  // d(mean loss)/d(logits) = (softmax − one-hot) / batch: the op's second output, divided.
  let grad = g.op('RealDiv', [`${ce}:1`, batch], T);
  const grads = new Array<string>(variables.length);
  for (let i = plans.length - 1; i >= 0; i--) {
    const p = plans[i];
    const t = pass.trace[i];
    const needInput = i > 0;
    if (p.kind === 'conv') {
      if (p.relu) grad = g.op('ReluGrad', [grad, t.output], T);
      if (p.bias) grads[index(p.bias)] = g.op('BiasAddGrad', [grad], biasAttrs);
      grads[index(p.kernel)] = g.op('Conv2DBackpropFilter', [t.input, shapeOf(W[index(p.kernel)]), grad], conv(p));
      if (needInput) grad = g.op('Conv2DBackpropInput', [shapeOf(t.input), W[index(p.kernel)], grad], conv(p));
    } else if (p.kind === 'pool') {
      grad = g.op('MaxPoolGrad', [t.input, t.output, grad], pool(p));
    } else if (p.kind === 'flatten') {
      grad = g.op('Reshape', [grad, shapeOf(t.input)], { ...T, Tshape: I });
    } else if (p.kind === 'dense') {
      if (p.activation === 'relu') grad = g.op('ReluGrad', [grad, t.output], T);
      if (p.bias) grads[index(p.bias)] = g.op('BiasAddGrad', [grad], biasAttrs);
      grads[index(p.kernel)] = matmul(t.input, grad, true, false);
      if (needInput) grad = matmul(grad, W[index(p.kernel)], false, true);
    } else {
      grad = g.op('Mul', [grad, masks[plans.slice(0, i).filter((q) => q.kind === 'dropout').length]], T);
    }
  }
  // Keras' Adam (keras/src/optimizers/adam.py); lr_t = lr·√(1−β2^t)/(1−β1^t) is fed each step.
  const oneMinusB1 = g.constant(DT_FLOAT, [1 - adam.beta1]);
  const oneMinusB2 = g.constant(DT_FLOAT, [1 - adam.beta2]);
  const eps = g.constant(DT_FLOAT, [adam.epsilon]);
  variables.forEach((_, i) => {
    const m = g.op('AddV2', [M[i], g.op('Mul', [g.op('Sub', [grads[i], M[i]], T), oneMinusB1], T)], T, `m${i}_out`);
    const v = g.op('AddV2', [V[i], g.op('Mul', [g.op('Sub', [g.op('Square', [grads[i]], T), V[i]], T), oneMinusB2], T)], T, `v${i}_out`);
    const step = g.op('RealDiv', [g.op('Mul', [m, lrT], T), g.op('AddV2', [g.op('Sqrt', [v], T), eps], T)], T);
    g.op('Sub', [W[i], step], T, `w${i}_out`);
  });

  const version = new pb.VersionDef();
  version.setProducer(1700);
  g.graph.setVersions(version);
  const meta = new pb.MetaGraphDef();
  const info = new pb.MetaGraphDef.MetaInfoDef();
  info.addTags('serve');
  meta.setMetaInfoDef(info);
  meta.setGraphDef(g.graph);
  const tensorInfo = (name: string, dtype: number) => {
    const t = new pb.TensorInfo();
    t.setName(`${name}:0`);
    t.setDtype(dtype);
    t.setTensorShape(g.shape([]));
    return t;
  };
  const signature = (inputs: Array<[string, number]>, outputs: Array<[string, string, number]>) => {
    const s = new pb.SignatureDef();
    for (const [n, dt] of inputs) s.getInputsMap().set(n, tensorInfo(n, dt));
    for (const [key, n, dt] of outputs) s.getOutputsMap().set(key, tensorInfo(n, dt));
    s.setMethodName('tensorflow/serving/predict');
    return s;
  };
  const weightsIn = variables.map((_, i): [string, number] => [`w${i}`, DT_FLOAT]);
  meta.getSignatureDefMap().set('evaluate', signature(
    [['x', DT_FLOAT], ['y', DT_INT32], ...weightsIn],
    [['loss_sum', 'eval_loss_sum', DT_FLOAT], ['correct', 'eval_correct', DT_INT32]],
  ));
  meta.getSignatureDefMap().set('train', signature(
    [
      ['x', DT_FLOAT], ['y', DT_INT32], ['lr_t', DT_FLOAT], ...weightsIn,
      ...variables.map((_, i): [string, number] => [`m${i}`, DT_FLOAT]),
      ...variables.map((_, i): [string, number] => [`v${i}`, DT_FLOAT]),
      ...masks.map((_, i): [string, number] => [`mask${i}`, DT_FLOAT]),
    ],
    [
      ['loss', 'loss', DT_FLOAT], ['correct', 'correct', DT_INT32],
      ...variables.flatMap((_, i): Array<[string, string, number]> => [
        [`w${i}`, `w${i}_out`, DT_FLOAT], [`m${i}`, `m${i}_out`, DT_FLOAT], [`v${i}`, `v${i}_out`, DT_FLOAT],
      ]),
    ],
  ));
  const saved = new pb.SavedModel();
  saved.setSavedModelSchemaVersion(1);
  saved.addMetaGraphs(meta);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmnist-graph-'));
  fs.mkdirSync(path.join(dir, 'variables'));
  fs.writeFileSync(path.join(dir, 'saved_model.pb'), Buffer.from(saved.serializeBinary()));
  return { dir, variables, dropouts };
}

/**
 * The shape each layer receives, batch left out: [28, 28, 1] for the first. Flatten's size and
 * the dropout masks' shapes come from it.
 */
function inputShapes(plans: LayerPlan[]): number[][] {
  const shapes: number[][] = [];
  let shape = [28, 28, 1];
  const spatial = (size: number, window: number, stride: number, padding: 'VALID' | 'SAME') =>
    padding === 'SAME' ? Math.ceil(size / stride) : Math.floor((size - window) / stride) + 1;
  for (const p of plans) {
    shapes.push(shape);
    if (p.kind === 'conv') {
      const [kh, kw, , out] = p.kernel.shape as number[];
      shape = [spatial(shape[0], kh, p.strides[0], p.padding), spatial(shape[1], kw, p.strides[1], p.padding), out];
    } else if (p.kind === 'pool') {
      shape = [spatial(shape[0], p.size[0], p.strides[0], p.padding), spatial(shape[1], p.size[1], p.strides[1], p.padding), shape[2]];
    } else if (p.kind === 'flatten') {
      shape = [shape.reduce((a, b) => a * b, 1)];
    } else if (p.kind === 'dense') {
      shape = [(p.kernel.shape as number[])[1]];
    }
  }
  return shapes;
}

/** Adam's per-weight moments and step count, kept with the optimizer across fit calls. */
export interface AdamMoments {
  m: tf.Tensor[];
  v: tf.Tensor[];
  step: number;
  dispose(): void;
}

/**
 * A compiled training step for one model. `step` trains on one batch and updates the model's
 * variables; `evaluate` returns the loss sum and correct count of a batch. Call `dispose` at
 * the end: it closes both sessions (the graph's folder is removed as soon as it is loaded).
 */
export interface GraphTrainer {
  step(x: tf.Tensor, y: tf.Tensor1D, moments: AdamMoments, learningRate: number, beta1: number, beta2: number): { loss: number; correct: number };
  evaluate(x: tf.Tensor, y: tf.Tensor1D): { lossSum: number; correct: number };
  variables: tf.Variable[];
  dispose(): void;
}

/** Builds and loads the graphs for `model`, or returns undefined when it has unsupported layers. */
export async function compileGraphTrainer(
  model: tf.LayersModel,
  adam: { beta1: number; beta2: number; epsilon: number },
): Promise<GraphTrainer | undefined> {
  const plans = planLayers(model);
  if (!plans) return undefined;
  const built = writeSavedModel(plans, adam);
  let train: Awaited<ReturnType<typeof tf.node.loadSavedModel>> | undefined;
  let evaluate: typeof train;
  try {
    train = await tf.node.loadSavedModel(built.dir, ['serve'], 'train');
    evaluate = await tf.node.loadSavedModel(built.dir, ['serve'], 'evaluate');
  } catch (err) {
    train?.dispose();
    throw err;
  } finally {
    fs.rmSync(built.dir, { recursive: true, force: true });
  }
  const trainModel = train;
  const evalModel = evaluate;
  const { variables, dropouts } = built;
  return {
    variables,
    step(x, y, moments, learningRate, beta1, beta2) {
      moments.step += 1;
      const t = moments.step;
      const lrT = (learningRate * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
      const feed: Record<string, tf.Tensor> = { x, y };
      const owned: tf.Tensor[] = [tf.scalar(lrT)];
      feed.lr_t = owned[0];
      variables.forEach((v, i) => {
        feed[`w${i}`] = v;
        feed[`m${i}`] = moments.m[i];
        feed[`v${i}`] = moments.v[i];
      });
      // Dropout masks drawn as tfjs draws them (the layer's own seed stream), applied in the graph.
      dropouts.forEach((d, i) => {
        const mask = tf.tidy(() => tf.dropout(tf.ones([x.shape[0], ...d.shape]), d.rate, undefined, d.nextSeed()));
        owned.push(mask);
        feed[`mask${i}`] = mask;
      });
      const out = trainModel.predict(feed) as Record<string, tf.Tensor>;
      const loss = out.loss.dataSync()[0];
      const correct = out.correct.dataSync()[0];
      tf.dispose([...owned, out.loss, out.correct]);
      variables.forEach((v, i) => {
        v.assign(out[`w${i}`]);
        out[`w${i}`].dispose();
        moments.m[i].dispose();
        moments.v[i].dispose();
        moments.m[i] = out[`m${i}`];
        moments.v[i] = out[`v${i}`];
      });
      return { loss, correct };
    },
    evaluate(x, y) {
      const feed: Record<string, tf.Tensor> = { x, y };
      variables.forEach((v, i) => (feed[`w${i}`] = v));
      const out = evalModel.predict(feed) as Record<string, tf.Tensor>;
      const lossSum = out.loss_sum.dataSync()[0];
      const correct = out.correct.dataSync()[0];
      tf.dispose([out.loss_sum, out.correct]);
      return { lossSum, correct };
    },
    dispose() {
      trainModel.dispose();
      evalModel.dispose();
    },
  };
}

/** Fresh zero moments for `variables`. */
export function zeroMoments(variables: tf.Variable[]): AdamMoments {
  const m = variables.map((v) => tf.keep(tf.zerosLike(v)));
  const v = variables.map((w) => tf.keep(tf.zerosLike(w)));
  const moments: AdamMoments = {
    m, v, step: 0,
    dispose() {
      tf.dispose([...moments.m, ...moments.v]);
    },
  };
  return moments;
}
