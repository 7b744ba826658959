/**
 * Issue 20, finding 2: a value written into a manifest must read back as exactly that string at exactly that node,
 * whatever the document's style (block or flow) and whatever the value holds. Each case parses the edited text
 * (YAML 1.2, as Argo CD's and Flux's Go parsers mostly read it, and YAML 1.1, where `yes` and `1:20` change type)
 * and compares it with the original document where only the intended node was set.
 */
import { parseAllDocuments } from 'yaml';
import { applyRule, type EditRule, type NewImage } from '../../../lib/deploy/targets/git-edit';

const HOSTILE = [
  'v2,"newName":evil.example/x',
  'v2, newName: evil.example/x',
  'v2}, {name: evil, newTag: x',
  'v2], command: [sh',
  'a: b',
  'a:b',
  'v2:',
  "it's",
  'say "hi"',
  'back\\slash',
  'v2 #comment',
  'v2#x',
  'line1\nnewName: evil',
  'cr\r\nx',
  'tab\there',
  '*anchor',
  '&anchor x',
  '!!int 5',
  '!tag',
  '- item',
  '-x',
  '? key',
  '%directive',
  '@at',
  '`tick',
  '|',
  '>',
  'yes',
  'no',
  'on',
  'off',
  'y',
  'true',
  'null',
  '~',
  'Null',
  '1',
  '1.10',
  '0x1F',
  '1e3',
  '1:20',
  '.inf',
  '.NaN',
  '2001-12-14',
  '<<',
  '=',
  ' lead',
  'trail ',
  '',
  '\u0000nul',
  '\u007fdel\u0085nel\u009bcsi',
  '\u202ertl\u2028ls\ufeffbom',
  'é-unicode-ü',
  'v1.2.3_build-4',
];

interface Doc {
  name: string;
  text: string;
  rule: EditRule;
  /** where the value lands in the parsed document(s) */
  at: (docs: unknown[]) => { holder: Record<string | number, unknown>; key: string | number };
  img: (value: string) => NewImage;
}

const tagOnly = (value: string): NewImage => ({ name: 'acme/web', tag: value });
const docsOf = (text: string, version: '1.1' | '1.2') =>
  parseAllDocuments(text, { version }).map((d) => {
    if (d.errors.length) throw new Error(`YAML ${version} error: ${d.errors[0].message}`);
    return d.toJS() as unknown;
  });

