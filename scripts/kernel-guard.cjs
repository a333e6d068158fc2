// Preloaded into every tslab kernel of the project (`node -r`, see the kernel spec that
// scripts/setup.mjs writes). Jupyter starts kernels in a session of their own, so when whatever
// started one (JupyterLab, the export runner, a hub's server) is killed outright, no signal
// reaches the kernel: it would train on, hold its memory and ports, and leave its connection file
// (with the kernel's HMAC key) behind. This watch ends the kernel once its parent is gone and
// removes that file.
'use strict';
const fs = require('node:fs');

const POLL_MS = 1000;
const parent = process.ppid;
const at = process.argv.indexOf('--config-path');
const connectionFile = at > 0 ? process.argv[at + 1] : undefined;

setInterval(() => {
  if (process.ppid === parent) return;
  if (connectionFile) fs.rmSync(connectionFile, { force: true });
  process.exit(0);
}, POLL_MS).unref();
