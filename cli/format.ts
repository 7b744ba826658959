/**
 * Output for people (aligned tables, key: value lines) and for scripts (--json). Values come from senders (tags,
 * pusher names, reasons): every cell and value is shown with its control characters escaped (core/terminal-text),
 * so none can add a row or send a terminal sequence; `screen` does the same for any other human text, line by line.
 */
import { visibleText } from '../lib/core/terminal-text';

/** Columns padded to their widest cell; no library: a dozen lines, and no terminal features are needed. */
export function table(headers: string[], rawRows: string[][]): string {
  const rows = rawRows.map((r) => r.map((c) => visibleText(c ?? '')));
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
    .map(
      ([k, v]) => `${`${k}:`.padEnd(width + 1)} ${visibleText(typeof v === 'object' ? JSON.stringify(v) : String(v))}`,
    )
    .join('\n');
}

export const when = (iso?: string) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');

/** Human text whose own lines are ours: each line shown with its control characters escaped. */
export function screen(text: string): string {
  return text.split('\n').map(visibleText).join('\n');
}

/** One value in human text (escaped, so it stays on its line). */
export const shown = (value: unknown): string => visibleText(String(value ?? ''));

/** Cells joined on one line (the --follow rows). */
export const row = (cells: unknown[]): string => cells.map(shown).join('  ').trimEnd();
