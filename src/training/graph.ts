/**
 * The graph engine: the training step as one TensorFlow graph, the way Keras runs it. tfjs
 * executes every op eagerly, one TFE_Execute per op, and eager TensorFlow skips the graph
 * optimisations (Grappler, oneDNN's layout rewrites) that Keras' compiled `train_step` gets; on
 * this project's models that costs about half the speed (docs/performance.md). So the forward
 * pass, the gradients and the optimizer's update are written as a GraphDef from the rulebook
 * (rules.ts for layers and losses, optimizers.ts for the update), wrapped in a SavedModel in a
 * temporary folder, and run through tfjs-node's SavedModel session.
 *
 * The weights and the optimizer's slots live inside that session as resource variables, as
 * Keras keeps them, and Adam updates them in place with TensorFlow's fused kernel: a step feeds
 * only the batch, the step's scalars and the dropout masks, and fetches the loss and the correct
 * count. (Feeding every weight and moment in and fetching them out again each step, with the
 * update written op by op over one concatenated vector, cost about a fifth of the step.) Where
 * TensorFlow runs two ops at once, each batch is computed as two halves side by side, one per
 * core, because one op of these small models cannot keep two cores busy. The
 * model's tfjs variables are brought up to date by `pull`, which fit calls at the end of every
 * epoch and when training ends; weights changed on the tfjs side (a callback's `setWeights`) are
 * pushed into the session before the next step.
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
 * A compiled training step for one model. `step` trains on one batch inside the session;
 * `evaluate` returns the loss sum (regularisation included) and correct count of a batch with the
 * session's weights; `pull` hands the trained weights and slots back to tfjs. Call `dispose` at
 * the end: it closes the session.
 */
