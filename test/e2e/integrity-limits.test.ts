/**
 * Issue 20, findings 1 and 8, on the local stack: a manifest repository cannot make the `git` target read or write
 * outside its clone (a symlinked file or directory is a `failed` attempt naming the path, the file it points to is
 * untouched, no commit), a 30 MiB YAML file fails on the per-file limit, the gateway refuses a body over the limit
 * with a 413 before reading it, and a `generic` mapping whose cost explodes is refused (at creation, and as a
 * `rejected` entry naming `mapping` for a trigger stored before the bound).
 */
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../lib/core/config';
import { dynamo } from '../../lib/store/aws';
import { getTrigger, triggerItem } from '../../lib/store/store';
import { apiClient } from '../helpers/api';
import { fixture } from '../helpers/fixtures';
import { startGitServer, type GitServer } from '../helpers/git-server';
import { startTestStack } from '../helpers/stack';

const TERMINAL = (e: any) => e?.status === 'succeeded' || e?.status === 'failed';
const KUSTOMIZATION = `images:
  - name: svendowideit/testhook
    newTag: release-v1.0
`;

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let git: GitServer;
let outside: string;

beforeAll(async () => {
  stack = await startTestStack({ maxReceiveCount: 2, retryBaseSeconds: 0 });
  api = apiClient(stack.url, stack.adminToken);
  git = await startGitServer();
  outside = mkdtempSync(path.join(os.tmpdir(), 'tf-outside-'));
});
afterAll(async () => {
  await stack?.stop();
  await git?.close();
  rmSync(outside, { recursive: true, force: true });
});

const dockerhubBody = (tag: string) => {
  const body = JSON.parse(fixture('dockerhub/push-docs-example.json'));
  body.push_data.tag = tag;
  body.push_data.pushed_at = Math.floor(Date.now() / 1000);
  return JSON.stringify(body);
};

/** a git trigger on `repo`, one push of `tag` through its webhook; the terminal log entry */
async function deployTo(repo: string, file: string, tag: string): Promise<any> {
  const created = await api.admin('POST', '/admin/triggers', {
    name: `limits-${repo.replace(/\W/g, '-')}`,
    provider: 'dockerhub',
    target: {
      type: 'git',
      url: `${git.url}/${repo}`,
      via: 'git',
      files: [{ path: file, kustomize: { image: 'svendowideit/testhook' } }],
    },
  });
  expect(created.status).toBe(201);
  const trigger = created.body as { id: string; webhookUrl: string };
  const res = await api.hook(trigger.webhookUrl.slice(stack.url.length), dockerhubBody(tag));
  expect(res.status).toBe(202);
  return api.waitForLog(trigger.id, res.body.log, TERMINAL, 60_000);
}

