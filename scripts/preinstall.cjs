// scripts/preinstall.cjs — CPU by default: keep onnxruntime-node's postinstall from downloading CUDA binaries.
//
// onnxruntime-node (>= 1.18) ships its CPU provider inside the npm package, but on Linux x64 its
// postinstall (node_modules/onnxruntime-node/script/install.js) downloads the CUDA provider from
// api.nuget.org unless (a) ONNXRUNTIME_NODE_INSTALL / npm_config_onnxruntime_node_install says
// otherwise, or (b) the files it would download already exist. A package cannot set another
// package's environment, and a machine that reaches only the npm registry fails the whole install
// (ENOTFOUND api.nuget.org). npm runs every package's preinstall before any postinstall, so this
// script takes route (b): where the user set no flag and the files are missing, it writes small
// marker files in their place, and onnxruntime-node's script then exits without downloading.
// The markers are not libraries; `wasmformer run --provider cuda` recognises them and explains how
// to fetch the real ones (`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`, which
// overwrites them). A user who sets any onnxruntime-node install flag gets onnxruntime-node's own
// behaviour untouched. This script never fails the install.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const FLAGS = ['ONNXRUNTIME_NODE_INSTALL', 'npm_config_onnxruntime_node_install', 'ONNXRUNTIME_NODE_INSTALL_CUDA', 'npm_config_onnxruntime_node_install_cuda'];
const MARKER = 'wasmformer: placeholder for an ONNX Runtime CUDA provider library that was not downloaded (CPU is the default).\n' +
  'To install the real one: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node\n';

/** onnxruntime-node's directory as Node would resolve it from this package, or null. */
function findOrt(from) {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', 'onnxruntime-node');
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) return null;
  }
}

/** The files onnxruntime-node's postinstall would download on this platform (absolute paths). */
function downloadedFiles(ortDir) {
  const meta = require(path.join(ortDir, 'script', 'install-metadata.js'));
  const platform = `${os.platform()}/${os.arch()}`;
  const files = [];
  for (const name of (meta.requirements && meta.requirements[platform]) || []) {
    const manifest = (meta.manifests && meta.manifests[`${platform}:${name}`]) || {};
    for (const file of Object.keys(manifest)) files.push(path.join(ortDir, 'bin', 'napi-v6', platform, file));
  }
  return files;
}

function main() {
  if (FLAGS.some((k) => process.env[k])) return; // the user chose; onnxruntime-node honours it
  const ortDir = findOrt(path.dirname(__dirname));
  if (!ortDir) return;
  for (const file of downloadedFiles(ortDir)) {
    if (!fs.existsSync(file) && fs.existsSync(path.dirname(file))) fs.writeFileSync(file, MARKER);
  }
}

try {
  main();
} catch {
  // never fail the install: at worst onnxruntime-node's own script runs as it would without us
}
