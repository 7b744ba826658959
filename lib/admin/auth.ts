/**
 * Admin API bearer token. Locally (and wherever set) from TRIGGERFISH_ADMIN_TOKEN; on AWS from the SSM
 * SecureString named by ADMIN_TOKEN_PARAM, fetched once per container and cached for 5 minutes.
 */
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { config } from '../core/config';
import { safeEqual } from '../core/crypto';

const CACHE_MS = 5 * 60 * 1000;
let cached: { token: string; until: number } | undefined;
let ssm: SSMClient | undefined;

async function expectedToken(): Promise<string | undefined> {
  const direct = config.adminToken();
  if (direct) return direct;
  const name = config.adminTokenParam();
  if (!name) return undefined;
  if (cached && cached.until > Date.now()) return cached.token;
  ssm ??= new SSMClient({ region: config.region() });
  const out = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  const token = out.Parameter?.Value;
  if (!token) return undefined;
  cached = { token, until: Date.now() + CACHE_MS };
  return token;
}

/** True when the request carries `Authorization: Bearer <admin token>`. */
export async function isAdmin(event: APIGatewayProxyEventV2): Promise<boolean> {
  const header = event.headers?.authorization ?? event.headers?.Authorization;
  const m = header ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
  if (!m) return false;
  const expected = await expectedToken();
  // no configured token: the admin API is closed rather than open
  if (!expected) return false;
  return safeEqual(m[1].trim(), expected);
}
