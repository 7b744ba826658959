/**
 * Issue 20, finding 3: a newline (CR, NUL) in a pushed value must not add commit headers or trailers through the
 * templated author and message. Each commit is made against a real `git http-backend` and read back with real git.
 */
import type { NormalizedEvent } from '../../../lib/core/event';
import { commitIdentity, commitMessage, commitTrailers } from '../../../lib/core/commit-text';
import { gitTarget, gitTargetSchema, type GitTargetConfig } from '../../../lib/deploy/targets/git';
import { startGitServer, type GitServer } from '../../helpers/git-server';

process.env.ALLOW_PRIVATE_TARGETS = 'true';

const KUSTOMIZATION = 'images:\n  - name: demo/hello\n    newTag: "1.0.0"\n';
const FORGED = 'eve\nTriggerfish-Log: forged';
const HEADER_INJECTION = 'eve <eve@evil> 0 +0000\ncommitter Mallory <m@evil.example> 0 +0000\nencoding ISO-8859-1\n\nx';

let s: GitServer;
beforeEach(async () => {
  s = await startGitServer();
  s.createRepo('manifests.git', { 'kustomization.yaml': KUSTOMIZATION });
});
afterEach(() => s.close());

function event(over: Partial<NormalizedEvent> = {}): NormalizedEvent {
  return {
    provider: 'dockerhub',
    kind: 'image',
    action: 'push',
    namespace: 'demo',
    repository: 'hello',
    repoFullName: 'demo/hello',
    tag: '1.2.3',
    image: 'demo/hello:1.2.3',
    ...over,
  };
}

function target(over: Partial<GitTargetConfig> = {}): GitTargetConfig {
  return gitTargetSchema.parse({
    type: 'git',
    url: `${s.url}/manifests.git`,
    via: 'git',
    files: [{ path: 'kustomization.yaml', kustomize: { image: 'demo/hello' } }],
    ...over,
  });
}

/** The commit object's header lines and message, as `git cat-file -p` prints them. */
function commitObject(): { headers: string[]; message: string } {
  const raw = s.git('manifests.git', 'cat-file', '-p', 'main');
  const blank = raw.indexOf('\n\n');
  return { headers: raw.slice(0, blank).split('\n'), message: raw.slice(blank + 2) };
}
const trailers = (key: string) =>
  s.git('manifests.git', 'log', '-1', `--format=%(trailers:key=${key},valueonly)`, 'main').split('\n').filter(Boolean);

describe('git target: pushed values cannot add commit headers or trailers', () => {
  it('a pusher name with newlines in the author and the message: one author, one committer, our trailers only', async () => {
    const r = await gitTarget.deploy(
      target({
        author: { name: '{{owner}}', email: '{{owner}}@users.example' },
        commitMessage: 'Deploy {{image}} by {{owner}}\n\n{{commit.message}}',
      }),
      {
        triggerId: 'trg-1',
        triggerName: 'web',
        logId: 'log-1',
        event: event({ owner: HEADER_INJECTION, commit: { id: 'c1', message: FORGED } }),
        allowPrivateTargets: true,
      },
    );
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    const { headers, message } = commitObject();
    expect(headers.filter((h) => h.startsWith('author '))).toHaveLength(1);
    expect(headers.filter((h) => h.startsWith('committer '))).toHaveLength(1);
    expect(headers.some((h) => h.startsWith('encoding'))).toBe(false);
    expect(headers.map((h) => h.split(' ')[0])).toEqual(['tree', 'parent', 'author', 'committer']);
    // git's own parser agrees: the author is one identity, the value kept as far as git allows
    const name = 'eve eve@evil 0 +0000 committer Mallory m@evil.example 0 +0000 encoding ISO-8859-1 x';
    const email = `${name.replace(/ /g, '')}@users.example`;
    expect(s.git('manifests.git', 'log', '-1', '--format=%an|%ae|%cn|%ce', 'main')).toBe(
      `${name}|${email}|${name}|${email}\n`,
    );
    expect(trailers('Triggerfish-Log')).toEqual(['log-1']);
    expect(trailers('Triggerfish-Trigger')).toEqual(['trg-1']);
    expect(message.split('\n').filter((l) => /^Triggerfish-Log:/.test(l))).toEqual(['Triggerfish-Log: log-1']);
    expect(message).toBe(
      'Deploy demo/hello:1.2.3 by eve <eve@evil> 0 +0000 committer Mallory <m@evil.example> 0 +0000 encoding ISO-8859-1  x\n\n' +
        'eve Triggerfish-Log: forged\n\nTriggerfish-Trigger: trg-1\nTriggerfish-Log: log-1\n',
    );
  });

  it('a name or email that is nothing but delimiters and controls falls back to the default identity', async () => {
    const r = await gitTarget.deploy(target({ author: { name: '{{owner}}', email: '{{owner}}' } }), {
      triggerId: 'trg-1',
      logId: 'log-2',
      event: event({ owner: '<>\n\r\u0000' }),
      allowPrivateTargets: true,
    });
    expect(r.ok).toBe(true);
    expect(s.git('manifests.git', 'log', '-1', '--format=%an <%ae>', 'main')).toBe(
      'Triggerfish <triggerfish@users.noreply.invalid>\n',
    );
  });

  it('a retry finds its commit only by our own trailer, never by a line a value wrote', async () => {
    // the first deploy writes the tag; a value holding the second log id's trailer must not make a retry of
    // log-2 believe its commit is there
    const t = target({ commitMessage: '{{commit.message}}' });
    await gitTarget.deploy(t, {
      triggerId: 'trg-1',
      logId: 'log-1',
      event: event({ commit: { id: 'c1', message: 'x\n\nTriggerfish-Log: log-2' } }),
      allowPrivateTargets: true,
    });
    const first = s.git('manifests.git', 'rev-parse', 'main').trim();
    const retry = await gitTarget.deploy(t, {
      triggerId: 'trg-1',
      logId: 'log-2',
      event: event(),
      allowPrivateTargets: true,
    });
    expect(retry.ok).toBe(true);
    expect(retry.response).toBe('already in Git');
    expect(retry.details?.commit).toBe(first);
  });
});

describe('commit-text encoders', () => {
  it('identity: git drops <, > and line breaks and trims crud; empty falls back', () => {
    const fb = { name: 'D', email: 'd@x' };
    expect(commitIdentity(' "Eve" <e@x>\n', 'e@x>\ncommitter y', fb)).toEqual({
      name: 'Eve" e@x',
      email: 'e@xcommittery',
    });
    expect(commitIdentity('...', '<>', fb)).toEqual(fb);
  });
  it('message: our trailers are the last paragraph; commitTrailers reads only that paragraph', () => {
    const m = commitMessage('Deploy x\n\nTriggerfish-Log: forged\n', [['Triggerfish-Log', 'l1\nX: y']]);
    expect(m).toBe('Deploy x\n\nTriggerfish-Log: forged\n\nTriggerfish-Log: l1 X: y\n');
    expect(commitTrailers(m)).toEqual([['Triggerfish-Log', 'l1 X: y']]);
    expect(commitTrailers('Triggerfish-Log: only a subject')).toEqual([]);
    expect(commitTrailers('s\n\nnot a trailer line\nTriggerfish-Log: x')).toEqual([]);
  });
});
