import { generic, genericMappingSchema, jmespathError } from '../../../lib/receive/providers/generic';
import { jmespathShapeError } from '../../../lib/receive/providers/jmespath-shape';
import { RequestFieldError } from '../../../lib/receive/providers/types';
import { triggerCreateSchema } from '../../../lib/trigger';
import { edited, fixture, request } from '../../helpers/fixtures';
import { hmacHex } from '../../helpers/hmac';
import { zodPath } from '../../helpers/zod';

const SECRET = 'generic-s3cret';
const NOW = new Date();
// any CI system's JSON: a real Docker Hub push body read through a mapping
const HUB = 'dockerhub/push-docs-example.json';
const raw = fixture(HUB);
const hub = JSON.parse(raw);
const GITHUB = 'github/push-go-playground-binkkatal.json';

describe('generic: verify (Flux generic-hmac: X-Signature: <algo>=<hex HMAC of the raw body>)', () => {
  it.each([
    ['sha256', { 'X-Signature': `sha256=${hmacHex(SECRET, raw)}` }, [SECRET], true, undefined],
    ['sha1', { 'X-Signature': `sha1=${hmacHex(SECRET, raw, 'sha1')}` }, [SECRET], true, undefined],
    ['sha512', { 'X-Signature': `sha512=${hmacHex(SECRET, raw, 'sha512')}` }, [SECRET], true, undefined],
    [
      'upper-case hex and algorithm',
      { 'X-Signature': `SHA256=${hmacHex(SECRET, raw).toUpperCase()}` },
      [SECRET],
      true,
      undefined,
    ],
    [
      'the previous secret during rotation',
      { 'X-Signature': `sha256=${hmacHex(SECRET, raw)}` },
      ['new', SECRET],
      true,
      undefined,
    ],
    ['wrong secret', { 'X-Signature': `sha256=${hmacHex('other', raw)}` }, [SECRET], false, /does not match the body/],
    [
      'sha1 hex labelled sha256',
      { 'X-Signature': `sha256=${hmacHex(SECRET, raw, 'sha1')}` },
      [SECRET],
      false,
      /does not match the body/,
    ],
    [
      'no algorithm prefix',
      { 'X-Signature': hmacHex(SECRET, raw) },
      [SECRET],
      false,
      /must start with sha1=, sha256= or sha512=/,
    ],
    ['md5 is not accepted', { 'X-Signature': `md5=${hmacHex(SECRET, raw)}` }, [SECRET], false, /must start with/],
    ['missing header', {}, [SECRET], false, /^missing X-Signature header$/],
    [
      'a Bearer token is not a signature',
      { Authorization: `Bearer ${SECRET}` },
      [SECRET],
      false,
      /^missing X-Signature header$/,
    ],
  ])('%s', (_name, headers, secrets, ok, reason) => {
    const result = generic.verify(request(raw, headers as Record<string, string>), secrets, NOW);
    expect(result.ok).toBe(ok);
    if (!result.ok) {
      expect(result.reason).not.toContain(SECRET);
      if (reason) expect(result.reason).toMatch(reason);
    }
  });

  it('one changed byte fails', () => {
    const sig = `sha256=${hmacHex(SECRET, raw)}`;
    expect(generic.verify(request(raw.replace('testhook', 'testhoOk'), { 'X-Signature': sig }), [SECRET], NOW).ok).toBe(
      false,
    );
  });
});

describe('generic: mapping', () => {
  it('reads the image, tag and owner where the mapping says (a Docker Hub body)', () => {
    const mapping = { image: 'repository.repo_name', tag: 'push_data.tag' };
    const result = generic.parse(request(raw), { mapping });
    expect(result).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'generic',
          kind: 'image',
          action: 'push',
          deliveryId: undefined,
          registry: undefined,
          namespace: 'svendowideit',
          repository: 'testhook',
          repoFullName: 'svendowideit/testhook',
          tag: hub.push_data.tag,
          digest: undefined,
          image: `svendowideit/testhook:${hub.push_data.tag}`,
          branch: undefined,
          commit: undefined,
        },
      ],
    });
  });

  it('a full image reference carries the registry, tag and digest; mapped fields win', () => {
    const body = JSON.stringify({ build: { image: 'ghcr.io/team/web:1.2@sha256:abc', id: 'b-7' } });
    const result = generic.parse(request(body), { mapping: { image: 'build.image', deliveryId: 'build.id' } });
    expect(result.kind === 'events' && result.events[0]).toMatchObject({
      registry: 'ghcr.io',
      repoFullName: 'team/web',
      tag: '1.2',
      digest: 'sha256:abc',
      deliveryId: 'b-7',
    });
    const override = generic.parse(request(body), { mapping: { image: 'build.image', tag: "'1.3'" } });
    expect(override.kind === 'events' && override.events[0].tag).toBe('1.3');
  });

  it('a repository with a branch and commit (and no image) is a code push (a GitHub push body)', () => {
    const mapping = {
      repository: 'repository.full_name',
      branch: "trim_left(ref, 'refs/heads/')",
      commit: 'after',
      message: 'head_commit.message',
    };
    const body = JSON.parse(fixture(GITHUB));
    // trim_left is not a JMESPath function: the mapping is refused at creation, and on a body too
    expect(jmespathError(mapping.branch)).toMatch(/trim_left/i);
    const ok = { ...mapping, branch: "join('', [ref][?starts_with(@, 'refs/heads/')])" };
    expect(jmespathError(ok.branch)).toBeUndefined();
    const result = generic.parse(request(fixture(GITHUB)), { mapping: { ...ok, branch: 'repository.default_branch' } });
    expect(result).toMatchObject({
      kind: 'events',
      events: [
        {
          kind: 'code',
          action: 'push',
          repoFullName: body.repository.full_name,
          branch: body.repository.default_branch,
          commit: { id: body.after },
        },
      ],
    });
    expect(result.kind === 'events' && result.events[0].image).toBeUndefined();
  });

  it('without a mapping the top-level fields of the same names are read', () => {
    const body = JSON.stringify({ image: 'registry.example.com/team/api', tag: '2.0.1', action: 'push' });
    expect(generic.parse(request(body), {})).toMatchObject({
      kind: 'events',
      events: [{ image: 'registry.example.com/team/api:2.0.1' }],
    });
  });

  it('nothing found, a branch without repository, an unknown action: ignored with the reason', () => {
    expect(generic.parse(request('{"x": 1}'), {})).toEqual({
      kind: 'ignored',
      reason: 'the mapping found no image or repository in the body',
    });
    expect(generic.parse(request('{"branch": "main"}'), {})).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('no repository'),
    });
    expect(generic.parse(request('{"image": "a/b:1", "action": "explode"}'), {})).toMatchObject({
      kind: 'ignored',
      reason: expect.stringMatching(/^mapped action "explode" is not one of push/),
    });
    const deleted = generic.parse(request('{"image": "a/b:1", "action": "delete"}'), {});
    expect(deleted.kind === 'events' && deleted.events[0].action).toBe('delete');
  });

  it('an expression that fails on this body is ignored with the field', () => {
    const result = generic.parse(request(raw), {
      mapping: { image: 'repository.repo_name', tag: 'abs(repository.repo_name)' },
    });
    expect(result).toEqual({
      kind: 'ignored',
      reason: expect.stringMatching(/^mapping\.tag could not be evaluated on this body/),
    });
  });
});

