/**
 * One realistic webhook per provider, for POST /admin/triggers/{id}/test: a documented (or recorded) sample body
 * from test/fixtures (copied here: the runtime must not read test/; documentation placeholders such as `xxxx` in a
 * digest or `sha256:...` are filled in with well-formed values, since ingest refuses them: test/fixtures/SOURCES.md),
 * the headers that sender sends, and the
 * credential put where that sender puts it (HMAC of the exact bytes, token header or ?token=). Each call gets a
 * fresh delivery id where the sender sends one, so a second test is a new delivery rather than a re-delivery.
 *
 * Written by hand (a table, not a library): how each sender signs is what the providers' verify() checks.
 */
import { createHmac, randomUUID } from 'node:crypto';
import acr from './acr.json';
import azureAcr from './azure-acr.json';
import bitbucket from './bitbucket.json';
import cdevents from './cdevents.json';
import cloudevents from './cloudevents.json';
import distribution from './distribution.json';
import dockerhub from './dockerhub.json';
import garData from './gar-data.json';
import garEnvelope from './gar-envelope.json';
import gitea from './gitea.json';
import gitee from './gitee.json';
import github from './github.json';
import gitlab from './gitlab.json';
import gogs from './gogs.json';
import harbor from './harbor.json';
import jfrog from './jfrog.json';
import nexus from './nexus.json';
import quay from './quay.json';
import tcr from './tcr.json';

export interface SignedSample {
  body: string;
  headers: Record<string, string>;
  query: Record<string, string>;
  /** where the sample comes from, shown in the answer */
  source: string;
}

interface Sample {
  source: string;
  body: () => unknown;
  contentType?: string;
  /** headers the sender sends besides the credential; called per test (fresh delivery ids) */
  headers?: () => Record<string, string>;
  sign: (secret: string, body: string) => { headers?: Record<string, string>; query?: Record<string, string> };
}

const hex = (alg: 'sha1' | 'sha256', secret: string, body: string) => createHmac(alg, secret).update(body).digest('hex');
const token = (secret: string) => ({ query: { token: secret } });
const bearer = (secret: string) => ({ headers: { authorization: `Bearer ${secret}` } });
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

