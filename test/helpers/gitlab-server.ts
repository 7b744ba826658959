/**
 * A local HTTP server answering the GitLab REST API v4 routes the git target uses, as docs.gitlab.com documents
 * them (project id: the URL-encoded full path):
 * - GET  /api/v4/projects/:id/repository/files/:file_path?ref= → {file_path, encoding: "base64", content,
 *        last_commit_id, blob_id, ref}; 404 {"message": "404 File Not Found"}
 * - POST /api/v4/projects/:id/repository/commits {branch, commit_message, author_name, author_email, actions:
 *        [{action, file_path, content, last_commit_id}]} → 201 {id, short_id, message, web_url}; 400 {"message":
 *        "You are attempting to update a file that has changed since you started editing it."} on a stale
 *        last_commit_id
 *        With `start_branch` (and `force`), `branch` is created (or overwritten) from start_branch first.
 * - GET  /api/v4/projects/:id/repository/commits?ref_name=&per_page= → [{id, message}], newest first
 * - GET  /api/v4/projects/:id/merge_requests?source_branch=&target_branch=&state=opened → [{iid, web_url, ...}]
 * - POST /api/v4/projects/:id/merge_requests {source_branch, target_branch, title, description} → 201; 409 when an
 *        open MR for that source branch exists
 * - PUT  /api/v4/projects/:id/merge_requests/:iid {title, description} → 200
 * Auth: the `PRIVATE-TOKEN` header (401 {"message": "401 Unauthorized"} otherwise).
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitLabServer {
  url: string;
  /** the default branch: path → text and the id of the last commit that touched it */
  files: Map<string, { text: string; lastCommit: string }>;
  branches: Map<string, Map<string, { text: string; lastCommit: string }>>;
  mrs: {
    iid: number;
    web_url: string;
    title: string;
    description: string;
    source_branch: string;
    target_branch: string;
    state: string;
  }[];
  commits: { id: string; message: string; author_name?: string; paths: string[]; branch: string }[];
  requests: { method: string; url: string; body?: any }[];
  beforeCommit?: (n: number) => void;
  setFile(path: string, text: string, message?: string): string;
  close(): Promise<void>;
}

