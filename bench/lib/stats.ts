/** Small statistics and result helpers shared by the benchmark parts. */

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1];
}

export const round = (x: number, digits = 2): number => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

export function ratio(subject: number, floor: number): number {
  return floor > 0 ? subject / floor : NaN;
}

/**
 * One line of the results table: a measured figure next to its floor (the best physically possible on the same
 * machine, measured in the same run) and subject/floor.
 */
export interface Row {
  /** section number of the issue (1..5) and a short id, e.g. "1 github" */
  id: string;
  what: string;
  unit: string;
  subject: number;
  /** how to show the subject when one number does not say it (e.g. "3 / 3 / 3" across trigger counts) */
  subjectText?: string;
  floor?: number;
  ratio?: number;
  /** the ratio above which the closing note must say where the time goes (1.5, or 2 for ack latency) */
  limit?: number;
  /** how many alternated samples the medians come from */
  samples?: number;
  note?: string;
}

export function row(r: Omit<Row, 'ratio'> & { ratio?: number }): Row {
  const out: Row = { ...r };
  if (r.floor !== undefined && r.ratio === undefined) out.ratio = ratio(r.subject, r.floor);
  return out;
}

/** What every part writes to its BENCH_OUT file. */
export interface PartResult {
  part: string;
  rows: Row[];
  details: unknown;
  /** things that look wrong (counts that do not add up, growth with the number of triggers ...) */
  anomalies: string[];
  seconds: number;
}
