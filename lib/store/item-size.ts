/**
 * The size of a DynamoDB item as DynamoDB bills it (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html),
 * for items as lib-dynamodb marshals them (string -> S, number -> N, Uint8Array -> B, array -> L, object -> M):
 * every attribute is its name's UTF-8 bytes plus its value: a string its UTF-8 bytes, a binary its bytes, a number
 * about one byte per two significant digits plus one, a boolean or null one byte, a map or list 3 bytes plus one per
 * element plus its elements (a map's element names count too). Used to pick how hard to compress an entry (store.logItem), by the size tests and bench/entry-size.ts.
 */
export function valueSize(v: unknown): number {
  if (v === null || typeof v === 'boolean') return 1;
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (typeof v === 'number') {
    const digits = String(Math.abs(v)).replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length || 1;
    return Math.ceil(digits / 2) + 1;
  }
  if (v instanceof Uint8Array) return v.length;
  if (Array.isArray(v)) return 3 + v.reduce((s: number, e) => s + 1 + valueSize(e), 0);
  if (typeof v === 'object') {
    const present = Object.entries(v as Record<string, unknown>).filter(([, e]) => e !== undefined);
    return 3 + present.reduce((s, [k, e]) => s + 1 + Buffer.byteLength(k, 'utf8') + valueSize(e), 0);
  }
  throw new Error(`no DynamoDB type for ${typeof v}`);
}

/** Bytes per top-level attribute (name + value), undefined ones left out as removeUndefinedValues does. */
export function attributeSizes(item: Record<string, unknown>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(item)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, Buffer.byteLength(k, 'utf8') + valueSize(v)]),
  );
}

export function itemSize(item: Record<string, unknown>): number {
  return Object.values(attributeSizes(item)).reduce((a, b) => a + b, 0);
}

/** Write units of one standard write of the item (1 KB each, rounded up); a transactional write is twice this. */
export const writeUnits = (item: Record<string, unknown>): number => Math.max(1, Math.ceil(itemSize(item) / 1024));
