/**
 * Admin API authentication.
 *
 * - Bearer token: locally (and wherever set) from TRIGGERFISH_ADMIN_TOKEN; on AWS from the SSM SecureString named
 *   by ADMIN_TOKEN_PARAM, fetched once per container and cached for 5 minutes.
 * - IAM (serverless.yml `custom.adminAuth: iam`, which sets ADMIN_AUTH=iam): API Gateway's AWS_IAM authorizer on
 *   the admin routes has checked the SigV4 signature and execute-api:Invoke before the function runs, and put
 *   the caller in requestContext.authorizer.iam. Such a request needs no token. The authorizer context is trusted
 *   only in that mode: nothing but API Gateway can set it (the local gateway never does), and without the
 *   setting a request must still carry the token.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { config } from '../core/config';
import { safeEqual } from '../core/crypto';
import { lazy } from '../core/lazy';

const CACHE_MS = 5 * 60 * 1000;
let cached: { token: string; until: number } | undefined;
let ssm: SSMClient | undefined;
// loaded on the first token read from SSM: not with a token in the environment (local) or with IAM admin auth
const ssmSdk = /* @__PURE__ */ lazy(() => import('@aws-sdk/client-ssm'));

async function expectedToken(): Promise<string | undefined> {
  const direct = config.adminToken();
  if (direct) return direct;
  const name = config.adminTokenParam();
  if (!name) return undefined;
  if (cached && cached.until > Date.now()) return cached.token;
  const sdk = await ssmSdk();
  ssm ??= new sdk.SSMClient({ region: config.region() });
  const out = await ssm.send(new sdk.GetParameterCommand({ Name: name, WithDecryption: true }));
  const token = out.Parameter?.Value;
  if (!token) return undefined;
  cached = { token, until: Date.now() + CACHE_MS };
  return token;
}

/** The IAM caller (its ARN) API Gateway authenticated for this request, when admin auth is `iam`; else undefined. */
export function iamCaller(event: APIGatewayProxyEventV2): string | undefined {
  if (config.adminAuth() !== 'iam') return undefined;
  const context = event.requestContext as APIGatewayProxyEventV2['requestContext'] & {
    authorizer?: { iam?: { userArn?: unknown; callerId?: unknown } | null };
  };
  const iam = context?.authorizer?.iam;
  if (!iam || typeof iam !== 'object') return undefined;
  if (typeof iam.userArn === 'string' && iam.userArn) return iam.userArn;
  return typeof iam.callerId === 'string' && iam.callerId ? iam.callerId : undefined;
}

/**
 * True when API Gateway authenticated the request with IAM (admin auth `iam`), or it carries
 * `Authorization: Bearer <admin token>`.
 */
export async function isAdmin(event: APIGatewayProxyEventV2): Promise<boolean> {
  if (iamCaller(event)) return true;
  const header = event.headers?.authorization ?? event.headers?.Authorization;
  const m = header ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
  if (!m) return false;
  const expected = await expectedToken();
  // no configured token: the admin API is closed rather than open
  if (!expected) return false;
  return safeEqual(m[1].trim(), expected);
}
