/**
 * The one place that loads TensorFlow.js. Everything else imports `tf` from here, so the native
 * backend is always the one in use and its versions can be shown where a learner looks (the first
 * cell of each notebook, the first line of each command). Introduced in notebook 00.
 */
// TensorFlow's C++ logging prints a banner about CPU features on stderr; level 2 keeps warnings
// and errors only. It must be set before the library is loaded.
process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';

import fs from 'node:fs';
import util from 'node:util';
// Sizes TensorFlow's thread pools, which it reads once when it loads: before the import below.
import './threads';
import * as tf from '@tensorflow/tfjs-node';

export { tf };

export interface BackendInfo {
  /** The active tfjs backend; 'tensorflow' means the native C library. */
  backend: string;
  /** Version of tfjs-core. */
  tfjs: string;
  /** Version of the tfjs-node package. */
  tfjsNode: string;
  /** Version of the TensorFlow C library the binding was built against (TF_Version). */
  libtensorflow: string;
}

interface NativeBackend {
  binding: { TF_Version: string };
}

export function backendInfo(): BackendInfo {
  const backend = tf.getBackend();
  const native = tf.backend() as unknown as Partial<NativeBackend>;
  return {
    backend,
    tfjs: tf.version['tfjs-core'],
    tfjsNode: tf.version['tfjs-node'],
    libtensorflow: native.binding?.TF_Version ?? 'none',
  };
}

/**
 * Whether tfjs-node still calls util.isNullOrUndefined on a Node.js that no longer has it (23 and
 * newer): `npm install` patches the call away (patches/), and without the patch the first tensor
 * operation fails with a TypeError that names neither tfjs-node nor the cure.
 */
export function tfjsNodeNeedsPatch(
  nodeUtil: object = util,
  kernelSource: () => string = () => fs.readFileSync(require.resolve('@tensorflow/tfjs-node/dist/nodejs_kernel_backend.js'), 'utf8'),
): boolean {
  if (typeof (nodeUtil as { isNullOrUndefined?: unknown }).isNullOrUndefined === 'function') return false;
  return kernelSource().includes('util_1.isNullOrUndefined');
}

/**
 * Throws unless tfjs runs on the native TensorFlow library: the pure-JS fallback would train
 * this model at about a second per image, which looks like a hang rather than an error.
 */
export function requireNativeBackend(): BackendInfo {
  if (tfjsNodeNeedsPatch()) {
    throw new Error(`@tensorflow/tfjs-node is not patched for Node.js ${process.versions.node} (it calls util.isNullOrUndefined, ` +
      'which Node.js 23 removed): run npm run setup');
  }
  const info = backendInfo();
  if (info.backend !== 'tensorflow') {
    throw new Error(`tfjs backend is '${info.backend}', not the native 'tensorflow'; run npm install to build the binding`);
  }
  return info;
}

/** One line for banners: "TensorFlow.js 4.22.0 · tfjs-node 4.22.0 · backend tensorflow · libtensorflow 2.21.0". */
export function describeBackend(info: BackendInfo = backendInfo()): string {
  return `TensorFlow.js ${info.tfjs} · tfjs-node ${info.tfjsNode} · backend ${info.backend} · libtensorflow ${info.libtensorflow}`;
}
