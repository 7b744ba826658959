import type { LookupAddress } from 'node:dns';
import {
  checkHostAtCreation,
  checkLiteralHost,
  checkOutboundUrlAtCreation,
  checkUrlStatic,
  guardedLookup,
  isOutboundRefused,
  isPublicAddress,
  refusedAddressReason,
  type ResolveAll,
} from '../../lib/core/outbound';

describe('outbound: static URL rules (scheme, port, userinfo)', () => {
  it.each([
    ['http://deploy.example.com:8080/hook', true],
    ['http://deploy.example.com/hook', true],
    ['http://deploy.example.com:80/', true],
    ['http://deploy.example.com:21/', true],
    ['http://deploy.example.com:443/', true],
    ['http://deploy.example.com:777/', true],
    ['http://deploy.example.com:1025/', true],
    ['http://deploy.example.com:65535/', true],
    ['http://deploy.example.com:22/', false],
    ['http://deploy.example.com:1024/', false],
    ['http://deploy.example.com:8/', false],
    ['https://deploy.example.com/hook', true],
    ['https://deploy.example.com:443/hook', true],
    ['https://deploy.example.com:8443/hook', false],
    ['https://deploy.example.com:80/', false],
    ['ftp://deploy.example.com/', false],
    ['file:///etc/passwd', false],
    ['gopher://deploy.example.com:70/', false],
    ['http://user:S3cr3tPw@deploy.example.com/', false],
    ['http://S3cr3tTok@deploy.example.com/', false],
    ['not a url', false],
  ])('%s → allowed %s', (url, allowed) => {
    const reason = checkUrlStatic(url);
    expect(reason === undefined).toBe(allowed);
    if (reason) expect(reason).not.toMatch(/S3cr3t/);
  });
});

describe('outbound: address classification', () => {
  it.each([
    '10.0.0.1',
    '172.16.0.1',
    '192.168.1.1',
    '127.0.0.1',
    '127.1.2.3',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '255.255.255.255',
    '224.0.0.1',
    '240.0.0.1',
    '192.0.2.1',
    '::1',
    '::',
    'fd00:ec2::254',
    'fc00::1',
    'fe80::1',
    'fe80::1%eth0',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '::7f00:1',
    '64:ff9b::a00:1',
    '2002:a00:1::',
    '[::1]',
    'localhost',
  ])('%s is refused', (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
    expect(refusedAddressReason(ip)).toContain(ip);
  });
  it.each(['8.8.8.8', '1.1.1.1', '2606:4700::1', '::ffff:8.8.8.8'])('%s is allowed', (ip) => {
    expect(refusedAddressReason(ip)).toBeUndefined();
    expect(isPublicAddress(ip)).toBe(true);
  });
  it('names the range', () => {
    expect(refusedAddressReason('127.0.0.1')).toBe('127.0.0.1 is loopback');
    expect(refusedAddressReason('10.0.0.1')).toBe('10.0.0.1 is private');
    expect(refusedAddressReason('169.254.169.254')).toBe('169.254.169.254 is linkLocal');
    expect(refusedAddressReason('fd00:ec2::254')).toBe('fd00:ec2::254 is uniqueLocal');
  });
});

describe('outbound: IP-literal hosts (Node does not call lookup for them)', () => {
  it.each([
    ['http://127.0.0.1:8080/', false],
    ['http://[::1]:8080/', false],
    ['http://[::ffff:7f00:1]:8080/', false],
    ['http://2130706433:8080/', false], // WHATWG normalizes to 127.0.0.1
    ['http://0x7f.1:8080/', false],
    ['http://169.254.169.254/latest/meta-data', false],
    ['http://8.8.8.8:8080/', true],
    ['http://[2606:4700::1]:8080/', true],
    ['http://deploy.example.com:8080/', true], // hostnames are left to the lookup
  ])('%s → allowed %s', (url, allowed) => {
    expect(checkLiteralHost(url, false) === undefined).toBe(allowed);
    expect(checkLiteralHost(url, true)).toBeUndefined();
  });
});

describe('outbound: guardedLookup', () => {
  const fake =
    (addresses: LookupAddress[]): ResolveAll =>
    (_host, options, cb) => {
      expect(options.all).toBe(true);
      cb(null, addresses);
    };
  const run = (lookup: ReturnType<typeof guardedLookup>, host: string, all: boolean) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family?: number }>((resolve) =>
      lookup(host, { all }, (err, address, family) => resolve({ err, address, family })),
    );

  it('refuses when ANY resolved address is private', async () => {
    const lookup = guardedLookup(
      false,
      fake([
        { address: '8.8.8.8', family: 4 },
        { address: '10.0.0.1', family: 4 },
      ]),
    );
    for (const all of [true, false]) {
      const r = await run(lookup, 'rebind.example', all);
      expect(isOutboundRefused(r.err)).toBe(true);
      expect(r.err?.message).toContain('10.0.0.1 is private');
    }
  });
  it('answers in the shape Node asked for when every address is public', async () => {
    const addrs = [
      { address: '2606:4700::1', family: 6 },
      { address: '8.8.8.8', family: 4 },
    ];
    const lookup = guardedLookup(false, fake(addrs));
    expect(await run(lookup, 'ok.example', true)).toEqual({ err: null, address: addrs, family: undefined });
    expect(await run(lookup, 'ok.example', false)).toEqual({ err: null, address: '2606:4700::1', family: 6 });
  });
  it('allows private addresses when allowPrivate', async () => {
    const lookup = guardedLookup(true, fake([{ address: '10.0.0.1', family: 4 }]));
    expect((await run(lookup, 'internal.example', false)).address).toBe('10.0.0.1');
  });
  it('passes resolver errors through (not as a refusal)', async () => {
    const lookup = guardedLookup(false, (_h, _o, cb) => {
      const e: NodeJS.ErrnoException = new Error('getaddrinfo ENOTFOUND nx.example');
      e.code = 'ENOTFOUND';
      cb(e, []);
    });
    const r = await run(lookup, 'nx.example', true);
    expect(r.err?.code).toBe('ENOTFOUND');
    expect(isOutboundRefused(r.err)).toBe(false);
  });
  it('refuses the real "localhost" with the system resolver', async () => {
    const r = await run(guardedLookup(false), 'localhost', true);
    expect(isOutboundRefused(r.err)).toBe(true);
    expect(r.err?.message).toMatch(/loopback/);
  });
});

