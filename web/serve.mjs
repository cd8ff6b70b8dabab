// A tiny static file server for the built page (build-web/site) on localhost: the right types (.wasm as
// application/wasm, which WebAssembly streaming needs), Content-Length (the page's progress bar), no caching,
// and compression (brotli or gzip, as the browser's Accept-Encoding allows). Not a production server.
//   node web/serve.mjs DIR [--port N]       (N = 0 picks a free port; default: $PORT or 8080)
//
// Compression happens here, not at build time: the compressed bytes are kept in memory under the file's path,
// mtime and size, so a rebuilt or edited file is never served stale, and the site folder stays plain files that
// any other host can serve (with its own compression). gzip -9 is made when a file is first asked for (~0.1 s
// for the largest file); brotli at quality 11 is ~10% smaller but takes seconds per megabyte, so it is made
// only ahead of time, by precompress(): the command line starts it for every file as it starts serving (gzip
// until it is done), and web/tests/perf.mjs waits for it. Tests and benchmarks that only import startServer
// pay for gzip alone, never for brotli in the background.
import { createServer } from 'node:http';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants as Z, gzip } from 'node:zlib';

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
// Worth compressing: text, wasm and the models (F16 weights: ~7% smaller with gzip, ~11% with brotli).
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.wasm', '.json', '.css', '.svg', '.safetensors']);

const ENCODERS = {
  br: (bytes) => promisify(brotliCompress)(bytes, {
    params: { [Z.BROTLI_PARAM_QUALITY]: 11, [Z.BROTLI_PARAM_LGWIN]: 24, [Z.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  }),
  gzip: (bytes) => promisify(gzip)(bytes, { level: 9 }),
};

// The codings Accept-Encoding allows, best first (brotli, then gzip); q=0 refuses one, `*` stands for the rest.
function acceptedEncodings(header) {
  const q = new Map();
  for (const part of String(header || '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const qp = params.map(p => p.trim()).find(p => p.startsWith('q='));
    q.set(name, qp ? Number(qp.slice(2)) || 0 : 1);
  }
  const ok = name => (q.has(name) ? q.get(name) : q.get('*') || 0) > 0;
  return ['br', 'gzip'].filter(ok);
}

// file + '\0' + coding -> { mtimeMs, size, bytes: Promise<Buffer|null>, ready: Buffer|null|undefined }.
// `bytes` resolves to null when compressing does not make the file smaller (it is then sent as it is).
const cache = new Map();

function compressed(file, st, coding) {
  const key = `${file}\0${coding}`;
  let e = cache.get(key);
  if (!e || e.mtimeMs !== st.mtimeMs || e.size !== st.size) {
    e = { mtimeMs: st.mtimeMs, size: st.size, ready: undefined };
    e.bytes = readFile(file)
      .then(raw => ENCODERS[coding](raw))
      .then(out => (out.length < st.size ? out : null));
    e.bytes.then(b => { e.ready = b; }, () => { if (cache.get(key) === e) cache.delete(key); });
    cache.set(key, e);
  }
  return e;
}

// What to send for `file`: { coding, body } with compressed bytes, or { coding: null } for the file as it is.
// Takes the best accepted coding already made for this version of the file; else gzip, made now.
async function chooseBody(file, st, accepted) {
  if (!COMPRESSIBLE.has(extname(file).toLowerCase())) return { coding: null };
  for (const coding of accepted) {
    const e = cache.get(`${file}\0${coding}`);
    if (e && e.ready && e.mtimeMs === st.mtimeMs && e.size === st.size) return { coding, body: e.ready };
  }
  if (!accepted.includes('gzip')) return { coding: null };
  try {
    const body = await compressed(file, st, 'gzip').bytes;
    return body ? { coding: 'gzip', body } : { coding: null };
  } catch {
    return { coding: null };  // the file vanished or cannot be read: the plain path reports it
  }
}

// Compresses every compressible file under root (or only those listed, relative to root) with every coding
// (files already done are skipped), so that even the first request gets the smallest body. Resolves to the
// number of files.
export async function precompress(root, only = null) {
  const files = [];
  const walk = dir => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (d.isFile() && COMPRESSIBLE.has(extname(p).toLowerCase())) files.push(p);
    }
  };
  if (only) files.push(...only.map(f => join(resolve(root), f)).filter(f => COMPRESSIBLE.has(extname(f).toLowerCase())));
  else walk(resolve(root));
  const jobs = files.flatMap(f => {
    const st = statSync(f);
    return Object.keys(ENCODERS).map(coding => compressed(f, st, coding).bytes.catch(() => null));
  });
  await Promise.all(jobs);
  return files.length;
}

// Serves root on 127.0.0.1:port; resolves to the listening http.Server (server.address().port is the port).
export function startServer(root, port = 0) {
  const base = resolve(root);
  const server = createServer(async (req, res) => {
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
    const ext = extname(file).toLowerCase();
    const headers = {
      'Content-Type': TYPES[ext] || 'application/octet-stream',
      'Cache-Control': 'no-store',
    };
    if (COMPRESSIBLE.has(ext)) headers['Vary'] = 'Accept-Encoding';
    const { coding, body } = await chooseBody(file, st, acceptedEncodings(req.headers['accept-encoding']));
    if (coding) {
      // Content-Length counts the compressed bytes; the page's progress bar needs the decoded size too.
      headers['Content-Encoding'] = coding;
      headers['Content-Length'] = body.length;
      headers['X-Decoded-Length'] = st.size;
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    headers['Content-Length'] = st.size;
    res.writeHead(200, headers);
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
    server => {
      console.log(`VAE Studio: http://localhost:${server.address().port}/  (serving ${root}; Ctrl-C stops)`);
      precompress(root).catch(err => console.error(`serve: compressing ${root}: ${err.message}`));
    },
    err => { console.error(`serve: ${err.message}`); process.exit(1); });
}
