// Preloaded into every tslab kernel of the project (`node -r`, see the kernel spec that
// scripts/setup.mjs writes). Jupyter starts kernels in a session of their own, so when whatever
// started one (JupyterLab, the export runner, a hub's server) is killed outright, no signal
// reaches the kernel: it would train on, hold its memory and ports, and leave its connection file
// (with the kernel's HMAC key) behind. This watch ends the kernel once its parent is gone and
// removes that file. It runs on a thread of its own, because a training cell can keep the
// kernel's main thread busy for seconds at a time, and timers there would wait for it.
//
// A Worker inherits the process's `-r` preloads unless told otherwise, so without the two guards
// below every watcher thread would load this file again and start another watcher: the kernel
// grew by two threads a second (130 after a minute, 2.6 GB resident) and a training epoch inside
// it took 40-100 % longer than outside (docs/performance.md, "The kernel's overhead").
'use strict';
const { Worker, isMainThread } = require('node:worker_threads');

if (isMainThread) startWatch();

function startWatch() {
  const at = process.argv.indexOf('--config-path');
  const watch = `
const fs = require('node:fs');
const { workerData } = require('node:worker_threads');
setInterval(() => {
  if (process.ppid === workerData.parent) return;
  if (workerData.connectionFile) fs.rmSync(workerData.connectionFile, { force: true });
  process.kill(process.pid, 'SIGKILL');
}, workerData.pollMs);
`;
  new Worker(watch, {
    eval: true,
    execArgv: [],
    workerData: { parent: starter(), connectionFile: at > 0 ? process.argv[at + 1] : undefined, pollMs: 500 },
  }).unref();
}

// The process that started this kernel. Jupyter's launcher names itself in JPY_PARENT_PID, and
// that counts when it is no longer our parent but is gone: the starter can be killed in the moment
// between the kernel's exec and this preload, and process.ppid would then already name whoever
// adopted the kernel, which never goes away. A JPY_PARENT_PID that is not our parent but still
// runs was inherited from some other kernel's environment, and process.ppid is the one to watch.
function starter() {
  const named = Number(process.env.JPY_PARENT_PID);
  if (!Number.isInteger(named) || named <= 0 || named === process.ppid) return process.ppid;
  return gone(named) ? named : process.ppid;
}

// Whether a process has ended. A killed starter stays a zombie until it is reaped, and kill(pid, 0)
// still finds a zombie, so its state is read from /proc where there is one.
function gone(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return err.code !== 'EPERM';
  }
  const fs = require('node:fs');
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    // Without /proc (macOS) a process that kill(pid, 0) found is taken as running; with it, the
    // process ended between the two looks.
    return fs.existsSync('/proc/self/stat');
  }
}