describe('finding 1: the git target stays inside its clone', () => {
  it('a symlinked manifest is a failed attempt naming the path; the file it points to is untouched, no commit', async () => {
    const victim = path.join(outside, 'kustomization.yaml');
    writeFileSync(victim, KUSTOMIZATION);
    git.createRepoWith('link.git', (work) => {
      mkdirSync(path.join(work, 'apps'));
      symlinkSync(victim, path.join(work, 'apps/kustomization.yaml'));
    });
    const entry = await deployTo('link.git', 'apps/kustomization.yaml', 'release-v2');
    expect(entry.status).toBe('failed');
    expect(entry.attempts.at(-1).error).toBe(
      'files.0: apps/kustomization.yaml is a symbolic link in the repository; links are not followed (point files[].path at the file itself)',
    );
    expect(readFileSync(victim, 'utf8')).toBe(KUSTOMIZATION);
    expect(git.git('link.git', 'rev-list', '--count', 'main').trim()).toBe('1');
  });

  it('a symlinked directory on the way is refused naming it', async () => {
    const dir = mkdtempSync(path.join(outside, 'dir-'));
    writeFileSync(path.join(dir, 'kustomization.yaml'), KUSTOMIZATION);
    git.createRepoWith('dirlink.git', (work) => symlinkSync(dir, path.join(work, 'apps')));
    const entry = await deployTo('dirlink.git', 'apps/kustomization.yaml', 'release-v2');
    expect(entry.status).toBe('failed');
    expect(entry.attempts.at(-1).error).toMatch(
      /^files\.0: apps \(on the way to apps\/kustomization\.yaml\) is a symbolic link in the repository/,
    );
    expect(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')).toBe(KUSTOMIZATION);
    expect(git.git('dirlink.git', 'rev-list', '--count', 'main').trim()).toBe('1');
  });
});

describe('finding 8: unbounded work from inputs', () => {
  it('a 30 MiB YAML file fails on the per-file limit of 1 MiB, nothing committed', async () => {
    git.createRepoWith('big.git', (work) => {
      mkdirSync(path.join(work, 'apps'));
      const f = path.join(work, 'apps/kustomization.yaml');
      writeFileSync(f, `${KUSTOMIZATION}# `);
      truncateSync(f, 30 * 1024 * 1024); // padded with zero bytes: packed small, 30 MiB unpacked
    });
    const entry = await deployTo('big.git', 'apps/kustomization.yaml', 'release-v2');
    expect(entry.status).toBe('failed');
    expect(entry.attempts.at(-1).error).toBe(
      `files.0: apps/kustomization.yaml is ${30 * 1024 * 1024} bytes, over the per-file limit of 1 MiB`,
    );
    expect(git.git('big.git', 'rev-list', '--count', 'main').trim()).toBe('1');
  });

  it('the gateway answers 413 naming the limit to a 2 MiB Content-Length and to a chunked body over it', async () => {
    const created = await api.admin('POST', '/admin/triggers', {
      name: 'limits-413',
      provider: 'dockerhub',
      target: { type: 'http', url: 'https://deploy.example.com/hook' },
    });
    const hookPath = (created.body.webhookUrl as string).slice(stack.url.length);
    const send = (headers: http.OutgoingHttpHeaders, chunks: Buffer[]) =>
      new Promise<{ status: number; body: any }>((resolve, reject) => {
        const req = http.request(
          `${stack.url}${hookPath}`,
          { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, agent: false },
          (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString('utf8')));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
          },
        );
        req.on('error', reject);
        for (const c of chunks) req.write(c);
        req.end();
      });
    const big = Buffer.alloc(2 * 1024 * 1024, ' ');
    const declared = await send({ 'content-length': big.length }, [big]);
    expect(declared.status).toBe(413);
    expect(declared.body.reason).toMatch(/^the body is over the limit of \d+ bytes$/);
    const chunked = await send(
      {},
      Array.from({ length: 32 }, () => Buffer.alloc(64 * 1024, ' ')),
    );
    expect(chunked.status).toBe(413);
    expect(chunked.body.reason).toMatch(/^the body is over the limit of \d+ bytes$/);
  });

  it('a generic mapping whose cost doubles per step: 400 at creation; rejected naming mapping when stored before', async () => {
    const doubling = `@${'.[@,@][]'.repeat(20)}`;
    const refused = await api.admin('POST', '/admin/triggers', {
      name: 'limits-generic-bad',
      provider: 'generic',
      mapping: { image: doubling },
      target: { type: 'http', url: 'https://deploy.example.com/hook' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.field).toBe('mapping.image');

    // a trigger stored before the bound existed: written to the table directly
    const created = await api.admin('POST', '/admin/triggers', {
      name: 'limits-generic-old',
      provider: 'generic',
      mapping: { image: 'image' },
      target: { type: 'http', url: 'https://deploy.example.com/hook' },
    });
    expect(created.status).toBe(201);
    const stored = (await getTrigger(created.body.id))!;
    await dynamo().send(
      new PutCommand({
        TableName: config.triggersTable(),
        Item: triggerItem({ ...stored, mapping: { image: doubling } }),
      }),
    );
    const body = '{"a":"x","image":"y"}';
    const sig = `sha256=${createHmac('sha256', created.body.secret).update(body).digest('hex')}`;
    const res = await api.hook((created.body.webhookUrl as string).slice(stack.url.length), body, {
      'x-signature': sig,
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('mapping.image');
    const entry = await api.waitForLog(created.body.id, res.body.log, (e) => e?.status === 'rejected');
    expect(entry.status).toBe('rejected');
    expect(entry.reason).toMatch(/^mapping\.image is refused: its multiselects/);
  });
});
