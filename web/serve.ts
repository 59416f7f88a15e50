// web/serve.ts — `npm run demo:web`: builds the browser demo (web/build.ts) and serves it on localhost.
//
//   npm run demo:web [-- --port N] [--host H] [--no-build]      (PORT in the environment works too)
//
// A static file server over node:http for the built folder: the right MIME types (application/wasm
// for onnxruntime-web's binary, so it compiles while it streams), nothing outside the folder, no
// caching headers beyond no-store (a rebuilt bundle is picked up by a reload).

import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDemo, DEFAULT_OUTDIR } from './build.js';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.onnx': 'application/octet-stream',
};

export const DEFAULT_PORT = 8737;

/** Serves `dir` on host:port (port 0: any free one); resolves once listening. */
export function serveDir(dir: string, port = DEFAULT_PORT, host = '127.0.0.1'): Promise<{ url: string; server: Server }> {
  const root = resolve(dir);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    let ok = file === root || file.startsWith(root + sep);
    try {
      ok &&= statSync(file).isFile();
    } catch {
      ok = false;
    }
    if (!ok || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      const a = server.address();
      const p = typeof a === 'object' && a ? a.port : port;
      done({ url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${p}/`, server });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let port = process.env.PORT ? Number(process.env.PORT) : DEFAULT_PORT;
  let host = '127.0.0.1';
  let build = true;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--port' && args[i + 1]) port = Number(args[++i]);
    else if (args[i] === '--host' && args[i + 1]) host = args[++i];
    else if (args[i] === '--no-build') build = false;
    else {
      console.error('usage: npm run demo:web [-- --port N] [--host H] [--no-build]');
      process.exit(2);
    }
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`demo:web: --port must be 0-65535, not ${port}`);
    process.exit(2);
  }
  if (build) {
    const r = await buildDemo();
    console.log(`built web/dist in ${r.ms} ms (main.js ${(r.files['main.js'] / 1024).toFixed(0)} KiB)`);
  }
  try {
    const { url } = await serveDir(DEFAULT_OUTDIR, port, host);
    console.log(`wasmformer demo: ${url}   (Ctrl-C stops it)`);
  } catch (e) {
    console.error(`demo:web: cannot listen on ${host}:${port}: ${(e as Error).message} (pick another with --port N)`);
    process.exit(1);
  }
}
