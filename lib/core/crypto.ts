import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time string comparison. Both sides are hashed first so that neither the content
 * nor the length of the expected value leaks through timing.
 */
export function safeEqual(received: string, expected: string): boolean {
  const a = createHash('sha256').update(received, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

export function hmac(algorithm: 'sha1' | 'sha256' | 'sha512', key: string, message: string | Buffer): Buffer {
  return createHmac(algorithm, key).update(message).digest();
}

export function hmacHex(algorithm: 'sha1' | 'sha256' | 'sha512', key: string, message: string | Buffer): string {
  return hmac(algorithm, key, message).toString('hex');
}

export function hmacBase64(algorithm: 'sha1' | 'sha256', key: string, message: string | Buffer): string {
  return hmac(algorithm, key, message).toString('base64');
}

/** True when any of the secrets (current, and the previous one during rotation grace) passes `check`. */
export function anySecret(secrets: readonly string[], check: (secret: string) => boolean): boolean {
  let ok = false;
  // evaluate every secret so timing does not reveal which one matched
  for (const s of secrets) ok = check(s) || ok;
  return ok;
}

/** 32 random bytes, URL-safe, for trigger secrets. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}