export interface GraphTrainer {
  /** Trains on one batch; the session's weights and slots change, the tfjs variables at the next `pull`. */
  step(x: tf.Tensor, y: tf.Tensor): { loss: number; correct: number };
  evaluate(x: tf.Tensor, y: tf.Tensor): { lossSum: number; correct: number };
  /** Whether batches of two or more train as two halves side by side. */
  readonly halves: boolean;
  /** Copies the session's weights into the model's variables and its slots into the optimizer's state (nothing when no step ran since). */
  pull(): void;
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

/** The graph's signatures and what the trainer needs to feed them. */
interface WrittenGraph {
  dir: string;
  /** Every weight the model reads, in graph order (variable `w<i>`). */
  weights: tf.Variable[];
  masks: Mask[];
  /** Weights the step changes: the trained ones and those a rule updates (moving statistics). */
  changed: tf.Variable[];
  /** Whether the graph has `train_halves`: halves were asked for and no layer needs the whole batch. */
  trainHalves: boolean;
}

/**
 * Writes the signatures for `plan`, training `state.variables` with its optimizer rule: `train`
 * (one step), `evaluate` (loss sum and correct count, no dropout), with `split` each also as
 * `…_halves`, the same computed on the batch's two halves side by side (training only where no
 * layer needs the whole batch); `assign` (tfjs' weights and the optimizer's flat slots into the
 * session's variables) and `read` (the changed weights and the flat slots back out).
 */
function writeGraph(plan: GraphPlan, state: OptimizerState, split: boolean): WrittenGraph {
  const g = new GraphBuilder();
  const F = g.attrType(DT_FLOAT);
  const I = g.attrType(DT_INT32);
  const variable = (name: string, shape: number[]) =>
    g.op('VarHandleOp', [], { dtype: F, shape: g.attrShape(shape), container: g.attrString(''), shared_name: g.attrString(name) }, name);
  const read = (handle: string) => g.op('ReadVariableOp', [handle], { dtype: F });
  const assign = (handle: string, value: string) => g.op('AssignVariableOp', [handle, value], { dtype: F });
  const reshape = (t: string, dims: number[]) => g.op('Reshape', [t, g.constant(DT_INT32, dims, [dims.length])], { ...g.T, Tshape: I });

  const weights = [...new Set(plan.layers.flatMap((p) => p.weights))];
  const handles = weights.map((v, i) => variable(`w${i}`, v.shape));
  // One read per weight, shared by the forward and backward passes of a run.
  const W = new Map(weights.map((v, i) => [v, read(handles[i])] as const));
  const trained = new Set(state.variables);
  const slotHandles = state.variables.map((v, j) => state.slots.map((_, k) => variable(`s${k}_${j}`, v.shape)));
  const x = g.placeholder('x', DT_FLOAT, [-1, ...plan.input]);
  const yType = plan.loss.labels === 'sparse' ? DT_INT32 : DT_FLOAT;
  const yRank = plan.loss.labels === 'sparse' ? 1 : 2;
  const y = g.placeholder('y', yType, yRank === 1 ? [-1] : [-1, plan.classes]);
  const masks: Mask[] = [];
  const maskInputs: string[] = [];
  /** Which mask the next dropout layer of the current pass gets, and the rows of it the pass sees. */
  let maskCall = 0;
  let rowsOfPass: ((t: string, rank: number) => string) | undefined;
  let grads = new Map<tf.Variable, string[]>();
  let updates = new Map<tf.Variable, string>();
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
      // One mask input per dropout layer for the whole batch, drawn on the tfjs side, whichever
      // pass (and whichever half of the batch) reads it.
      const k = maskCall++;
      if (k === masks.length) {
        masks.push({ rate, shape, nextSeed });
        maskInputs.push(g.placeholder(`mask${k}`, DT_FLOAT, null));
      }
      return rowsOfPass ? rowsOfPass(maskInputs[k], shape.length + 1) : maskInputs[k];
    },
  };
  const forward = (input: string, training: boolean) => {
    const trace: Forward[] = [];
    let h = input;
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
  const axis0 = g.constant(DT_INT32, [0], [1]);
  /** The batch size as a float, from the per-example losses. */
  const countOf = (perExample: string) => g.op('Cast', [g.op('Size', [perExample], { ...g.T, out_type: I })], { SrcT: I, DstT: F });
  const concat = (parts: string[], dtype: number) =>
    g.op('ConcatV2', [...parts, g.constant(DT_INT32, [0])], { T: g.attrType(dtype), N: g.attrInt(parts.length), Tidx: I });

  // --- the halves of a batch: rows [0, n/2) and [n/2, n) of a tensor whose first axis is the batch.
  const nRows = g.op('Slice', [g.op('Shape', [x], { ...g.T, out_type: I }), axis0, g.constant(DT_INT32, [1], [1])], { T: I, Index: I });
  const halfRows = g.op('FloorDiv', [nRows, g.constant(DT_INT32, [2], [1])], { T: I });
  const rowsOf = (t: string, rank: number, which: 0 | 1, dtype: number) => {
    const zeros = g.constant(DT_INT32, new Array(rank - 1).fill(0), [rank - 1]);
    const rest = g.constant(DT_INT32, new Array(rank - 1).fill(-1), [rank - 1]);
    const begin = concat([which === 0 ? axis0 : halfRows, zeros], DT_INT32);
    const size = concat([which === 0 ? halfRows : g.constant(DT_INT32, [-1], [1]), rest], DT_INT32);
    return g.op('Slice', [t, begin, size], { T: g.attrType(dtype), Index: I });
  };
  /** The batch whole, or its two halves, each with the rows of any other batch-sized input (dropout masks). */
  const batchParts = (halves: boolean): Array<{ x: string; y: string; rows?: (t: string, rank: number) => string }> => (halves
    ? ([0, 1] as const).map((w) => ({
      x: rowsOf(x, plan.input.length + 1, w, DT_FLOAT),
      y: rowsOf(y, yRank, w, yType),
      rows: (t: string, rank: number) => rowsOf(t, rank, w, DT_FLOAT),
    }))
    : [{ x, y }]);

  // --- evaluate: loss sum and correct count over a batch, no dropout; on the whole batch or on
  // its halves side by side (inference has no batch statistics, so any model may split).
  const evalPass = (halves: boolean, suffix: string) => {
    const sums = batchParts(halves).map((p) => {
      const pass = forward(p.x, false);
      const ce = plan.loss.graph(g, pass.logits, p.y);
      const ceSum = g.op('Sum', [ce.perExample, axis0], { ...g.T, Tidx: I, keep_dims: g.attrBool(false) });
      const loss = regularisation ? g.f('AddV2', [ceSum, g.f('Mul', [regularisation, countOf(ce.perExample)])]) : ceSum;
      return { loss, correct: plan.loss.graphCorrect(g, pass.logits, p.y) };
    });
    g.op('Identity', [sums.map((t) => t.loss).reduce((a, b) => g.f('AddV2', [a, b]))], g.T, `eval_loss_sum${suffix}`);
    g.op('Identity', [sums.map((t) => t.correct).reduce((a, b) => g.op('AddV2', [a, b], { T: I }))], { T: I }, `eval_correct${suffix}`);
  };
  evalPass(false, '');
  if (split) evalPass(true, '_halves');

  // --- train: forward with dropout, mean loss, gradients layer by layer, the optimizer's rule;
  // either on the whole batch or on its two halves side by side (see `splitBatch`).
  const scalars = state.rule.stepScalars(state.settings, 1).map((_, j) => g.placeholder(`k${j}`, DT_FLOAT, []));
  const ops = graphOps(g);
  const trainPass = (halves: boolean, suffix: string) => {
    grads = new Map();
    updates = new Map();
    const towers = batchParts(halves).map((p) => {
      maskCall = 0;
      rowsOfPass = p.rows;
      const pass = forward(p.x, true);
      return { pass, ce: plan.loss.graph(g, pass.logits, p.y), correct: plan.loss.graphCorrect(g, pass.logits, p.y) };
    });
    rowsOfPass = undefined;
    const perExample = towers.length === 1 ? towers[0].ce.perExample : concat(towers.map((t) => t.ce.perExample), DT_FLOAT);
    const count = countOf(perExample);
    const meanCe = g.op('Mean', [perExample, axis0], { ...g.T, Tidx: I, keep_dims: g.attrBool(false) });
    // Each half's gradient is its share of the whole batch's mean; the weights' gradients from
    // the halves add up (gradOf), as they would over the whole batch.
    for (const { pass, ce } of towers) {
      let grad: string | undefined = g.f('RealDiv', [ce.dLogits, count]);
      for (let i = plan.layers.length - 1; i >= 0 && grad; i--) {
        grad = plan.layers[i].backward(ctx, grad, pass.trace[i], i > 0);
      }
    }
    for (const [v, l2] of penalties) ctx.gradient(v, g.f('Mul', [W.get(v)!, g.scalar(2 * l2)]));
    const gradOf = (v: tf.Variable) => {
      const parts = grads.get(v);
      if (!parts) throw new Error(`graph: no gradient reaches ${v.name}`);
      return parts.length === 1 ? parts[0] : g.op('AddN', [...parts], { ...g.T, N: g.attrInt(parts.length) });
    };
    // Each weight's update on its own variables: in place through the rule's fused TensorFlow
    // kernel where it has one (Adam), else the rule's element-wise ops and an assignment.
    const writes: string[] = [];
    state.variables.forEach((v, j) => {
      const handle = handles[weights.indexOf(v)];
      if (state.rule.graphApply) {
        writes.push(state.rule.graphApply(g, state.settings, handle, slotHandles[j], gradOf(v), scalars));
        return;
      }
      const out = state.rule.update(ops, state.settings, W.get(v)!, gradOf(v), slotHandles[j].map(read), scalars);
      writes.push(assign(handle, out.w), ...out.slots.map((s, k) => assign(slotHandles[j][k], s)));
    });
    for (const [v, value] of updates) writes.push(assign(handles[weights.indexOf(v)], value));
    // Fetching the loss runs every write: the session runs only what the fetched outputs need.
    const lossValue = regularisation ? g.f('AddV2', [meanCe, regularisation]) : meanCe;
    g.op('Identity', [lossValue, ...writes.map((w) => `^${w}`)], g.T, `loss${suffix}`);
    const correct = towers.map((t) => t.correct).reduce((a, b) => g.op('AddV2', [a, b], { T: I }));
    g.op('Identity', [correct], { T: I }, `correct${suffix}`);
  };
  trainPass(false, '');
  const changed = weights.filter((v) => trained.has(v) || updates.has(v));
  const trainHalves = split && plan.layers.every((p) => !p.wholeBatch);
  if (trainHalves) trainPass(true, '_halves');

  // --- assign and read: the weights one by one, each slot as the one flat vector OptimizerState keeps.
  const sizes = g.constant(DT_INT32, state.sizes, [state.sizes.length]);
  const assigns = weights.map((v, i) => assign(handles[i], g.placeholder(`w${i}_in`, DT_FLOAT, v.shape)));
  state.slots.forEach((_, k) => {
    const flat = g.placeholder(`s${k}_in`, DT_FLOAT, [-1]);
    const parts = g.op('SplitV', [flat, sizes, g.constant(DT_INT32, [0])], { ...g.T, Tlen: I, num_split: g.attrInt(state.sizes.length) });
    state.variables.forEach((v, j) => assigns.push(assign(slotHandles[j][k], reshape(`${parts}:${j}`, v.shape))));
  });
  g.op('Identity', [g.constant(DT_INT32, [0]), ...assigns.map((a) => `^${a}`)], { T: I }, 'assigned');
  const slotOut = state.slots.map((_, k) => concat(state.variables.map((_, j) => reshape(read(slotHandles[j][k]), [-1])), DT_FLOAT));
  const trainInputs: Array<[string, number]> = [
    ['x', DT_FLOAT], ['y', yType],
    ...scalars.map((k): [string, number] => [k, DT_FLOAT]),
    ...masks.map((_, i): [string, number] => [`mask${i}`, DT_FLOAT]),
  ];
  const dir = g.writeSavedModel({
    evaluate: {
      inputs: [['x', DT_FLOAT], ['y', yType]],
      outputs: [['loss_sum', 'eval_loss_sum', DT_FLOAT], ['correct', 'eval_correct', DT_INT32]],
    },
    ...(split ? {
      evaluate_halves: {
        inputs: [['x', DT_FLOAT], ['y', yType]],
        outputs: [['loss_sum', 'eval_loss_sum_halves', DT_FLOAT], ['correct', 'eval_correct_halves', DT_INT32]],
      },
    } : {}),
    train: { inputs: trainInputs, outputs: [['loss', 'loss', DT_FLOAT], ['correct', 'correct', DT_INT32]] },
    ...(trainHalves ? { train_halves: { inputs: trainInputs, outputs: [['loss', 'loss_halves', DT_FLOAT], ['correct', 'correct_halves', DT_INT32]] } } : {}),
    assign: {
      inputs: [
        ...weights.map((_, i): [string, number] => [`w${i}_in`, DT_FLOAT]),
        ...state.slots.map((_, k): [string, number] => [`s${k}_in`, DT_FLOAT]),
      ],
      outputs: [['assigned', 'assigned', DT_INT32]],
    },
    read: {
      inputs: [],
      outputs: [
        ...changed.map((v): [string, string, number] => [`w${weights.indexOf(v)}`, W.get(v)!, DT_FLOAT]),
        ...slotOut.map((s, k): [string, string, number] => [`s${k}`, s, DT_FLOAT]),
      ],
    },
  });
  return { dir, weights, masks, changed, trainHalves };
}

