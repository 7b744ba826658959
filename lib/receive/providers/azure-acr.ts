/**
 * Azure Container Registry webhooks. ACR signs nothing and adds no headers of its own, but a webhook
 * can send custom headers: the secret is configured there as `Authorization: Bearer <secret>`.
 * `target.repository` carries no host; the registry is `request.host`. Legacy Helm repositories send
 * chart_push / chart_delete with the chart in `target.name` / `target.version` and no `request`.
 */
import * as z from 'zod';
import { type Action, imageRef, splitRepoFullName } from '../../core/event';
import { isRegistryHost } from './image-ref';
import type { Provider } from './types';
import { verifyTokenHeader } from './verify';

const ACTIONS: Record<string, { action: Action; kind: 'image' | 'chart' }> = {
  push: { action: 'push', kind: 'image' },
  delete: { action: 'delete', kind: 'image' },
  chart_push: { action: 'chart_push', kind: 'chart' },
  chart_delete: { action: 'chart_delete', kind: 'chart' },
};

const base = {
  id: z.string().min(1).optional(),
  timestamp: z.iso.datetime({ offset: true }).optional(),
  action: z.string().min(1),
  request: z
    .object({
      // becomes the host part of the image reference, so nothing but a host[:port] is accepted
      host: z
        .string()
        .regex(/^[A-Za-z0-9.-]+(:\d+)?$/, 'expected a registry host such as myregistry.azurecr.io')
        .optional(),
    })
    .optional(),
};

export const azureAcrImageSchema = z.object({
  ...base,
  target: z.object({
    mediaType: z.string().optional(),
    digest: z.string().optional(),
    repository: z.string().min(1),
    // deletes carry no tag
    tag: z.string().optional(),
  }),
});

export const azureAcrChartSchema = z.object({
  ...base,
  target: z
    .object({
      mediaType: z.string().optional(),
      digest: z.string().optional(),
      // the Helm repository the chart lives in
      repository: z.string().min(1).optional(),
      // the chart itself
      name: z.string().min(1).optional(),
      version: z.string().optional(),
      // the package file name, e.g. "wordpress-5.4.0.tgz"
      tag: z.string().optional(),
    })
    .refine((t) => t.name !== undefined || t.repository !== undefined, {
      message: 'expected the chart name (or at least its repository)',
      path: ['name'],
    }),
});

/** request.host as the registry, only when it is one by Docker's rule (myregistry.azurecr.io, not "myregistry"). */
const hostOf = (host: string | undefined) => (isRegistryHost(host) ? host!.toLowerCase() : undefined);

export const azureAcr: Provider = {
  id: 'azure-acr',
  title: 'Azure Container Registry',
  credential: {
    headers: (secret) => ({ Authorization: `Bearer ${secret}` }),
    hint: 'Webhook custom header Authorization: Bearer <secret> (ACR signs nothing)',
  },
  credentialHeaders: ['authorization'],
  verify: (req, secrets) => verifyTokenHeader(req, secrets, 'Authorization', { bearer: 'required' }),
  parse(req) {
    // read the action first: ping (the portal's test button) and quarantine are acknowledged as they are
    const action = z.object({ action: z.string().min(1) }).parse(req.body).action;
    const mapped = ACTIONS[action];
    if (!mapped) {
      return {
        kind: 'ignored',
        reason:
          `Azure Container Registry action "${action.slice(0, 64)}" is not acted on ` +
          `(only ${Object.keys(ACTIONS).join(', ')})`,
      };
    }
    const common = {
      provider: 'azure-acr',
      kind: mapped.kind,
      action: mapped.action,
    } as const;
    if (mapped.kind === 'chart') {
      const body = azureAcrChartSchema.parse(req.body);
      const t = body.target;
      // the chart is the repository inside the Helm repository ("repo/wordpress", as `helm install` names
      // it); ACR's version is documented as "5.4.0.tgz" while `tag` is the file name "wordpress-5.4.0.tgz",
      // and ".tgz" cannot be part of a SemVer chart version, so it is dropped for tag rules to work
      const version = t.version?.trim().replace(/\.tgz$/i, '') || undefined;
      const names = splitRepoFullName([t.repository, t.name].filter(Boolean).join('/'));
      return {
        kind: 'events',
        events: [
          {
            ...common,
            deliveryId: body.id,
            registry: hostOf(body.request?.host),
            ...names,
            tag: version ?? (t.tag?.trim() || undefined),
            digest: t.digest?.trim() || undefined,
            // a chart is not a container image, so it gets no image reference
            occurredAt: body.timestamp !== undefined ? new Date(body.timestamp).toISOString() : undefined,
          },
        ],
      };
    }
    const body = azureAcrImageSchema.parse(req.body);
    const t = body.target;
    const registry = hostOf(body.request?.host);
    const names = splitRepoFullName(t.repository);
    const tag = t.tag?.trim() || undefined;
    const digest = t.digest?.trim() || undefined;
    return {
      kind: 'events',
      events: [
        {
          ...common,
          deliveryId: body.id,
          registry,
          ...names,
          tag,
          digest,
          image: imageRef({ registry, repoFullName: names.repoFullName, tag, digest }),
          occurredAt: body.timestamp !== undefined ? new Date(body.timestamp).toISOString() : undefined,
        },
      ],
    };
  },
};
