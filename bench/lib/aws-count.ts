/** Counts AWS SDK calls per command, with a middleware on the clients (initialize step: once per send()). */

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
  on = true;

  attach(...clients: HasStack[]): void {
    for (const c of clients) {
      c.middlewareStack.remove(NAME);
      c.middlewareStack.add(
        (next: (args: unknown) => Promise<unknown>, context: { commandName?: string; clientName?: string }) => async (args: unknown) => {
          if (this.on) {
            const name = `${(context.clientName ?? '').replace(/Client$/, '')}.${(context.commandName ?? '?').replace(/Command$/, '')}`;
            this.counts[name] = (this.counts[name] ?? 0) + 1;
          }
          return next(args);
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
  }

  snapshot(): Counts {
    return { ...this.counts };
  }

  total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }
}

export function perUnit(counts: Counts, units: number): Counts {
  const out: Counts = {};
  for (const [k, v] of Object.entries(counts).sort()) out[k] = Math.round((100 * v) / units) / 100;
  return out;
}
