"""The Keras reference for `npm run bench`: the seed's own code path (Keras on TensorFlow CPU),
on the same IDX files, model, optimizer and batch size as the project's training path.

Prints one JSON line on stdout. Run by src/cli/bench.ts in the project's .venv with the optional
requirements-bench.txt installed.
"""
import argparse
import gzip
import json
import os
import resource
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def read_idx(path, offset):
    with gzip.open(path, "rb") as f:
        return f.read()[offset:]


def epoch_timer():
    """A Keras callback class that records each epoch's seconds (Keras imported lazily)."""
    from tensorflow import keras

    class EpochSeconds(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)

    return EpochSeconds


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--batches", type=int, default=0, help="train this many batches instead of a full epoch")
    p.add_argument("--model", default="seed", choices=["seed", "vgg7"])
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--train-samples", type=int, default=0,
                   help="use only the first N training images (default: all 60,000), as the notebook's trainSamples")
    p.add_argument("--augment", default="none", choices=["none", "on-the-fly"],
                   help="on-the-fly: a fresh random warp of every training image each epoch, with the seed's "
                        "settings, through Keras' preprocessing layers")
    p.add_argument("--tutorial-epochs", type=int, default=0,
                   help="instead of one timed epoch, run the tutorial end to end: load, build, fit this many "
                        "epochs with validation_split 0.25, evaluate; report the whole wall time")
    args = p.parse_args()
    process_start = time.perf_counter()

    import numpy as np
    import tensorflow as tf
    from tensorflow import keras
    from tensorflow.keras import layers

    tf.keras.utils.set_random_seed(args.seed)
    EpochSeconds = epoch_timer()
    d = args.data
    train_x = np.frombuffer(read_idx(f"{d}/train-images-idx3-ubyte.gz", 16), np.uint8).reshape(-1, 28, 28, 1) / 255.0
    train_y = np.frombuffer(read_idx(f"{d}/train-labels-idx1-ubyte.gz", 8), np.uint8)
    test_x = np.frombuffer(read_idx(f"{d}/t10k-images-idx3-ubyte.gz", 16), np.uint8).reshape(-1, 28, 28, 1) / 255.0
    test_y = np.frombuffer(read_idx(f"{d}/t10k-labels-idx1-ubyte.gz", 8), np.uint8)
    if args.train_samples:
        train_x, train_y = train_x[: args.train_samples], train_y[: args.train_samples]

    # Keras 3 no longer has ImageDataGenerator; its preprocessing layers do the same warps, drawn
    # anew for every image of every training batch and skipped at validation and test. The seed's
    # settings: rotation 10 degrees, zoom 0.1, shifts 0.1, shear 0.5 degrees (RandomShear takes
    # the shear as a slope, tan 0.5 degrees), left-right flips, nearest fill.
    augment = []
    if args.augment == "on-the-fly":
        augment = [
            layers.RandomRotation(10 / 360, fill_mode="nearest", seed=args.seed),
            layers.RandomZoom(0.1, 0.1, fill_mode="nearest", seed=args.seed),
            layers.RandomTranslation(0.1, 0.1, fill_mode="nearest", seed=args.seed),
            layers.RandomShear(x_factor=float(np.tan(np.radians(0.5))), fill_mode="nearest", seed=args.seed),
            layers.RandomFlip("horizontal", seed=args.seed),
        ]
    if args.model == "seed":
        model = keras.Sequential([
            keras.Input((28, 28, 1)),
            *augment,
            layers.Conv2D(kernel_size=(3, 3), filters=32),
            layers.MaxPool2D(strides=(2, 2)),
            layers.Conv2D(kernel_size=(3, 3), filters=64),
            layers.MaxPool2D(strides=(2, 2)),
            layers.Conv2D(kernel_size=(3, 3), filters=128),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.3),
            layers.Dense(10, activation="softmax"),
        ])
    else:
        model = keras.Sequential([
            keras.Input((28, 28, 1)),
            *augment,
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.MaxPool2D(2),
            layers.Dropout(0.5),
            layers.Conv2D(128, 3, padding="same", activation="relu"),
            layers.Conv2D(256, 3, padding="valid", activation="relu"),
            layers.MaxPool2D(2),
            layers.Dropout(0.5),
            layers.Flatten(),
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(256, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ])
    model.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    if args.tutorial_epochs:
        epoch_seconds = EpochSeconds()
        hist = model.fit(train_x, train_y, epochs=args.tutorial_epochs, validation_split=0.25, verbose=2,
                         callbacks=[epoch_seconds])
        loss, acc = model.evaluate(test_x, test_y, verbose=0)
        print(json.dumps({
            "impl": "keras-tutorial", "epochs": args.tutorial_epochs, "test_loss": float(loss), "test_acc": float(acc),
            "fit_seconds": None, "wall_seconds": time.perf_counter() - process_start,
            "final_val_acc": float(hist.history["val_accuracy"][-1]),
            "epoch_seconds": epoch_seconds.seconds,
        }))
        return 0

    # Warm-up on a few batches so graph tracing is not counted, as the tfjs side warms up too.
    model.fit(train_x[:320], train_y[:320], batch_size=32, epochs=1, verbose=0)

    batch = 32
    if args.batches:
        n_train = args.batches * batch
        n_val = n_train // 3
        x, y = train_x[: n_train + n_val], train_y[: n_train + n_val]
        split = n_val / (n_train + n_val)
    else:
        x, y, split = train_x, train_y, 0.25
        n_train = int(len(x) * (1 - split))
        n_val = len(x) - n_train
    start = time.perf_counter()
    hist = model.fit(x, y, batch_size=batch, epochs=1, validation_split=split, verbose=0)
    seconds = time.perf_counter() - start
    loss, acc = model.evaluate(test_x, test_y, batch_size=1000, verbose=0)
    print(json.dumps({
        "impl": "keras",
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "seconds": seconds,
        "train_images": n_train,
        "val_images": n_val,
        "loss": float(hist.history["loss"][-1]),
        "val_acc": float(hist.history["val_accuracy"][-1]),
        "test_loss": float(loss),
        "test_acc": float(acc),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    sys.exit(main())
