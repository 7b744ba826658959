import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { applyRule, parsePath, referenceName, type NewImage } from '../../../lib/deploy/targets/git-edit';

const fixture = (name: string) => readFileSync(path.join(__dirname, '../../fixtures/gitops', name), 'utf8');

/** Asserts that `after` differs from `before` exactly on the given lines (1-based) and returns those lines. */
function changedLines(before: string, after: string): Record<number, string> {
  const a = before.split('\n');
  const b = after.split('\n');
  const out: Record<number, string> = {};
  const len = Math.max(a.length, b.length);
  for (let i = 0; i < len; i++) if (a[i] !== b[i]) out[i + 1] = b[i];
  return out;
}

const web: NewImage = { name: 'ghcr.io/acme/web', tag: '1.5.0', digest: 'sha256:' + 'a'.repeat(64) };

describe('kustomize rule', () => {
  const text = fixture('kustomization.yaml');
  it('sets newTag of the named entry, keeping its quotes and comment', () => {
    const r = applyRule(text, { kustomize: { image: 'demo/hello' } }, { name: 'demo/hello', tag: '1.2.3' });
    expect(r.error).toBeUndefined();
    expect(r.changed).toBe(1);
    expect(changedLines(text, r.text)).toEqual({ 17: '    newTag: "1.2.3"    # bumped by CI' });
  });
  it('keeps a plain value plain, and quotes a tag that would read as a number', () => {
    const r = applyRule(text, { kustomize: { image: 'nginx' } }, { name: 'nginx', tag: '1.27.0' });
    expect(changedLines(text, r.text)).toEqual({ 19: '    newTag: 1.27.0' });
    const n = applyRule(text, { kustomize: { image: 'nginx' } }, { name: 'nginx', tag: '1.10' });
    expect(changedLines(text, n.text)).toEqual({ 19: '    newTag: "1.10"' });
    expect(parse(n.text).images[1].newTag).toBe('1.10');
  });
  it('sets digest when pinned, and adds a missing key on the line after name', () => {
    const d = 'sha256:' + 'b'.repeat(64);
    const r = applyRule(
      text,
      { kustomize: { image: 'redis' } },
      { name: 'redis', tag: '7', digest: d, pinDigest: true },
    );
    expect(changedLines(text, r.text)).toEqual({ 22: `    digest: ${d}` });
    const add = applyRule(text, { kustomize: { image: 'redis' } }, { name: 'redis', tag: '7.2' });
    expect(add.text.split('\n').slice(19, 23)).toEqual([
      '  - name: redis',
      '    newTag: "7.2"',
      '    newName: redis',
      `    digest: sha256:${'0'.repeat(64)}`,
    ]);
    expect(add.text.replace('    newTag: "7.2"\n', '')).toBe(text);
    expect(parse(add.text).images[2]).toEqual({
      name: 'redis',
      newTag: '7.2',
      newName: 'redis',
      digest: `sha256:${'0'.repeat(64)}`,
    });
  });
  it('changes nothing when the tag is already there, and names a missing entry', () => {
    const r = applyRule(text, { kustomize: { image: 'demo/hello' } }, { name: 'demo/hello', tag: '1.0.0' });
    expect(r).toEqual({ text, changed: 0, matched: 1 });
    const missing = applyRule(text, { kustomize: { image: 'demo/other' } }, { name: 'demo/other', tag: '1' });
    expect(missing.error).toBe('no images entry with name "demo/other"');
    expect(missing.text).toBe(text);
  });
  it('keeps CRLF line endings', () => {
    const crlf = text.replace(/\n/g, '\r\n');
    const add = applyRule(crlf, { kustomize: { image: 'redis' } }, { name: 'redis', tag: '8' });
    expect(add.text).toBe(crlf.replace('  - name: redis\r\n', '  - name: redis\r\n    newTag: "8"\r\n'));
  });
});