describe('generic: the mapping is validated at creation', () => {
  const base = { name: 'ci', provider: 'generic', target: { type: 'http', url: 'https://deploy.example.com/hook' } };
  it('compiling expressions pass', () => {
    const parsed = triggerCreateSchema.parse({
      ...base,
      mapping: { image: 'build.image', tag: 'tags[0]', commit: 'git.sha' },
    });
    expect(parsed.mapping).toEqual({ image: 'build.image', tag: 'tags[0]', commit: 'git.sha' });
  });

  it.each([
    [{ image: 'build.' }, ['mapping', 'image']],
    [{ tag: 'tags[' }, ['mapping', 'tag']],
    [{ image: 'nope_fn(a)' }, ['mapping', 'image']],
    [{ image: 'a', imagee: 'b' }, ['mapping']],
    [{}, ['mapping']],
  ])('%j is a 400 naming %j', (mapping, path) => {
    expect(zodPath(() => triggerCreateSchema.parse({ ...base, mapping }))).toEqual(path);
  });

  it('a mapping on another provider is refused', () => {
    expect(zodPath(() => triggerCreateSchema.parse({ ...base, provider: 'github', mapping: { image: 'a' } }))).toEqual([
      'mapping',
    ]);
  });

  it('the schema is the one the provider reads', () => {
    expect(genericMappingSchema.safeParse({ branch: 'ref' }).success).toBe(true);
    expect(edited(HUB, () => {})).toBe(JSON.stringify(hub));
  });
});

describe('generic: the cost of a mapping is bounded', () => {
  // each `[@,@][]` doubles the work: 2^20 evaluations on a 21-byte body
  const doubling = (k: number) => `@${'.[@,@][]'.repeat(k)}`;
  const base = { name: 'ci', provider: 'generic', target: { type: 'http', url: 'https://deploy.example.com/hook' } };

  it('an expression whose multiselects multiply the work is refused at creation, naming the field', () => {
    expect(zodPath(() => triggerCreateSchema.parse({ ...base, mapping: { image: doubling(20) } }))).toEqual([
      'mapping',
      'image',
    ]);
    const r = triggerCreateSchema.safeParse({ ...base, mapping: { tag: doubling(4) } });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('multiply the work by more than 8');
  });

  it('too many projections and functions nested too deep are refused too', () => {
    expect(jmespathShapeError('a[*].b[*].c[*].d[*].e[*].f[*].g[*].h[*].i[*]')).toMatch(/9 projections/);
    expect(jmespathShapeError('to_string(to_string(to_string(to_string(@))))')).toMatch(/nested 4 deep/);
    expect(jmespathShapeError('{a: {b: @, c: @}, d: {e: @, f: @}, g: @}')).toMatch(/multiply the work/);
  });

  it('ordinary mappings fit, and brackets inside literals do not count', () => {
    for (const ok of [
      'build.image',
      "join(':', [build.repo, build.tag])",
      "images[?name=='web'] | [0].tag",
      'tags[-1]',
      'items[1:3][0]',
      'to_string(length(@))',
      "join(',', ['[a,b,c,d,e,f,g,h,i]', `[1,2,3,4,5,6,7,8,9]`, \"[x,y]\"])",
      'a.*.b',
    ]) {
      expect({ ok, error: jmespathShapeError(ok) }).toEqual({ ok, error: undefined });
      expect({ ok, error: jmespathError(ok) }).toEqual({ ok, error: undefined });
    }
  });

  it('a stored trigger whose mapping is over the bound is refused on the body without evaluating it (400 naming mapping)', () => {
    let thrown: unknown;
    try {
      generic.parse(request('{"a": "x"}'), { mapping: { image: doubling(20) } });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(RequestFieldError);
    expect(thrown).toMatchObject({
      field: 'mapping.image',
      message: expect.stringMatching(/^mapping\.image is refused: its multiselects/),
    });
  });
});
