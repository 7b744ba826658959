/**
 * A local HTTP server answering the GitHub REST routes the git target uses, as docs.github.com documents them
 * (API base `<origin>/api/v3`, as on GitHub Enterprise Server):
 * - GET  /repos/{owner}/{repo}/contents/{path}?ref=  → {type: "file", encoding: "base64", content, sha, path}
 * - PUT  /repos/{owner}/{repo}/contents/{path} {message, content, sha, branch, author, committer}
 *        → 200 {content: {sha, path}, commit: {sha, message}}; 409 when `sha` is not the file's current blob sha;
 *        422 when the file exists and no sha is given; 404 for an unknown branch
 * - GET  /repos/{owner}/{repo}/commits?sha=&per_page= → [{sha, commit: {message, author}}], newest first
 * - GET  /repos/{owner}/{repo}/git/ref/heads/{branch} → {ref, object: {sha, type: "commit"}}; 404
 * - POST /repos/{owner}/{repo}/git/refs {ref, sha} → 201; 422 "Reference already exists"
 * - PATCH /repos/{owner}/{repo}/git/refs/heads/{branch} {sha, force} → 200 (the branch gets the files of that sha)
 * - GET  /repos/{owner}/{repo}/pulls?head=owner:branch&base=&state=open → [{number, html_url, title, body, head, base}]
 * - POST /repos/{owner}/{repo}/pulls {title, head, base, body} → 201; 422 when an open PR for head exists
 * - PATCH /repos/{owner}/{repo}/pulls/{number} {title, body} → 200
 * Branches: every branch has its own files; a commit's sha maps to a snapshot of its branch's files.
 * Symlinks (`links`, the default branch's): GET on a link whose target is a file answers that file (its own `path`),
 * as GitHub does; on any other link `{type: "symlink", target, path}`.
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
  branch?: string;
}

export interface GitHubServer {
  url: string;
  /** the default branch's files */
  files: Map<string, string>;
  branches: Map<string, Map<string, string>>;
  heads: Map<string, string>;
  pulls: { number: number; html_url: string; title: string; body: string; head: string; base: string; state: string }[];
  commits: FakeCommit[];
  requests: { method: string; url: string; body?: any }[];
  /** runs before each PUT is applied (tests move the file under the writer) */
  beforePut?: (n: number) => void;
  setFile(path: string, text: string, message?: string): void;
  /** symlinks of the default branch: path -> target (a path in the repository, or anything) */
  links: Map<string, string>;
  close(): Promise<void>;
}

const view = (p: GitHubServer['pulls'][number]) => ({
  number: p.number,
  html_url: p.html_url,
  state: p.state,
  title: p.title,
  body: p.body,
  head: { ref: p.head },
  base: { ref: p.base },
});

export const blobSha = (text: string) =>
  createHash('sha1')
    .update(`blob ${Buffer.byteLength(text)}\0`)
    .update(text)
    .digest('hex');

