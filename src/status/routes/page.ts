/**
 * The Texting Services page: GET / serves one HTML document, GET /page/<asset> its
 * script, style sheet and icon. The page itself reads GET /status and the office API (/api/...)
 * from the browser; nothing here renders data, so no message body or usage figure ever passes
 * through this module.
 *
 * Assets are read once at registration: the HTML, CSS and icon from src/status/page/, the script
 * from dist/src/status/page/app.js (compiled by `npm run build` with src/status/page/tsconfig.json).
 * Every response carries a strict Content-Security-Policy: no inline script or style, nothing
 * from another origin, no framing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { StatusServerDeps } from '../server-deps';

export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  // Small files on a local server: always revalidate, so an upgrade is seen at the next load.
  'cache-control': 'no-cache',
});

interface AssetSpec {
  /** Path relative to the project root. */
  file: string;
  type: string;
}

const SOURCE_DIR = 'src/status/page';
const BUILD_DIR = 'dist/src/status/page';

export const PAGE_ASSETS: Readonly<Record<string, AssetSpec>> = Object.freeze({
  'api.js': { file: `${BUILD_DIR}/api.js`, type: 'text/javascript; charset=utf-8' },
  'app.js': { file: `${BUILD_DIR}/app.js`, type: 'text/javascript; charset=utf-8' },
  'dom.js': { file: `${BUILD_DIR}/dom.js`, type: 'text/javascript; charset=utf-8' },
  'format.js': { file: `${BUILD_DIR}/format.js`, type: 'text/javascript; charset=utf-8' },
  'history.js': { file: `${BUILD_DIR}/history.js`, type: 'text/javascript; charset=utf-8' },
  'messages.js': { file: `${BUILD_DIR}/messages.js`, type: 'text/javascript; charset=utf-8' },
  'segments.js': { file: `${BUILD_DIR}/segments.js`, type: 'text/javascript; charset=utf-8' },
  'app.css': { file: `${SOURCE_DIR}/app.css`, type: 'text/css; charset=utf-8' },
  'favicon.svg': { file: `${SOURCE_DIR}/favicon.svg`, type: 'image/svg+xml' },
});
const INDEX: AssetSpec = { file: `${SOURCE_DIR}/index.html`, type: 'text/html; charset=utf-8' };

/**
 * The project root: the nearest folder above this module that holds the page's sources. The
 * module runs from dist/src/status/routes in production and from src/status/routes under jest.
 */
export function findProjectRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, INDEX.file))) return dir;
    if (dirname(dir) === dir) throw new Error(`page sources (${INDEX.file}) not found above ${from}`);
  }
}

type Loaded = { body: Buffer; type: string } | { missing: string };

function load(root: string, spec: AssetSpec): Loaded {
  const path = join(root, spec.file);
  try {
    return { body: readFileSync(path), type: spec.type };
  } catch {
    return { missing: spec.file };
  }
}

function send(reply: FastifyReply, asset: Loaded): FastifyReply {
  reply.headers(SECURITY_HEADERS);
  if ('missing' in asset) {
    return reply.code(503).type('text/plain; charset=utf-8').send(`page asset not built: ${asset.missing} (run npm run build)`);
  }
  return reply.code(200).type(asset.type).send(asset.body);
}

export function registerPageRoutes(server: FastifyInstance, { app }: StatusServerDeps, root: string = findProjectRoot()): void {
  const index = load(root, INDEX);
  const assets = new Map(Object.entries(PAGE_ASSETS).map(([name, spec]) => [name, load(root, spec)]));
  for (const a of [index, ...assets.values()]) {
    if ('missing' in a) app.logger.warn('status page asset missing', { file: a.missing });
  }

  server.get('/', async (_req, reply) => send(reply, index));
  server.get<{ Params: { name: string } }>('/page/:name', async (req, reply) => {
    const asset = assets.get(req.params.name);
    if (!asset) return reply.code(404).headers(SECURITY_HEADERS).send({ error: 'not_found' });
    return send(reply, asset);
  });
}
