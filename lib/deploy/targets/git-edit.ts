/**
 * The update rules of the `git` target: set a new image in a YAML file's text, changing nothing else.
 *
 * Each rule finds scalar nodes with the `yaml` package's parser (comments, anchors, multi-document files are all
 * understood) and splices the new value into the ORIGINAL text at the node's source range. Re-stringifying the
 * parsed document would rewrite spacing before comments, line folding and quoting elsewhere in the file, so it is
 * never done: the bytes outside the replaced scalars are the bytes that were read.
 *
 * Rules:
 * - `kustomize: {image}`: the `images:` entry whose `name` is `image` gets `newTag` (or `digest` when the image
 *   is pinned by digest), as `kustomize edit set image name:tag` / `name@digest` does; a missing `newTag` /
 *   `digest` key is added on the line after `name`. An entry that is not there is an error (not added).
 * - `helmValues: {tag, repository?, digest?}`: dotted paths into a values file (`image.tag`); `repository` gets
 *   `[registry/]repo`, `tag` the tag, `digest` the digest. The paths must exist.
 * - `yamlPath`: a dotted path with `[n]` indexes and `[key=value]` selectors into every document of the file
 *   (`spec.template.spec.containers[name=web].image`) gets the full reference (`repo:tag` or `repo@digest`).
 * - `setters`: line comments `# {"$imagepolicy": "<ns>:<policy>[:tag|:name|:digest]"}` (Flux image automation)
 *   for the policies listed, and `# {"triggerfish": "<trigger name>[:tag|:name|:digest]"}`: the scalar on the
 *   marker's line gets the full reference, or only its tag / name / digest.
 *
 * A value keeps its quoting style when that style can carry it, and is written so that it reads back as exactly
 * that string at exactly that node (../../core/yaml-scalar): plain stays plain only for values that are the same
 * string in block and flow context under YAML 1.1 and 1.2 (so `1.10`, `yes`, or `v2,"newName":x` in a flow map
 * `{name: a, newTag: v1}` become double-quoted), single quotes stay for one printable line; control characters are
 * escaped. Block scalars (`|`, `>`) are refused.
 */
import type { Document, LineCounter, Node, Scalar } from 'yaml';
import { yamlScalar } from '../../core/yaml-scalar';

// yaml (113 KB) loads on the first edit, not in every deployer cold start, and stays out of the admin bundles (they
// only check paths with parsePath). A synchronous require, as in lib/match/match-patterns.ts: applyRule is synchronous.
let yamlLib: typeof import('yaml') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy and synchronous, see above
const yaml = () => (yamlLib ??= require('yaml') as typeof import('yaml'));

/** What is being written: the image's name (`[registry/]repo`) and its tag and/or digest. */
export interface NewImage {
  name: string;
  tag?: string;
  digest?: string;
  /** write `name@digest` rather than `name:tag` (when there is a digest) */
  pinDigest?: boolean;
}

export type EditRule =
  | { kustomize: { image: string } }
  | { helmValues: { tag?: string; repository?: string; digest?: string } }
  | { yamlPath: string }
  | { setters: true | { imagePolicies?: string[] } };

export interface EditResult {
  /** the new text (the input when nothing changed or on error) */
  text: string;
  /** how many values were changed */
  changed: number;
  /** how many values were found (changed or already right) */
  matched: number;
  error?: string;
}

/** `name:tag` or `name@digest`. */
export function fullReference(img: NewImage): string | undefined {
  if (img.digest && (img.pinDigest || !img.tag)) return `${img.name}@${img.digest}`;
  if (img.tag) return `${img.name}:${img.tag}`;
  return undefined;
}

type Segment = { key: string } | { index: number } | { match: [string, string] };

