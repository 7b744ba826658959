import { createHmac } from 'node:crypto';

/** Hex HMAC of `body`, the way webhook senders sign, computed here independently of lib/crypto. */
export function hmacHex(secret: string, body: string, algorithm: 'sha1' | 'sha256' | 'sha512' = 'sha256'): string {
  return createHmac(algorithm, secret).update(body).digest('hex');
}

/** `sha256=<hex HMAC-SHA256>`, as GitHub (X-Hub-Signature-256) and Bitbucket (X-Hub-Signature) send it. */
export function sha256Signature(secret: string, body: string): string {
  return `sha256=${hmacHex(secret, body)}`;
}
