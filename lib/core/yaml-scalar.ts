/**
 * Encoding a string as the source text of one YAML scalar that reads back as exactly that string wherever it is
 * spliced: in a block or a flow collection (`{name: x, newTag: <here>}`, where a plain `,` `}` `:` would end the
 * value and start another key), and under YAML 1.2 and 1.1 (Go's yaml.v2, used by Helm and kustomize, reads `yes`,
 * `on`, `1:20` and `2001-12-14` as other types).
 *
 * The `yaml` package's stringifier is not used for the quoted form: it folds long lines (which depends on the
 * indentation where the text lands) and writes DEL, C1 controls, U+2028/9 and bidi overrides raw; a one-line
 * double-quoted form with every such character escaped is a dozen lines.
 */

// yaml loads on the first edit (the deployer's git target), not in every bundle that imports core
let yamlLib: typeof import('yaml') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy and synchronous (callers are synchronous)
const yaml = () => (yamlLib ??= require('yaml') as typeof import('yaml'));

export type YamlScalarStyle = 'PLAIN' | 'QUOTE_SINGLE' | 'QUOTE_DOUBLE';

/**
 * Characters a plain scalar may hold here: none of the flow indicators (`,[]{}`), comment or anchor/alias/tag
 * starts (`#&*!`), quotes, `|>%@`` ` ``, `?`, `~`, `=`, `<`, spaces or controls. Whatever remains is then checked by
 * parsing (numbers, booleans, nulls, timestamps, `a:` are quoted).
 */
const PLAIN_SAFE = /^[A-Za-z0-9_./+-][A-Za-z0-9_./+:@-]*$/;

/** What YAML calls printable, minus line breaks and the invisible format characters a reader would miss. */
const NEEDS_ESCAPE =
  /[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb\ud800-\udfff]/u;

/** True when `text` written as a plain scalar reads back as the string `value` in block and flow context. */
function plainReadsAs(text: string, value: string): boolean {
  if (!PLAIN_SAFE.test(text) || text.endsWith(':')) return false;
  for (const version of ['1.1', '1.2'] as const) {
    for (const [doc, get] of [
      [`k: ${text}`, (v: { k?: unknown }) => v?.k],
      [`{k: ${text}, x: 1}`, (v: { k?: unknown }) => v?.k],
    ] as const) {
      try {
        if (get(yaml().parse(doc, { version })) !== value) return false;
      } catch {
        return false;
      }
    }
  }
  return true;
}

/** A one-line double-quoted YAML scalar; `\`, `"` and every non-printable or invisible character escaped. */
export function yamlDoubleQuoted(value: string): string {
  let out = '"';
  for (const ch of value) {
    // iterating by code point: a lone surrogate arrives alone and is escaped as \uXXXX
    if (ch === '\\' || ch === '"') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (NEEDS_ESCAPE.test(ch)) {
      const code = ch.codePointAt(0)!;
      out +=
        code < 0x100
          ? `\\x${code.toString(16).padStart(2, '0')}`
          : code < 0x10000
            ? `\\u${code.toString(16).padStart(4, '0')}`
            : `\\U${code.toString(16).padStart(8, '0')}`;
    } else out += ch;
  }
  return `${out}"`;
}

/**
 * The source text of a scalar that reads back as exactly `value`, in the style asked for when that style can
 * carry it: plain only for values that stay the same string in every context, single quotes only for one line of
 * printable text; anything else double-quoted.
 */
export function yamlScalar(value: string, style: YamlScalarStyle): string {
  if (style === 'PLAIN' && plainReadsAs(value, value)) return value;
  if (style === 'QUOTE_SINGLE' && value !== '' && !NEEDS_ESCAPE.test(value) && !/[\n\r]/.test(value)) {
    // in single quotes only `'` is special (doubled); leading/trailing spaces are kept on one line
    return `'${value.replace(/'/g, "''")}'`;
  }
  return yamlDoubleQuoted(value);
}
