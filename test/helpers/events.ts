/** Each field of `fields` equals the event's; an undefined field passes only when the event has none. */
export function expectFields(event: object, fields: Record<string, unknown>): void {
  const actual = event as Record<string, unknown>;
  for (const [key, value] of Object.entries(fields)) expect([key, actual[key]]).toEqual([key, value]);
}
