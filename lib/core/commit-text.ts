/**
 * Encoding values for Git commits: the author/committer identity (a header line of the commit object) and the
 * message, whose last paragraph holds our trailers (`Triggerfish-Log: <log id>`, which finds a commit again after a
 * crash). A pushed value (a pusher name, a tag, a commit message) must not add a header (a second `committer`, an
 * `encoding`) or a line of the message that could be read as one of our trailers.
 */

/** Line breaks and other control characters (C0, DEL, C1, U+2028/9): a value keeps to its line. */

const CONTROLS = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/g;

/** A value substituted into a commit message: one line (controls, CR and LF become spaces). */
export function commitLine(value: string): string {
  return value.replace(CONTROLS, ' ');
}

/**
 * What git itself does to a name or email (ident.c, strbuf_addstr_without_crud): `<`, `>` and line breaks are the
 * delimiters of an identity line and are dropped, "crud" (spaces and `.,:;"'\`) is trimmed from both ends. Other
 * controls become spaces too (NUL ends a C string in git).
 */
function identityPart(value: string): string {
  return value
    .replace(CONTROLS, ' ')
    .replace(/[<>]/g, '')
    .replace(/\s+/g, ' ')
    .replace(/^[\s.,:;"'\\]+|[\s.,:;"'\\]+$/g, '');
}

/** The author/committer of a commit: each part as git would write it; an empty part takes the fallback's. */
export function commitIdentity(
  name: string,
  email: string,
  fallback: { name: string; email: string },
): { name: string; email: string } {
  return { name: identityPart(name) || fallback.name, email: identityPart(email).replace(/ /g, '') || fallback.email };
}

/**
 * The whole message: the (rendered) user text, a blank line, then our trailers as the last paragraph, where git
 * (`interpret-trailers`, `%(trailers)`) and commitTrailers look for them. Values in the user text are one line each
 * (commitLine), so none can end that paragraph or start ours.
 */
export function commitMessage(text: string, trailers: ReadonlyArray<readonly [string, string]>): string {
  const lines = trailers.map(([key, value]) => `${key}: ${commitLine(value)}`);
  return `${text.trimEnd()}\n\n${lines.join('\n')}\n`;
}

/** The trailers of a message: the `Key: value` lines of its last paragraph (only when every line is one). */
export function commitTrailers(message: string): Array<[string, string]> {
  const paragraphs = message
    .replace(/\r\n/g, '\n')
    .trimEnd()
    .split(/\n[ \t]*\n/);
  if (paragraphs.length < 2) return []; // the subject is never a trailer
  const out: Array<[string, string]> = [];
  for (const line of paragraphs[paragraphs.length - 1].split('\n')) {
    const m = /^([A-Za-z0-9][A-Za-z0-9-]*):\s?(.*)$/.exec(line);
    if (!m) return [];
    out.push([m[1], m[2].trim()]);
  }
  return out;
}

/** True when the message's trailers hold `key: value` (how a retry finds the commit it made before a crash). */
export function hasTrailer(message: string, key: string, value: string): boolean {
  return commitTrailers(message).some(([k, v]) => k.toLowerCase() === key.toLowerCase() && v === value);
}
