/** Output for people (aligned tables, key: value lines) and for scripts (--json). */

/** Columns padded to their widest cell; no library: a dozen lines, and no terminal features are needed. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function pairs(obj: Record<string, unknown>): string {
  const shown = Object.entries(obj).filter(([, v]) => v !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown
    .map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join('\n');
}

export const when = (iso?: string) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');
