/**
 * Captures what the functions log (they run in the test's process) and lets info lines through.
 * Import it FIRST in a test file: the Powertools logger reads POWERTOOLS_LOG_LEVEL when lib/core/logger.ts is
 * first loaded, and resets to that level on every warm invocation.
 */
process.env.POWERTOOLS_LOG_LEVEL = 'INFO';

export const capturedLines: string[] = [];

for (const stream of [process.stdout, process.stderr]) {
  const original = stream.write.bind(stream) as (...a: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    const text = String(chunk);
    capturedLines.push(text);
    // keep the test output readable: the JSON log lines are captured, not printed
    if (text.startsWith('{"level"')) return true;
    return original(chunk, ...rest);
  }) as typeof stream.write;
}
