import { ZodError } from 'zod';

/** The ZodError `fn` throws; fails the test when it throws nothing or something else. */
export function zodError(fn: () => unknown): ZodError {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ZodError);
  return error as ZodError;
}

/** The issue paths of the ZodError `fn` throws; fails the test when it throws nothing or something else. */
export function zodPaths(fn: () => unknown): PropertyKey[][] {
  return zodError(fn).issues.map((i) => i.path);
}

/** The first issue's path of the ZodError `fn` throws; fails the test when it throws nothing or something else. */
export function zodPath(fn: () => unknown): PropertyKey[] {
  return zodError(fn).issues[0].path;
}