/** Parses `a.b[0].c[name=web].d`; undefined when malformed. Keys are letters, digits, `_`, `-`, `/`, `$`. */
export function parsePath(path: string): Segment[] | undefined {
  const out: Segment[] = [];
  const re = /([^.[\]=]+)|\[(\d+)\]|\[([^\]=]+)=([^\]]*)\]|(\.)/gy;
  let expectKey = true;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < path.length) {
    re.lastIndex = pos;
    m = re.exec(path);
    if (!m) return undefined;
    pos = re.lastIndex;
    if (m[1] !== undefined) {
      if (!expectKey) return undefined;
      out.push({ key: m[1] });
      expectKey = false;
    } else if (m[2] !== undefined) {
      if (expectKey) return undefined;
      out.push({ index: Number(m[2]) });
    } else if (m[3] !== undefined) {
      if (expectKey) return undefined;
      out.push({ match: [m[3].trim(), m[4].trim()] });
    } else {
      if (expectKey) return undefined;
      expectKey = true;
    }
  }
  return out.length && !expectKey ? out : undefined;
}

function scalarText(n: unknown): string | undefined {
  return yaml().isScalar(n) && n.value !== null && n.value !== undefined ? String(n.value) : undefined;
}

function resolvePath(doc: Document, segments: Segment[]): Node | undefined {
  let node: unknown = doc.contents;
  for (const seg of segments) {
    if ('key' in seg) {
      if (!yaml().isMap(node)) return undefined;
      node = node.get(seg.key, true);
    } else if ('index' in seg) {
      if (!yaml().isSeq(node)) return undefined;
      node = node.items[seg.index];
    } else {
      if (!yaml().isSeq(node)) return undefined;
      const [k, v] = seg.match;
      node = node.items.find((item) => yaml().isMap(item) && scalarText(item.get(k, true)) === v);
    }
    if (node === undefined || node === null) return undefined;
  }
  return node as Node;
}

interface Splice {
  start: number;
  end: number;
  text: string;
}

/** The splice that makes `node` hold `value`, or why not; undefined when it holds `value` already. */
function spliceFor(node: Scalar, value: string): Splice | string | undefined {
  if (!node.range) return 'the value has no source position';
  // already that value (a plain number equal to the text, `newTag: 2`, is left as it is too)
  if (scalarText(node) === value) return undefined;
  const [start, end] = node.range;
  switch (node.type) {
    case 'QUOTE_DOUBLE':
    case 'QUOTE_SINGLE':
    case 'PLAIN':
      // the style is kept when it can carry the value; else double quotes (see core/yaml-scalar)
      return { start, end, text: yamlScalar(value, node.type) };
    default:
      return `a ${node.type ?? 'non-scalar'} value is not replaced (use a plain or quoted scalar)`;
  }
}

function applySplices(text: string, splices: Splice[]): string {
  const sorted = [...splices].sort((a, b) => b.start - a.start);
  let out = text;
  for (const s of sorted) out = out.slice(0, s.start) + s.text + out.slice(s.end);
  return out;
}

/** Sets `value` at one node; pushes the splice; returns an error or undefined. */
function setNode(
  node: Node | undefined,
  value: string,
  what: string,
  splices: Splice[],
  stats: { matched: number },
): string | undefined {
  if (!yaml().isScalar(node)) return node === undefined ? `${what} not found` : `${what} is not a scalar value`;
  stats.matched++;
  const s = spliceFor(node, value);
  if (typeof s === 'string') return `${what}: ${s}`;
  if (s) splices.push(s);
  return undefined;
}

function parseDocs(text: string, lineCounter?: LineCounter): Document[] | string {
  const docs = yaml().parseAllDocuments(text, { lineCounter, keepSourceTokens: false, uniqueKeys: false });
  if (!Array.isArray(docs)) return 'not a YAML stream';
  for (const d of docs) if (d.errors.length) return `YAML error: ${d.errors[0].message.split('\n')[0]}`;
  return docs;
}

