/**
 * The page's routes without a browser or a stack: where the assets come from, what answers when
 * the script has not been built, and that only the named assets are served.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { findProjectRoot, PAGE_CSP, registerPageRoutes } from '../../src/status/routes/page';
import type { StatusServerDeps } from '../../src/status/server-deps';
import { tempDir } from '../support/tmp';

describe('status page routes', () => {
  const tmp = tempDir('econnector-page-');
  const warnings: Array<Record<string, unknown>> = [];
  const deps = { app: { logger: { warn: (_msg: string, meta: Record<string, unknown>) => warnings.push(meta) } } } as unknown as StatusServerDeps;

  afterAll(() => tmp.remove());

  it('finds the project root from the source tree and from dist', () => {
    const root = findProjectRoot();
    expect(findProjectRoot(join(root, 'dist', 'src', 'status', 'routes'))).toBe(root);
    expect(() => findProjectRoot('/')).toThrow(/page sources/);
  });

  it('answers 503 with the CSP for an asset that was not built, and 404 for anything not an asset', async () => {
    mkdirSync(join(tmp.path, 'src/status/page'), { recursive: true });
    writeFileSync(join(tmp.path, 'package.json'), '{}');
    writeFileSync(join(tmp.path, 'src/status/page/index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(tmp.path, 'src/status/page/app.css'), 'body{}');
    const server = Fastify();
    registerPageRoutes(server, deps, tmp.path);
    // A real listener (fetch), not inject: light-my-request's ESM dependency does not load under jest.
    const base = await server.listen({ host: '127.0.0.1', port: 0 });
    try {
      const index = await fetch(`${base}/`);
      expect(index.status).toBe(200);
      expect(index.headers.get('content-security-policy')).toBe(PAGE_CSP);
      const js = await fetch(`${base}/page/app.js`);
      expect(js.status).toBe(503);
      expect(await js.text()).toContain('npm run build');
      expect(js.headers.get('content-security-policy')).toBe(PAGE_CSP);
      expect(warnings.map((w) => w.file)).toEqual(['dist/src/status/page/api.js', 'dist/src/status/page/app.js', 'dist/src/status/page/dom.js', 'dist/src/status/page/format.js', 'dist/src/status/page/history.js', 'dist/src/status/page/messages.js', 'dist/src/status/page/segments.js', 'src/status/page/favicon.svg']);
      expect((await fetch(`${base}/page/app.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
      for (const path of ['/page/index.html', '/page/..%2Fpackage.json', '/page/app.ts', '/page/']) {
        expect([path, (await fetch(`${base}${path}`)).status]).toEqual([path, 404]);
      }
      expect((await fetch(`${base}/`, { method: 'HEAD' })).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
