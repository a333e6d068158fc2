#!/usr/bin/env node
// Runs as the project's `postinstall` (and as `npm run setup`). It turns a fresh clone into a
// working project in five idempotent steps, each skipped when its result is already in place:
//   0. the patches in patches/ applied to node_modules with patch-package (tfjs-node 4.22.0 calls
//      util.isNullOrUndefined, which Node.js 23 removed; see the README's "Node.js versions";
//      nodeplotlib 1.1.2 is made to serve its page this project's plotly.js and listen on
//      127.0.0.1 only; see the README's "Offline"; tslab 1.0.22 binds its IOPub socket before the
//      others, so a kernel starting on a busy machine loses no status message);
//   1. the project's Python environment (.venv) with JupyterLab, nbconvert, nbclient and TensorBoard;
//   2. a native TensorFlow binding for @tensorflow/tfjs-node. On Linux x64 with g++ and make it is
//      built against the TensorFlow C library inside the `tensorflow-cpu` wheel on PyPI (2.21, the
//      version every test and figure of the project comes from); elsewhere, tfjs-node's own
//      download (libtensorflow 2.9.1) is used;
//   3. the tslab kernel, registered inside .venv only (nothing in the user's Jupyter folders);
//   4. the compiled helpers in dist/ that notebooks and commands import.
// Knobs (environment): FMNIST_TF_SOURCE=auto|official|wheel (default auto: the wheel where it can
// be built, the official download elsewhere), FMNIST_TF_WHEEL=<pip requirement> (default
// tensorflow-cpu==2.21.0), PYTHON=<interpreter>.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const venv = path.join(root, '.venv');
const venvPython = path.join(venv, 'bin', 'python');
const tfjsNodeDir = path.join(root, 'node_modules', '@tensorflow', 'tfjs-node');
const depsDir = path.join(tfjsNodeDir, 'deps');
const wheelCache = path.join(root, '.cache', 'tensorflow');
const KERNEL_NAME = 'fmnist-ts';
const DEFAULT_WHEEL = 'tensorflow-cpu==2.21.0';

class SetupError extends Error {}

function log(message) {
  console.log(`[setup] ${message}`);
}

