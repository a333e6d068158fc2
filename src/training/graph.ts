/**
 * The graph engine: the training step as one TensorFlow graph, the way Keras runs it. tfjs
 * executes every op eagerly, one TFE_Execute per op, and eager TensorFlow skips the graph
 * optimisations (Grappler, oneDNN's layout rewrites) that Keras' compiled `train_step` gets; on
 * this project's models that costs about half the speed (docs/performance.md). So the forward
 * pass, the gradients and the optimizer's update are written as a GraphDef from the rulebook
 * (rules.ts for layers and losses, optimizers.ts for the update), wrapped in a SavedModel in a
 * temporary folder, and run through tfjs-node's SavedModel session. Weights and optimizer state
 * go in and come out as ordinary tensors every step; the model's variables are updated in place,
 * so everything else (predict, evaluate, save) sees the trained weights.
 */
import fs from 'node:fs';
import { tf } from '../core/backend';
import { DT_FLOAT, DT_INT32, GraphBuilder } from './graph-builder';
import { OptimizerState, graphOps } from './optimizers';
import { GraphContext, Forward, LAYER_RULES, LayerPlan, LossRule, lossRule } from './rules';

/** A model as the rulebook reads it. */
export interface GraphPlan {
  /** The input shape, batch left out. */
  input: number[];
  layers: LayerPlan[];
  loss: LossRule;
  classes: number;
}

/**
 * The model read layer by layer through the rulebook, or the reason the graph engine cannot train
 * it: the first layer, activation, setting or loss without a rule.
 */
export function planGraph(model: tf.LayersModel): GraphPlan | { reason: string } {
  if (!(model instanceof tf.Sequential)) return { reason: 'only Sequential models have a graph rule yet' };
  const input = (model.inputs[0]?.shape ?? []).slice(1);
  if (input.some((d) => d == null)) return { reason: 'an input of unknown size has no graph rule' };
  const loss = lossRule((model as unknown as { loss?: unknown }).loss);
  if ('reason' in loss) return loss;
  const last = model.layers[model.layers.length - 1];
  if (!last || last.getClassName() !== 'Dense' || last.getConfig().activation !== 'softmax') {
    return { reason: 'the graph rules need a last Dense layer with softmax' };
  }
  const layers: LayerPlan[] = [];
  let shape = input as number[];
  for (const [i, layer] of model.layers.entries()) {
    const rule = LAYER_RULES[layer.getClassName()];
    const plan = rule ? rule(layer, shape, i === model.layers.length - 1) : `${layer.getClassName()} has no graph rule yet`;
    if (typeof plan === 'string') return { reason: plan };
    layers.push(plan);
    shape = plan.output;
  }
  return { input: input as number[], layers, loss: loss.rule, classes: shape[0] };
}

/**
 * A compiled training step for one model. `step` trains on one batch and updates the model's
 * variables and the optimizer's state; `evaluate` returns the loss sum (regularisation included)
 * and correct count of a batch. Call `dispose` at the end: it closes both sessions.
 */
export interface GraphTrainer {
  step(x: tf.Tensor, y: tf.Tensor): { loss: number; correct: number };
  evaluate(x: tf.Tensor, y: tf.Tensor): { lossSum: number; correct: number };
  dispose(): void;
}

interface Mask {
  rate: number;
  shape: number[];
  nextSeed: () => number | undefined;
}

/** Sum of all elements of a float tensor. */
function sumAll(g: GraphBuilder, t: string): string {
  const flat = g.op('Reshape', [t, g.constant(DT_INT32, [-1], [1])], { ...g.T, Tshape: g.attrType(DT_INT32) });
  return g.op('Sum', [flat, g.constant(DT_INT32, [0], [1])], { ...g.T, Tidx: g.attrType(DT_INT32), keep_dims: g.attrBool(false) });
}