export async function startGitHubServer(opts: {
  owner: string;
  repo: string;
  branch: string;
  token: string;
}): Promise<GitHubServer> {
  let puts = 0;
  let seq = 0;
  const newSha = () => createHash('sha1').update(`commit ${++seq}`).digest('hex');
  const main = new Map<string, string>();
  const snapshots = new Map<string, Map<string, string>>();
  const commitOn = (branch: string, message: string, path: string, author?: FakeCommit['author']) => {
    const sha = newSha();
    s.heads.set(branch, sha);
    snapshots.set(sha, new Map(s.branches.get(branch)));
    const c = { sha, message, author, path, branch };
    s.commits.unshift(c);
    return c;
  };
  const s: GitHubServer = {
    url: '',
    files: main,
    branches: new Map([[opts.branch, main]]),
    heads: new Map(),
    pulls: [],
    commits: [],
    requests: [],
    links: new Map(),
    setFile(path, text, message = 'someone else') {
      main.set(path, text);
      commitOn(opts.branch, message, path);
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
      if (auth !== `token ${opts.token}` && auth !== `Bearer ${opts.token}`)
        return send(401, { message: 'Bad credentials' });
      if (!u.pathname.startsWith(prefix)) return send(404, { message: 'Not Found' });
      const rest = u.pathname.slice(prefix.length);
      if (rest.startsWith('/contents/')) {
        const path = decodeURIComponent(rest.slice('/contents/'.length));
        if (req.method === 'GET') {
          const files = s.branches.get(u.searchParams.get('ref') ?? opts.branch);
          if (!files) return send(404, { message: 'No commit found for the ref' });
          const link = s.links.get(path);
          if (link !== undefined && !files.has(link))
            return send(200, { type: 'symlink', target: link, path, sha: blobSha(link), size: link.length });
          const shown = link ?? path;
          const text = files.get(shown);
          if (text === undefined) return send(404, { message: 'Not Found' });
          return send(200, {
            type: 'file',
            encoding: 'base64',
            path: shown,
            name: shown.split('/').pop(),
            sha: blobSha(text),
            size: Buffer.byteLength(text),
            content: Buffer.from(text)
              .toString('base64')
              .replace(/(.{60})/g, '$1\n'),
          });
        }
        if (req.method === 'PUT') {
          s.beforePut?.(++puts);
          const branch = body.branch ?? opts.branch;
          const files = s.branches.get(branch);
          if (!files) return send(404, { message: 'Branch not found' });
          const current = files.get(path);
          if (current !== undefined && !body.sha)
            return send(422, { message: 'Invalid request.\n\n"sha" wasn\'t supplied.' });
          if (current !== undefined && body.sha !== blobSha(current))
            return send(409, { message: `${path} does not match ${body.sha}` });
          const text = Buffer.from(body.content, 'base64').toString('utf8');
          files.set(path, text);
          const commit = commitOn(branch, body.message, path, body.author);
          return send(current === undefined ? 201 : 200, {
            content: { path, sha: blobSha(text) },
            commit: { sha: commit.sha, message: commit.message },
          });
        }
      }
      if (rest === '/commits' && req.method === 'GET') {
        const n = Number(u.searchParams.get('per_page') ?? 30);
        const branch = u.searchParams.get('sha') ?? opts.branch;
        return send(
          200,
          s.commits
            .filter((c) => c.branch === branch)
            .slice(0, n)
            .map((c) => ({ sha: c.sha, commit: { message: c.message, author: c.author } })),
        );
      }
      // clients send `heads/main` percent-encoded (`heads%2Fmain`), as GitHub accepts
      const refMatch = /^\/git\/ref\/heads\/(.+)$/.exec(decodeURIComponent(rest));
      if (refMatch && req.method === 'GET') {
        const branch = refMatch[1];
        const sha = s.heads.get(branch);
        if (!sha) return send(404, { message: 'Not Found' });
        return send(200, { ref: `refs/heads/${branch}`, object: { sha, type: 'commit' } });
      }
      if (rest === '/git/refs' && req.method === 'POST') {
        const branch = String(body.ref).replace(/^refs\/heads\//, '');
        if (s.heads.has(branch)) return send(422, { message: 'Reference already exists' });
        const snap = snapshots.get(body.sha);
        if (!snap) return send(422, { message: 'Object does not exist' });
        s.branches.set(branch, new Map(snap));
        s.heads.set(branch, body.sha);
        return send(201, { ref: body.ref, object: { sha: body.sha, type: 'commit' } });
      }
      const patchRef = /^\/git\/refs\/heads\/(.+)$/.exec(decodeURIComponent(rest));
      if (patchRef && req.method === 'PATCH') {
        const branch = patchRef[1];
        const snap = snapshots.get(body.sha);
        if (!s.heads.has(branch) || !snap) return send(422, { message: 'Reference does not exist' });
        s.branches.set(branch, new Map(snap));
        s.heads.set(branch, body.sha);
        return send(200, { ref: `refs/heads/${branch}`, object: { sha: body.sha, type: 'commit' } });
      }
      if (rest === '/pulls' && req.method === 'GET') {
        const head = u.searchParams.get('head');
        const state = u.searchParams.get('state') ?? 'open';
        return send(
          200,
          s.pulls
            .filter((p) => (!head || `${opts.owner}:${p.head}` === head) && (state === 'all' || p.state === state))
            .map(view),
        );
      }
      if (rest === '/pulls' && req.method === 'POST') {
        if (!s.heads.has(body.head))
          return send(422, { message: 'Validation Failed', errors: [{ field: 'head', code: 'invalid' }] });
        if (s.pulls.some((p) => p.head === body.head && p.state === 'open'))
          return send(422, { message: `A pull request already exists for ${opts.owner}:${body.head}.` });
        const number = s.pulls.length + 1;
        const pr = {
          number,
          html_url: `https://github.example/${opts.owner}/${opts.repo}/pull/${number}`,
          title: body.title,
          body: body.body ?? '',
          head: body.head,
          base: body.base,
          state: 'open',
        };
        s.pulls.push(pr);
        return send(201, view(pr));
      }
      const pullMatch = /^\/pulls\/(\d+)$/.exec(rest);
      if (pullMatch && req.method === 'PATCH') {
        const pr = s.pulls.find((p) => p.number === Number(pullMatch[1]));
        if (!pr) return send(404, { message: 'Not Found' });
        if (body.title !== undefined) pr.title = body.title;
        if (body.body !== undefined) pr.body = body.body;
        return send(200, view(pr));
      }
      return send(404, { message: 'Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  s.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return s;
}
