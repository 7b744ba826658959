/**
 * Every HMAC verifier computes over the exact received bytes (WebhookRequest.rawBytes), not over their UTF-8
 * decoding: a correct signature over bytes that are not UTF-8 verifies, one over the lossy text does not.
 */
import { createHmac } from 'node:crypto';
import { bitbucket } from '../../../lib/receive/providers/bitbucket';
import { gitea } from '../../../lib/receive/providers/gitea';
import { github } from '../../../lib/receive/providers/github';
import { gitlab, gitlabSigningKey } from '../../../lib/receive/providers/gitlab';
import { gogs } from '../../../lib/receive/providers/gogs';
import { jfrog } from '../../../lib/receive/providers/jfrog';
import { nexus } from '../../../lib/receive/providers/nexus';
import type { Provider } from '../../../lib/receive/providers/types';
import { bytesRequest } from '../../helpers/fixtures';

const NOW = new Date();
// 32 bytes base64url: also usable as a GitLab signing key
const SECRET = Buffer.alloc(32, 7).toString('base64url');
// "café" in Latin-1: 0xe9 alone is not UTF-8, and decodes to U+FFFD
const LATIN1 = Buffer.from([...Buffer.from('{"m":"caf'), 0xe9, ...Buffer.from('"}')]);

const hex = (alg: 'sha1' | 'sha256', data: Buffer | string) => createHmac(alg, SECRET).update(data).digest('hex');
const gitlabSig = (data: Buffer | string) => {
  const ts = String(Math.floor(NOW.getTime() / 1000));
  const msg = Buffer.concat([Buffer.from(`id-1.${ts}.`), Buffer.isBuffer(data) ? data : Buffer.from(data)]);
  const sig = createHmac('sha256', gitlabSigningKey(SECRET)!).update(msg).digest('base64');
  return { 'webhook-id': 'id-1', 'webhook-timestamp': ts, 'webhook-signature': `v1,${sig}` };
};

const CASES: Array<[string, Provider, (data: Buffer | string) => Record<string, string>]> = [
  ['github', github, (d) => ({ 'X-Hub-Signature-256': `sha256=${hex('sha256', d)}` })],
  ['gogs', gogs, (d) => ({ 'X-Gogs-Signature': hex('sha256', d) })],
  ['gitea', gitea, (d) => ({ 'X-Gitea-Signature': hex('sha256', d) })],
  ['bitbucket', bitbucket, (d) => ({ 'X-Hub-Signature': `sha256=${hex('sha256', d)}` })],
  ['nexus', nexus, (d) => ({ 'X-Nexus-Webhook-Signature': hex('sha1', d) })],
  ['jfrog (payload signing)', jfrog, (d) => ({ 'X-JFrog-Event-Auth': hex('sha256', d) })],
  ['gitlab (signing token)', gitlab, gitlabSig],
];

describe.each(CASES)('%s: signatures cover the exact bytes', (_name, provider, sign) => {
  it('a correct HMAC over bytes that are not UTF-8 verifies', () => {
    expect(provider.verify(bytesRequest(LATIN1, sign(LATIN1)), [SECRET], NOW)).toEqual({ ok: true });
  });

  it('an HMAC over the decoded text does not', () => {
    expect(provider.verify(bytesRequest(LATIN1, sign(LATIN1.toString('utf8'))), [SECRET], NOW).ok).toBe(false);
  });

  it('a form body is verified as posted, before its payload is decoded', () => {
    const form = Buffer.from(`payload=${encodeURIComponent('{"ref":"refs/heads/main"}')}`);
    expect(provider.verify(bytesRequest(form, sign(form)), [SECRET], NOW)).toEqual({ ok: true });
    expect(provider.verify(bytesRequest(form, sign('{"ref":"refs/heads/main"}')), [SECRET], NOW).ok).toBe(false);
  });
});