const SAMPLES: Record<string, Sample> = {
  dockerhub: { source: 'Docker Hub docs example', body: () => dockerhub, sign: token },
  acr: { source: 'Alibaba ACR docs example', body: () => acr, sign: token },
  tcr: { source: 'Tencent TCR docs example', body: () => tcr, sign: bearer },
  harbor: { source: 'Harbor 2.0 docs example (PUSH_ARTIFACT)', body: () => harbor, sign: bearer },
  quay: { source: 'Quay docs example (repo_push)', body: () => quay, sign: token },
  'azure-acr': { source: 'Azure ACR docs example (push)', body: () => azureAcr, sign: bearer },
  gar: {
    source: 'Google Artifact Registry docs (INSERT with tag) in a Pub/Sub push envelope',
    body: () => {
      const envelope = clone(garEnvelope) as { message: { data: string; messageId?: string } };
      envelope.message.data = Buffer.from(JSON.stringify(garData)).toString('base64');
      envelope.message.messageId = randomUUID();
      return envelope;
    },
    sign: token,
  },
  jfrog: { source: 'JFrog Artifactory docker pushed event', body: () => jfrog, sign: (s) => ({ headers: { 'x-jfrog-event-auth': s } }) },
  nexus: {
    source: 'Sonatype Nexus docs (repository component created), as a docker component',
    body: () => {
      const b = clone(nexus) as { component: { format: string; name: string } };
      b.component.format = 'docker';
      b.component.name = 'team/web';
      return b;
    },
    headers: () => ({ 'x-nexus-webhook-id': 'rm:repository:component', 'x-nexus-webhook-delivery': randomUUID() }),
    sign: (s, b) => ({ headers: { 'x-nexus-webhook-signature': hex('sha1', s, b) } }),
  },
  github: {
    source: 'GitHub push event',
    body: () => github,
    headers: () => ({ 'x-github-event': 'push', 'x-github-delivery': randomUUID() }),
    sign: (s, b) => ({ headers: { 'x-hub-signature-256': `sha256=${hex('sha256', s, b)}` } }),
  },
  gitlab: {
    source: 'GitLab docs example (Push Hook)',
    body: () => gitlab,
    headers: () => ({ 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': randomUUID() }),
    sign: (s) => ({ headers: { 'x-gitlab-token': s } }),
  },
  gitee: {
    source: 'Gitee push hook',
    body: () => gitee,
    headers: () => ({ 'x-gitee-event': 'Push Hook' }),
    sign: (s) => ({ headers: { 'x-gitee-token': s } }),
  },
  gogs: {
    source: 'Gogs docs example (push)',
    body: () => gogs,
    headers: () => ({ 'x-gogs-event': 'push', 'x-gogs-delivery': randomUUID() }),
    sign: (s, b) => ({ headers: { 'x-gogs-signature': hex('sha256', s, b) } }),
  },
  gitea: {
    source: 'Gitea push event',
    body: () => gitea,
    headers: () => ({ 'x-gitea-event': 'push', 'x-gitea-delivery': randomUUID(), 'x-github-event': 'push' }),
    sign: (s, b) => ({ headers: { 'x-gitea-signature': hex('sha256', s, b) } }),
  },
  bitbucket: {
    source: 'Bitbucket Cloud repo:push',
    body: () => bitbucket,
    headers: () => ({ 'x-event-key': 'repo:push', 'x-request-uuid': randomUUID() }),
    sign: (s, b) => ({ headers: { 'x-hub-signature': `sha256=${hex('sha256', s, b)}` } }),
  },
  api: {
    source: 'Kato-style API call',
    body: () => ({ tag: 'test' }),
    // the api provider's credential is in the body (added in signedSample)
    sign: () => ({}),
  },
  distribution: {
    source: 'CNCF Distribution manifest push (recorded from a real registry)',
    body: () => distribution,
    contentType: 'application/vnd.docker.distribution.events.v1+json',
    sign: bearer,
  },
  cloudevents: {
    source: 'Harbor 2.8 CloudEvent (harbor.artifact.pushed), structured mode',
    body: () => ({ ...(cloudevents as object), id: randomUUID() }),
    contentType: 'application/cloudevents+json',
    sign: bearer,
  },
  cdevents: {
    source: 'CDEvents 0.6 conformance example (artifact published), binary mode',
    body: () => {
      const b = clone(cdevents) as { subject: { id: string } };
      b.subject.id = 'pkg:oci/web@sha256%3A0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427?repository_url=registry.example.com/team/web&tag=1.4.0';
      return b;
    },
    headers: () => ({ 'ce-specversion': '1.0', 'ce-id': randomUUID(), 'ce-source': '/ci', 'ce-type': 'dev.cdevents.artifact.published.0.3.0' }),
    sign: (s, b) => ({ headers: { 'x-signature': `sha256=${hex('sha256', s, b)}` } }),
  },
};

/** Providers with a sample (not `ecr`: EventBridge, no webhook; not `generic`: the body shape is the user's). */
export const SAMPLE_PROVIDERS = Object.keys(SAMPLES);

/** The sample of `provider` signed with `secret` as that sender signs it, or undefined when there is none. */
export function signedSample(provider: string, secret: string): SignedSample | undefined {
  const sample = SAMPLES[provider];
  if (!sample) return undefined;
  let value = sample.body();
  if (provider === 'api') value = { ...(value as object), secret_key: secret };
  const body = JSON.stringify(value);
  const signed = sample.sign(secret, body);
  return {
    body,
    headers: { 'content-type': sample.contentType ?? 'application/json', ...sample.headers?.(), ...signed.headers },
    query: signed.query ?? {},
    source: sample.source,
  };
}
