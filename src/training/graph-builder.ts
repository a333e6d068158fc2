/**
 * A TensorFlow GraphDef written node by node, and the SavedModel wrapper tfjs-node can load: the
 * low-level half of the graph engine (graph.ts). Each method adds a node and returns the name of
 * its output, so graph code reads like the ops it emits.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/* The protobuf classes tfjs-node ships for reading SavedModels (no typings are published). */
interface Message {
  serializeBinary(): Uint8Array;
}
interface Proto {
  AttrValue: new () => Message & {
    setType(t: number): void; setShape(s: unknown): void; setI(i: number): void; setF(x: number): void; setList(l: unknown): void; setS(s: Uint8Array): void;
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

export const DT_FLOAT = 1;
export const DT_INT32 = 3;
export const DT_BOOL = 10;

/** A GraphDef under construction: each method adds a node and returns its output name. */
export class GraphBuilder {
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

  attrFloat(x: number) {
    const a = new pb.AttrValue();
    a.setF(x);
    return a;
  }

  attrInt(i: number) {
    const a = new pb.AttrValue();
    a.setI(i);
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

  /** A float op with the common attribute, e.g. `g.f('Relu', [x])`. */
  f(type: string, inputs: string[], name?: string): string {
    return this.op(type, inputs, this.T, name);
  }

  /** The shape of a float tensor, as an int32 vector. */
  shapeOf(t: string): string {
    return this.op('Shape', [t], { T: this.attrType(DT_FLOAT), out_type: this.attrType(DT_INT32) });
  }

  /** A float scalar constant. */
  scalar(value: number): string {
    return this.constant(DT_FLOAT, [value]);
  }

  /**
   * Writes the graph as a SavedModel into a fresh temporary folder and returns the folder. Each
   * signature names its inputs (placeholders) and outputs (key → node and dtype).
   */
  writeSavedModel(signatures: Record<string, { inputs: Array<[string, number]>; outputs: Array<[string, string, number]> }>): string {
    const version = new pb.VersionDef();
    version.setProducer(1700);
    this.graph.setVersions(version);
    const meta = new pb.MetaGraphDef();
    const info = new pb.MetaGraphDef.MetaInfoDef();
    info.addTags('serve');
    meta.setMetaInfoDef(info);
    meta.setGraphDef(this.graph);
    const tensorInfo = (name: string, dtype: number) => {
      const t = new pb.TensorInfo();
      t.setName(`${name}:0`);
      t.setDtype(dtype);
      t.setTensorShape(this.shape([]));
      return t;
    };
    for (const [key, sig] of Object.entries(signatures)) {
      const s = new pb.SignatureDef();
      for (const [n, dt] of sig.inputs) s.getInputsMap().set(n, tensorInfo(n, dt));
      for (const [out, n, dt] of sig.outputs) s.getOutputsMap().set(out, tensorInfo(n, dt));
      s.setMethodName('tensorflow/serving/predict');
      meta.getSignatureDefMap().set(key, s);
    }
    const saved = new pb.SavedModel();
    saved.setSavedModelSchemaVersion(1);
    saved.addMetaGraphs(meta);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmnist-graph-'));
    fs.mkdirSync(path.join(dir, 'variables'));
    fs.writeFileSync(path.join(dir, 'saved_model.pb'), Buffer.from(saved.serializeBinary()));
    return dir;
  }
}
