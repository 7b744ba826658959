/** Runs load jobs in a child process (bench/lib/loadgen.mjs), one at a time. */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface LoadTarget {
  url: string;
  headers?: Record<string, string>;
  body: string;
}

export type LoadJob =
  | { mode: 'open'; rate: number; durationMs: number; targets: LoadTarget[]; counterBase?: number }
  | { mode: 'closed'; concurrency: number; durationMs: number; targets: LoadTarget[]; counterBase?: number }
  | { mode: 'burst'; count: number; concurrency: number; targets: LoadTarget[]; counterBase?: number };

export interface LoadResult {
  i?: number;
  /** absolute send time (ms, performance.timeOrigin based) */
  at: number;
  ms: number;
  status: number;
  log?: string;
}

export class LoadGen {
  private child: ChildProcess;

  constructor() {
    this.child = fork(path.join(__dirname, 'loadgen.mjs'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [],
    });
  }

  run(job: LoadJob): Promise<{ results: LoadResult[]; elapsedMs: number }> {
    return new Promise((resolve, reject) => {
      const onMessage = (m: { ok: boolean; error?: string; results: LoadResult[]; elapsedMs: number }) => {
        this.child.off('exit', onExit);
        if (m.ok) resolve({ results: m.results, elapsedMs: m.elapsedMs });
        else reject(new Error(m.error));
      };
      const onExit = (code: number | null) => reject(new Error(`load generator exited (${code})`));
      this.child.once('message', onMessage);
      this.child.once('exit', onExit);
      this.child.send(job);
    });
  }

  close(): void {
    if (this.child.connected) this.child.disconnect();
    this.child.kill();
  }
}
