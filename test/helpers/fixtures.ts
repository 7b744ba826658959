import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { WebhookRequest } from '../../lib/providers/types';

export const FIXTURES = join(__dirname, '..', 'fixtures');

/** Every fixture file of a provider folder (not *.headers.json), name -> raw text. */
export function fixtureFiles(dir: string): Array<[string, string]> {
  return readdirSync(join(FIXTURES, dir))
    .filter((f) => f.endsWith('.json') && !f.endsWith('.headers.json'))
    .sort()
    .map((f) => [f, readFileSync(join(FIXTURES, dir, f), 'utf8')]);
}

export function fixture(path: string): string {
  return readFileSync(join(FIXTURES, path), 'utf8');
}

/** A WebhookRequest as the ingest handler builds it (headers lowercased). */
export function request(
  rawBody: string,
  headers: Record<string, string> = {},
  query: Record<string, string> = {},
): WebhookRequest {
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  let body: unknown;
  try {
    body = rawBody ? JSON.parse(rawBody) : undefined;
  } catch {
    body = undefined;
  }
  return { headers: lower, query, rawBody, body };
}
