/**
 * CPU profiles of a benchmark's subject only (the same V8 sampling profiler `node --cpu-prof` uses, started and
 * stopped around the subject through node:inspector), and a summary: top functions by self time, and self time
 * by package (node_modules/<package>, lib/, node internals).
 */
import { Session } from 'node:inspector';

export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    hitCount?: number;
    children?: number[];
  }>;
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export async function startProfiler(intervalUs = 200): Promise<{ stop: () => Promise<CpuProfile> }> {
  const session = new Session();
  session.connect();
  const post = <T = unknown>(method: string, params?: object) =>
    new Promise<T>((resolve, reject) =>
      session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))),
    );
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: intervalUs });
  await post('Profiler.start');
  return {
    stop: async () => {
      const { profile } = await post<{ profile: CpuProfile }>('Profiler.stop');
      await post('Profiler.disable');
      session.disconnect();
      return profile;
    },
  };
}

/** Where a script lives, short: "node_modules/@smithy/core", "lib/matcher.ts", "node:internal". */
export function packageOf(url: string): string {
  if (!url) return '(native/V8)';
  if (url.startsWith('/node_modules/')) url = url.slice(1);
  if (url.startsWith('/(')) return url.slice(1);
  if (url.startsWith('node:')) return 'node:internal';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return `node_modules/${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const m = /\/(lib|functions|bench|scripts)\/(.*)$/.exec(url.replace(/^file:\/\//, ''));
  return m ? `${m[1]}/${m[2]}` : url.replace(/^file:\/\//, '');
}

export interface ProfileSummary {
  totalMs: number;
  /** top functions by self time */
  functions: Array<{ fn: string; where: string; selfMs: number; pct: number }>;
  /** self time by package */
  packages: Array<{ pkg: string; selfMs: number; pct: number }>;
}

/**
 * `locate` names the package of a frame (default: from its script URL); for a bundle, map its lines to the
 * modules esbuild put there.
 */
export function summarizeProfile(
  p: CpuProfile | CpuProfile[],
  top = 15,
  locate?: (url: string, line: number) => string | undefined,
): ProfileSummary {
  const profiles = Array.isArray(p) ? p : [p];
  let total = 0;
  const fns = new Map<string, { fn: string; where: string; us: number }>();
  const pkgs = new Map<string, number>();
  for (const prof of profiles) total += accumulate(prof, fns, pkgs, locate);
  const pct = (us: number) => Math.round((1000 * us) / Math.max(1, total)) / 10;
  const n = profiles.length;
  return {
    totalMs: Math.round(total / 1000 / n),
    functions: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ fn: e.fn, where: e.where, selfMs: Math.round(e.us / 100 / n) / 10, pct: pct(e.us) })),
    packages: [...pkgs.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([pkg, us]) => ({ pkg, selfMs: Math.round(us / 100 / n) / 10, pct: pct(us) })),
  };
}

function accumulate(
  p: CpuProfile,
  fns: Map<string, { fn: string; where: string; us: number }>,
  pkgs: Map<string, number>,
  locate?: (url: string, line: number) => string | undefined,
): number {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) self.set(samples[i], (self.get(samples[i]) ?? 0) + (deltas[i] ?? 0));
  let total = 0;
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const cf = n.callFrame;
    // (program) stays: outside JS frames, e.g. parsing and compiling code, which is most of a cold start
    if (cf.functionName === '(idle)') continue;
    total += us;
    const fn = cf.functionName || '(anonymous)';
    const located = cf.url && locate ? locate(cf.url, cf.lineNumber + 1) : undefined;
    const where = located ?? (cf.url ? `${packageOf(cf.url)}:${cf.lineNumber + 1}` : '');
    const key = `${fn}@${where}`;
    const e = fns.get(key) ?? { fn, where, us: 0 };
    e.us += us;
    fns.set(key, e);
    const pkg = cf.url
      ? packageOf(located ? `/${located}` : cf.url)
      : ['(garbage collector)', '(program)'].includes(cf.functionName)
        ? cf.functionName
        : '(native/V8)';
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us);
  }
  return total;
}
