"""Produces test/fixtures/keras-callbacks.json, the reference for src/training/callbacks.test.ts.

It feeds scripted epoch logs through Keras 3's own EarlyStopping, ReduceLROnPlateau and
ModelCheckpoint, driven the way Keras' fit drives them (on_train_begin, on_epoch_end per epoch
until model.stop_training, on_train_end), and records what Keras decided: the epochs run, the
stopped and best epochs, which epoch's weights were restored, the learning rate of every epoch,
and the epochs at which a checkpoint was written. The logs are written into the fixture with the
decisions, so the TypeScript test replays exactly these numbers.

Run once, from the project root, with the Keras reference installed (requirements-bench.txt):
    .venv/bin/python scripts/keras_callbacks_reference.py
"""
import json
import os
import random
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402
import numpy as np  # noqa: E402


def walk(seed, n, start, drift, noise, rising=False):
    """A noisy learning curve: mostly falling (or rising), with plateaus and bumps."""
    rng = random.Random(seed)
    out, v = [], start
    for _ in range(n):
        v += (drift if rising else -drift) * rng.random() + rng.gauss(0, noise)
        out.append(round(v, 6))
    return out


SEQUENCES = {}


def scripted(group, name, val_loss):
    """The epoch logs of one scripted curve, kept once in the fixture under `group/name`."""
    key = f"{group}/{name}"
    SEQUENCES[key] = epochs_of(val_loss)
    return key, SEQUENCES[key]


def epochs_of(val_loss, loss=None, val_acc=None, acc=None):
    n = len(val_loss)
    loss = loss or [round(v * 0.9, 6) for v in val_loss]
    val_acc = val_acc or [round(1 - v / 3, 6) for v in val_loss]
    acc = acc or [round(1 - v / 3.2, 6) for v in loss]
    return [{"loss": loss[i], "acc": acc[i], "val_loss": val_loss[i], "val_acc": val_acc[i]} for i in range(n)]


def tiny_model(lr):
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss="mse")
    return model


def drive(callback, model, epochs):
    """Keras' fit loop around one callback: returns the epochs it ran."""
    callback.set_model(model)
    model.stop_training = False
    callback.on_train_begin()
    ran = 0
    for epoch, logs in enumerate(epochs):
        # Every epoch leaves weights that name it, so a restore shows which epoch it took.
        model.set_weights([np.full((1, 1), float(epoch), dtype="float32")])
        callback.on_epoch_end(epoch, dict(logs))
        ran += 1
        if model.stop_training:
            break
    callback.on_train_end()
    return ran, model


def early_stopping_cases():
    seqs = {
        "hand": [1.0, 0.9, 0.95, 0.85, 0.86, 0.87, 0.84, 0.9, 0.91, 0.92, 0.93],
        "walk1": walk(1, 25, 1.2, 0.08, 0.05),
        "walk2": walk(2, 25, 1.0, 0.03, 0.04),
        "flat": [0.5] * 8,
    }
    settings = [
        {},
        {"patience": 2},
        {"patience": 2, "min_delta": 0.02},
        {"patience": 3, "restore_best_weights": True},
        {"patience": 100, "restore_best_weights": True},
        {"patience": 1, "baseline": 0.86},
        {"patience": 2, "baseline": 0.5, "restore_best_weights": True},
        {"patience": 1, "start_from_epoch": 3},
        {"monitor": "val_acc", "mode": "max", "patience": 2},
        {"monitor": "val_acc", "mode": "max", "patience": 1, "min_delta": 0.005, "restore_best_weights": True},
        {"monitor": "loss", "mode": "min", "patience": 2},
    ]
    cases = []
    for seq_name, seq in seqs.items():
        key, epochs = scripted("early_stopping", seq_name, seq)
        for s in settings:
            cb = keras.callbacks.EarlyStopping(**s)
            ran, model = drive(cb, tiny_model(0.01), epochs)
            restored = float(model.get_weights()[0][0, 0])
            cases.append({
                "name": f"{seq_name} {json.dumps(s)}", "settings": s, "sequence": key,
                "ran": ran, "stopped_epoch": cb.stopped_epoch, "best_epoch": cb.best_epoch,
                # With restore_best_weights the weights name the restored epoch; else the last epoch run.
                "weights_epoch": restored,
            })
    return cases


