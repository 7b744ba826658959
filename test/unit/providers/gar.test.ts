import { gar } from '../../../lib/receive/providers/gar';
import { fixture, fixtureFiles, request } from '../../helpers/fixtures';
import { zodPath } from '../../helpers/zod';

const SECRET = 's3cret-value';
const NOW = new Date();
const ENVELOPE = 'google-artifact-registry/pubsub-push-envelope-google-pubsub-docs-generic.json';

/** The docs push envelope with `message` fields replaced (data given as text, sent as Base64). */
function envelope(message: Record<string, unknown> & { text?: string }): string {
  const body = JSON.parse(fixture(ENVELOPE));
  const { text, ...rest } = message;
  if (text !== undefined) body.message.data = Buffer.from(text, 'utf8').toString('base64');
  Object.assign(body.message, rest);
  return JSON.stringify(body);
}

/**
 * The message-data fixtures are only the decoded `message.data`; a real request is the envelope with
 * data = Base64 of that text (SOURCES.md), which is what every registry case below sends.
 */
const MESSAGES = fixtureFiles('google-artifact-registry').filter(([name]) => name.startsWith('message-data-'));

describe('gar: verify (?token=)', () => {
  const body = envelope({ text: fixture('google-artifact-registry/message-data-insert-with-tag-gar-docs.json') });
  it.each([
    ['good token', {}, { token: SECRET }, true],
    ['wrong token', {}, { token: 'nope' }, false],
    ['missing token', {}, {}, false],
    // a Pub/Sub OIDC token is not the trigger secret
    ['only a Bearer header', { Authorization: `Bearer ${SECRET}` }, {}, false],
  ])('%s', (_name, headers, query, ok) => {
    const result = gar.verify(request(body, headers, query as Record<string, string>), [SECRET], NOW);
    expect(result.ok).toBe(ok);
    if (!result.ok) expect(result.reason).not.toContain(SECRET);
  });

  it('accepts the previous secret during rotation', () => {
    expect(gar.verify(request(body, {}, { token: 'old' }), [SECRET, 'old'], NOW).ok).toBe(true);
  });

  it('redacts the Pub/Sub Authorization header from the log', () => {
    expect(gar.credentialHeaders).toContain('authorization');
  });
});

