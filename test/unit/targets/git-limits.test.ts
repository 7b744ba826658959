/**
 * The `git` target never leaves its clone and never loads more than its limits: a symlink anywhere on a file's
 * path (to a file outside, a directory outside, /etc/hostname, /dev/zero) is refused naming the path, and the file
 * it points to is neither read nor written; a repository over the size or object limits, and a file over the
 * per-file limit, fail naming the limit. Real repositories built with `git`, served by `git http-backend`.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NormalizedEvent } from '../../../lib/core/event';
import { gitTarget, gitTargetSchema, type GitTargetConfig } from '../../../lib/deploy/targets/git';
import { GIT_FILE_LIMIT, GIT_OBJECT_LIMIT, GIT_REPO_LIMIT } from '../../../lib/deploy/targets/git-limits';
import type { DeployContext } from '../../../lib/deploy/targets/types';
import { startGitServer, type GitServer } from '../../helpers/git-server';

process.env.ALLOW_PRIVATE_TARGETS = 'true';

const KUSTOMIZATION = `images:
  - name: demo/hello
    newTag: "1.0.0"
`;

function event(tag: string): NormalizedEvent {
  return {
    provider: 'dockerhub',
    kind: 'image',
    action: 'push',
    namespace: 'demo',
    repository: 'hello',
    repoFullName: 'demo/hello',
    tag,
    image: `demo/hello:${tag}`,
  };
}
const ctx = (tag: string): DeployContext => ({
  triggerId: 'trg-1',
  triggerName: 'web-prod',
  logId: 'log-1',
  event: event(tag),
  allowPrivateTargets: true,
});

let s: GitServer;
let outside: string;
beforeAll(async () => {
  s = await startGitServer();
});
afterAll(async () => {
  await s?.close();
});
beforeEach(() => {
  outside = mkdtempSync(path.join(os.tmpdir(), 'tf-outside-'));
});
afterEach(() => rmSync(outside, { recursive: true, force: true }));

let repoNo = 0;
/** a repository built by `build`, and a target editing `file` in it with the kustomize rule */
function repo(
  build: (work: string) => void,
  file = 'apps/kustomization.yaml',
): { name: string; config: GitTargetConfig } {
  const name = `r${++repoNo}.git`;
  s.createRepoWith(name, (work) => {
    writeFileSync(path.join(work, 'README.md'), 'manifests\n');
    build(work);
  });
  return {
    name,
    config: gitTargetSchema.parse({
      type: 'git',
      url: `${s.url}/${name}`,
      via: 'git',
      files: [{ path: file, kustomize: { image: 'demo/hello' } }],
    }),
  };
}
const commits = (name: string) => s.git(name, 'rev-list', '--count', 'main').trim();

