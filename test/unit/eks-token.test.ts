import { createHash, createHmac } from 'node:crypto';
import { EKS_TOKEN_PREFIX, eksToken, presignedStsUrl, stsHost } from '../../lib/deploy/eks-token';

// fixed credentials (the documentation example pair, not a real key) and a fixed clock
const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const NOW = new Date('2024-05-06T07:08:09.123Z');

function decodeToken(token: string): URL {
  expect(token.startsWith(EKS_TOKEN_PREFIX)).toBe(true);
  const payload = token.slice(EKS_TOKEN_PREFIX.length);
  // base64url without padding: only the url-safe alphabet, no "=", "+" or "/"
  expect(payload).toMatch(/^[A-Za-z0-9_-]+$/);
  return new URL(Buffer.from(payload, 'base64url').toString('utf8'));
}

/** RFC 3986 encoding, as SigV4 canonicalizes */
function enc(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** An independent SigV4 presigned-URL check (node:crypto), following the AWS spec step by step. */
function expectedSignature(url: URL, headers: Record<string, string>, secretAccessKey: string): string {
  const params = [...url.searchParams.entries()].filter(([k]) => k !== 'X-Amz-Signature');
  params.sort(([a], [b]) => (enc(a) < enc(b) ? -1 : enc(a) > enc(b) ? 1 : 0));
  const canonicalQuery = params.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
  const signedHeaders = url.searchParams.get('X-Amz-SignedHeaders')!;
  const canonicalHeaders = signedHeaders
    .split(';')
    .map((h) => `${h}:${headers[h]}\n`)
    .join('');
  const emptyHash = createHash('sha256').update('').digest('hex');
  const canonicalRequest = ['GET', '/', canonicalQuery, canonicalHeaders, signedHeaders, emptyHash].join('\n');
  const amzDate = url.searchParams.get('X-Amz-Date')!;
  const scope = url.searchParams.get('X-Amz-Credential')!.split('/').slice(1).join('/');
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  const [date, region, service] = scope.split('/');
  let key: Buffer = createHmac('sha256', `AWS4${secretAccessKey}`).update(date).digest();
  key = createHmac('sha256', key).update(region).digest();
  key = createHmac('sha256', key).update(service).digest();
  key = createHmac('sha256', key).update('aws4_request').digest();
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

describe('eksToken', () => {
  it('is k8s-aws-v1. + base64url (no padding) of a presigned regional STS GetCallerIdentity URL', async () => {
    const token = await eksToken(
      { clusterName: 'prod-cluster', region: 'eu-west-1' },
      { credentials: CREDS, now: NOW },
    );
    const url = decodeToken(token);
    expect(url.protocol).toBe('https:');
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    const q = url.searchParams;
    expect(q.get('Action')).toBe('GetCallerIdentity');
    expect(q.get('Version')).toBe('2011-06-15');
    expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(q.get('X-Amz-Expires')).toBe('60');
    expect(q.get('X-Amz-Date')).toBe('20240506T070809Z');
    expect(q.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20240506/eu-west-1/sts/aws4_request');
    expect(q.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(q.get('X-Amz-SignedHeaders')!.split(';')).toContain('x-k8s-aws-id');
    expect(q.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    // the cluster id is signed as a header, never put in the URL
    expect(q.has('x-k8s-aws-id')).toBe(false);
    expect(q.has('X-Amz-Security-Token')).toBe(false);
  });

  it('signs correctly: the signature matches an independent SigV4 computation over host and x-k8s-aws-id', async () => {
    const url = new URL(await presignedStsUrl('my-cluster', 'us-west-2', { credentials: CREDS, now: NOW }));
    const sig = expectedSignature(
      url,
      { host: 'sts.us-west-2.amazonaws.com', 'x-k8s-aws-id': 'my-cluster' },
      CREDS.secretAccessKey,
    );
    expect(url.searchParams.get('X-Amz-Signature')).toBe(sig);
    // and a different cluster name (what the API server's authenticator sends as x-k8s-aws-id) would not verify
    const other = expectedSignature(
      url,
      { host: 'sts.us-west-2.amazonaws.com', 'x-k8s-aws-id': 'other-cluster' },
      CREDS.secretAccessKey,
    );
    expect(url.searchParams.get('X-Amz-Signature')).not.toBe(other);
  });

  it('carries the session token of temporary (Lambda role) credentials, inside the signature', async () => {
    const creds = { ...CREDS, sessionToken: 'FwoGZXIvYXdzE+session/token==' };
    const url = decodeToken(
      await eksToken({ clusterName: 'c1', region: 'us-east-1' }, { credentials: creds, now: NOW }),
    );
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe(creds.sessionToken);
    const sig = expectedSignature(
      url,
      { host: 'sts.us-east-1.amazonaws.com', 'x-k8s-aws-id': 'c1' },
      CREDS.secretAccessKey,
    );
    expect(url.searchParams.get('X-Amz-Signature')).toBe(sig);
  });

  it('never pads, whatever the URL length (names of every length mod 3)', async () => {
    const paddedSomewhere: boolean[] = [];
    for (const clusterName of ['a', 'ab', 'abc', 'abcd', 'abcde', 'abcdef']) {
      const token = await eksToken({ clusterName, region: 'ap-southeast-2' }, { credentials: CREDS, now: NOW });
      expect(token).not.toContain('=');
      const url = decodeToken(token);
      // standard base64 of this URL would have needed padding for some of these lengths
      paddedSomewhere.push(Buffer.from(url.toString()).toString('base64').endsWith('='));
    }
    expect(paddedSomewhere).toContain(true);
  });

  it('uses the amazonaws.com.cn STS endpoint in China regions', async () => {
    expect(stsHost('cn-north-1')).toBe('sts.cn-north-1.amazonaws.com.cn');
    const url = decodeToken(
      await eksToken({ clusterName: 'c', region: 'cn-northwest-1' }, { credentials: CREDS, now: NOW }),
    );
    expect(url.host).toBe('sts.cn-northwest-1.amazonaws.com.cn');
    expect(url.searchParams.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20240506/cn-northwest-1/sts/aws4_request');
  });

  it('asks the credential provider when given one', async () => {
    const provider = jest.fn(async () => ({ ...CREDS, accessKeyId: 'AKIDFROMPROVIDER' }));
    const url = decodeToken(
      await eksToken({ clusterName: 'c', region: 'us-east-1' }, { credentials: provider, now: NOW }),
    );
    expect(provider).toHaveBeenCalled();
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDFROMPROVIDER\//);
  });
});