type Session = Awaited<ReturnType<typeof tf.node.loadSavedModel>>;

/** The identity of a tensor's storage: tfjs gives a variable new storage on every `assign`. */
const storageOf = (t: tf.Tensor) => (t as unknown as { dataId: object }).dataId;

/**
 * Builds and loads the graphs for `plan`; the step trains `state.variables` with `state`'s rule and
 * slots. `splitBatch` computes every batch of two or more as two halves (FitOptions.splitBatch);
 * a model with a layer that needs the whole batch trains whole regardless.
 */
export async function compileGraphTrainer(plan: GraphPlan, state: OptimizerState, options: { splitBatch?: boolean } = {}): Promise<GraphTrainer> {
  const split = options.splitBatch ?? false;
  const { dir, weights, masks, changed, trainHalves } = writeGraph(plan, state, split);
  // Every signature comes from one folder, so tfjs-node opens one session for them all and they
  // share its variables.
  type Signature = 'train' | 'evaluate' | 'assign' | 'read' | 'train_halves' | 'evaluate_halves';
  const names: Signature[] = ['train', 'evaluate', 'assign', 'read', ...(split ? ['evaluate_halves' as const] : []), ...(trainHalves ? ['train_halves' as const] : [])];
  const sessions: Partial<Record<Signature, Session>> = {};
  try {
    for (const name of names) sessions[name] = await tf.node.loadSavedModel(dir, ['serve'], name);
  } catch (err) {
    Object.values(sessions).forEach((s) => s?.dispose());
    throw err;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const { train, evaluate, assign, read } = sessions as Required<typeof sessions>;
  const run = (session: Session, feed: Record<string, tf.Tensor>) => session.predict(feed) as Record<string, tf.Tensor>;
  /** The halves' signature where there is one, except for a batch of one, which has no halves. */
  const pick = (whole: Session, halves: Session | undefined, x: tf.Tensor) => (halves && x.shape[0] >= 2 ? halves : whole);
  /** The storage of each weight as the session last saw it, to notice a change on the tfjs side. */
  let seen: object[] = [];
  let stepsSincePull = 0;
  const push = () => {
    const feed: Record<string, tf.Tensor> = {};
    weights.forEach((v, i) => (feed[`w${i}_in`] = v));
    state.slots.forEach((s, k) => (feed[`s${k}_in`] = s));
    tf.dispose(Object.values(run(assign, feed)));
    seen = weights.map(storageOf);
  };
  /** Pushes first when a weight was replaced on the tfjs side since the session last saw it. */
  const current = () => {
    if (weights.some((v, i) => storageOf(v) !== seen[i])) push();
  };
  push();
  return {
    halves: trainHalves,
    step(x, y) {
      current();
      const feed: Record<string, tf.Tensor> = { x, y };
      const owned: tf.Tensor[] = state.nextStep().map((k) => tf.scalar(k));
      owned.forEach((k, j) => (feed[`k${j}`] = k));
      // Dropout masks drawn as tfjs draws them (the layer's own seed stream), applied in the graph.
      masks.forEach((m, i) => {
        const mask = tf.tidy(() => tf.dropout(tf.ones([x.shape[0], ...m.shape]), m.rate, undefined, m.nextSeed()));
        owned.push(mask);
        feed[`mask${i}`] = mask;
      });
      const out = run(pick(train, sessions.train_halves, x), feed);
      const loss = out.loss.dataSync()[0];
      const correct = out.correct.dataSync()[0];
      tf.dispose([...owned, out.loss, out.correct]);
      stepsSincePull += 1;
      return { loss, correct };
    },
    evaluate(x, y) {
      current();
      const out = run(pick(evaluate, sessions.evaluate_halves, x), { x, y });
      const lossSum = out.loss_sum.dataSync()[0];
      const correct = out.correct.dataSync()[0];
      tf.dispose([out.loss_sum, out.correct]);
      return { lossSum, correct };
    },
    pull() {
      if (stepsSincePull === 0) return;
      const out = run(read, {});
      for (const v of changed) {
        const key = `w${weights.indexOf(v)}`;
        v.assign(out[key]);
        out[key].dispose();
      }
      state.replaceSlots(state.slots.map((_, k) => out[`s${k}`]));
      seen = weights.map(storageOf);
      stepsSincePull = 0;
    },
    dispose() {
      Object.values(sessions).forEach((s) => s?.dispose());
    },
  };
}
