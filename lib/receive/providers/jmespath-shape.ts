/**
 * A static bound on what a JMESPath `mapping` expression may cost, judged on its text.
 *
 * Why static: Powertools' JMESPath exports only `search()`; its interpreter, parser and AST are private (the
 * package's `exports` map hides them), and `customFunctions` is consulted only at function calls, so there is no
 * hook to count evaluation steps; a time budget cannot interrupt a synchronous evaluation either. The cost of an
 * expression is what it multiplies: each multiselect (`[a, b]`, `{k: a, l: b}`) evaluates its items on the same
 * value, so K of them chained with flattens cost 2^K (`@.[@,@][].[@,@][]...` on a 21-byte body), and nested
 * functions such as `to_string` grow their input at every level. Projections, flattens and filters cost the size of
 * what they walk. So an expression may have multiselects whose item counts multiply to at most MAX_FANOUT, at most
 * MAX_PROJECTIONS projections / flattens / filters / wildcards, and functions nested at most MAX_CALL_DEPTH deep:
 * the work is then a small multiple of the body (itself at most 1 MiB), never exponential. A mapping only picks a few
 * strings out of a body: `join(':', [build.image, build.tag])` or `images[?name=='web'] | [0].tag` fit easily.
 */

export const MAX_FANOUT = 8;
export const MAX_PROJECTIONS = 8;
export const MAX_CALL_DEPTH = 3;

type Open = { kind: 'multiselect' | 'call' | 'other'; items: number };

/** Why `expr` is over the bounds, or undefined. Unbalanced text is left to the parser (it reports it). */
export function jmespathShapeError(expr: string): string | undefined {
  const stack: Open[] = [];
  let fanout = 1;
  let projections = 0;
  let depth = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (c === "'" || c === '"' || c === '`') {
      // a raw string, a quoted name or a JSON literal: skip to its closing quote (backslash escapes)
      for (i++; i < expr.length && expr[i] !== c; i++) if (expr[i] === '\\') i++;
      continue;
    }
    if (c === '[') {
      const next = expr.slice(i + 1).trimStart();
      if (next.startsWith(']') || next.startsWith('?') || /^\*\s*\]/.test(next)) {
        projections++;
        stack.push({ kind: 'other', items: 1 });
        if (next.startsWith('*')) i = expr.indexOf('*', i); // the `*` of `[*]` is this projection
      } else if (/^[-\d:]/.test(next)) stack.push({ kind: 'other', items: 1 });
      else stack.push({ kind: 'multiselect', items: 1 });
    } else if (c === '{') stack.push({ kind: 'multiselect', items: 1 });
    else if (c === '(') {
      // a function call (a parenthesised group counts the same: harmless)
      stack.push({ kind: 'call', items: 1 });
      depth = Math.max(depth, stack.filter((o) => o.kind === 'call').length);
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top) top.items++;
    } else if (c === ']' || c === '}' || c === ')') {
      const open = stack.pop();
      if (open?.kind === 'multiselect') fanout *= open.items;
    } else if (c === '*') projections++; // `foo.*`, `*.bar`: a wildcard projection
    if (fanout > MAX_FANOUT)
      return `its multiselects ([a, b] / {k: a}) multiply the work by more than ${MAX_FANOUT}: too costly to evaluate`;
  }
  if (projections > MAX_PROJECTIONS)
    return `it has ${projections} projections / flattens / filters, more than ${MAX_PROJECTIONS}: too costly to evaluate`;
  if (depth > MAX_CALL_DEPTH)
    return `its functions are nested ${depth} deep, more than ${MAX_CALL_DEPTH}: too costly to evaluate`;
  return undefined;
}
