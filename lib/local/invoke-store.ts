/**
 * Per-invocation state for the local runtime, which runs every function in ONE process and several invocations
 * at once (HTTP requests while the deployer works a batch). Without it the Powertools logger, a module singleton
 * shared by all functions there, kept the Lambda context of whichever handler ran last, so a deployer line said
 * `...-hookDockerhub` or `...-adminLogs`.
 *
 * Powertools (logger, metrics, batch) already keep their state per invocation when Lambda runs invocations
 * concurrently (Lambda Managed Instances): then AWS_LAMBDA_MAX_CONCURRENCY is set and the runtime provides
 * `globalThis.awslambda.InvokeStore`, an AsyncLocalStorage scoped to each invocation. The local stack does the
 * same: it sets that variable and installs this store, and the gateway and the SQS poller run each handler in
 * `runInvocation`. Written by hand (a few lines) because @aws/lambda-invoke-store throws on a `set` outside an
 * invocation, and test code calls handlers directly too: outside one, this store falls back to shared state, as
 * Powertools itself does without concurrency.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context } from 'aws-lambda';

type Store = Record<string | symbol, unknown>;

// the keys @aws/lambda-invoke-store and the Lambda runtime use
const REQUEST_ID = Symbol.for('_AWS_LAMBDA_REQUEST_ID');
const X_RAY_TRACE_ID = Symbol.for('_AWS_LAMBDA_X_RAY_TRACE_ID');

export const LOCAL_MAX_CONCURRENCY = '64';

export class LocalInvokeStore {
  private readonly als = new AsyncLocalStorage<Store>();
  private readonly fallback: Store = {};

  private current(): Store {
    return this.als.getStore() ?? this.fallback;
  }
  getContext(): Store | undefined {
    return this.als.getStore();
  }
  hasContext(): boolean {
    return this.als.getStore() !== undefined;
  }
  get<T = unknown>(key: string | symbol): T | undefined {
    return this.current()[key] as T | undefined;
  }
  set(key: string | symbol, value: unknown): void {
    this.current()[key] = value;
  }
  run<T>(context: Store, fn: () => T): T {
    return this.als.run(context, fn);
  }
  getRequestId(): string {
    return (this.get<string>(REQUEST_ID) ?? '-') as string;
  }
  getXRayTraceId(): string | undefined {
    return this.get<string>(X_RAY_TRACE_ID);
  }
  getTenantId(): string | undefined {
    return undefined;
  }
}

const g = globalThis as unknown as { awslambda?: { InvokeStore?: unknown } };

/** Installs the store as the runtime would (idempotent); returns it. */
export function installLocalInvokeStore(): LocalInvokeStore {
  g.awslambda ??= {};
  if (!(g.awslambda.InvokeStore instanceof LocalInvokeStore)) g.awslambda.InvokeStore = new LocalInvokeStore();
  return g.awslambda.InvokeStore as LocalInvokeStore;
}

/** Runs one invocation's handler with its own Powertools state (logger context, metrics, batch). */
export function runInvocation<T>(context: Context, fn: () => T): T {
  return installLocalInvokeStore().run({ [REQUEST_ID]: context.awsRequestId }, fn);
}
