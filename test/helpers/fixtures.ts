import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { WebhookRequest } from '../../lib/receive/providers/types';

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

/** A JSON fixture, parsed, with `edit` applied (for the cases no real sample covers). */
export function editedBody(path: string, edit: (body: any) => void = () => {}): any {
  const body = JSON.parse(fixture(path));
  edit(body);
  return body;
}

/** A JSON fixture with `edit` applied to its parsed body, re-serialized as a raw body. */
export function edited(path: string, edit: (body: any) => void): string {
  return JSON.stringify(editedBody(path, edit));
}

/** The event a fixture was delivered with, from the start of its name ("push-...", "create-..."). */
export const eventOf = (name: string) => name.split('-')[0];

/** The GitLab/Gitee hook a fixture was delivered with, from its name. */
export const hookOf = (name: string) => (name.startsWith('tag_push') ? 'Tag Push Hook' : 'Push Hook');

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

/** A WebhookRequest carrying exact bytes (e.g. not UTF-8), with the text and parsed body ingest would derive. */
export function bytesRequest(bytes: Buffer, headers: Record<string, string> = {}): WebhookRequest {
  return { ...request(bytes.toString('utf8'), headers), rawBytes: bytes };
}
