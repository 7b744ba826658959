import type { NormalizedEvent } from '../../lib/core/event';
import {
  PLACEHOLDERS,
  renderHeaderValue,
  renderJson,
  renderString,
  renderUrl,
  renderUrlChecked,
  templateString,
  templateVars,
  urlTemplateIssue,
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
  const bare: NormalizedEvent = {
    provider: 'dockerhub',
    kind: 'image',
    action: 'push',
    repository: 'web',
    repoFullName: 'web',
  };
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

describe('template: URL placeholders cannot move a request (urlTemplateIssue, at creation)', () => {
  it.each([
    'http://{{tag}}:8080/deploy',
    'http://{{tag}}/deploy',
    'https://{{namespace}}.deploy.example.com/hook',
    'https://deploy.example.com{{repository}}',
    'https://deploy.example.com.{{tag}}/hook',
    'http://deploy.example.com:{{tag}}/',
    'http://{{owner}}@deploy.example.com/',
    'http://user:{{tag}}@deploy.example.com/',
    '{{provider}}://deploy.example.com/',
    'http{{tag}}://deploy.example.com/',
    'http:\\\\{{tag}}\\deploy',
    '{{image}}',
  ])('%s: refused (scheme, host or port)', (url) => {
    expect(urlTemplateIssue(url)).toMatch(/not allowed in the scheme, host or port/);
  });
  it('refuses a placeholder in the fragment (never sent; a sign of a mistake)', () => {
    expect(urlTemplateIssue('https://x.example.com/hook#{{tag}}')).toMatch(/fragment/);
  });
  it.each([
    'https://deploy.example.com/hook',
    'https://deploy.example.com/{{repository}}',
    'http://deploy.example.com:8080/tenant-a/{{tag}}/deploy',
    'https://deploy.example.com/hook?tag={{tag}}&repo={{repoFullName}}',
    'https://deploy.example.com/hook?{{tag}}',
    'https://deploy.example.com/?a={{tag}}#static',
  ])('%s: accepted (path and query)', (url) => {
    expect(urlTemplateIssue(url)).toBeUndefined();
  });
});

describe('template: renderUrlChecked (at send time)', () => {
  const withTag = (tag: string) => templateVars({ ...event, tag }, 'trg_1', 'log_1');
  const TENANT = 'http://deploy.example.com:8080/tenant-a/{{tag}}/deploy';

  it('renders a normal value into its segment', () => {
    expect(renderUrlChecked(TENANT, withTag('1.4.0'))).toEqual({
      ok: true,
      url: 'http://deploy.example.com:8080/tenant-a/1.4.0/deploy',
    });
  });

  it.each(['..', '.'])('a %j tag is refused, not sent to another path', (tag) => {
    const r = renderUrlChecked(TENANT, withTag(tag));
    expect(r).toEqual({
      ok: false,
      error: `path segment {{tag}} renders to "${tag}", which would change the URL path`,
    });
  });

  it('dot segments spelled with the template text (%2e) are refused too', () => {
    expect(renderUrlChecked('https://x.example.com/a/{{tag}}%2E/b', withTag('.')).ok).toBe(false);
    expect(
      renderUrlChecked(
        'https://x.example.com/a/{{tag}}{{digest}}/b',
        templateVars({ ...event, tag: '.', digest: '.' }, 't', 'l'),
      ).ok,
    ).toBe(false);
  });

  it('an empty value in the middle of the path is refused; at the end it is fine', () => {
    expect(renderUrlChecked(TENANT, withTag(''))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/renders empty/),
    });
    expect(renderUrlChecked('https://x.example.com/hook/{{tag}}', withTag(''))).toEqual({
      ok: true,
      url: 'https://x.example.com/hook/',
    });
  });

  it.each([
    ['a/../../admin', 'a%2F..%2F..%2Fadmin'],
    ['%2F..%2Fadmin', '%252F..%252Fadmin'],
    ['..\\..\\admin', '..%5C..%5Cadmin'],
    ['x?admin=1', 'x%3Fadmin%3D1'],
    ['x#frag', 'x%23frag'],
    ['...', '...'],
    ['..a', '..a'],
  ])('%j stays inside its segment as %s', (tag, encoded) => {
    const r = renderUrlChecked(TENANT, withTag(tag));
    expect(r).toEqual({ ok: true, url: `http://deploy.example.com:8080/tenant-a/${encoded}/deploy` });
    if (r.ok) {
      const u = new URL(r.url);
      expect(u.host).toBe('deploy.example.com:8080');
      expect(u.pathname.split('/')).toHaveLength(4);
      expect(u.search).toBe('');
    }
  });

  it('query values are encoded and cannot add parameters; ".." in a query is harmless', () => {
    const r = renderUrlChecked('https://x.example.com/hook?tag={{tag}}', withTag('..&admin=1#x'));
    expect(r).toEqual({ ok: true, url: 'https://x.example.com/hook?tag=..%26admin%3D1%23x' });
    if (r.ok) expect([...new URL(r.url).searchParams.keys()]).toEqual(['tag']);
  });

  it('a stored template with a placeholder in the host is refused at send time, whatever the value', () => {
    const r = renderUrlChecked('http://{{tag}}:8080/deploy', withTag('other-host.example'));
    expect(r).toMatchObject({ ok: false, error: expect.stringMatching(/scheme, host or port/) });
  });
});
