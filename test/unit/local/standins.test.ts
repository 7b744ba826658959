/**
 * The stand-ins: started by global setup for the run; own instances start and stop cleanly; none outlives its
 * parent, even one killed with SIGKILL; a missing java gives a clear error.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import {
  JavaMissingError,
  dynamoListensOnAllInterfaces,
  freePort,
  startDynamoDbLocal,
  startFauxqs,
} from '../../../lib/local/standins';
import { listeners } from '../../helpers/child-stack';
import { PROJECT_ROOT } from '../../../lib/local/paths';
import { localDynamoClient, localSqsClient } from '../../../lib/local/resources';
import { testEndpoints } from '../../helpers/stack';

jest.setTimeout(90_000);

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.setTimeout(2000);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** alive and not a zombie (containers do not always reap re-parented children) */
function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    try {
      process.kill(pid, 0);
      return !fs.existsSync('/proc');
    } catch {
      return false;
    }
  }
}

async function eventually(check: () => Promise<boolean> | boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const portOf = (endpoint: string) => Number(new URL(endpoint).port);

describe('stand-ins', () => {
  it('global setup started both, on loopback, and they answer', async () => {
    const ep = testEndpoints();
    expect(ep).toBeDefined();
    expect(new URL(ep!.dynamodb).hostname).toBe('127.0.0.1');
    expect(new URL(ep!.sqs).hostname).toBe('127.0.0.1');
    const ddb = localDynamoClient(ep!.dynamodb);
    const sqs = localSqsClient(ep!.sqs);
    try {
      expect(Array.isArray((await ddb.send(new ListTablesCommand({}))).TableNames)).toBe(true);
      await expect(sqs.send(new ListQueuesCommand({}))).resolves.toBeDefined();
    } finally {
      ddb.destroy();
      sqs.destroy();
    }
  });

  it('fauxqs is not reachable on other interfaces (bound to 127.0.0.1 only)', async () => {
    const ep = testEndpoints()!;
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    expect(await canConnect('127.0.0.1', portOf(ep.sqs))).toBe(true);
    if (external) expect(await canConnect(external.address, portOf(ep.sqs))).toBe(false);
  });

  it('DynamoDB Local listens on 127.0.0.1 only (it has no bind option: the loopback launcher binds it)', () => {
    const addresses = listeners().get(portOf(testEndpoints()!.dynamodb)) ?? [];
    expect(addresses.length).toBeGreaterThan(0);
    expect(addresses.filter((a) => !/^(::ffff:)?127\.0\.0\.1$/.test(a))).toEqual([]);
  });

  it('without javac DynamoDB Local still starts, on every interface, and says so', async () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'java-only-'));
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'no-cache-'));
    const javaPath = ['/usr/bin', ...(process.env.PATH ?? '').split(':')]
      .map((d) => path.join(d, 'java'))
      .find((p) => fs.existsSync(p))!;
    fs.symlinkSync(fs.realpathSync(javaPath), path.join(bin, 'java'));
    const saved = {
      PATH: process.env.PATH,
      JAVA_HOME: process.env.JAVA_HOME,
      XDG_CACHE_HOME: process.env.XDG_CACHE_HOME,
    };
    process.env.PATH = bin;
    process.env.XDG_CACHE_HOME = cache;
    delete process.env.JAVA_HOME;
    const warn = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let ddb;
    try {
      ddb = await startDynamoDbLocal();
      expect(dynamoListensOnAllInterfaces).toBe(true);
      expect(warn.mock.calls.map((c) => String(c[0])).join('')).toMatch(/listens on EVERY network interface/);
      expect(listeners().get(ddb.port)).toEqual(expect.arrayContaining([expect.stringMatching(/^(::|0\.0\.0\.0)$/)]));
    } finally {
      warn.mockRestore();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await ddb?.stop();
      fs.rmSync(bin, { recursive: true, force: true });
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });

  it('an own fauxqs starts, serves, and stop() ends its process', async () => {
    const fq = await startFauxqs();
    const sqs = localSqsClient(fq.endpoint);
    try {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'standins-test' }));
      expect(QueueUrl).toMatch(/\/000000000000\/standins-test$/);
    } finally {
      sqs.destroy();
      await fq.stop();
    }
    expect(alive(fq.pid)).toBe(false);
    expect(await canConnect('127.0.0.1', fq.port)).toBe(false);
    await fq.stop(); // idempotent
  });

  it('leaves no orphans when its parent process is killed with SIGKILL', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(PROJECT_ROOT, 'test/helpers/standins-child.ts')],
      {
        cwd: PROJECT_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const info = await new Promise<{
      dynamodb: { endpoint: string; pid: number };
      sqs: { endpoint: string; pid: number };
    }>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)));
      });
      child.once('exit', (code) => reject(new Error(`child exited ${code}: ${err}`)));
    });
    expect(await canConnect('127.0.0.1', portOf(info.dynamodb.endpoint))).toBe(true);
    expect(await canConnect('127.0.0.1', portOf(info.sqs.endpoint))).toBe(true);
    expect(alive(info.sqs.pid)).toBe(true);

    child.kill('SIGKILL');
    await eventually(() => !alive(info.sqs.pid), 'fauxqs to exit');
    await eventually(() => !alive(info.dynamodb.pid), 'the DynamoDB Local watchdog to exit');
    // java itself: its port closes
    await eventually(async () => !(await canConnect('127.0.0.1', portOf(info.dynamodb.endpoint))), 'java to exit');
    await eventually(
      async () => !(await canConnect('127.0.0.1', portOf(info.sqs.endpoint))),
      'the fauxqs port to close',
    );
  });

  it('says clearly that java is missing', async () => {
    const saved = { PATH: process.env.PATH, JAVA_HOME: process.env.JAVA_HOME };
    process.env.PATH = path.join(os.tmpdir(), 'no-java-here');
    delete process.env.JAVA_HOME;
    try {
      const started = startDynamoDbLocal({ timeoutMs: 20_000 });
      await expect(started).rejects.toBeInstanceOf(JavaMissingError);
      await expect(started).rejects.toThrow(/Java 17/);
    } finally {
      process.env.PATH = saved.PATH;
      if (saved.JAVA_HOME !== undefined) process.env.JAVA_HOME = saved.JAVA_HOME;
    }
  });

  it('freePort gives a port nobody listens on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(await canConnect('127.0.0.1', port)).toBe(false);
  });
});
