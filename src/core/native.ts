/**
 * TensorFlow kernels that tfjs does not expose, called through tfjs-node's binding. Each wrapper
 * keeps tfjs' bookkeeping intact: outputs are ordinary tracked tensors (tidy frees them) and
 * gradients are given with tf.customGrad. Used by training/fit.ts for speed, with the same mathematics.
 */
import { createTensorsTypeOpAttr, nodeBackend } from '@tensorflow/tfjs-node/dist/nodejs_kernel_backend';
import { tf } from './backend';

/**
 * Mean sparse softmax cross-entropy from logits, TensorFlow's fused
 * SparseSoftmaxCrossEntropyWithLogits: one kernel returns the per-example loss and its gradient
 * (softmax − one-hot). This is what Keras computes for `sparse_categorical_crossentropy` after a
 * softmax layer: it takes the logits kept on the softmax output (keras/src/backend/tensorflow/nn.py).
 */
export const sparseSoftmaxCrossEntropyWithLogits: (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar = tf.customGrad(
  ((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [logits, labels, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const backend = nodeBackend();
    const [loss, backprop] = backend.executeMultipleOutputs(
      'SparseSoftmaxCrossEntropyWithLogits',
      [createTensorsTypeOpAttr('T', 'float32'), createTensorsTypeOpAttr('Tlabels', 'int32')],
      [logits, labels],
      2,
    );
    save([backprop]);
    const value = tf.mean(loss);
    loss.dispose();
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(saved[0], tf.div(dy, logits.shape[0])), tf.zerosLike(labels)],
    };
  }) as Parameters<typeof tf.customGrad>[0],
) as unknown as (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar;