def reduce_lr_cases():
    seqs = {
        "hand": [1.0, 0.9, 0.9, 0.9, 0.9, 0.89995, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8],
        "walk1": walk(3, 40, 1.0, 0.02, 0.03),
        "walk2": walk(4, 40, 1.0, 0.005, 0.02),
    }
    settings = [
        {},
        {"patience": 2},
        {"patience": 2, "factor": 0.5, "cooldown": 1},
        {"patience": 1, "factor": 0.1, "min_lr": 1e-4},
        {"patience": 3, "min_delta": 0.01, "cooldown": 2, "factor": 0.2},
        {"monitor": "val_acc", "mode": "max", "patience": 2, "factor": 0.5},
        {"monitor": "loss", "patience": 1, "factor": 0.3, "min_lr": 2e-5},
    ]
    cases = []
    for seq_name, seq in seqs.items():
        key, epochs = scripted("reduce_lr_on_plateau", seq_name, seq)
        for s in settings:
            cb = keras.callbacks.ReduceLROnPlateau(**s)
            model = tiny_model(1e-3)
            cb.set_model(model)
            cb.on_train_begin()
            lrs = []
            for epoch, logs in enumerate(epochs):
                logs = dict(logs)
                cb.on_epoch_end(epoch, logs)
                lrs.append(logs["learning_rate"])
            final = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
            cases.append({"name": f"{seq_name} {json.dumps(s)}", "settings": s, "initial_lr": 1e-3, "sequence": key, "lr": lrs, "final_lr": final})
    return cases


def checkpoint_cases(tmp):
    seqs = {"hand": [1.0, 0.9, 0.95, 0.85, 0.86, 0.87, 0.84, 0.9], "walk1": walk(5, 20, 1.0, 0.05, 0.05)}
    settings = [
        {"save_best_only": True},
        {"save_best_only": False},
        {"save_best_only": True, "monitor": "val_acc"},
        {"save_best_only": True, "monitor": "val_acc", "mode": "max", "initial_value_threshold": 0.72},
        {"save_best_only": True, "monitor": "loss", "initial_value_threshold": 0.8},
    ]
    cases = []
    for seq_name, seq in seqs.items():
        key, epochs = scripted("model_checkpoint", seq_name, seq)
        for i, s in enumerate(settings):
            folder = os.path.join(tmp, f"{seq_name}-{i}")
            os.makedirs(folder)
            # mode auto reads val_acc's direction from the compiled metrics, as Keras does.
            model = tiny_model(0.01)
            model.compile(optimizer="sgd", loss="mse", metrics=["acc"])
            model.fit(np.zeros((2, 1)), np.zeros((2, 1)), epochs=1, verbose=0)
            cb = keras.callbacks.ModelCheckpoint(os.path.join(folder, "e{epoch:03d}.keras"), **s)
            drive(cb, model, epochs)
            saved = sorted(int(f[1:4]) - 1 for f in os.listdir(folder))
            cases.append({"name": f"{seq_name} {json.dumps(s)}", "settings": s, "sequence": key, "saved": saved})
    return cases


def main():
    with tempfile.TemporaryDirectory() as tmp:
        fixture = {
            "produced_by": "scripts/keras_callbacks_reference.py",
            "keras": keras.__version__,
            "early_stopping": early_stopping_cases(),
            "reduce_lr_on_plateau": reduce_lr_cases(),
            "model_checkpoint": checkpoint_cases(tmp),
            "sequences": SEQUENCES,
        }
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "keras-callbacks.json")
    with open(out + ".tmp", "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    os.replace(out + ".tmp", out)
    print(f"wrote {os.path.relpath(out)}: {sum(len(v) for v in fixture.values() if isinstance(v, list))} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
