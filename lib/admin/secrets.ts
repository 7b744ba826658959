/**
 * Admin API: the local secret store (lib/store/local-secrets.ts), which target secret references resolve from on
 * the local stack. Values go in and are never shown again: the list has names only. On AWS there is no such store:
 * these routes answer 501 with where to put the secret (Secrets Manager or SSM, under the stage's prefix).
 */
import * as z from 'zod';
import { config } from '../core/config';
import { json, type HttpResult } from '../receive/http';
import {
  deleteLocalSecret,
  listLocalSecrets,
  LOCAL_SECRET_NAME,
  LOCAL_SECRET_NAME_RULE,
  MAX_LOCAL_SECRET_BYTES,
  putLocalSecret,
} from '../store/local-secrets';
import type { AdminRequest, Routes } from './router';

export const secretPutSchema = z.strictObject({
  value: z
    .string()
    .min(1)
    .refine((v) => Buffer.byteLength(v, 'utf8') <= MAX_LOCAL_SECRET_BYTES, {
      message: `at most ${MAX_LOCAL_SECRET_BYTES} bytes`,
    }),
});

/** 501 on AWS: how to store `name` where the deployer reads it (the name under the stage's prefix). */
function notHere(name = '<name>') {
  const prefix = config.secretPrefix();
  return json(501, {
    message:
      `there is no local secret store on AWS: store the secret in Secrets Manager as ${prefix}${name} ` +
      `(aws secretsmanager create-secret --name ${prefix}${name} --secret-string file:///dev/stdin) or in SSM as ` +
      `/${prefix}${name} (SecureString), and reference it as {"secretsManager": "${name}"} or {"ssmParameter": "${name}"}`,
    secretsManager: `${prefix}${name}`,
    ssmParameter: `/${prefix}${name}`,
  });
}

/** the store's folder, or the 501 answer; and the checked name, or a 400 naming it */
function target(req: AdminRequest): { dir: string; name: string } | { answer: HttpResult } {
  const dir = config.localSecretsDir();
  const name = req.params.name ?? '';
  if (!LOCAL_SECRET_NAME.test(name)) {
    return { answer: json(400, { message: `invalid name: ${LOCAL_SECRET_NAME_RULE}`, field: 'name' }) };
  }
  if (!dir) return { answer: notHere(name) };
  return { dir, name };
}

export const secretRoutes: Routes = {
  'GET /admin/secrets': async () => {
    const dir = config.localSecretsDir();
    if (!dir) return notHere();
    return json(200, { items: listLocalSecrets(dir) });
  },
  'PUT /admin/secrets/{name}': async (req) => {
    const t = target(req);
    if ('answer' in t) return t.answer;
    const { value } = secretPutSchema.parse(req.body ?? {});
    putLocalSecret(t.dir, t.name, value);
    return json(200, { name: t.name, stored: true });
  },
  'DELETE /admin/secrets/{name}': async (req) => {
    const t = target(req);
    if ('answer' in t) return t.answer;
    if (!deleteLocalSecret(t.dir, t.name)) return json(404, { message: `no secret named ${t.name}` });
    return json(204);
  },
};
