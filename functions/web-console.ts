/**
 * The web console (console/src, built into console/dist/assets.ts): static files under /console, no data and no
 * credentials in them (the page calls the admin API with the token the user typed). A strict Content-Security-Policy:
 * only this origin's script and style, no inline code, no framing.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ASSETS } from '../console/dist/assets';

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const file = event.pathParameters?.file ?? 'index.html';
  const asset = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
  const security = {
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  if (!asset)
    return {
      statusCode: 404,
      headers: { 'content-type': 'text/plain; charset=utf-8', ...security },
      body: 'Not Found',
    };
  return {
    statusCode: 200,
    // the page is small; no-cache keeps a new deployment's console from mixing with an old cached script
    headers: { 'content-type': asset.contentType, 'cache-control': 'no-cache', ...security },
    body: asset.body,
  };
};
