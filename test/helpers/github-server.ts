/**
 * A local HTTP server answering the GitHub REST routes the git target uses, as docs.github.com documents them
 * (API base `<origin>/api/v3`, as on GitHub Enterprise Server):
 * - GET  /repos/{owner}/{repo}/contents/{path}?ref=  → {type: "file", encoding: "base64", content, sha, path}
 * - PUT  /repos/{owner}/{repo}/contents/{path} {message, content, sha, branch, author, committer}
 *        → 200 {content: {sha, path}, commit: {sha, message}}; 409 when `sha` is not the file's current blob sha;
 *        422 when the file exists and no sha is given; 404 for an unknown branch
 * - GET  /repos/{owner}/{repo}/commits?sha=&per_page= → [{sha, commit: {message, author}}], newest first
 * Auth: `Authorization: token <t>` or `Bearer <t>` must carry the token (401 otherwise).
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeCommit {
  sha: string;
  message: string;
  author?: { name: string; email: string };
  path: string;
}

export interface GitHubServer {
  url: string;
  files: Map<string, string>;
  commits: FakeCommit[];
  requests: { method: string; url: string; body?: any }[];
  /** runs before each PUT is applied (tests move the file under the writer) */
  beforePut?: (n: number) => void;
  setFile(path: string, text: string, message?: string): void;
  close(): Promise<void>;
}

export const blobSha = (text: string) => createHash('sha1').update(`blob ${Buffer.byteLength(text)}\0`).update(text).digest('hex');

export async function startGitHubServer(opts: { owner: string; repo: string; branch: string; token: string }): Promise<GitHubServer> {
  let puts = 0;
  let seq = 0;
  const newSha = () => createHash('sha1').update(`commit ${++seq}`).digest('hex');
  const s: GitHubServer = {
    url: '',
    files: new Map(),
    commits: [],
    requests: [],
    setFile(path, text, message = 'someone else') {
      s.files.set(path, text);
      s.commits.unshift({ sha: newSha(), message, path });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const prefix = `/api/v3/repos/${opts.owner}/${opts.repo}`;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
      s.requests.push({ method: req.method ?? '', url: req.url ?? '', body });
      const send = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(json));
      };
      const auth = req.headers.authorization ?? '';
      if (auth !== `token ${opts.token}` && auth !== `Bearer ${opts.token}`) return send(401, { message: 'Bad credentials' });
      if (!u.pathname.startsWith(prefix)) return send(404, { message: 'Not Found' });
      const rest = u.pathname.slice(prefix.length);
      if (rest.startsWith('/contents/')) {
        const path = decodeURIComponent(rest.slice('/contents/'.length));
        if (req.method === 'GET') {
          if ((u.searchParams.get('ref') ?? opts.branch) !== opts.branch) return send(404, { message: 'No commit found for the ref' });
          const text = s.files.get(path);
          if (text === undefined) return send(404, { message: 'Not Found' });
          return send(200, { type: 'file', encoding: 'base64', path, name: path.split('/').pop(), sha: blobSha(text), size: Buffer.byteLength(text), content: Buffer.from(text).toString('base64').replace(/(.{60})/g, '$1\n') });
        }
        if (req.method === 'PUT') {
          s.beforePut?.(++puts);
          if ((body.branch ?? opts.branch) !== opts.branch) return send(404, { message: 'Branch not found' });
          const current = s.files.get(path);
          if (current !== undefined && !body.sha) return send(422, { message: 'Invalid request.\n\n"sha" wasn\'t supplied.' });
          if (current !== undefined && body.sha !== blobSha(current)) return send(409, { message: `${path} does not match ${body.sha}` });
          const text = Buffer.from(body.content, 'base64').toString('utf8');
          s.files.set(path, text);
          const commit = { sha: newSha(), message: body.message, author: body.author, path };
          s.commits.unshift(commit);
          return send(current === undefined ? 201 : 200, { content: { path, sha: blobSha(text) }, commit: { sha: commit.sha, message: commit.message } });
        }
      }
      if (rest === '/commits' && req.method === 'GET') {
        const n = Number(u.searchParams.get('per_page') ?? 30);
        return send(200, s.commits.slice(0, n).map((c) => ({ sha: c.sha, commit: { message: c.message, author: c.author } })));
      }
      return send(404, { message: 'Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  s.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return s;
}