describe('gar: every fixture parses and normalizes', () => {
  it('has the three registry messages and the envelope', () => {
    expect(MESSAGES).toHaveLength(3);
    expect(fixtureFiles('google-artifact-registry')).toHaveLength(4);
  });

  it.each(MESSAGES)('%s (inside the push envelope)', (_name, text) => {
    const result = gar.parse(request(envelope({ text })), {});
    expect(result.kind).toBe('events');
    if (result.kind !== 'events') return;
    const data = JSON.parse(text);
    const env = JSON.parse(fixture(ENVELOPE));
    expect(result.events).toHaveLength(1);
    const [e] = result.events;
    expect(e.provider).toBe('gar');
    expect(e.kind).toBe('image');
    expect(e.action).toBe({ INSERT: 'push', DELETE: 'delete' }[data.action as string]);
    expect(e.deliveryId).toBe(env.message.messageId);
    // "<host>/<project>/<repo>/<image>(:tag|@digest)"
    const ref: string = data.tag ?? data.digest;
    const [host, ...path] = ref.split(/[:@]/)[0].split('/');
    expect(e.registry).toBe(host);
    expect(e.repoFullName).toBe(path.join('/'));
    expect(e.namespace).toBe(path[0]);
    expect(e.repository).toBe(path.slice(1).join('/'));
    expect(e.tag).toBe(data.tag ? data.tag.slice(data.tag.lastIndexOf(':') + 1) : undefined);
    expect(e.digest).toBe(data.digest ? data.digest.slice(data.digest.indexOf('@') + 1) : undefined);
    // the tag reference when there is one, else the digest reference, as sent
    expect(e.image).toBe(data.tag ?? data.digest);
  });

  it('normalizes the tagged INSERT exactly', () => {
    const text = fixture('google-artifact-registry/message-data-insert-with-tag-gar-docs.json');
    expect(gar.parse(request(envelope({ text })), {})).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'gar',
          kind: 'image',
          action: 'push',
          deliveryId: '136969346945',
          registry: 'us-west1-docker.pkg.dev',
          namespace: 'my-project',
          repository: 'my-repo/hello-world',
          repoFullName: 'my-project/my-repo/hello-world',
          tag: '1.1',
          // abbreviated in Google's docs, kept as sent
          digest: 'sha256:...',
          image: 'us-west1-docker.pkg.dev/my-project/my-repo/hello-world:1.1',
        },
      ],
    });
  });

  it('takes message_id and publishTime from newer envelopes', () => {
    const text = fixture('google-artifact-registry/message-data-insert-digest-only-gar-docs.json');
    const raw = envelope({
      text,
      messageId: undefined,
      message_id: '2070443601311540',
      publishTime: '2021-02-26T19:13:55.749Z',
    });
    expect(gar.parse(request(raw), {})).toMatchObject({
      events: [
        {
          deliveryId: '2070443601311540',
          occurredAt: '2021-02-26T19:13:55.749Z',
          tag: undefined,
          image: 'us-west1-docker.pkg.dev/my-project/my-repo/hello-world@sha256:...',
        },
      ],
    });
  });

  it('normalizes a Container Registry (gcr.io) reference the same way', () => {
    const text = JSON.stringify({
      action: 'INSERT',
      digest: 'gcr.io/my-project/hello@sha256:abc',
      tag: 'gcr.io/my-project/hello:v2',
    });
    expect(gar.parse(request(envelope({ text })), {})).toMatchObject({
      events: [{ registry: 'gcr.io', namespace: 'my-project', repository: 'hello', tag: 'v2', digest: 'sha256:abc' }],
    });
  });
});

describe('gar: deliveries we do not act on are ignored', () => {
  it.each([
    ['the generic docs envelope (plain-text data)', fixture(ENVELOPE)],
    ['JSON data from another publisher', envelope({ text: '{"hello":"world"}' })],
    ['JSON data that is not an object', envelope({ text: '[1,2,3]' })],
    ['empty data', envelope({ text: '' })],
  ])('%s', (_name, raw) => {
    expect(gar.parse(request(raw), {})).toEqual({
      kind: 'ignored',
      reason: 'Pub/Sub message is not an Artifact Registry notification',
    });
  });

  it('ignores a registry action other than INSERT and DELETE', () => {
    const result = gar.parse(request(envelope({ text: '{"action":"UPDATE","tag":"gcr.io/p/i:1"}' })), {});
    expect(result.kind).toBe('ignored');
    if (result.kind === 'ignored') expect(result.reason).toContain('"UPDATE"');
  });
});

describe('gar: malformed bodies name the field', () => {
  it.each([
    ['no body', '', []],
    ['no message', '{"subscription":"projects/p/subscriptions/s"}', ['message']],
    ['no data', envelope({ data: undefined }), ['message', 'data']],
    ['data that is not Base64', envelope({ data: 'not base64!' }), ['message', 'data']],
    ['a notification without digest or tag', envelope({ text: '{"action":"INSERT"}' }), ['message', 'data']],
    ['a numeric action', envelope({ text: '{"action":1,"tag":"gcr.io/p/i:1"}' }), ['message', 'data', 'action']],
    ['no @', envelope({ text: '{"action":"INSERT","digest":"gcr.io/p/i"}' }), ['message', 'data', 'digest']],
    ['a tag without :tag', envelope({ text: '{"action":"DELETE","tag":"gcr.io/p/i"}' }), ['message', 'data', 'tag']],
    ['a bad publishTime', envelope({ publishTime: 'soon' }), ['message', 'publishTime']],
  ])('%s', (_name, raw, path) => {
    expect(zodPath(() => gar.parse(request(raw), {}))).toEqual(path);
  });
});
