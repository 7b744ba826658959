import { MAX_BODY_DEPTH, decodeBody, jsonDepthExceeds, parseJsonText } from '../../lib/receive/body';

const FORM = 'application/x-www-form-urlencoded';
const form = (json: string) => Buffer.from(`payload=${encodeURIComponent(json)}`, 'utf8');
const nested = (depth: number, open = '[', close = ']') => `${open.repeat(depth)}${close.repeat(depth)}`;

describe('decodeBody', () => {
  it.each([
    ['JSON', Buffer.from('{"a":1}'), 'application/json', true, { ok: true, body: { a: 1 }, form: false }],
    [
      'JSON whatever the content type says',
      Buffer.from('{"a":1}'),
      'text/plain',
      false,
      { ok: true, body: { a: 1 }, form: false },
    ],
    [
      'JSON after a UTF-8 BOM',
      Buffer.from('\ufeff{"a":1}', 'utf8'),
      'application/json',
      false,
      { ok: true, body: { a: 1 }, form: false },
    ],
    [
      'a form payload for an opted-in provider',
      form('{"ref":"refs/heads/main","x":"a+b &c=d"}'),
      FORM,
      true,
      { ok: true, body: { ref: 'refs/heads/main', x: 'a+b &c=d' }, form: true },
    ],
    [
      'a form payload with a charset parameter',
      form('{"a":1}'),
      `${FORM}; charset=utf-8`,
      true,
      { ok: true, body: { a: 1 }, form: true },
    ],
    [
      'a form payload with + for spaces',
      Buffer.from('payload=%7B%22m%22%3A%22a+b%22%7D'),
      FORM,
      true,
      { ok: true, body: { m: 'a b' }, form: true },
    ],
  ])('%s', (_name, bytes, type, formPayload, expected) => {
    expect(decodeBody(bytes, type, { formPayload })).toEqual(expected);
  });

  it.each([
    ['an empty body', Buffer.alloc(0), 'application/json', true, '(body)', /^body is empty$/],
    ['whitespace only', Buffer.from(' \n'), 'application/json', true, '(body)', /^body is empty$/],
    [
      'bytes that are not UTF-8',
      Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
      'application/json',
      true,
      '(body)',
      /not valid JSON: it is not UTF-8/,
    ],
    ['not JSON', Buffer.from('{"a":'), 'application/json', true, '(body)', /^body is not valid JSON: /],
    [
      'a form body for a provider without formPayload',
      form('{"a":1}'),
      FORM,
      false,
      '(body)',
      /^body is not valid JSON/,
    ],
    ['a form body without payload', Buffer.from('other=1'), FORM, true, 'payload', /no payload field/],
    [
      'a form payload that is not JSON',
      Buffer.from('payload=%7B'),
      FORM,
      true,
      'payload',
      /^payload is not valid JSON/,
    ],
    [
      'a form payload nested too deep',
      form(nested(MAX_BODY_DEPTH + 1)),
      FORM,
      true,
      'payload',
      /nested deeper than 64/,
    ],
    [
      'JSON nested one level too deep',
      Buffer.from(nested(MAX_BODY_DEPTH + 1, '{"a":', '}').replace(/\{"a":\}/, '{"a":1}')),
      'application/json',
      true,
      '(body)',
      /^body is nested deeper than 64 levels$/,
    ],
    [
      'JSON nested 10,000 deep',
      Buffer.from(nested(10000)),
      'application/json',
      true,
      '(body)',
      /nested deeper than 64/,
    ],
    [
      'JSON nested 1,000,000 deep, unbalanced',
      Buffer.from('['.repeat(1000000)),
      'application/json',
      true,
      '(body)',
      /nested deeper than 64/,
    ],
  ])('refuses %s', (_name, bytes, type, formPayload, field, reason) => {
    const result = decodeBody(bytes, type, { formPayload });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.field).toBe(field);
    expect(result.reason).toMatch(reason);
  });

  it('accepts nesting at exactly the limit', () => {
    expect(parseJsonText(nested(MAX_BODY_DEPTH))).toMatchObject({ ok: true });
  });
});

describe('jsonDepthExceeds', () => {
  it.each([
    ['brackets inside strings do not count', `{"a":"${'['.repeat(100)}"}`, 2, false],
    ['escaped quotes stay inside the string', `{"a":"\\"${'['.repeat(100)}"}`, 2, false],
    ['an escaped backslash ends before the quote', `["\\\\", [[[]]]]`, 3, true],
    ['objects and arrays both count', '{"a":[{"b":[]}]}', 3, true],
    ['siblings do not add up', '[[],[],[],[]]', 2, false],
  ])('%s', (_name, text, limit, exceeds) => {
    expect(jsonDepthExceeds(text, limit)).toBe(exceeds);
  });
});
