/**
 * Docker Hub's (legacy) `callback_url`: after the deploy, tell Docker Hub how it went, so its webhook
 * history shows success/failure. Only ever to Docker Hub's own hosts over https: the URL comes from the
 * request body, and anything else would let a sender make us call an address of its choosing.
 */
import { logger } from '../core/logger';

const DOCKER_HUB_HOSTS = ['registry.hub.docker.com', 'hub.docker.com'];

/** The callback URL when it may be called, else undefined. Extra hosts (http allowed) are for local tests only. */
export function allowedCallback(url: string | undefined, extraHosts: string[] = []): URL | undefined {
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.username || parsed.password) return undefined;
  if (parsed.protocol === 'https:' && parsed.port === '' && DOCKER_HUB_HOSTS.includes(parsed.hostname)) return parsed;
  if (extraHosts.includes(parsed.host) && (parsed.protocol === 'http:' || parsed.protocol === 'https:')) return parsed;
  return undefined;
}

export interface CallbackOutcome {
  state: 'success' | 'failure' | 'error';
  description: string;
  context: string;
  target_url?: string;
}

/** Best effort: a failed callback is logged, never fails the deploy. */
export async function postCallback(url: URL, outcome: CallbackOutcome, timeoutMs = 5000): Promise<number | undefined> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Triggerfish/0.1' },
      body: JSON.stringify(outcome),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer();
    return res.status;
  } catch (err) {
    logger.warn('Docker Hub callback failed', { host: url.host, error: (err as Error).message });
    return undefined;
  }
}
