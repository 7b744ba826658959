/**
 * Encoding values for lines people read in a terminal (the local log format, the CLI's tables): a value must stay
 * on its line and must not reach the terminal as a control sequence. Line breaks, ESC and every other C0/C1
 * control, DEL, the Unicode line/paragraph separators and the bidi and zero-width format characters (which can
 * reorder or hide what a line says) are shown as visible escapes: `\n`, `\r`, `\t`, `\x1b`, `\u202e`.
 * JSON output needs none of this (JSON.stringify escapes C0; the rest is data, not a terminal line).
 */

const INVISIBLE = /[\x00-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` with every control and invisible format character written as a visible escape. */
export function visibleText(text: string): string {
  return text.replace(INVISIBLE, (ch) => {
    const named = NAMED[ch];
    if (named) return named;
    const code = ch.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
