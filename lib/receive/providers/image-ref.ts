/**
 * Reading image references that senders put in their payloads (Harbor/TCR resource_url, Quay docker_url,
 * GitHub package_url, JFrog jpd_origin). One rule for every provider: the first path segment is a registry
 * host only when Docker would take it as one (it has a "." or ":", or is "localhost"), so a reference without
 * a host never turns its namespace into a registry.
 */
import { parseImageRef } from '../../core/event';

/** "https://hb.example.com/library/app:v1" -> {registry: "hb.example.com", repoFullName: "library/app", tag: "v1"}. */
export function readImageRef(text: string | null | undefined): ReturnType<typeof parseImageRef> | undefined {
  const ref = text?.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  if (!ref || /\s/.test(ref)) return undefined;
  const parts = parseImageRef(ref);
  return {
    ...parts,
    registry: parts.registry?.toLowerCase(),
    repoFullName: parts.repoFullName.replace(/^\/+|\/+$/g, ''),
  };
}

/** The registry host of a reference or URL, by Docker's rule; undefined when it names none. */
export function registryHostOf(text: string | null | undefined): string | undefined {
  return readImageRef(text)?.registry;
}

/** Docker's rule for "is this a registry host", for hosts taken from elsewhere (a URL's host). */
export function isRegistryHost(host: string | null | undefined): boolean {
  return !!host && (host.includes('.') || host.includes(':') || host === 'localhost');
}