function kustomizeEdit(text: string, image: string, img: NewImage): EditResult {
  const lc = new (yaml().LineCounter)();
  const docs = parseDocs(text, lc);
  if (typeof docs === 'string') return { text, changed: 0, matched: 0, error: docs };
  const useDigest = Boolean(img.digest && (img.pinDigest || !img.tag));
  const key = useDigest ? 'digest' : 'newTag';
  const value = useDigest ? img.digest! : img.tag;
  if (!value) return { text, changed: 0, matched: 0, error: 'the event has neither a tag nor a digest' };
  const splices: Splice[] = [];
  const stats = { matched: 0 };
  for (const doc of docs) {
    const images = yaml().isMap(doc.contents) ? doc.contents.get('images', true) : undefined;
    if (!yaml().isSeq(images)) continue;
    for (const entry of images.items) {
      if (!yaml().isMap(entry) || scalarText(entry.get('name', true)) !== image) continue;
      const existing = entry.get(key, true);
      if (existing !== undefined) {
        const err = setNode(existing as Node, value, `images[name=${image}].${key}`, splices, stats);
        if (err) return { text, changed: 0, matched: 0, error: err };
        continue;
      }
      // add `key: value` on the line after `name: ...`, at the same indentation (what kustomize would write)
      if (entry.flow)
        return {
          text,
          changed: 0,
          matched: 0,
          error: `images[name=${image}] is a flow map; add ${key} to it by hand once`,
        };
      const namePair = entry.items.find((p) => scalarText(p.key) === 'name');
      const keyNode = namePair?.key as Scalar | undefined;
      const valueNode = namePair?.value as Scalar | undefined;
      if (!keyNode?.range || !valueNode?.range)
        return { text, changed: 0, matched: 0, error: 'images entry without positions' };
      const col = lc.linePos(keyNode.range[0]).col - 1;
      const eol = text.indexOf('\n', valueNode.range[1]);
      const nl = eol > 0 && text[eol - 1] === '\r' ? '\r\n' : '\n';
      const insertAt = eol < 0 ? text.length : eol > 0 && text[eol - 1] === '\r' ? eol - 1 : eol;
      stats.matched++;
      splices.push({
        start: insertAt,
        end: insertAt,
        text: `${nl}${' '.repeat(col)}${key}: ${yamlScalar(value, 'PLAIN')}`,
      });
    }
  }
  if (!stats.matched)
    return { text, changed: 0, matched: 0, error: `no images entry with name ${JSON.stringify(image)}` };
  return { text: applySplices(text, splices), changed: splices.length, matched: stats.matched };
}

function helmEdit(
  text: string,
  rule: { tag?: string; repository?: string; digest?: string },
  img: NewImage,
): EditResult {
  const docs = parseDocs(text);
  if (typeof docs === 'string') return { text, changed: 0, matched: 0, error: docs };
  if (docs.length !== 1) return { text, changed: 0, matched: 0, error: 'a Helm values file is one YAML document' };
  const splices: Splice[] = [];
  const stats = { matched: 0 };
  const wants: [string, string | undefined][] = [];
  if (rule.repository) wants.push([rule.repository, img.name]);
  if (rule.digest) wants.push([rule.digest, img.digest]);
  const tagPath = rule.tag ?? (rule.repository || rule.digest ? undefined : 'image.tag');
  if (tagPath) wants.push([tagPath, img.tag]);
  for (const [path, value] of wants) {
    if (value === undefined) return { text, changed: 0, matched: 0, error: `the event has no value for ${path}` };
    const segs = parsePath(path);
    if (!segs) return { text, changed: 0, matched: 0, error: `not a valid path: ${path}` };
    const err = setNode(resolvePath(docs[0], segs), value, path, splices, stats);
    if (err) return { text, changed: 0, matched: 0, error: err };
  }
  return { text: applySplices(text, splices), changed: splices.length, matched: stats.matched };
}

function yamlPathEdit(text: string, path: string, img: NewImage): EditResult {
  const ref = fullReference(img);
  if (!ref) return { text, changed: 0, matched: 0, error: 'the event has neither a tag nor a digest' };
  const segs = parsePath(path);
  if (!segs) return { text, changed: 0, matched: 0, error: `not a valid path: ${path}` };
  const docs = parseDocs(text);
  if (typeof docs === 'string') return { text, changed: 0, matched: 0, error: docs };
  const splices: Splice[] = [];
  const stats = { matched: 0 };
  for (const doc of docs) {
    const node = resolvePath(doc, segs);
    if (node === undefined) continue; // other documents of the file (a Service next to the Deployment)
    const err = setNode(node, ref, path, splices, stats);
    if (err) return { text, changed: 0, matched: 0, error: err };
  }
  if (!stats.matched) return { text, changed: 0, matched: 0, error: `${path} not found in any document` };
  return { text: applySplices(text, splices), changed: splices.length, matched: stats.matched };
}