describe('helmValues rule', () => {
  const text = fixture('values.yaml');
  it('sets image.tag by default, keeping single quotes and the trailing comment', () => {
    const r = applyRule(text, { helmValues: {} }, web);
    expect(changedLines(text, r.text)).toEqual({ 10: "  tag: 'v1.5.0'      # keep quoted".replace('v1.5.0', '1.5.0') });
  });
  it('sets repository and tag at custom paths (a number tag becomes a quoted string)', () => {
    const r = applyRule(
      text,
      { helmValues: { repository: 'sidecar.image.repository', tag: 'sidecar.image.tag' } },
      { name: 'registry.example.com/proxy', tag: '2.10' },
    );
    expect(changedLines(text, r.text)).toEqual({
      17: '    repository: registry.example.com/proxy',
      18: '    tag: "2.10"',
    });
    expect(r.changed).toBe(2);
  });
  it('fails naming a path that is not there, changing nothing', () => {
    const r = applyRule(text, { helmValues: { tag: 'image.version' } }, web);
    expect(r.error).toBe('image.version not found');
    expect(r.text).toBe(text);
    expect(applyRule(text, { helmValues: { tag: 'image' } }, web).error).toBe('image is not a scalar value');
  });
  it('refuses a block scalar', () => {
    const block = 'image:\n  tag: |\n    1.0\n';
    expect(applyRule(block, { helmValues: {} }, web).error).toMatch(/BLOCK_LITERAL value is not replaced/);
  });
});

describe('yamlPath rule', () => {
  const text = fixture('deployment.yaml');
  it('sets the container selected by name, in the document that has it', () => {
    const r = applyRule(text, { yamlPath: 'spec.template.spec.containers[name=web].image' }, web);
    expect(r.matched).toBe(1);
    expect(changedLines(text, r.text)).toEqual({
      25: '          image: ghcr.io/acme/web:1.5.0 # {"$imagepolicy": "flux-system:web"}',
    });
  });
  it('keeps double quotes; indexes work; digest pinning writes name@digest', () => {
    const r = applyRule(text, { yamlPath: 'spec.template.spec.containers[0].image' }, { ...web, pinDigest: true });
    expect(changedLines(text, r.text)).toEqual({ 23: `          image: "ghcr.io/acme/web@${web.digest}"` });
  });
  it('is unchanged when the image is there already, and names a path found nowhere', () => {
    const same = applyRule(
      text,
      { yamlPath: 'spec.template.spec.containers[name=web].image' },
      { name: 'ghcr.io/acme/web', tag: '1.4.0' },
    );
    expect(same).toEqual({ text, changed: 0, matched: 1 });
    expect(applyRule(text, { yamlPath: 'spec.template.spec.containers[name=api].image' }, web).error).toBe(
      'spec.template.spec.containers[name=api].image not found in any document',
    );
  });
  it('parses paths', () => {
    expect(parsePath('spec.containers[name=web].image')).toEqual([
      { key: 'spec' },
      { key: 'containers' },
      { match: ['name', 'web'] },
      { key: 'image' },
    ]);
    expect(parsePath('a[0].b')).toEqual([{ key: 'a' }, { index: 0 }, { key: 'b' }]);
    for (const bad of ['', '.a', 'a.', 'a..b', '[0]', 'a[x', 'a]b']) expect(parsePath(bad)).toBeUndefined();
  });
});

describe('setters rule', () => {
  const text = fixture('deployment.yaml');
  it('setters: true: our marker with this trigger name, and Flux whole-reference markers of the same image', () => {
    const r = applyRule(text, { setters: true }, web, 'web-prod');
    expect(changedLines(text, r.text)).toEqual({
      19: '          image: ghcr.io/acme/web:1.5.0 # {"triggerfish": "web-prod"}',
      25: '          image: ghcr.io/acme/web:1.5.0 # {"$imagepolicy": "flux-system:web"}',
    });
    const other = applyRule(text, { setters: true }, { name: 'ghcr.io/acme/api', tag: '2' }, 'web-staging');
    expect(other.error).toBe('no setter marker for this trigger in the file');
  });
  it('Flux markers: a listed policy sets the full reference and its :tag form only the tag', () => {
    const r = applyRule(text, { setters: { imagePolicies: ['flux-system:web'] } }, web, 'another');
    expect(changedLines(text, r.text)).toEqual({
      25: '          image: ghcr.io/acme/web:1.5.0 # {"$imagepolicy": "flux-system:web"}',
      31: '              value: "1.5.0" # {"$imagepolicy": "flux-system:web:tag"}',
    });
    expect(r.changed).toBe(2);
  });
  it('referenceName strips tag and digest, not a registry port', () => {
    expect(referenceName('localhost:5000/a/b:1@sha256:x')).toBe('localhost:5000/a/b');
    expect(referenceName('localhost:5000/a/b')).toBe('localhost:5000/a/b');
  });
});
