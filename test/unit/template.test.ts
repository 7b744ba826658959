import type { NormalizedEvent } from '../../lib/core/event';
import {
  PLACEHOLDERS,
  renderHeaderValue,
  renderJson,
  renderString,
  renderUrl,
  templateString,
  templateVars,
  validateTemplate,
  validateTemplateJson,
} from '../../lib/deploy/template';

const event: NormalizedEvent = {
  provider: 'github',
  kind: 'code',
  action: 'push',
  registry: 'ghcr.io',
  namespace: 'acme',
  repository: 'web/app',
  repoFullName: 'acme/web/app',
  image: 'ghcr.io/acme/web/app:1.4.0',
  tag: '1.4.0',
  digest: 'sha256:abc',
  owner: 'octocat',
  branch: 'main',
  commit: { id: 'deadbeef', message: 'fix: things @deploy' },
};
const vars = templateVars(event, 'trg_1', 'log_1');

describe('template: every placeholder', () => {
  const expected: Record<string, string> = {
    provider: 'github',
    action: 'push',
    image: 'ghcr.io/acme/web/app:1.4.0',
    tag: '1.4.0',
    digest: 'sha256:abc',
    namespace: 'acme',
    repository: 'web/app',
    repoFullName: 'acme/web/app',
    owner: 'octocat',
    branch: 'main',
    'commit.id': 'deadbeef',
    'commit.message': 'fix: things @deploy',
    triggerId: 'trg_1',
    logId: 'log_1',
  };
  it('the expected list is the whole placeholder list', () => {
    expect([...PLACEHOLDERS].sort()).toEqual(Object.keys(expected).sort());
  });
  it.each(Object.entries(expected))('{{%s}}', (name, value) => {
    expect(renderString(`<{{${name}}}>`, vars)).toBe(`<${value}>`);
    expect(renderString(`<{{ ${name}  }}>`, vars)).toBe(`<${value}>`);
    expect(validateTemplate(`{{ ${name} }}`)).toBeUndefined();
  });
});

describe('template: missing values', () => {
  const bare: NormalizedEvent = { provider: 'dockerhub', kind: 'image', action: 'push', repository: 'web', repoFullName: 'web' };
  const v = templateVars(bare, 't', 'l');
  it.each(['image', 'tag', 'digest', 'namespace', 'owner', 'branch', 'commit.id', 'commit.message'])(
    '{{%s}} renders as empty',
    (name) => {
      expect(renderString(`a{{${name}}}b`, v)).toBe('ab');
    },
  );
  it('present values still render', () => {
    expect(renderString('{{repository}}|{{provider}}|{{triggerId}}|{{logId}}', v)).toBe('web|dockerhub|t|l');
  });
});

describe('template: validateTemplate', () => {
  it('refuses an unknown placeholder, returning it', () => {
    expect(validateTemplate('https://x/{{nope}}')).toBe('{{nope}}');
    expect(validateTemplate('{{tag}} and {{ commit.author }}')).toBe('{{ commit.author }}');
    expect(validateTemplate('{{}}')).toBe('{{}}');
  });
  it('accepts known placeholders and text without placeholders', () => {
    expect(validateTemplate('{{tag}}-{{commit.id}}')).toBeUndefined();
    expect(validateTemplate('plain { text } {single}')).toBeUndefined();
  });
  it('walks JSON values (not keys)', () => {
    expect(validateTemplateJson({ a: [1, { b: 'x {{nope}}' }] })).toBe('{{nope}}');
    expect(validateTemplateJson({ '{{nope}}': '{{tag}}', n: null, t: true })).toBeUndefined();
  });
  it('templateString() is a zod string refusing unknown placeholders', () => {
    expect(templateString().safeParse('{{tag}}').success).toBe(true);
    const bad = templateString().safeParse('{{nope}}');
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0].message).toContain('{{nope}}');
  });
});

describe('template: rendering contexts', () => {
  it('url: substituted values are URL-encoded, template text is not', () => {
    expect(renderUrl('https://x/deploy/{{repository}}?msg={{commit.message}}&a=b', vars)).toBe(
      'https://x/deploy/web%2Fapp?msg=fix%3A%20things%20%40deploy&a=b',
    );
  });
  it('header values: CR/LF stripped from substituted values', () => {
    const v = templateVars({ ...event, commit: { id: 'x', message: 'one\r\nX-Evil: 1\ntwo\u0000' } }, 't', 'l');
    expect(renderHeaderValue('msg={{commit.message}}', v)).toBe('msg=oneX-Evil: 1two');
  });
  it('substitution is single pass', () => {
    const v = templateVars({ ...event, tag: '{{triggerId}}' }, 'SECRET', 'l');
    expect(renderString('{{tag}}', v)).toBe('{{triggerId}}');
  });
  it('json: string values rendered recursively, keys and other types untouched', () => {
    const body = JSON.parse(
      '{"image":"{{image}}","{{tag}}":"k","list":["{{branch}}",1,true,null,{"deep":"{{ commit.id }}"}],"__proto__":"{{tag}}"}',
    );
    const out = renderJson(body, vars) as Record<string, unknown>;
    expect(JSON.stringify(out)).toBe(
      '{"image":"ghcr.io/acme/web/app:1.4.0","{{tag}}":"k","list":["main",1,true,null,{"deep":"deadbeef"}],"__proto__":"1.4.0"}',
    );
    expect(body.image).toBe('{{image}}'); // input not mutated
  });
});
