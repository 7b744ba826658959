/**
 * `npm run bench` [-- --quick] [-- --profile] [-- --only=ingest,cold,calls,ack,e2e,reads,cost]
 *
 * Runs every part in its own process (fresh module cache and JIT, no state carried over), on one pair of
 * stand-ins (DynamoDB Local + fauxqs) started here for the parts that need them, then writes bench/results.json
 * and bench/results.md and prints the table. Each figure sits next to its floor, measured in the same run with
 * subject and floor alternated, and the ratio subject/floor (how many times worse than the best possible here).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BENCH_DIR, PROFILE, QUICK, ROOT } from './lib/common';
import type { PartResult, Row } from './lib/stats';
import { startStandIns, type StandIns } from '../lib/local/standins';

interface Part {
  key: string;
  file: string;
  title: string;
  needsStandIns: boolean;
  /** seconds before the part is stopped (the whole run must stay under 10 minutes on 2 cores) */
  budget: number;
}

const PARTS: Part[] = [
  { key: 'ingest', file: 'ingest-cpu.ts', title: '1. Ingest CPU', needsStandIns: false, budget: QUICK ? 60 : 90 },
  { key: 'cold', file: 'cold-start.ts', title: '3. Cold start', needsStandIns: false, budget: QUICK ? 90 : 240 },
  {
    key: 'calls',
    file: 'aws-calls.ts',
    title: '2. AWS calls per webhook',
    needsStandIns: true,
    budget: QUICK ? 60 : 200,
  },
  { key: 'ack', file: 'ack.ts', title: '4. Ack latency and throughput', needsStandIns: true, budget: QUICK ? 60 : 150 },
  { key: 'e2e', file: 'e2e.ts', title: '5. End to end', needsStandIns: true, budget: QUICK ? 60 : 200 },
  {
    key: 'reads',
    file: 'reads.ts',
    title: '6. Log and trigger list reads',
    needsStandIns: true,
    budget: QUICK ? 120 : 400,
  },
  {
    key: 'cost',
    file: 'webhook-cost.ts',
    title: '7. AWS bill per million webhooks',
    needsStandIns: true,
    budget: QUICK ? 90 : 200,
  },
];

function onlyParts(): Set<string> | undefined {
  const arg = process.argv.find((a) => a.startsWith('--only='));
  return arg ? new Set(arg.slice('--only='.length).split(',')) : undefined;
}

function runPart(
  part: Part,
  env: Record<string, string>,
  outFile: string,
): Promise<{ code: number | null; seconds: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(BENCH_DIR, part.file)], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...env,
        BENCH_OUT: outFile,
        BENCH_QUICK: QUICK ? '1' : '0',
        BENCH_PROFILE: PROFILE ? '1' : '0',
      },
      // stdout carries the functions' own JSON logs: not wanted here; progress goes to stderr
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const timer = setTimeout(() => {
      process.stderr.write(`[bench] ${part.key}: over its ${part.budget} s budget, stopping it\n`);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }, part.budget * 1000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, seconds: (Date.now() - t0) / 1000 });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// table

function fmt(x: number | undefined, unit: string): string {
  if (x === undefined || !Number.isFinite(x)) return '';
  const digits = unit === 'calls' || unit === 'events' ? 2 : Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2;
  return `${Number(x.toFixed(digits)).toLocaleString('en-US')} ${unit}`;
}

function over(r: Row): boolean {
  return r.ratio !== undefined && r.limit !== undefined && r.ratio > r.limit;
}

export function table(rows: Row[]): string {
  const lines = ['| # | measure | subject | floor | ratio | |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const subject = r.subjectText ? `${r.subjectText} ${r.unit}` : fmt(r.subject, r.unit);
    const flag = over(r) ? `**over ${r.limit}x**` : r.ratio !== undefined ? 'ok' : '';
    lines.push(
      `| ${r.id} | ${r.what} | ${subject} | ${fmt(r.floor, r.unit)} | ${r.ratio !== undefined ? `${r.ratio.toFixed(2)}x` : ''} | ${flag} |`,
    );
  }
  return lines.join('\n');
}

function coldTable(details: any): string {
  const fns: any[] = details?.functions ?? [];
  if (!fns.length) return '';
  const floors = details.floors ?? {};
  const lines = [
    '| function | SDK | zip KB | floor zip KB | cold ms (require + first call) | floor ms | ratio |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const f of fns) {
    lines.push(
      `| ${f.fn} | ${f.variant} | ${Math.round(f.zipBytes / 1024)} | ${(floors[f.variant]?.zipBytes / 1024).toFixed(1)} | ${f.totalMs.toFixed(1)} (${f.requireMs.toFixed(1)} + ${f.invokeMs.toFixed(1)}) | ${f.floorTotalMs.toFixed(1)} | ${(f.totalMs / f.floorTotalMs).toFixed(2)}x |`,
    );
  }
  return lines.join('\n');
}