export async function startGitLabServer(opts: {
  project: string;
  branch: string;
  token: string;
}): Promise<GitLabServer> {
  let seq = 0;
  let posts = 0;
  const newId = () => createHash('sha1').update(`gl commit ${++seq}`).digest('hex');
  const main = new Map<string, { text: string; lastCommit: string }>();
  const s: GitLabServer = {
    url: '',
    files: main,
    branches: new Map([[opts.branch, main]]),
    mrs: [],
    commits: [],
    requests: [],
    setFile(path, text, message = 'someone else') {
      const id = newId();
      main.set(path, { text, lastCommit: id });
      s.commits.unshift({ id, message, paths: [path], branch: opts.branch });
      return id;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const projectPrefix = `/api/v4/projects/${encodeURIComponent(opts.project)}`;
  const prefix = `${projectPrefix}/repository`;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // the raw path: the project id and file path stay percent-encoded as clients send them
      const rawPath = (req.url ?? '/').split('?')[0];
      const u = new URL(req.url ?? '/', 'http://x');
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
      s.requests.push({ method: req.method ?? '', url: req.url ?? '', body });
      const send = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      if (req.headers['private-token'] !== opts.token) return send(401, { message: '401 Unauthorized' });
      if (rawPath.startsWith(`${projectPrefix}/merge_requests`)) {
        const rest = rawPath.slice(`${projectPrefix}/merge_requests`.length);
        const view = (m: GitLabServer['mrs'][number]) => ({ ...m });
        if (rest === '' && req.method === 'GET') {
          const q = u.searchParams;
          return send(
            200,
            s.mrs
              .filter(
                (m) =>
                  (!q.get('source_branch') || m.source_branch === q.get('source_branch')) &&
                  (!q.get('target_branch') || m.target_branch === q.get('target_branch')) &&
                  (!q.get('state') || q.get('state') === 'all' || m.state === q.get('state')),
              )
              .map(view),
          );
        }
        if (rest === '' && req.method === 'POST') {
          if (!s.branches.has(body.source_branch)) return send(400, { message: ['Source branch does not exist'] });
          if (s.mrs.some((m) => m.source_branch === body.source_branch && m.state === 'opened'))
            return send(409, { message: ['Another open merge request already exists for this source branch'] });
          const iid = s.mrs.length + 1;
          const mr = {
            iid,
            web_url: `${s.url}/${opts.project}/-/merge_requests/${iid}`,
            title: body.title,
            description: body.description ?? '',
            source_branch: body.source_branch,
            target_branch: body.target_branch,
            state: 'opened',
          };
          s.mrs.push(mr);
          return send(201, view(mr));
        }
        const m = /^\/(\d+)$/.exec(rest);
        const mr = m ? s.mrs.find((x) => x.iid === Number(m[1])) : undefined;
        if (mr && req.method === 'PUT') {
          if (body.title !== undefined) mr.title = body.title;
          if (body.description !== undefined) mr.description = body.description;
          return send(200, view(mr));
        }
        return send(404, { message: '404 Not found' });
      }
      if (!rawPath.startsWith(prefix)) return send(404, { message: '404 Project Not Found' });
      const rest = rawPath.slice(prefix.length);
      if (rest.startsWith('/files/') && req.method === 'GET') {
        const path = decodeURIComponent(rest.slice('/files/'.length));
        const ref = u.searchParams.get('ref') ?? '';
        const f = s.branches.get(ref)?.get(path);
        if (!f) return send(404, { message: '404 File Not Found' });
        return send(200, {
          file_name: path.split('/').pop(),
          file_path: path,
          size: Buffer.byteLength(f.text),
          encoding: 'base64',
          content: Buffer.from(f.text).toString('base64'),
          ref,
          last_commit_id: f.lastCommit,
          blob_id: createHash('sha1').update(f.text).digest('hex'),
        });
      }
      if (rest === '/commits' && req.method === 'POST') {
        s.beforeCommit?.(++posts);
        let files = s.branches.get(body.branch);
        if (body.start_branch) {
          const start = s.branches.get(body.start_branch);
          if (!start) return send(400, { message: 'Invalid start branch' });
          if (files && !body.force)
            return send(400, {
              message: `A branch called '${body.branch}' already exists. Switch to that branch in order to make changes`,
            });
          files = new Map(start);
        }
        if (!files) return send(400, { message: 'You can only create or edit files when you are on a branch' });
        for (const a of body.actions) {
          const f = files.get(a.file_path);
          if (a.action !== 'update' || !f) return send(400, { message: "A file with this name doesn't exist" });
          if (a.last_commit_id && a.last_commit_id !== f.lastCommit)
            return send(400, {
              message: 'You are attempting to update a file that has changed since you started editing it.',
            });
        }
        const id = newId();
        for (const a of body.actions)
          files.set(a.file_path, {
            text: a.encoding === 'base64' ? Buffer.from(a.content, 'base64').toString('utf8') : a.content,
            lastCommit: id,
          });
        s.branches.set(body.branch, files);
        s.commits.unshift({
          id,
          message: body.commit_message,
          author_name: body.author_name,
          paths: body.actions.map((a: any) => a.file_path),
          branch: body.branch,
        });
        return send(201, {
          id,
          short_id: id.slice(0, 8),
          message: body.commit_message,
          web_url: `${s.url}/${opts.project}/-/commit/${id}`,
        });
      }
      if (rest === '/commits' && req.method === 'GET') {
        const n = Number(u.searchParams.get('per_page') ?? 20);
        const ref = u.searchParams.get('ref_name') ?? opts.branch;
        return send(
          200,
          s.commits
            .filter((c) => c.branch === ref)
            .slice(0, n)
            .map((c) => ({
              id: c.id,
              short_id: c.id.slice(0, 8),
              message: c.message,
              title: c.message.split('\n')[0],
            })),
        );
      }
      return send(404, { message: '404 Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  s.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return s;
}
