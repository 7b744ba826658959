/** The console's generated assets are what console/src builds to, and small (the issue: under 60 KB gzipped). */
import fs from 'node:fs';
import { ASSETS_FILE, assetsModule, buildAssets, gzippedBytes } from '../../console/build';
import { CONTENT_SECURITY_POLICY, handler } from '../../functions/web-console';

const assets = buildAssets();

it('console/dist/assets.ts is up to date (run `npm run build:console` after changing console/src)', () => {
  expect(fs.readFileSync(ASSETS_FILE, 'utf8')).toBe(assetsModule(assets));
});

it('is under 60 KB gzipped', () => {
  const size = gzippedBytes(assets);
  expect(size).toBeGreaterThan(1000);
  expect(size).toBeLessThan(60 * 1024);
});

it('has no inline script or style, and loads nothing from another origin', () => {
  const html = assets['index.html'].body;
  expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
  expect(html).not.toMatch(/\sstyle=|<style/);
  expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
  expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-(inline|eval)/);
});

it('serves index.html at /console and 404s unknown files, with the CSP on both', async () => {
  const index = (await handler({ pathParameters: undefined } as any)) as any;
  expect(index.statusCode).toBe(200);
  expect(index.headers['content-type']).toContain('text/html');
  expect(index.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
  const missing = (await handler({ pathParameters: { file: 'constructor' } } as any)) as any;
  expect(missing.statusCode).toBe(404);
  expect(missing.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
});
