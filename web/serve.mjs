// A tiny static file server for the built page (build-web/site) on localhost: the right types (.wasm as
// application/wasm, which WebAssembly streaming needs), Content-Length (the page's progress bar), no caching.
// Not a production server.
//   node web/serve.mjs DIR [--port N]       (N = 0 picks a free port; default: $PORT or 8080)
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.safetensors': 'application/octet-stream',
};

// Serves root on 127.0.0.1:port; resolves to the listening http.Server (server.address().port is the port).
export function startServer(root, port = 0) {
  const base = resolve(root);
  const server = createServer((req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(base, path));
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    let st;
    try {
      st = statSync(file);
    } catch {
      st = null;
    }
    if (!st || !st.isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file).toLowerCase()] || 'application/octet-stream',
      'Content-Length': st.size,
      'Cache-Control': 'no-store',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok(server));
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const root = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--port');
  const at = args.indexOf('--port');
  const port = Number(at >= 0 ? args[at + 1] : process.env.PORT || 8080);
  if (!root || !Number.isInteger(port) || port < 0 || port > 65535) {
    console.error('usage: node web/serve.mjs DIR [--port N]');
    process.exit(2);
  }
  try {
    statSync(join(root, 'index.html'));
  } catch {
    console.error(`serve: no index.html in ${root} (build the page first: ./studio.sh serve)`);
    process.exit(1);
  }
  startServer(root, port).then(
    server => console.log(`VAE Studio: http://localhost:${server.address().port}/  (serving ${root}; Ctrl-C stops)`),
    err => { console.error(`serve: ${err.message}`); process.exit(1); });
}
