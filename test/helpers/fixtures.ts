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

const HEX64_TAIL = '0'.repeat(64);
/**
 * Documentation samples whose placeholders break the grammar every name is checked against at ingest (a masked
 * `xxxx` digest, `sha256:...`, a digest cut short, a repository with capitals). Sent verbatim they are refused
 * (test/e2e/integrity-names.test.ts checks each; SOURCES.md lists the outcomes); the tests that need the sample
 * to deploy fill the placeholder in with a well-formed value through `placeholdersFilled`, and say so.
 */
export const PLACEHOLDER_SAMPLES: Record<string, { field: string; fill: Array<[RegExp, string]> }> = {
  'aliyun-acr/push-aliyun-docs-example.json': { field: 'event.repository', fill: [[/repoTest/g, 'repotest']] },
  'tencent-tcr/pushImage-tcr-docs-example.json': {
    field: 'event.digest',
    fill: [[/fc105xxxx268fc9/, 'fc1050000268fc9']],
  },
  'azure-acr/chart_push-azure-docs-2023.json': { field: 'event.digest', fill: [[/xxxx/g, '0000']] },
  'azure-acr/chart_delete-azure-docs-2023.json': { field: 'event.digest', fill: [[/xxxx/g, '0000']] },
  'google-artifact-registry/message-data-insert-with-tag-gar-docs.json': {
    field: 'event.digest',
    fill: [[/sha256:\.\.\./g, `sha256:${HEX64_TAIL}`]],
  },
  'google-artifact-registry/message-data-insert-digest-only-gar-docs.json': {
    field: 'event.digest',
    fill: [[/sha256:\.\.\./g, `sha256:${HEX64_TAIL}`]],
  },
  'aws-ecr/ecr_image_action-push-aws-docs.json': {
    field: 'event.digest',
    fill: [[/(sha256:[0-9a-f]{60})"/, '$10000"']],
  },
  'github/package-published-docker-octokit.json': {
    field: 'event.digest',
    fill: [[/(sha256:[0-9a-f]{40})"/g, `$1${'0'.repeat(24)}"`]],
  },
  'github/registry_package-published-docker-octokit.json': {
    field: 'event.digest',
    fill: [[/(sha256:[0-9a-f]{40})"/g, `$1${'0'.repeat(24)}"`]],
  },
  'gitea/package-created-container-gitea-test-payload.json': {
    field: 'event.repository',
    fill: [[/GiteaContainer/g, 'giteacontainer']],
  },
};

/** A documentation sample with its placeholders filled in (PLACEHOLDER_SAMPLES); other fixtures verbatim. */
export function placeholdersFilled(path: string): string {
  let text = fixture(path);
  for (const [from, to] of PLACEHOLDER_SAMPLES[path]?.fill ?? []) text = text.replace(from, to);
  return text;
}
