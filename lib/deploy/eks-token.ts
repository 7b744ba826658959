/**
 * EKS bearer tokens, made the way `aws eks get-token` makes them (awscli/customizations/eks/get_token.py):
 *
 *   a SigV4 *presigned* URL for STS GetCallerIdentity (GET https://sts.<region>.amazonaws.com/
 *   ?Action=GetCallerIdentity&Version=2011-06-15), valid 60 s (X-Amz-Expires=60), with the header
 *   `x-k8s-aws-id: <cluster name>` among the signed headers (X-Amz-SignedHeaders=host;x-k8s-aws-id),
 *   encoded as "k8s-aws-v1." + base64url(url) without "=" padding.
 *
 * The cluster's authenticator calls that URL (adding the x-k8s-aws-id header) and maps the caller's IAM
 * identity to Kubernetes users/groups (aws-auth ConfigMap or EKS access entries). Signing is local: no AWS call
 * is made here, and no IAM permission is needed to make the token.
 *
 * Credentials: the default provider chain (the Lambda role's environment credentials on AWS), created once per
 * container (it caches and refreshes the credentials itself). Tests pass fixed credentials and a fixed clock.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
export const EKS_CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** the presigned URL's lifetime (X-Amz-Expires), as aws eks get-token */
export const EKS_URL_EXPIRES_SECONDS = 60;

type Credentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

export interface EksTokenOptions {
  /** fixed credentials or a provider; default: the default provider chain */
  credentials?: Credentials;
  /** the signing time; default now */
  now?: Date;
}

let provider: Credentials | undefined;
/** The default provider chain, loaded on the first EKS deploy (it is large; most deployers never need it). */
async function defaultCredentials(): Promise<Credentials> {
  provider ??= (await import('@aws-sdk/credential-provider-node')).defaultProvider();
  return provider;
}

/** The regional STS endpoint host for a region (China regions are under amazonaws.com.cn). */
export function stsHost(region: string): string {
  return region.startsWith('cn-') ? `sts.${region}.amazonaws.com.cn` : `sts.${region}.amazonaws.com`;
}

/** RFC 3986 encoding, as SigV4 canonicalizes query values. */
function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The presigned GetCallerIdentity URL for a cluster. */
export async function presignedStsUrl(
  clusterName: string,
  region: string,
  opts: EksTokenOptions = {},
): Promise<string> {
  const host = stsHost(region);
  const signer = new SignatureV4({
    credentials: opts.credentials ?? (await defaultCredentials()),
    region,
    service: 'sts',
    sha256: Sha256,
  });
  const request = new HttpRequest({
    method: 'GET',
    protocol: 'https:',
    hostname: host,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host, [EKS_CLUSTER_ID_HEADER]: clusterName },
  });
  const signed = await signer.presign(request, {
    expiresIn: EKS_URL_EXPIRES_SECONDS,
    signingDate: opts.now ?? new Date(),
  });
  const params = signed.query ?? {};
  const query = Object.keys(params)
    .sort()
    .map((k) => {
      const v = params[k];
      return `${escapeUri(k)}=${escapeUri(Array.isArray(v) ? v.join(',') : String(v ?? ''))}`;
    })
    .join('&');
  return `https://${host}/?${query}`;
}

/** "k8s-aws-v1." + base64url(presigned URL), no padding: the bearer token for the cluster's API server. */
export async function eksToken(
  cluster: { clusterName: string; region: string },
  opts: EksTokenOptions = {},
): Promise<string> {
  const url = await presignedStsUrl(cluster.clusterName, cluster.region, opts);
  return EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
}