/** Writes the `train` and `evaluate` signatures for `plan`, training `state.variables` with its optimizer rule. */
function writeGraph(plan: GraphPlan, state: OptimizerState): { dir: string; weights: tf.Variable[]; masks: Mask[]; updated: tf.Variable[] } {
  const g = new GraphBuilder();
  const weights = [...new Set(plan.layers.flatMap((p) => p.weights))];
  const W = new Map(weights.map((v, i) => [v, g.placeholder(`w${i}`, DT_FLOAT, v.shape)] as const));
  const trained = new Set(state.variables);
  const x = g.placeholder('x', DT_FLOAT, [-1, ...plan.input]);
  const y = plan.loss.labels === 'sparse' ? g.placeholder('y', DT_INT32, [-1]) : g.placeholder('y', DT_FLOAT, [-1, plan.classes]);
  const masks: Mask[] = [];
  const grads = new Map<tf.Variable, string[]>();
  const updates = new Map<tf.Variable, string>();
  const ctx: GraphContext = {
    g,
    weight: (v) => W.get(v)!,
    gradient(v, grad) {
      if (trained.has(v)) grads.set(v, [...(grads.get(v) ?? []), grad]);
    },
    update(v, value) {
      updates.set(v, value);
    },
    mask(rate, shape, nextSeed) {
      masks.push({ rate, shape, nextSeed });
      return g.placeholder(`mask${masks.length - 1}`, DT_FLOAT, null);
    },
  };
  const forward = (training: boolean) => {
    const trace: Forward[] = [];
    let h = x;
    for (const p of plan.layers) {
      const f = p.forward(ctx, h, training);
      trace.push(f);
      h = f.y;
    }
    return { logits: h, trace };
  };
  // Keras adds each kernel regulariser's l2 · Σw² to the loss, in training and in evaluation.
  const penalties = plan.layers.flatMap((p) => p.l2);
  const regularisation = penalties.length === 0
    ? undefined
    : penalties.map(([v, l2]) => g.f('Mul', [sumAll(g, g.f('Square', [W.get(v)!])), g.scalar(l2)])).reduce((a, b) => g.f('AddV2', [a, b]));
  const I = g.attrType(DT_INT32);
  const axis0 = g.constant(DT_INT32, [0], [1]);
  /** The batch size as a float, from the per-example losses. */
  const countOf = (perExample: string) => g.op('Cast', [g.op('Size', [perExample], { ...g.T, out_type: I })], { SrcT: I, DstT: g.attrType(DT_FLOAT) });

  // --- evaluate: loss sum and correct count over a batch, no dropout.
  const evalPass = forward(false);
  const evalCe = plan.loss.graph(g, evalPass.logits, y);
  const ceSum = g.op('Sum', [evalCe.perExample, axis0], { ...g.T, Tidx: I, keep_dims: g.attrBool(false) });
  g.op('Identity', [regularisation ? g.f('AddV2', [ceSum, g.f('Mul', [regularisation, countOf(evalCe.perExample)])]) : ceSum], g.T, 'eval_loss_sum');
  g.op('Identity', [plan.loss.graphCorrect(g, evalPass.logits, y)], { T: I }, 'eval_correct');

  // --- train: forward with dropout, mean loss, gradients layer by layer, the optimizer's rule.
  const pass = forward(true);
  const ce = plan.loss.graph(g, pass.logits, y);
  const meanCe = g.op('Mean', [ce.perExample, axis0], { ...g.T, Tidx: I, keep_dims: g.attrBool(false) });
  g.op('Identity', [regularisation ? g.f('AddV2', [meanCe, regularisation]) : meanCe], g.T, 'loss');
  g.op('Identity', [plan.loss.graphCorrect(g, pass.logits, y)], { T: I }, 'correct');
  let grad: string | undefined = g.f('RealDiv', [ce.dLogits, countOf(ce.perExample)]);
  for (let i = plan.layers.length - 1; i >= 0 && grad; i--) {
    grad = plan.layers[i].backward(ctx, grad, pass.trace[i], i > 0);
  }
  for (const [v, l2] of penalties) ctx.gradient(v, g.f('Mul', [W.get(v)!, g.scalar(2 * l2)]));

  const ops = graphOps(g);
  // The rules are element-wise: all weights as one vector, as the optimizer's state keeps them.
  const flat = (nodes: string[]) => g.op(
    'ConcatV2',
    [...nodes.map((n) => g.op('Reshape', [n, g.constant(DT_INT32, [-1], [1])], { ...g.T, Tshape: I })), g.constant(DT_INT32, [0])],
    { ...g.T, N: g.attrInt(nodes.length), Tidx: I },
  );
  const gradOf = (v: tf.Variable) => {
    const parts = grads.get(v);
    if (!parts) throw new Error(`graph: no gradient reaches ${v.name}`);
    return parts.length === 1 ? parts[0] : g.op('AddN', [...parts], { ...g.T, N: g.attrInt(parts.length) });
  };
  const slots = state.slots.map((_, j) => g.placeholder(`s${j}`, DT_FLOAT, [-1]));
  const scalars = state.rule.stepScalars(state.settings, 1).map((_, j) => g.placeholder(`k${j}`, DT_FLOAT, []));
  const out = state.rule.update(ops, state.settings, flat(state.variables.map((v) => W.get(v)!)), flat(state.variables.map(gradOf)), slots, scalars);
  const split = g.op('SplitV', [out.w, g.constant(DT_INT32, state.sizes, [state.sizes.length]), g.constant(DT_INT32, [0])], {
    ...g.T, Tlen: I, num_split: g.attrInt(state.sizes.length),
  });
  state.variables.forEach((v, i) => {
    g.op('Reshape', [`${split}:${i}`, g.constant(DT_INT32, v.shape, [v.shape.length])], { ...g.T, Tshape: I }, `w${weights.indexOf(v)}_out`);
  });
  out.slots.forEach((s, j) => g.op('Identity', [s], g.T, `s${j}_out`));
  const updated = [...updates.keys()];
  updated.forEach((v) => g.op('Identity', [updates.get(v)!], g.T, `u${weights.indexOf(v)}_out`));

  const weightsIn = weights.map((_, i): [string, number] => [`w${i}`, DT_FLOAT]);
  const yType = plan.loss.labels === 'sparse' ? DT_INT32 : DT_FLOAT;
  const dir = g.writeSavedModel({
    evaluate: {
      inputs: [['x', DT_FLOAT], ['y', yType], ...weightsIn],
      outputs: [['loss_sum', 'eval_loss_sum', DT_FLOAT], ['correct', 'eval_correct', DT_INT32]],
    },
    train: {
      inputs: [
        ['x', DT_FLOAT], ['y', yType], ...weightsIn,
        ...slots.map((_, j): [string, number] => [`s${j}`, DT_FLOAT]),
        ...scalars.map((_, j): [string, number] => [`k${j}`, DT_FLOAT]),
        ...masks.map((_, i): [string, number] => [`mask${i}`, DT_FLOAT]),
      ],
      outputs: [
        ['loss', 'loss', DT_FLOAT], ['correct', 'correct', DT_INT32],
        ...state.variables.map((v): [string, string, number] => [`w${weights.indexOf(v)}`, `w${weights.indexOf(v)}_out`, DT_FLOAT]),
        ...out.slots.map((_, j): [string, string, number] => [`s${j}`, `s${j}_out`, DT_FLOAT]),
        ...updated.map((v): [string, string, number] => [`u${weights.indexOf(v)}`, `u${weights.indexOf(v)}_out`, DT_FLOAT]),
      ],
    },
  });
  return { dir, weights, masks, updated };
}

