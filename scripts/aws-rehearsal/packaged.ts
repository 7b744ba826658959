/**
 * The handlers as deployed: the zips `osls deploy` built in .serverless/, unzipped and run in Node (moto cannot run
 * Lambda without Docker). Each invocation is its own process with the function's deployed environment and the
 * STS credentials of the function's role, so every AWS call it makes is judged by that role's policies.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Credentials {
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
}

export interface PackagedFunction {
  name: string;
  handler: string;
  dir: string;
  env: Record<string, string>;
  credentials: Credentials;
  timeoutSeconds: number;
}

export interface Invocation {
  ok: boolean;
  result?: unknown;
  error?: string;
  /** what the function wrote to stdout and stderr (its log) */
  output: string;
}

/** Unzips .serverless/<name>.zip into a temp dir (once per function). */
export async function unpack(serverlessDir: string, name: string, into: string): Promise<string> {
  const dir = path.join(into, name);
  if (!fs.existsSync(dir)) {
    // python3's zipfile: present wherever moto is, unlike an unzip binary
    await run(process.env.PYTHON ?? 'python3', ['-m', 'zipfile', '-e', path.join(serverlessDir, `${name}.zip`), dir]);
  }
  return dir;
}

export async function invoke(fn: PackagedFunction, event: unknown): Promise<Invocation> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-invoke-'));
  const eventFile = path.join(work, 'event.json');
  const resultFile = path.join(work, 'result.json');
  fs.writeFileSync(eventFile, JSON.stringify(event));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    ...fn.env,
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    FUNCTION_TIMEOUT_SECONDS: String(fn.timeoutSeconds),
    AWS_ACCESS_KEY_ID: fn.credentials.AccessKeyId,
    AWS_SECRET_ACCESS_KEY: fn.credentials.SecretAccessKey,
    AWS_SESSION_TOKEN: fn.credentials.SessionToken,
  };
  try {
    const out = await run(
      process.execPath,
      [path.join(__dirname, 'invoke-packaged.cjs'), fn.dir, fn.handler, eventFile, resultFile],
      { env, maxBuffer: 32 * 1024 * 1024, timeout: (fn.timeoutSeconds + 30) * 1000 },
    );
    const outcome = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as Omit<Invocation, 'output'>;
    return { ...outcome, output: out.stdout + out.stderr };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
