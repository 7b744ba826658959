/**
 * Admin authentication: bearer token, and (custom.adminAuth: iam) requests API Gateway's AWS_IAM authorizer
 * already authenticated. The events are shaped as API Gateway HTTP API (payload 2.0) delivers them.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { iamCaller, isAdmin } from '../../lib/admin/auth';
import { adminHandler } from '../../lib/admin/router';
import { json } from '../../lib/receive/http';

const TOKEN = 'admin-token-for-tests-7c1e';
const CALLER = 'arn:aws:iam::111122223333:role/ops-admin';

/** requestContext.authorizer.iam as API Gateway fills it for a SigV4-signed request on an AWS_IAM route */
const IAM_AUTHORIZER = {
  iam: {
    accessKey: 'ASIAEXAMPLE',
    accountId: '111122223333',
    callerId: 'AROAEXAMPLE:ops',
    cognitoIdentity: null,
    principalOrgId: null,
    userArn: CALLER,
    userId: 'AROAEXAMPLE:ops',
  },
};

function event(opts: { authorization?: string; authorizer?: unknown } = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'GET /admin/triggers',
    rawPath: '/admin/triggers',
    rawQueryString: '',
    headers: opts.authorization ? { authorization: opts.authorization } : {},
    requestContext: {
      accountId: '111122223333',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: {
        method: 'GET',
        path: '/admin/triggers',
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.9',
        userAgent: 'test',
      },
      requestId: 'r1',
      routeKey: 'GET /admin/triggers',
      stage: '$default',
      time: '01/Dec/2026:22:00:00 +0000',
      timeEpoch: 1796248800000,
      ...(opts.authorizer !== undefined ? { authorizer: opts.authorizer } : {}),
    } as APIGatewayProxyEventV2['requestContext'],
    isBase64Encoded: false,
  };
}

const context = { functionName: 'adminTriggers', awsRequestId: 'r1' } as Context;
const handler = adminHandler({ 'GET /admin/triggers': async () => json(200, { items: [] }) });
const status = async (e: APIGatewayProxyEventV2) => (await handler(e, context)).statusCode;

const saved = { ...process.env };
beforeEach(() => {
  process.env.TRIGGERFISH_ADMIN_TOKEN = TOKEN;
  delete process.env.ADMIN_AUTH;
});
afterAll(() => {
  process.env = saved;
});

describe('admin auth: token (the default)', () => {
  it('accepts the bearer token, refuses a wrong or missing one', async () => {
    expect(await status(event({ authorization: `Bearer ${TOKEN}` }))).toBe(200);
    expect(await status(event({ authorization: 'Bearer wrong' }))).toBe(401);
    expect(await status(event())).toBe(401);
  });

  it('does not trust an IAM authorizer context when IAM auth is not configured', async () => {
    expect(iamCaller(event({ authorizer: IAM_AUTHORIZER }))).toBeUndefined();
    expect(await isAdmin(event({ authorizer: IAM_AUTHORIZER }))).toBe(false);
    expect(await status(event({ authorizer: IAM_AUTHORIZER }))).toBe(401);
    process.env.ADMIN_AUTH = 'IAM'; // only the exact setting turns it on
    expect(await status(event({ authorizer: IAM_AUTHORIZER }))).toBe(401);
  });
});

describe('admin auth: iam (AWS_IAM authorizer on the admin routes)', () => {
  beforeEach(() => {
    process.env.ADMIN_AUTH = 'iam';
  });

  it('a request API Gateway authenticated needs no token; the caller is known', async () => {
    expect(iamCaller(event({ authorizer: IAM_AUTHORIZER }))).toBe(CALLER);
    expect(await status(event({ authorizer: IAM_AUTHORIZER }))).toBe(200);
  });

  it('without the authorizer context (a route without the authorizer) the token is still required', async () => {
    expect(await status(event())).toBe(401);
    expect(await status(event({ authorizer: { iam: null } }))).toBe(401);
    expect(await status(event({ authorizer: { lambda: { ok: true } } }))).toBe(401);
    expect(await status(event({ authorizer: { iam: { userArn: '' } } }))).toBe(401);
    expect(await status(event({ authorization: `Bearer ${TOKEN}` }))).toBe(200);
  });

  it('with no token configured at all, IAM still works and nothing else does', async () => {
    delete process.env.TRIGGERFISH_ADMIN_TOKEN;
    delete process.env.ADMIN_TOKEN_PARAM;
    expect(await status(event({ authorizer: IAM_AUTHORIZER }))).toBe(200);
    expect(await status(event({ authorization: 'Bearer anything' }))).toBe(401);
  });
});