describe('git target: symlinks in the repository are refused, nothing outside the clone is touched', () => {
  it('the file itself is a link to a file outside: refused naming the path, the outside file unchanged', async () => {
    const victim = path.join(outside, 'victim.yaml');
    writeFileSync(victim, KUSTOMIZATION);
    const { name, config } = repo((work) => {
      mkdirSync(path.join(work, 'apps'));
      symlinkSync(victim, path.join(work, 'apps/kustomization.yaml'));
    });
    const r = await gitTarget.deploy(config, ctx('2.0.0'));
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toBe(
      'files.0: apps/kustomization.yaml is a symbolic link in the repository; links are not followed (point files[].path at the file itself)',
    );
    expect(readFileSync(victim, 'utf8')).toBe(KUSTOMIZATION);
    expect(commits(name)).toBe('1');
  });

  it('a directory on the way is a link to a directory outside: refused naming that directory', async () => {
    mkdirSync(path.join(outside, 'prod'));
    const victim = path.join(outside, 'prod/kustomization.yaml');
    writeFileSync(victim, KUSTOMIZATION);
    const { name, config } = repo((work) => {
      symlinkSync(outside, path.join(work, 'overlays'));
    }, 'overlays/prod/kustomization.yaml');
    const r = await gitTarget.deploy(config, ctx('2.0.0'));
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toBe(
      'files.0: overlays (on the way to overlays/prod/kustomization.yaml) is a symbolic link in the repository; links are not followed (point files[].path at the file itself)',
    );
    expect(readFileSync(victim, 'utf8')).toBe(KUSTOMIZATION);
    expect(commits(name)).toBe('1');
  });

  it('links to /etc/hostname and to /dev/zero are refused without reading them', async () => {
    for (const to of ['/etc/hostname', '/dev/zero']) {
      const { name, config } = repo((work) => {
        mkdirSync(path.join(work, 'apps'));
        symlinkSync(to, path.join(work, 'apps/kustomization.yaml'));
      });
      const r = await gitTarget.deploy(config, ctx('2.0.0'));
      expect(r).toMatchObject({ ok: false, retryable: false });
      expect(r.error).toMatch(/^files\.0: apps\/kustomization\.yaml is a symbolic link in the repository/);
      expect(commits(name)).toBe('1');
    }
  });

  it('a directory where a file is expected is not a file', async () => {
    const { config } = repo((work) => {
      mkdirSync(path.join(work, 'apps/kustomization.yaml'), { recursive: true });
      writeFileSync(path.join(work, 'apps/kustomization.yaml/x'), 'x');
    });
    const r = await gitTarget.deploy(config, ctx('2.0.0'));
    expect(r).toMatchObject({
      ok: false,
      retryable: false,
      error: 'files.0: apps/kustomization.yaml is not a file in main',
    });
  });

  it('a regular file next to a link still commits exactly its change', async () => {
    const { name, config } = repo((work) => {
      mkdirSync(path.join(work, 'apps'));
      writeFileSync(path.join(work, 'apps/kustomization.yaml'), KUSTOMIZATION);
      symlinkSync('/etc/hostname', path.join(work, 'apps/host'));
    });
    const r = await gitTarget.deploy(config, ctx('2.0.0'));
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(s.git(name, 'diff', '--name-only', 'main~1', 'main').trim()).toBe('apps/kustomization.yaml');
    expect(s.show(name, 'apps/kustomization.yaml')).toBe(KUSTOMIZATION.replace('"1.0.0"', '"2.0.0"'));
    // the link is still a link, to the same place
    expect(s.git(name, 'ls-tree', 'main', 'apps/host').split(/\s/)[0]).toBe('120000');
    expect(s.show(name, 'apps/host')).toBe('/etc/hostname');
    // the same image again: no commit at all (never an empty one)
    const again = await gitTarget.deploy(config, ctx('2.0.0'));
    expect(again).toMatchObject({
      ok: true,
      response: 'already in Git (commit ' + s.git(name, 'rev-parse', 'main').trim() + ')',
    });
    expect(commits(name)).toBe('2');
  });
});

describe('git target: limits on what a repository may make it load', () => {
  it(`a file over the per-file limit (${GIT_FILE_LIMIT} bytes) fails naming the limit`, async () => {
    const { name, config } = repo((work) => {
      mkdirSync(path.join(work, 'apps'));
      const f = path.join(work, 'apps/kustomization.yaml');
      // a valid YAML file (a comment pads it) just over the limit
      writeFileSync(f, `${KUSTOMIZATION}#${'x'.repeat(GIT_FILE_LIMIT)}\n`);
    });
    const r = await gitTarget.deploy(config, ctx('2.0.0'));
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toMatch(/^files\.0: apps\/kustomization\.yaml is \d+ bytes, over the per-file limit of 1 MiB$/);
    expect(commits(name)).toBe('1');
  });

  it('a small repository that checks out to 300 MiB fails on the repository size limit before it is unpacked', async () => {
    const { name, config } = repo((work) => {
      mkdirSync(path.join(work, 'apps'));
      writeFileSync(path.join(work, 'apps/kustomization.yaml'), KUSTOMIZATION);
      // a sparse file of zeros: 300 MiB checked out, a few hundred KB packed
      writeFileSync(path.join(work, 'zeros.bin'), '');
      truncateSync(path.join(work, 'zeros.bin'), 300 * 1024 * 1024);
    });
    const r = await gitTarget.deploy(config, ctx('2.0.0'));
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toMatch(
      new RegExp(`^clone main: the repository is over the size limit of ${GIT_REPO_LIMIT / 1024 / 1024} MiB `),
    );
    expect(commits(name)).toBe('1');
  }, 120_000);

  it(`a repository of more than ${GIT_OBJECT_LIMIT} objects fails on the object limit`, async () => {
    const { name, config } = repo((work) => {
      mkdirSync(path.join(work, 'apps'));
      writeFileSync(path.join(work, 'apps/kustomization.yaml'), KUSTOMIZATION);
      mkdirSync(path.join(work, 'many'));
      for (let i = 0; i <= GIT_OBJECT_LIMIT; i++) writeFileSync(path.join(work, 'many', String(i)), String(i));
    });
    const r = await gitTarget.deploy(config, ctx('2.0.0'));
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toMatch(
      new RegExp(`^clone main: the repository has \\d+ objects, over the limit of ${GIT_OBJECT_LIMIT}`),
    );
    expect(commits(name)).toBe('1');
  }, 120_000);
});