function notes(parts: Record<string, PartResult>): string {
  const out: string[] = [];
  const ingest = parts['ingest-cpu']?.details as any;
  if (ingest) {
    for (const k of ['github', 'dockerhub']) {
      if (ingest[k]?.coreSteps)
        out.push(
          `- ingest ${k}, each step of the core alone (µs): ${Object.entries(ingest[k].coreSteps)
            .map(([s, v]) => `${s} ${v}`)
            .join(', ')}`,
        );
    }
  }
  const cold = parts['cold-start']?.details as any;
  if (cold?.requireBreakdown) {
    out.push(
      `- cold start, require time of each dependency bundled alone (ms): ${Object.entries<any>(cold.requireBreakdown)
        .map(([k, v]) => `${k} ${v.requireMs} (${Math.round(v.bytes / 1024)} KB)`)
        .join(', ')}`,
    );
  }
  for (const [label, kb] of Object.entries<any>(cold?.composition ?? {})) {
    out.push(
      `- ${label} bundle, KB (minified) by package: ${Object.entries(kb)
        .slice(0, 8)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  }
  for (const p of Object.values(parts)) {
    const prof =
      (p.details as any)?.profiles ??
      ((p.details as any)?.profile ? { [p.part]: (p.details as any).profile } : undefined);
    for (const [name, v] of Object.entries<any>(prof ?? {})) {
      out.push(
        `- profile ${name} (${v.file}): self time by package: ${v.top.packages
          .slice(0, 6)
          .map((x: any) => `${x.pkg} ${x.pct}%`)
          .join(', ')}`,
      );
    }
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------

async function main() {
  const started = Date.now();
  const loadBefore = os.loadavg()[0];
  // the SDK's "Node 20 support ends" notice (Lambda's nodejs22.x never prints it); the parts inherit this
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const only = onlyParts();
  const parts = PARTS.filter((p) => !only || only.has(p.key));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'triggerfish-bench-'));
  let standIns: StandIns | undefined;
  const stop = async () => {
    await standIns?.stop();
    rmSync(tmp, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));

  const results: Record<string, PartResult> = {};
  const failures: string[] = [];
  try {
    for (const part of parts) {
      const env: Record<string, string> = {};
      if (part.needsStandIns) {
        if (!standIns) {
          process.stderr.write('[bench] starting DynamoDB Local and the SQS stand-in\n');
          standIns = await startStandIns();
        }
        env.BENCH_DYNAMODB_ENDPOINT = standIns.dynamodb.endpoint;
        env.BENCH_SQS_ENDPOINT = standIns.sqs.endpoint;
      }
      process.stderr.write(`[bench] ${part.title} ...\n`);
      const out = path.join(tmp, `${part.key}.json`);
      const { code, seconds } = await runPart(part, env, out);
      if (code === 0 && existsSync(out)) {
        results[part.key] = JSON.parse(readFileSync(out, 'utf8')) as PartResult;
        process.stderr.write(`[bench] ${part.title}: ${seconds.toFixed(0)} s\n`);
      } else {
        failures.push(`${part.title} failed (exit ${code}) after ${seconds.toFixed(0)} s`);
        process.stderr.write(`[bench] ${part.title} FAILED (exit ${code})\n`);
      }
    }
  } finally {
    await stop();
  }

  const order = ['ingest', 'calls', 'cold', 'ack', 'e2e', 'reads', 'cost'];
  const byPart = Object.fromEntries(Object.values(results).map((r) => [r.part, r]));
  const rows = order.flatMap((k) => results[k]?.rows ?? []);
  const anomalies = [...failures, ...Object.values(results).flatMap((r) => r.anomalies.map((a) => `${r.part}: ${a}`))];
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim();
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], {
    cwd: ROOT,
    encoding: 'utf8',
  }).stdout?.trim()
    ? '+changes'
    : '';
  const meta = {
    date: new Date().toISOString(),
    commit: commit ? `${commit}${dirty}` : undefined,
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    platform: `${os.platform()} ${os.arch()}`,
    quick: QUICK,
    /** 1-minute load average before and after: other work on the machine shows here (2 cores: above 2 is contention) */
    loadAvg: [Number(loadBefore.toFixed(2)), Number(os.loadavg()[0].toFixed(2))],
    seconds: Math.round((Date.now() - started) / 1000),
  };
  const overLimit = rows
    .filter(over)
    .map((r) => ({ id: r.id, what: r.what, ratio: Number(r.ratio!.toFixed(2)), limit: r.limit }));
  writeFileSync(
    path.join(BENCH_DIR, 'results.json'),
    JSON.stringify({ meta, rows, overLimit, anomalies, parts: byPart }, null, 2) + '\n',
  );

  const md = [
    `Measured ${meta.date.slice(0, 10)} on ${meta.cpus} x ${meta.cpuModel ?? 'cpu'}, Node ${meta.node}, commit ${meta.commit ?? '?'}${QUICK ? ' (--quick)' : ''}; whole run ${meta.seconds} s; load average ${meta.loadAvg.join(' -> ')}.`,
    '',
    table(rows),
    '',
    coldTable(byPart['cold-start']?.details),
    '',
    notes(byPart),
    '',
    anomalies.length
      ? `Anomalies:\n${anomalies.map((a) => `- ${a}`).join('\n')}`
      : 'Anomalies: none (every event logged, nothing deployed twice, call counts flat across trigger counts).',
    '',
  ].join('\n');
  writeFileSync(path.join(BENCH_DIR, 'results.md'), md);
  process.stdout.write(`\n${md}\nwrote bench/results.json and bench/results.md\n`);
}

main().catch((err) => {
  process.stderr.write(`[bench] ${(err as Error)?.stack ?? err}\n`);
  process.exit(1);
});
