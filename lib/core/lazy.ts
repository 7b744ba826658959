/** A module (or client) loaded on first use and kept: what only some invocations need stays off the cold start. */
export function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}