/** Runs a command; returns its result, or throws a one-line SetupError when `check` is set. */
function run(cmd, args, { cwd = root, env = {}, check = true, quiet = false, timeoutMs } = {}) {
  const result = spawnSync(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: quiet ? 'pipe' : ['ignore', 'inherit', 'inherit'],
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (check && (result.error || result.status !== 0)) {
    const why = result.error ? result.error.message : `exit code ${result.status}`;
    const tail = quiet ? lastLine(`${result.stderr ?? ''}${result.stdout ?? ''}`) : '';
    throw new SetupError(`${path.basename(cmd)} ${args.slice(0, 3).join(' ')} failed (${why})${tail ? `: ${tail}` : ''}`);
  }
  return result;
}

function lastLine(text) {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length ? lines[lines.length - 1].slice(0, 300) : '';
}

function sha256OfFile(file) {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

// Step 0 ---------------------------------------------------------------------------------------

function applyPatches() {
  const cli = path.join(root, 'node_modules', 'patch-package', 'index.js');
  if (!fs.existsSync(cli)) throw new SetupError('node_modules/patch-package is missing; run npm install');
  // patch-package recognises patches that are already applied, so this is safe to repeat.
  run(process.execPath, [cli, '--error-on-fail'], { quiet: true });
  log('patches/ applied (tfjs-node without util.isNullOrUndefined, for Node.js 23 and newer; nodeplotlib offline and on 127.0.0.1; tslab binding IOPub first)');
}

// Step 1 ---------------------------------------------------------------------------------------

function ensureVenv() {
  const requirements = path.join(root, 'requirements.txt');
  const stamp = path.join(venv, '.requirements.sha256');
  const wanted = sha256OfFile(requirements);
  const usable = fs.existsSync(venvPython) &&
    run(venvPython, ['-c', 'import jupyterlab, nbclient, nbconvert'], { check: false, quiet: true }).status === 0;
  if (usable && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8').trim() === wanted) {
    log('Python environment .venv is up to date');
    return;
  }
  const python = process.env.PYTHON || 'python3';
  if (!fs.existsSync(venvPython)) {
    log(`creating the Python environment .venv with ${python}`);
    const made = run(python, ['-m', 'venv', venv], { check: false, quiet: true });
    if (made.status !== 0) {
      throw new SetupError(`could not create .venv with '${python}' (needs Python 3.9+ with the venv module; ` +
        `on Debian/Ubuntu: apt-get install python3-venv): ${lastLine(`${made.stderr ?? ''}${made.error?.message ?? ''}`)}`);
    }
  }
  log('installing requirements.txt into .venv (JupyterLab, nbconvert, nbclient, TensorBoard)');
  run(venvPython, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', requirements], { quiet: true });
  fs.writeFileSync(stamp, `${wanted}\n`);
}

// Step 2 ---------------------------------------------------------------------------------------

/** Loads tfjs-node in a child process; returns {ok, info: {backend, tf, tfjsNode}} or {ok: false, reason}. */
function probeBinding() {
  const probe = `
    const tf = require('@tensorflow/tfjs-node');
    const out = { backend: tf.getBackend(), tf: tf.backend().binding.TF_Version, tfjsNode: tf.version['tfjs-node'] };
    const s = tf.tidy(() => tf.tensor1d([1, 2, 3]).square().sum().dataSync()[0]);
    if (s !== 14) throw new Error('native backend computed ' + s + ' instead of 14');
    console.log(JSON.stringify(out));`;
  const r = run(process.execPath, ['-e', probe], {
    check: false, quiet: true, env: { TF_CPP_MIN_LOG_LEVEL: '2' }, timeoutMs: 120_000,
  });
  if (r.status === 0) {
    try {
      return { ok: true, info: JSON.parse(lastLine(r.stdout)) };
    } catch { /* fall through to the failure report */ }
  }
  const text = `${r.stderr ?? ''}\n${r.stdout ?? ''}`;
  return { ok: false, reason: explainLoadFailure(text, r.status), patchMissing: /isNullOrUndefined/.test(text) };
}

/**
 * Turns a failed load's output into one line: the first real error line (Node prints the stack
 * and then its own version banner last, which names nothing), plus what it means where it is a
 * failure we know.
 */
function explainLoadFailure(text, status) {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const first = lines.find((l) => /^(\w*Error|Error)\b|^error:/i.test(l)) ?? lines[0] ?? `exit code ${status}`;
  if (/isNullOrUndefined/.test(text)) {
    return `${first} — tfjs-node 4.22.0 calls util.isNullOrUndefined, which Node.js ${process.versions.node.split('.')[0]} ` +
      'no longer has; the patch in patches/ is not applied: run `npm run setup` (or use Node.js 22)';
  }
  if (/cannot open shared object file|libtensorflow/.test(first)) {
    return `${first} — the TensorFlow C library is missing: run \`npm run setup\` to fetch and build it again`;
  }
  if (/NODE_MODULE_VERSION|compiled against a different Node/.test(text)) {
    return `${first} — the binding was built for another Node.js: run \`npm run setup\` to rebuild it`;
  }
  return first.slice(0, 400);
}

/** Why the wheel build cannot run here, or '' when it can (Linux x64 with a C++ compiler and make). */
function wheelRouteBlocker() {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `the wheel build supports linux-x64 only, not ${process.platform}-${process.arch}`;
  for (const tool of ['g++', 'make']) {
    if (run('sh', ['-c', `command -v ${tool}`], { check: false, quiet: true }).status !== 0) return `${tool} is not installed`;
  }
  return '';
}

function wantedWheel() {
  return process.env.FMNIST_TF_WHEEL || DEFAULT_WHEEL;
}

/** 'tensorflow-cpu==2.21.0' -> 'tensorflow_cpu-2.21.0', how that wheel's file name begins. */
function wheelFilePrefix(requirement) {
  const [name, version = ''] = requirement.split('==');
  return `${name.replace(/-/g, '_')}-${version}`;
}

/** The wheel the binding in deps/ was built against, or '' for tfjs-node's own download. */
function builtFromWheel() {
  const file = path.join(depsDir, 'SOURCE');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '';
}

function tryOfficialInstall() {
  log('trying tfjs-node\'s official libtensorflow download');
  const r = run(process.execPath, ['scripts/install.js'], {
    cwd: tfjsNodeDir, check: false, quiet: true, timeoutMs: 15 * 60_000,
  });
  if (r.status === 0) return true;
  const text = `${r.stderr ?? ''}\n${r.stdout ?? ''}`;
  const cause = /(ENOTFOUND|ECONNREFUSED|ETIMEDOUT|ECONNRESET|EAI_AGAIN)[^\n]*/.exec(text)?.[0] ?? lastLine(text);
  log(`official download unavailable (${cause.trim()})`);
  return false;
}

/** The folder with Node's own headers, so node-gyp need not download them. */
function localNodeDir() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

/** npm's own bin/npm-cli.js, found through the `npm` on PATH (for `node scripts/setup.mjs` run by hand). */
function npmOnPath() {
  const r = run('sh', ['-c', 'command -v npm'], { check: false, quiet: true });
  if (r.status !== 0) return '';
  try {
    return fs.realpathSync(r.stdout.trim());
  } catch {
    return '';
  }
}

function nodeGypScript() {
  // node-gyp ships inside npm: beside the npm running this script, or the one on PATH when the
  // script is run by hand.
  const besideNpm = (npmCli) => npmCli && path.join(path.dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const candidates = [
    process.env.npm_config_node_gyp,
    besideNpm(process.env.npm_execpath),
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    besideNpm(npmOnPath()),
  ].filter(Boolean);
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new SetupError('node-gyp not found (it ships with npm); install npm or set npm_config_node_gyp');
  return found;
}

function stageWheelLibrary() {
  const requirement = wantedWheel();
  fs.mkdirSync(wheelCache, { recursive: true });
  const prefix = wheelFilePrefix(requirement);
  const cached = () => fs.readdirSync(wheelCache).find((f) => f.endsWith('.whl') && f.startsWith(prefix));
  const have = cached();
  if (have) {
    log(`using cached wheel .cache/tensorflow/${have}`);
  } else {
    log(`downloading ${requirement} from PyPI (about 270 MB, only its C library is used)`);
    // The wheel is pinned to one CPython tag so the choice does not depend on the local Python:
    // the C library inside is the same for every tag.
    run(venvPython, ['-m', 'pip', 'download', '--disable-pip-version-check', '--no-deps', '--only-binary=:all:',
      '--python-version', '3.11', '--platform', 'manylinux_2_27_x86_64', '--platform', 'manylinux_2_17_x86_64',
      '-d', wheelCache, requirement]);
  }
  const wheel = cached();
  if (!wheel) throw new SetupError(`no wheel for ${requirement} in .cache/tensorflow`);
  log(`extracting libtensorflow_cc, libtensorflow_framework and the C headers from ${wheel}`);
  const staging = `${depsDir}.staging`;
  fs.rmSync(staging, { recursive: true, force: true });
  // Only the C API headers and what they include are needed, about 4 MB of the wheel's 270 MB of headers.
  const extract = `
import os, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
keep_inc = ('tensorflow/include/tensorflow/c/', 'tensorflow/include/tensorflow/core/platform/',
            'tensorflow/include/tsl/platform/', 'tensorflow/include/xla/tsl/')
libs = {'tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'}
found = set()
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if name in libs:
            target = os.path.join(out, 'lib', os.path.basename(name)); found.add(name)
        elif name.startswith(keep_inc) and not name.endswith('/'):
            target = os.path.join(out, 'include', name[len('tensorflow/include/'):])
        else:
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(info) as src, open(target, 'wb') as dst:
            while True:
                chunk = src.read(1 << 20)
                if not chunk: break
                dst.write(chunk)
missing = libs - found
if missing:
    sys.exit('wheel lacks ' + ', '.join(sorted(missing)))
`;
  run(venvPython, ['-c', extract, path.join(wheelCache, wheel), staging]);
  // binding.gyp links -ltensorflow -ltensorflow_framework; the sonames inside stay
  // libtensorflow_cc.so.2 and libtensorflow_framework.so.2, which the rpath finds at run time.
  fs.symlinkSync('libtensorflow_cc.so.2', path.join(staging, 'lib', 'libtensorflow.so'));
  fs.symlinkSync('libtensorflow_framework.so.2', path.join(staging, 'lib', 'libtensorflow_framework.so'));
  fs.writeFileSync(path.join(staging, 'SOURCE'), `${wheel}\n`);
  fs.rmSync(depsDir, { recursive: true, force: true });
  fs.renameSync(staging, depsDir);
}

function buildBindingFromSource() {
  const nodedir = localNodeDir();
  log(`compiling the tfjs-node binding with node-gyp${nodedir ? ` (Node headers from ${nodedir}/include/node)` : ''}`);
  const env = { npm_config_node_gyp: nodeGypScript(), npm_config_build_from_source: 'true' };
  if (nodedir) env.npm_config_nodedir = nodedir;
  const preGyp = path.join(root, 'node_modules', '@mapbox', 'node-pre-gyp', 'bin', 'node-pre-gyp');
  const r = run(process.execPath, [preGyp, 'rebuild', '--build-from-source'], { cwd: tfjsNodeDir, env, check: false, quiet: true });
  if (r.status !== 0) {
    const errLine = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').find((l) => /error/i.test(l)) ?? lastLine(r.stderr ?? '');
    throw new SetupError(`building the tfjs-node binding failed (needs g++, make and python3): ${errLine.trim()}`);
  }
}

function ensureNativeTensorFlow() {
  if (!fs.existsSync(tfjsNodeDir)) throw new SetupError('node_modules/@tensorflow/tfjs-node is missing; run npm install');
  const source = process.env.FMNIST_TF_SOURCE || 'auto';
  if (!['auto', 'official', 'wheel'].includes(source)) {
    throw new SetupError(`FMNIST_TF_SOURCE must be auto, official or wheel, not '${source}'`);
  }
  const blocker = source === 'official' ? 'FMNIST_TF_SOURCE=official' : wheelRouteBlocker();
  if (source === 'wheel' && blocker) throw new SetupError(`FMNIST_TF_SOURCE=wheel, but ${blocker}`);
  const wantWheel = !blocker;
  const wanted = wantedWheel();
  const first = probeBinding();
  // A binding from tfjs-node's own download (libtensorflow 2.9.1, e.g. left by npm 10, which runs
  // tfjs-node's install script) is replaced where the wheel build works, so that every machine
  // that can runs the TensorFlow the project is tested and measured on.
  const current = builtFromWheel();
  if (first.ok && (!wantWheel || current.startsWith(wheelFilePrefix(wanted)))) {
    log(`native TensorFlow ready: backend ${first.info.backend}, libtensorflow ${first.info.tf}` +
      `${current ? ` (built against ${current})` : ' (tfjs-node\'s official download)'}`);
    return first.info;
  }
  // A binding that fails for want of the patch would fail the same way after a rebuild.
  if (!first.ok && first.patchMissing) throw new SetupError(`the tfjs-node binding does not load: ${first.reason}`);
  if (first.ok) log(`the binding loads libtensorflow ${first.info.tf}${current ? ` from ${current}` : ' (official download)'}; rebuilding against ${wanted}`);
  else if (fs.existsSync(path.join(tfjsNodeDir, 'lib'))) log(`the present binding does not load (${first.reason}); rebuilding`);
  if (wantWheel) {
    stageWheelLibrary();
    buildBindingFromSource();
    const built = probeBinding();
    if (!built.ok) throw new SetupError(`the tfjs-node binding was built but does not load: ${built.reason}`);
    log(`native TensorFlow ready (built against the wheel): backend ${built.info.backend}, libtensorflow ${built.info.tf}`);
    return built.info;
  }
  log(`using tfjs-node's official download (libtensorflow 2.9.1), since ${blocker}; ` +
    'the project is tested and measured on 2.21 from the wheel build');
  if (!tryOfficialInstall()) {
    throw new SetupError(`tfjs-node's official download failed and the wheel build cannot run here (${blocker})`);
  }
  const after = probeBinding();
  if (!after.ok) throw new SetupError(`the official tfjs-node build does not load: ${after.reason}`);
  log(`native TensorFlow ready (official build): libtensorflow ${after.info.tf}`);
  return after.info;
}

// Step 3 ---------------------------------------------------------------------------------------

function ensureKernel() {
  const dir = path.join(venv, 'share', 'jupyter', 'kernels', KERNEL_NAME);
  // {resource_dir} keeps the spec valid when the project folder moves: five levels up from
  // .venv/share/jupyter/kernels/<name> is the project root.
  const spec = {
    // kernel-guard ends the kernel when the process that started it is gone (see that file).
    argv: ['node', '-r', '{resource_dir}/../../../../../scripts/kernel-guard.cjs',
      '{resource_dir}/../../../../../node_modules/tslab/bin/tslab', 'kernel', '--config-path', '{connection_file}'],
    display_name: 'TypeScript (Fashion-MNIST)',
    language: 'typescript',
    env: { TF_CPP_MIN_LOG_LEVEL: '2' },
  };
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'kernel.json');
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(spec, null, 2)}\n`);
  fs.renameSync(tmp, file);
  log(`tslab kernel '${KERNEL_NAME}' registered in .venv/share/jupyter/kernels`);
}

// Step 4 ---------------------------------------------------------------------------------------

function buildHelpers() {
  log('compiling src/ to dist/ (tsc)');
  run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.json')]);
}

function main() {
  const started = Date.now();
  applyPatches();
  ensureVenv();
  const info = ensureNativeTensorFlow();
  ensureKernel();
  buildHelpers();
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s: tfjs-node ${info.tfjsNode}, backend ${info.backend}, libtensorflow ${info.tf}`);
}

try {
  main();
} catch (err) {
  if (err instanceof SetupError) {
    console.error(`[setup] error: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
