/**
 * Registry pinning: which registry hosts a trigger takes images from.
 * - `match.registry` (a host, or a list of hosts and globs such as `*.azurecr.io`) says it;
 * - without it, a tracked `image` written with a host (`registry.acme.internal:5000/team/web`) pins that host;
 * - without either, any host (a tracked image without a host, `team/web`, pins nothing).
 * The event's host is the one its sender states; Docker Hub's webhook states none, and its provider implies
 * `docker.io`. An event of a pinned trigger that states no host and whose provider implies none is not acted on:
 * deploying `team/web:v2` without a host would pull from Docker Hub, not from the pinned registry.
 * Docker Hub's names (`docker.io`, `index.docker.io`, `registry-1.docker.io`) are one host. Hosts compare without
 * letter case; a port is part of the host (`registry:5000` is not `registry`).
 */
import * as z from 'zod';
import { parseImageRef, type NormalizedEvent } from '../core/event';
import { MAX_HOST_LENGTH } from '../core/artifact-names';
import { globError, globMatches } from './match-patterns';

const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set([DOCKER_HUB, 'index.docker.io', 'registry-1.docker.io']);
/** The host a provider's events come from when they name none (providers whose sender is one registry). */
const IMPLIED_HOSTS: Partial<Record<string, string>> = { dockerhub: DOCKER_HUB };
export const MAX_REGISTRY_PINS = 20;

/** Lowercased, Docker Hub's names folded into `docker.io`. */
export function canonicalHost(host: string): string {
  const h = host.trim().toLowerCase();
  return DOCKER_HUB_ALIASES.has(h) ? DOCKER_HUB : h;
}

const hostPattern = z
  .string()
  .min(1)
  .max(MAX_HOST_LENGTH)
  .superRefine((pattern, ctx) => {
    if (pattern.includes('/')) {
      ctx.addIssue({ code: 'custom', message: 'a registry host[:port] or a glob of hosts, without "/"' });
      return;
    }
    const error = globError(pattern, false);
    if (error) ctx.addIssue({ code: 'custom', message: error });
  });

/** `match.registry`: one host (or glob), or a list of them. */
export const registryPinSchema = z
  .union([hostPattern, z.array(hostPattern).min(1).max(MAX_REGISTRY_PINS)])
  .describe(
    'registry hosts (host[:port], or globs such as *.azurecr.io) the trigger takes images from; default: the host ' +
      'of a tracked image written with one. docker.io, index.docker.io and registry-1.docker.io are one host.',
  );
export type RegistryPin = z.infer<typeof registryPinSchema>;

/** The hosts a trigger is pinned to, and what pins it (for the reason); undefined when any host is taken. */
export function pinOf(
  registry: RegistryPin | undefined,
  trackedImage: string | undefined,
): { hosts: string[]; by: string } | undefined {
  if (registry !== undefined)
    return { hosts: typeof registry === 'string' ? [registry] : registry, by: 'match.registry' };
  const host = trackedImage ? parseImageRef(trackedImage).registry : undefined;
  return host ? { hosts: [host], by: 'the host of its tracked image' } : undefined;
}

/** The host an event comes from: the one its sender states, else the one its provider implies. */
export function hostOf(event: Pick<NormalizedEvent, 'registry' | 'provider'>): string | undefined {
  const host = event.registry ?? IMPLIED_HOSTS[event.provider];
  return host ? canonicalHost(host) : undefined;
}

/** Why the event's registry is not one the trigger takes; undefined when it is (or nothing pins it). */
export function checkRegistryPin(
  registry: RegistryPin | undefined,
  trackedImage: string | undefined,
  event: NormalizedEvent,
): string | undefined {
  if (event.kind === 'code') return undefined;
  const pin = pinOf(registry, trackedImage);
  if (!pin) return undefined;
  const pinned = pin.hosts.join(', ');
  const host = hostOf(event);
  if (host === undefined) return `event names no registry host, and the trigger is pinned to ${pinned} (${pin.by})`;
  if (pin.hosts.some((p) => globMatches(canonicalHost(p), host, false))) return undefined;
  return `registry "${host}" is not allowed: the trigger is pinned to ${pinned} (${pin.by})`;
}
