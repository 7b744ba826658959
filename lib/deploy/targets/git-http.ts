/**
 * The HTTP client isomorphic-git talks through (its `http` option), written on node:http(s) so the Git host obeys
 * the same outbound rules as every other target (../../core/outbound): IP-literal hosts checked before sending,
 * hostnames checked at connect time through `guardedLookup`, TLS always verified, redirects never followed (the
 * 3xx is handed to isomorphic-git, which fails on it), a byte limit on answers and one deadline for the attempt.
 * isomorphic-git's own `http/node` client (simple-get) follows redirects and has no address guard, hence this.
 */
import http from 'node:http';
import https from 'node:https';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import { bareHostname, checkLiteralHost, checkUrlStatic, effectivePort, guardedLookup } from '../../core/outbound';
import { checkUploadPack, GIT_REPO_LIMIT } from './git-limits';

/** an answer bigger than this is not read (a pack is compressed: its unpacked size is judged by checkUploadPack) */
export const GIT_READ_LIMIT = GIT_REPO_LIMIT;
const USER_AGENT = 'Triggerfish/0.1 (isomorphic-git)';

export class GitHttpRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitHttpRefused';
  }
}

async function collect(body: GitHttpRequest['body']): Promise<Buffer | undefined> {
  if (!body) return undefined;
  const parts: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

/**
 * An isomorphic-git HttpClient with the outbound rules; `deadline` is a performance.now()-free epoch ms. With
 * `checkPacks`, a fetched pack over the limits of ./git-limits is refused before isomorphic-git unpacks it.
 */
export function guardedGitHttp(opts: { allowPrivate: boolean; deadline: number; checkPacks?: boolean }): HttpClient {
  return {
    async request(req: GitHttpRequest): Promise<GitHttpResponse> {
      const url = new URL(req.url);
      const bad = checkUrlStatic(url) ?? checkLiteralHost(url, opts.allowPrivate);
      if (bad) throw new GitHttpRefused(`URL refused: ${bad}`);
      const remaining = opts.deadline - Date.now();
      if (remaining <= 0) throw new GitHttpRefused('timed out');
      const body = await collect(req.body);
      const isHttps = url.protocol === 'https:';
      const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...(req.headers ?? {}) };
      if (body) headers['content-length'] = String(body.length);
      return new Promise<GitHttpResponse>((resolve, reject) => {
        const options: https.RequestOptions = {
          protocol: url.protocol,
          hostname: bareHostname(url),
          port: effectivePort(url),
          path: `${url.pathname}${url.search}`,
          method: req.method ?? 'GET',
          headers,
          lookup: guardedLookup(opts.allowPrivate),
          agent: false,
        };
        if (isHttps) options.rejectUnauthorized = true;
        const cr = (isHttps ? https : http).request(options);
        const timer = setTimeout(() => cr.destroy(new GitHttpRefused(`timed out`)), remaining);
        cr.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        cr.on('response', (res) => {
          const chunks: Buffer[] = [];
          let total = 0;
          res.on('data', (c: Buffer) => {
            total += c.length;
            if (total > GIT_READ_LIMIT) res.destroy(new GitHttpRefused(`answer over ${GIT_READ_LIMIT} bytes`));
            else chunks.push(c);
          });
          res.on('error', (err) => {
            clearTimeout(timer);
            reject(err);
          });
          res.on('end', () => {
            clearTimeout(timer);
            const flat: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers))
              if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
            const data = Buffer.concat(chunks);
            const isPack = opts.checkPacks && req.method === 'POST' && url.pathname.endsWith('/git-upload-pack');
            const over = isPack && (res.statusCode ?? 0) < 300 ? checkUploadPack(data) : undefined;
            if (over) {
              reject(new GitHttpRefused(over));
              return;
            }
            resolve({
              url: req.url,
              method: req.method,
              statusCode: res.statusCode ?? 0,
              statusMessage: res.statusMessage ?? '',
              headers: flat,
              body: (async function* () {
                yield new Uint8Array(data.buffer, data.byteOffset, data.length);
              })(),
            });
          });
        });
        cr.end(body);
      });
    },
  };
}

/**
 * A `fetch` with the same rules, for the REST clients (@octokit/rest's `request.fetch`): string / bytes bodies,
 * no redirects followed, the answer read whole (JSON answers of the contents API are small; a cap applies).
 */
export function guardedFetch(opts: { allowPrivate: boolean; deadline: number }): typeof fetch {
  const client = guardedGitHttp(opts);
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => {
      headers[k] = v;
    });
    const raw = init?.body;
    const body =
      raw === undefined || raw === null
        ? undefined
        : typeof raw === 'string'
          ? Buffer.from(raw, 'utf8')
          : Buffer.from(raw as ArrayBuffer);
    const res = await client.request({
      url,
      method: init?.method ?? 'GET',
      headers,
      body: body
        ? (async function* () {
            yield new Uint8Array(body);
          })()
        : undefined,
    });
    const parts: Uint8Array[] = [];
    for await (const c of res.body as AsyncIterable<Uint8Array>) parts.push(c);
    const status = res.statusCode;
    const nullBody = status === 204 || status === 304 || (init?.method ?? 'GET') === 'HEAD';
    return new Response(nullBody ? null : Buffer.concat(parts), {
      status,
      statusText: res.statusMessage,
      headers: res.headers,
    });
  }) as typeof fetch;
}
