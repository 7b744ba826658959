/**
 * How a Git host's API error becomes a failed attempt, shared by the GitHub and GitLab routes: they differ only in
 * where the client keeps the HTTP status, what the token needs, and what the host calls a repository.
 */

/** A failed host call as an attempt sees it (a HostCommitResult; declared here so this file imports neither route). */
export interface HostFailure {
  ok: false;
  retryable: boolean;
  statusCode?: number;
  error: string;
  details: Record<string, unknown>;
}

export interface HostFailures {
  /** the HTTP status of a client error, if it carries one */
  statusOf(err: unknown): number | undefined;
  /** a failed call: 5xx, 429 and 408 are retried, as is an error without a status (the network) */
  failure(err: unknown, what: string, details: Record<string, unknown>): HostFailure;
  /** reading a file to edit failed: a 404 names the path and branch (or a token that cannot see it) */
  readFailure(err: unknown, file: string, branch: string, details: Record<string, unknown>): HostFailure;
}

export function hostFailures(host: {
  statusOf: (err: unknown) => number | undefined;
  /** what to check when the host answers 401/403 */
  tokenHint: string;
  /** "repository" or "project" */
  noun: string;
}): HostFailures {
  const { statusOf } = host;
  const failure: HostFailures['failure'] = (err, what, details) => {
    const status = statusOf(err);
    if (status === undefined)
      return { ok: false, retryable: true, error: `${what}: ${(err as Error)?.message ?? String(err)}`, details };
    const retryable = status >= 500 || status === 429 || status === 408;
    const hint = status === 401 || status === 403 ? ` (${host.tokenHint})` : '';
    return { ok: false, retryable, statusCode: status, error: `${what}: HTTP ${status}${hint}`, details };
  };
  const readFailure: HostFailures['readFailure'] = (err, file, branch, details) =>
    statusOf(err) === 404
      ? {
          ok: false,
          retryable: false,
          statusCode: 404,
          error: `${file} is not in ${branch} (or the ${host.noun} is not visible to the token)`,
          details,
        }
      : failure(err, `read ${file}`, details);
  return { statusOf, failure, readFailure };
}
