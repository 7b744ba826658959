/**
 * A real Git server for tests: Debian's `git http-backend` (CGI) behind a node:http server on 127.0.0.1, serving
 * bare repositories in a temp dir. Optional basic auth (401 with WWW-Authenticate otherwise). `beforeReceive`
 * runs before each push is handed to git (tests use it to move the branch under a pusher).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface GitServer {
  url: string;
  root: string;
  /** `git` in a bare repository of the server */
  git(repo: string, ...args: string[]): string;
  /** a bare repo with one commit on `branch` holding `files` */
  createRepo(repo: string, files: Record<string, string>, branch?: string): void;
  /** commits `files` to `branch` of `repo` directly on the server (another writer) */
  commitOnServer(repo: string, files: Record<string, string>, message: string, branch?: string): string;
  /**
   * a bare repo whose one commit on `branch` is what `build` leaves in a work tree (`git add -A`): symlinks, big
   * sparse files, many files; `git` runs git in that work tree
   */
  createRepoWith(
    repo: string,
    build: (work: string, git: (...args: string[]) => string) => void,
    branch?: string,
  ): void;
  /** the file as the branch holds it */
  show(repo: string, file: string, branch?: string): string;
  requests: { method: string; url: string; authorized: boolean }[];
  /** what git http-backend wrote to stderr */
  errors: string[];
  beforeReceive?: (n: number) => void;
  close(): Promise<void>;
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  // no background `git gc --auto` (it would still be writing in a work tree being removed)
  GIT_CONFIG_COUNT: '1',
  GIT_CONFIG_KEY_0: 'gc.auto',
  GIT_CONFIG_VALUE_0: '0',
  HOME: os.tmpdir(),
};

export async function startGitServer(
  opts: { basicAuth?: { username: string; password: string } } = {},
): Promise<GitServer> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'tf-git-server-'));
  const run = (cwd: string, args: string[]) =>
    execFileSync('git', args, { cwd, env: { ...process.env, ...GIT_ENV }, encoding: 'utf8' });
  /** clones (or starts) `branch`, lets `build` change the work tree, commits everything and pushes */
  const commitIn = (repo: string, build: (work: string) => void, message: string, branch: string): string => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'tf-git-work-'));
    try {
      const bare = path.join(root, repo);
      const hasBranch = run(bare, ['branch', '--list', branch]).trim() !== '';
      if (hasBranch) run(work, ['clone', '-q', '--branch', branch, bare, '.']);
      else {
        run(work, ['init', '-q', `--initial-branch=${branch}`]);
        run(work, ['remote', 'add', 'origin', bare]);
      }
      build(work);
      run(work, ['add', '-A']);
      run(work, ['commit', '-q', '-m', message]);
      run(work, ['push', '-q', 'origin', `HEAD:refs/heads/${branch}`]);
      return run(work, ['rev-parse', 'HEAD']).trim();
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  };
  let receives = 0;
  const server: GitServer = {
    url: '',
    root,
    requests: [],
    errors: [],
    git: (repo, ...args) => run(path.join(root, repo), args),
    createRepo(repo, files, branch = 'main') {
      server.createRepoWith(
        repo,
        (work) => {
          for (const [f, text] of Object.entries(files)) {
            mkdirSync(path.dirname(path.join(work, f)), { recursive: true });
            writeFileSync(path.join(work, f), text);
          }
        },
        branch,
      );
    },
    createRepoWith(repo, build, branch = 'main') {
      const bare = path.join(root, repo);
      mkdirSync(bare, { recursive: true });
      run(bare, ['init', '-q', '--bare', `--initial-branch=${branch}`]);
      run(bare, ['config', 'http.receivepack', 'true']);
      commitIn(repo, (work) => build(work, (...args) => run(work, args)), 'initial manifests', branch);
    },
    commitOnServer(repo, files, message, branch = 'main') {
      return commitIn(
        repo,
        (work) => {
          for (const [f, text] of Object.entries(files)) {
            mkdirSync(path.dirname(path.join(work, f)), { recursive: true });
            writeFileSync(path.join(work, f), text);
          }
        },
        message,
        branch,
      );
    },
    show: (repo, file, branch = 'main') => run(path.join(root, repo), ['show', `${branch}:${file}`]),
    close: () =>
      new Promise<void>((resolve) =>
        http.close(() => {
          rmSync(root, { recursive: true, force: true });
          resolve();
        }),
      ),
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x');
    let authorized = true;
    if (opts.basicAuth) {
      const expected = `Basic ${Buffer.from(`${opts.basicAuth.username}:${opts.basicAuth.password}`).toString('base64')}`;
      authorized = req.headers.authorization === expected;
    }
    server.requests.push({ method: req.method ?? '', url: req.url ?? '', authorized });
    if (!authorized) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' });
      res.end();
      return;
    }
    const isReceive = u.pathname.endsWith('/git-receive-pack') && req.method === 'POST';
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (isReceive) server.beforeReceive?.(++receives);
      const cgi = spawn('/usr/lib/git-core/git-http-backend', [], {
        env: {
          ...process.env,
          ...GIT_ENV,
          GIT_PROJECT_ROOT: root,
          GIT_HTTP_EXPORT_ALL: '1',
          REMOTE_USER: opts.basicAuth?.username ?? 'anonymous',
          REQUEST_METHOD: req.method ?? 'GET',
          PATH_INFO: decodeURIComponent(u.pathname),
          QUERY_STRING: u.search.slice(1),
          CONTENT_TYPE: req.headers['content-type'] ?? '',
          CONTENT_LENGTH: String(Buffer.concat(chunks).length),
          GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
          HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
        },
      });
      const out: Buffer[] = [];
      cgi.stdin.on('error', () => undefined); // the backend may answer (an error) without reading the body
      cgi.stderr.on('data', (c: Buffer) => server.errors.push(c.toString('utf8')));
      cgi.stdout.on('data', (c: Buffer) => out.push(c));
      cgi.on('close', () => {
        const all = Buffer.concat(out);
        let sep = all.indexOf('\r\n\r\n');
        let sepLen = 4;
        if (sep < 0) {
          sep = all.indexOf('\n\n');
          sepLen = 2;
        }
        const head = all.subarray(0, Math.max(sep, 0)).toString('latin1');
        const body = sep < 0 ? all : all.subarray(sep + sepLen);
        let status = 200;
        const headers: Record<string, string> = {};
        for (const line of head.split(/\r?\n/)) {
          const i = line.indexOf(':');
          if (i < 0) continue;
          const name = line.slice(0, i).trim();
          const value = line.slice(i + 1).trim();
          if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
          else headers[name] = value;
        }
        res.writeHead(status, headers);
        res.end(body);
      });
      cgi.stdin.end(Buffer.concat(chunks));
    });
  };
  const http = createServer(handle);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  server.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return server;
}