/** Builds and loads the graphs for `plan`; the step trains `state.variables` with `state`'s rule and slots. */
export async function compileGraphTrainer(plan: GraphPlan, state: OptimizerState): Promise<GraphTrainer> {
  const { dir, weights, masks, updated } = writeGraph(plan, state);
  let train: Awaited<ReturnType<typeof tf.node.loadSavedModel>> | undefined;
  let evaluate: typeof train;
  try {
    train = await tf.node.loadSavedModel(dir, ['serve'], 'train');
    evaluate = await tf.node.loadSavedModel(dir, ['serve'], 'evaluate');
  } catch (err) {
    train?.dispose();
    throw err;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const trainModel = train;
  const evalModel = evaluate;
  const trainedIndex = state.variables.map((v) => weights.indexOf(v));
  return {
    step(x, y) {
      const feed: Record<string, tf.Tensor> = { x, y };
      const owned: tf.Tensor[] = state.nextStep().map((k) => tf.scalar(k));
      owned.forEach((k, j) => (feed[`k${j}`] = k));
      weights.forEach((v, i) => (feed[`w${i}`] = v));
      state.slots.forEach((s, j) => (feed[`s${j}`] = s));
      // Dropout masks drawn as tfjs draws them (the layer's own seed stream), applied in the graph.
      masks.forEach((m, i) => {
        const mask = tf.tidy(() => tf.dropout(tf.ones([x.shape[0], ...m.shape]), m.rate, undefined, m.nextSeed()));
        owned.push(mask);
        feed[`mask${i}`] = mask;
      });
      const out = trainModel.predict(feed) as Record<string, tf.Tensor>;
      const loss = out.loss.dataSync()[0];
      const correct = out.correct.dataSync()[0];
      tf.dispose([...owned, out.loss, out.correct]);
      trainedIndex.forEach((w, i) => {
        state.variables[i].assign(out[`w${w}`]);
        out[`w${w}`].dispose();
      });
      state.replaceSlots(state.slots.map((_, j) => out[`s${j}`]));
      for (const v of updated) {
        const key = `u${weights.indexOf(v)}`;
        v.assign(out[key]);
        out[key].dispose();
      }
      return { loss, correct };
    },
    evaluate(x, y) {
      const feed: Record<string, tf.Tensor> = { x, y };
      weights.forEach((v, i) => (feed[`w${i}`] = v));
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
