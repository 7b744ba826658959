/**
 * Encoding values for chat messages, so that a pushed value (a tag, a commit message, a reason naming one) shows
 * as literal text: never a link, a mention or formatting.
 *
 * - Slack mrkdwn: Slack's "Escaping text" asks for `&`, `<`, `>` as `&amp;`, `&lt;`, `&gt;` and nothing else (other
 *   entities are shown as typed). That stops `<url|text>` links and `<!channel>`/`<@U123>` mentions; mrkdwn has
 *   no escape for `*_~` and backquotes, so values go into `plain_text` objects where formatting matters (see
 *   lib/notify/slack.ts) and mrkdwn text objects are sent `verbatim` (no automatic links or mentions).
 * - Markdown (Teams Adaptive Cards: a CommonMark subset; Discord: its own markdown, which honours the same
 *   backslash escapes): every character that can start markup is backslash-escaped (CommonMark allows it for any
 *   ASCII punctuation), so `[text](url)`, `<https://...>`, `**`, `#`, `>`, lists, `@everyone` and `<@id>` are
 *   text. Hand-written: two regexes, where a library (discord.js's escapeMarkdown) would be a new dependency that
 *   leaves `[`, `(`, `<` and `@` alone.
 */

/** Slack mrkdwn: `&`, `<`, `>` as entities (Slack's "Escaping text"). */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Characters that start inline markup anywhere: emphasis, code, links, autolinks, mentions, entities, tables. */
const INLINE_MARKUP = /[\\`*_~|[\]<>#@!&]/g;
/** Block markup at the start of a line: list items (`-`, `+`, `1.`, `1)`), setext underlines (`=`), subtext (`-#`). */
const LINE_START_MARKUP = /^([ \t]*)([-+=]|\d{1,9}(?=[.)](?:[ \t]|$)))/gm;

/**
 * CommonMark (Teams) / Discord markdown: the characters that can start markup backslash-escaped (CommonMark lets
 * any ASCII punctuation be escaped; `.`, `:`, `-` inside words are left alone, so tags and names stay readable).
 */
export function markdownEscape(text: string): string {
  return text
    .replace(INLINE_MARKUP, '\\$&')
    .replace(LINE_START_MARKUP, (_m, indent: string, mark: string) =>
      /^\d/.test(mark) ? `${indent}${mark}\\` : `${indent}\\${mark}`,
    );
}
