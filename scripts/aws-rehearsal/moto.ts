/** Our moto_server launcher (moto_server.py) as a child process: its port, auth on/off, the IAM decisions it made. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

export const MOTO_VERSION = '5.2.1';
export const CFN_LINT_VERSION = '1.51.0';
export const INSTALL = `pip install 'moto[server,cloudformation]==${MOTO_VERSION}' cfn-lint==${CFN_LINT_VERSION}`;
/** moto's fixed account */
export const ACCOUNT_ID = '123456789012';

export interface Decision {
  principal: string;
  action: string;
  resource: string;
  allowed: boolean;
}

export interface Moto {
  endpoint: string;
  decisions: Decision[];
  /** IAM enforced (every request signed with known credentials and allowed by their policies) or not */
  setAuth(on: boolean): Promise<void>;
  stop(): Promise<void>;
}

/** The Python that runs moto_server (pyenv's shim, or python3), or an error naming the install command. */
export function checkTools(): string {
  const python = process.env.PYTHON ?? 'python3';
  const moto = spawnSync(python, ['-c', 'import moto, flask, cfnlint; print(moto.__version__)'], { encoding: 'utf8' });
  const lint = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  const problems: string[] = [];
  if (moto.status !== 0)
    problems.push(`moto (with its server and cloudformation extras) is not importable by ${python}`);
  else if (moto.stdout.trim() !== MOTO_VERSION) problems.push(`moto is ${moto.stdout.trim()}, not ${MOTO_VERSION}`);
  if (lint.status !== 0) problems.push('cfn-lint is not on PATH');
  if (problems.length) throw new Error(`${problems.join('; ')}. Install them with:\n  ${INSTALL}`);
  return python;
}

export async function startMoto(python: string, log: (line: string) => void): Promise<Moto> {
  const child: ChildProcess = spawn(python, [path.join(__dirname, 'moto_server.py')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, INITIAL_NO_AUTH_ACTION_COUNT: 'inf' },
  });
  // never left running: not even when this process dies of an error
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  const decisions: Decision[] = [];
  const stderr: string[] = [];
  readline.createInterface({ input: child.stderr! }).on('line', (l) => {
    stderr.push(l);
    if (stderr.length > 200) stderr.shift();
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`moto_server exited (${code}):\n${stderr.slice(-20).join('\n')}`)));
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^port (\d+)$/.exec(line);
      if (m) return resolve(Number(m[1]));
      if (!line.startsWith('{"decision"')) return log(line);
      try {
        decisions.push((JSON.parse(line) as { decision: Decision }).decision);
      } catch {
        log(`moto_server printed a decision line that is not JSON: ${line.slice(0, 200)}`);
      }
    });
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    decisions,
    async setAuth(on) {
      // the number of requests still let through unauthenticated: 0 turns IAM on now, inf turns it off
      const res = await fetch(`${endpoint}/moto-api/reset-auth`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: on ? '0' : 'inf',
      });
      if (!res.ok) throw new Error(`moto reset-auth answered ${res.status}`);
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