describe('outbound: creation-time URL check (checkOutboundUrlAtCreation)', () => {
  // every notation of a non-public address the URL parser accepts, and the names that are always loopback
  it.each([
    ['http://169.254.169.254/', /169\.254\.169\.254 is linkLocal/],
    ['http://127.0.0.1/', /127\.0\.0\.1 is loopback/],
    ['http://127.0.0.1.:8080/', /loopback/],
    ['http://2852039166/', /169\.254\.169\.254 is linkLocal/],
    ['http://0xa9fea9fe/', /169\.254\.169\.254 is linkLocal/],
    ['http://0x7f.1/', /127\.0\.0\.1 is loopback/],
    ['http://0177.0.0.1/', /127\.0\.0\.1 is loopback/],
    ['http://017700000001/', /127\.0\.0\.1 is loopback/],
    ['http://127.1/', /127\.0\.0\.1 is loopback/],
    ['http://%31%32%37.0.0.1/', /loopback/],
    ['http://0/', /0\.0\.0\.0 is unspecified/],
    ['http://10.1.2.3/', /private/],
    ['http://172.16.0.1/', /private/],
    ['http://192.168.1.1/', /private/],
    ['http://100.64.0.1/', /carrierGradeNat/],
    ['http://[::1]/', /loopback/],
    ['http://[0:0:0:0:0:0:0:1]/', /loopback/],
    ['http://[::]/', /unspecified/],
    ['http://[::ffff:169.254.169.254]/', /::ffff:a9fe:a9fe is linkLocal/],
    ['http://[::ffff:7f00:1]/', /loopback/],
    ['http://[::127.0.0.1]/', /IPv4-compatible/],
    ['http://[64:ff9b::a9fe:a9fe]/', /rfc6052/],
    ['http://[64:ff9b:1::7f00:1]/', /rfc6052/],
    ['http://[fe80::1]/', /linkLocal/],
    ['http://[fd00:ec2::254]/', /uniqueLocal/],
    ['http://[fc00::1]/', /uniqueLocal/],
    ['http://[2002:a9fe:a9fe::1]/', /6to4/],
    ['http://localhost/', /localhost is loopback/],
    ['http://LOCALHOST:8080/', /localhost is loopback/],
    ['http://localhost./', /loopback/],
    ['http://deploy.localhost/', /deploy\.localhost is loopback/],
    ['https://a.b.localhost/', /loopback/],
  ])('%s is refused when private targets are not allowed', (url, reason) => {
    expect(checkOutboundUrlAtCreation(url, false)).toMatch(reason);
    // ... and accepted when they are (the local default)
    expect(checkOutboundUrlAtCreation(url, true)).toBeUndefined();
  });

  it.each([
    'https://deploy.example.com/hook',
    'http://deploy.example.com:8080/hook',
    'http://93.184.215.14/',
    'http://[2606:4700::1111]/',
    'https://localhost.example.com/',
    'https://mylocalhost/',
  ])('%s is accepted', (url) => {
    expect(checkOutboundUrlAtCreation(url, false)).toBeUndefined();
  });

  it('applies the static rules whatever the address setting', () => {
    expect(checkOutboundUrlAtCreation('ftp://deploy.example.com/', true)).toMatch(/scheme ftp/);
    expect(checkOutboundUrlAtCreation('http://deploy.example.com:22/', true)).toMatch(/port 22/);
    expect(checkOutboundUrlAtCreation('http://u:S3cr3t@deploy.example.com/', false)).toMatch(/credentials/);
    expect(checkOutboundUrlAtCreation('not a url', false)).toBe('not a valid URL');
  });

  it('never repeats the URL (it may carry a token)', () => {
    const reason = checkOutboundUrlAtCreation('http://127.0.0.1/hook?token=S3cr3tTok', false);
    expect(reason).toBeDefined();
    expect(reason).not.toContain('S3cr3tTok');
  });

  it('checkHostAtCreation leaves ports and schemes to the caller (Kubernetes API servers use 6443)', () => {
    expect(checkHostAtCreation('https://k8s.example.com:6443', false)).toBeUndefined();
    expect(checkHostAtCreation('https://10.0.0.1:6443', false)).toMatch(/private/);
    expect(checkHostAtCreation('https://10.0.0.1:6443', true)).toBeUndefined();
  });
});
