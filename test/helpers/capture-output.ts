/** Captures what is written to stdout and stderr (Powertools logger and metrics write there), line by line. */
export interface CapturedOutput {
  lines(): string[];
  /** lines that are JSON objects, parsed */
  json(): Record<string, any>[];
  clear(): void;
  restore(): void;
}

export function captureOutput(): CapturedOutput {
  let buffer = '';
  const grab = (chunk: unknown) => {
    buffer += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(grab as never);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(grab as never);
  const lines = () => buffer.split('\n').filter((l) => l.trim() !== '');
  return {
    lines,
    json: () =>
      lines().flatMap((l) => {
        try {
          const v = JSON.parse(l);
          return v && typeof v === 'object' ? [v] : [];
        } catch {
          return [];
        }
      }),
    clear: () => {
      buffer = '';
    },
    restore: () => {
      out.mockRestore();
      err.mockRestore();
    },
  };
}
