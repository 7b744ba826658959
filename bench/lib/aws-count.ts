/**
 * Counts (and times) AWS SDK calls per command, with a middleware on the clients at the initialize step: once per
 * send(), around everything the SDK does for it (serialize, sign, send, wait, parse, retries).
 */

export type Counts = Record<string, number>;

interface HasStack {
  middlewareStack: {
    add: (mw: unknown, opts: { step: string; name: string; priority?: string }) => void;
    remove: (name: string) => boolean;
  };
}

const NAME = 'benchCallCounter';

export class CallCounter {
  private counts: Counts = {};
  private ms: Counts = {};
  on = true;

  attach(...clients: HasStack[]): void {
    for (const c of clients) {
      c.middlewareStack.remove(NAME);
      c.middlewareStack.add(
        (next: (args: unknown) => Promise<unknown>, context: { commandName?: string; clientName?: string }) =>
          async (args: unknown) => {
            if (!this.on) return next(args);
            const name = `${(context.clientName ?? '').replace(/Client$/, '')}.${(context.commandName ?? '?').replace(/Command$/, '')}`;
            this.counts[name] = (this.counts[name] ?? 0) + 1;
            const t0 = performance.now();
            try {
              return await next(args);
            } finally {
              this.ms[name] = (this.ms[name] ?? 0) + performance.now() - t0;
            }
          },
        { step: 'initialize', name: NAME, priority: 'high' },
      );
    }
  }

  detach(...clients: HasStack[]): void {
    for (const c of clients) c.middlewareStack.remove(NAME);
  }

  reset(): void {
    this.counts = {};
    this.ms = {};
  }

  snapshot(): Counts {
    return { ...this.counts };
  }

  /** total ms spent inside send() per command */
  durations(): Counts {
    return { ...this.ms };
  }

  total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  totalMs(): number {
    return Object.values(this.ms).reduce((a, b) => a + b, 0);
  }
}

export function perUnit(counts: Counts, units: number): Counts {
  const out: Counts = {};
  for (const [k, v] of Object.entries(counts).sort()) out[k] = Math.round((100 * v) / units) / 100;
  return out;
}