const DOCS: Doc[] = [
  {
    name: 'kustomize, flow entry',
    text: 'images: [{name: acme/web, newTag: v1}, {name: other, newTag: v9}]\nresources: [a.yaml]\n',
    rule: { kustomize: { image: 'acme/web' } },
    at: (d: any) => ({ holder: d[0].images[0], key: 'newTag' }),
    img: tagOnly,
  },
  {
    name: 'kustomize, JSON-style flow entry',
    text: '{"images": [{"name": "acme/web", "newTag": v1}]}\n',
    rule: { kustomize: { image: 'acme/web' } },
    at: (d: any) => ({ holder: d[0].images[0], key: 'newTag' }),
    img: tagOnly,
  },
  {
    name: 'kustomize, block entry (plain)',
    text: 'images:\n  - name: acme/web\n    newTag: v1 # bumped\n  - name: other\n    newTag: v9\n',
    rule: { kustomize: { image: 'acme/web' } },
    at: (d: any) => ({ holder: d[0].images[0], key: 'newTag' }),
    img: tagOnly,
  },
  {
    name: 'kustomize, block entry, key added',
    text: 'images:\n  - name: acme/web\n    newName: acme/web2\n',
    rule: { kustomize: { image: 'acme/web' } },
    at: (d: any) => ({ holder: d[0].images[0], key: 'newTag' }),
    img: tagOnly,
  },
  {
    name: 'kustomize, single-quoted',
    text: "images:\n- name: acme/web\n  newTag: 'v1'\n",
    rule: { kustomize: { image: 'acme/web' } },
    at: (d: any) => ({ holder: d[0].images[0], key: 'newTag' }),
    img: tagOnly,
  },
  {
    name: 'kustomize, double-quoted in flow',
    text: 'images: [{name: acme/web, newTag: "v1"}]\n',
    rule: { kustomize: { image: 'acme/web' } },
    at: (d: any) => ({ holder: d[0].images[0], key: 'newTag' }),
    img: tagOnly,
  },
  {
    name: 'helm, flow image map',
    text: 'image: {repository: acme/web, tag: v1, pullPolicy: IfNotPresent}\nreplicas: 2\n',
    rule: { helmValues: {} },
    at: (d: any) => ({ holder: d[0].image, key: 'tag' }),
    img: tagOnly,
  },
  {
    name: 'helm, flow image map, repository set too',
    text: 'image: {repository: acme/web, tag: v1}\n',
    rule: { helmValues: { repository: 'image.repository', tag: 'image.tag' } },
    at: (d: any) => ({ holder: d[0].image, key: 'tag' }),
    img: tagOnly,
  },
  {
    name: 'helm, block',
    text: 'image:\n  repository: acme/web\n  tag: v1   # keep\nreplicas: 2\n',
    rule: { helmValues: {} },
    at: (d: any) => ({ holder: d[0].image, key: 'tag' }),
    img: tagOnly,
  },
  {
    name: 'yamlPath, flow container list',
    text: 'spec: {containers: [{name: web, image: "acme/web:v1"}, {name: side, image: x}]}\n---\nkind: Service\n',
    rule: { yamlPath: 'spec.containers[name=web].image' },
    at: (d: any) => ({ holder: d[0].spec.containers[0], key: 'image' }),
    img: tagOnly,
  },
  {
    name: 'yamlPath, block plain in a sequence',
    text: 'args:\n  - acme/web:v1\n  - --flag\n',
    rule: { yamlPath: 'args[0]' },
    at: (d: any) => ({ holder: d[0].args, key: 0 }),
    img: tagOnly,
  },
  {
    name: 'setters, flow map',
    text: 'image: {tag: v1} # {"triggerfish": "web:tag"}\nother: 1\n',
    rule: { setters: true },
    at: (d: any) => ({ holder: d[0].image, key: 'tag' }),
    img: tagOnly,
  },
];

/** What the node should read back as: the whole reference for yamlPath (name:value), else the value. */
function expected(doc: Doc, value: string): string {
  return 'yamlPath' in doc.rule ? `acme/web:${value}` : value;
}

describe('git target: values written into YAML read back as exactly that string at exactly that node', () => {
  for (const doc of DOCS) {
    describe(doc.name, () => {
      it.each(HOSTILE.map((v) => [JSON.stringify(v), v]))('%s', (_shown, value) => {
        const r = applyRule(doc.text, doc.rule, doc.img(value), 'web');
        if (r.error) {
          // only an empty tag may be refused ("nothing to write"), and then nothing changes
          expect(value).toBe('');
          expect(r.text).toBe(doc.text);
          return;
        }
        for (const version of ['1.2', '1.1'] as const) {
          const want = docsOf(doc.text, version);
          const { holder, key } = doc.at(want);
          holder[key] = expected(doc, value);
          if (doc.rule && 'helmValues' in doc.rule && doc.rule.helmValues.repository) {
            (holder as Record<string, unknown>).repository = 'acme/web';
          }
          const got = docsOf(r.text, version);
          expect(got).toEqual(want);
          const { holder: h, key: k } = doc.at(got);
          expect(typeof h[k]).toBe('string');
        }
      });
    });
  }

  it('keeps comments and every byte outside the replaced scalar', () => {
    const text = 'images: [{name: acme/web, newTag: v1}] # pinned by CI\n# tail\n';
    const r = applyRule(text, { kustomize: { image: 'acme/web' } }, tagOnly('v2,x'));
    expect(r.text).toBe('images: [{name: acme/web, newTag: "v2,x"}] # pinned by CI\n# tail\n');
  });

  it('writes control characters as visible escapes on one line', () => {
    const r = applyRule('image:\n  tag: v1\n', { helmValues: {} }, tagOnly('a\nb\u0085c\u202ed'));
    expect(r.text).toBe('image:\n  tag: "a\\nb\\x85c\\u202ed"\n');
  });
});