const MARKER = /#\s*\{\s*"(\$imagepolicy|triggerfish)"\s*:\s*"([^"]+)"\s*\}/;

/** The part of an image reference a marker sets. */
function setterValue(part: string | undefined, img: NewImage): string | undefined {
  if (part === 'tag') return img.tag;
  if (part === 'digest') return img.digest;
  if (part === 'name') return img.name;
  if (part === undefined) return fullReference(img);
  return undefined;
}

/** `[registry/]repo` of a reference `[registry/]repo[:tag][@digest]`. */
export function referenceName(ref: string): string {
  const noDigest = ref.split('@')[0];
  const colon = noDigest.lastIndexOf(':');
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest;
}

function settersEdit(
  text: string,
  rule: true | { imagePolicies?: string[] },
  img: NewImage,
  triggerName: string | undefined,
): EditResult {
  const lc = new (yaml().LineCounter)();
  const docs = parseDocs(text, lc);
  if (typeof docs === 'string') return { text, changed: 0, matched: 0, error: docs };
  const policies = new Set(rule === true ? [] : (rule.imagePolicies ?? []));
  // the scalar that ends on each line
  const byLine = new Map<number, Scalar>();
  for (const doc of docs) {
    yaml().visit(doc, {
      Scalar(_key, node) {
        if (node.range) byLine.set(lc.linePos(node.range[1]).line, node);
      },
    });
  }
  const splices: Splice[] = [];
  const stats = { matched: 0 };
  const lines = text.split('\n');
  let offset = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const m = MARKER.exec(line);
    const lineStart = offset;
    offset += line.length + 1;
    if (!m) continue;
    const [owner, ...rest] = m[2].split(':');
    let name: string;
    let part: string | undefined;
    if (m[1] === '$imagepolicy') {
      // "<namespace>:<policy>[:tag|:name|:digest]"
      name = `${owner}:${rest[0] ?? ''}`;
      part = rest[1];
      // a listed policy, or (setters: true) a whole-reference marker whose current image is this image
      const current = scalarText(byLine.get(i + 1));
      const sameImage = part === undefined && current !== undefined && referenceName(current) === img.name;
      if (!policies.has(name) && !(rule === true && sameImage)) continue;
    } else {
      name = owner;
      part = rest[0];
      if (!triggerName || name !== triggerName) continue;
    }
    const node = byLine.get(i + 1);
    // the marker must follow the value on its line
    if (!node?.range || node.range[1] > lineStart + (m.index ?? 0)) {
      return {
        text,
        changed: 0,
        matched: 0,
        error: `line ${i + 1}: a setter marker with no value before it on its line`,
      };
    }
    const value = setterValue(part, img);
    if (value === undefined)
      return {
        text,
        changed: 0,
        matched: 0,
        error: `line ${i + 1}: the event has no ${part ?? 'image'} for this marker`,
      };
    const err = setNode(node, value, `line ${i + 1}`, splices, stats);
    if (err) return { text, changed: 0, matched: 0, error: err };
  }
  if (!stats.matched) return { text, changed: 0, matched: 0, error: 'no setter marker for this trigger in the file' };
  return { text: applySplices(text, splices), changed: splices.length, matched: stats.matched };
}

/** Applies one rule to a file's text. `triggerName` is matched by `# {"triggerfish": ...}` markers. */
export function applyRule(text: string, rule: EditRule, img: NewImage, triggerName?: string): EditResult {
  if ('kustomize' in rule) return kustomizeEdit(text, rule.kustomize.image, img);
  if ('helmValues' in rule) return helmEdit(text, rule.helmValues, img);
  if ('yamlPath' in rule) return yamlPathEdit(text, rule.yamlPath, img);
  return settersEdit(text, rule.setters, img, triggerName);
}
