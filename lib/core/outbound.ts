/**
 * Outbound URL rules for deploy targets that call user-given URLs (modelled on Alibaba ACR's trigger rules).
 *
 * Static rules (checked when a trigger is created, and again on the rendered URL before every send):
 * - scheme http or https only; no userinfo (`user:pass@`) in the URL;
 * - http on ports 80, 21, 443, 70, 210, 280, 488, 591, 777 or 1025-65535; https on 443 only.
 *
 * Address rules (unless private targets are allowed, i.e. ALLOW_PRIVATE_TARGETS): the address actually connected
 * to must be public unicast. Classification uses ipaddr.js `range()` and refuses everything that is not
 * `unicast`, which covers (IPv4) unspecified 0/8, private 10/8 172.16/12 192.168/16, loopback 127/8, link-local
 * 169.254/16 (including the cloud metadata address 169.254.169.254), carrier-grade NAT 100.64/10, multicast
 * 224/4, broadcast, reserved/documentation/benchmarking 192.0.0/24 192.0.2/24 198.18/15 198.51.100/24
 * 203.0.113/24 240/4, AS112 and AMT; (IPv6) ::, ::1, link-local fe80::/10, unique-local fc00::/7 (including the
 * AWS metadata address fd00:ec2::254), multicast ff00::/8, site-local fec0::/10, discard 100::/64, NAT64
 * 64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32, ORCHID, documentation 2001:db8::/32, 3fff::/20, 5f00::/16 and
 * the rest of ipaddr.js's special ranges. IPv4-mapped IPv6 (::ffff:a.b.c.d) is classified as its IPv4 address;
 * deprecated IPv4-compatible IPv6 (::a.b.c.d) is refused outright.
 *
 * Creation-time rules (`checkOutboundUrlAtCreation`, used by the target schemas and for notification URLs): the
 * static rules, plus, unless private targets are allowed, the address rules on a host that is an IP literal in
 * any notation (WHATWG URL parsing turns decimal `2852039166`, octal `0177.0.0.1`, hex `0x7f.1`, short `127.1`,
 * `[::ffff:169.254.169.254]` ... into the canonical address first) and the names `localhost` / `*.localhost`
 * (RFC 6761: always loopback). A hostname is resolved only when used: the send-time rules stay the real guard.
 *
 * The address rules run at connect time: `guardedLookup` is given to node:http(s).request as `lookup`, so the
 * address checked is the address connected to (no DNS-rebinding window between check and use). Node does not
 * call `lookup` for IP-literal hosts, so callers must also run `checkLiteralHost` before sending.
 */
import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/** Ports plain http may use besides 1025-65535. */
export const HTTP_LOW_PORTS: readonly number[] = [80, 21, 443, 70, 210, 280, 488, 591, 777];
/** The only port https may use. */
export const HTTPS_PORTS: readonly number[] = [443];

/** Error code carried by errors from `guardedLookup` when an address is refused. */
export const OUTBOUND_REFUSED = 'ERR_OUTBOUND_REFUSED';

export class OutboundRefusedError extends Error {
  readonly code = OUTBOUND_REFUSED;
  constructor(message: string) {
    super(message);
    this.name = 'OutboundRefusedError';
  }
}

export function isOutboundRefused(err: unknown): err is OutboundRefusedError {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === OUTBOUND_REFUSED;
}

function parseUrl(url: string | URL): URL | undefined {
  if (url instanceof URL) return url;
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/** The effective port of an http(s) URL (URL.port is '' for the scheme's default). */
export function effectivePort(u: URL): number {
  if (u.port) return Number(u.port);
  return u.protocol === 'https:' ? 443 : 80;
}

/** URL.hostname without the brackets of an IPv6 literal. */
export function bareHostname(u: URL): string {
  const h = u.hostname;
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/**
 * The static rules: scheme, port, userinfo, host present. Returns the reason the URL is refused, or undefined.
 * Reasons never contain the URL itself (it may carry a token in its query).
 */
export function checkUrlStatic(url: string | URL): string | undefined {
  const u = parseUrl(url);
  if (!u) return 'not a valid URL';
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    return `scheme ${u.protocol.replace(/:$/, '')} is not allowed (http or https only)`;
  }
  if (u.username || u.password) return 'credentials (user:password@) are not allowed in the URL';
  if (!u.hostname) return 'the URL has no host';
  const port = effectivePort(u);
  if (u.protocol === 'https:') {
    if (!HTTPS_PORTS.includes(port)) return `https port ${port} is not allowed (443 only)`;
  } else if (!(HTTP_LOW_PORTS.includes(port) || (port >= 1025 && port <= 65535))) {
    return `http port ${port} is not allowed (80, 21, 443, 70, 210, 280, 488, 591, 777 or 1025-65535)`;
  }
  return undefined;
}

/**
 * Classifies one IP address. Returns why it is refused as a deploy target (e.g. "127.0.0.1 is loopback"),
 * or undefined when it is public unicast. Anything that is not an IP address is refused.
 */
export function refusedAddressReason(address: string): string | undefined {
  let bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  // a zone id (fe80::1%eth0) never makes a link-local address acceptable; classify without it
  const pct = bare.indexOf('%');
  if (pct >= 0) bare = bare.slice(0, pct);
  if (net.isIP(bare) === 0 || !ipaddr.isValid(bare)) return `${address} is not an IP address`;
  let addr = ipaddr.parse(bare);
  if (addr.kind() === 'ipv6') {
    const v6 = addr as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) {
      addr = v6.toIPv4Address();
    } else if (v6.parts.slice(0, 6).every((p) => p === 0) && v6.range() === 'unicast') {
      // ::a.b.c.d (deprecated IPv4-compatible); :: and ::1 are classified as unspecified/loopback already
      return `${address} is an IPv4-compatible IPv6 address`;
    }
  }
  const range = addr.range();
  if (range === 'unicast') return undefined;
  return `${address} is ${range}`;
}

/** True when `address` may be connected to without ALLOW_PRIVATE_TARGETS. */
export function isPublicAddress(address: string): boolean {
  return refusedAddressReason(address) === undefined;
}

/**
 * For a URL whose host is an IP literal (Node skips `lookup` for those): the reason it is refused, or undefined.
 * Hostnames are left to `guardedLookup`.
 */
export function checkLiteralHost(url: string | URL, allowPrivate: boolean): string | undefined {
  const u = parseUrl(url);
  if (!u) return 'not a valid URL';
  const host = bareHostname(u);
  if (net.isIP(host) === 0) return undefined;
  if (allowPrivate) return undefined;
  const reason = refusedAddressReason(host);
  return reason ? `address ${reason} (private targets are not allowed)` : undefined;
}

/** dns.lookup with all:true, injectable for tests. */
export type ResolveAll = (
  hostname: string,
  options: dns.LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

const defaultResolve: ResolveAll = (hostname, options, callback) => dns.lookup(hostname, options, callback);

/**
 * A `lookup` for node:net / node:http(s).request: resolves every address of the host, refuses the connection
 * (error code ERR_OUTBOUND_REFUSED) if ANY of them is not public unicast, else answers in the shape Node asked
 * for (`all: true` → the list; otherwise the first address). With `allowPrivate` nothing is refused.
 */
export function guardedLookup(allowPrivate: boolean, resolve: ResolveAll = defaultResolve): net.LookupFunction {
  return (hostname, options, callback) => {
    const opts: dns.LookupAllOptions = { ...(options ?? {}), all: true };
    resolve(hostname, opts, (err, addresses) => {
      if (err) return callback(err, options?.all ? [] : '', undefined);
      if (!addresses || addresses.length === 0) {
        const e: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
        e.code = 'ENOTFOUND';
        return callback(e, options?.all ? [] : '', undefined);
      }
      if (!allowPrivate) {
        for (const a of addresses) {
          const reason = refusedAddressReason(a.address);
          if (reason) {
            return callback(
              new OutboundRefusedError(`${hostname} resolves to ${reason} (private targets are not allowed)`),
              options?.all ? [] : '',
              undefined,
            );
          }
        }
      }
      if (options?.all) return callback(null, addresses);
      return callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/** `localhost`, `*.localhost` (RFC 6761 reserves them for loopback), with or without the trailing dot. */
export function isLocalhostName(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.+$/, '');
  return h === 'localhost' || h.endsWith('.localhost');
}

/**
 * The host rules that can be decided without DNS: for an IP-literal host (any notation the URL parser accepts)
 * the address rules, for `localhost` / `*.localhost` a refusal. Nothing is refused when `allowPrivate` is true.
 */
export function checkHostAtCreation(url: string | URL, allowPrivate: boolean): string | undefined {
  if (allowPrivate) return undefined;
  const u = parseUrl(url);
  if (!u) return 'not a valid URL';
  if (isLocalhostName(u.hostname)) return `host ${u.hostname} is loopback (private targets are not allowed)`;
  return checkLiteralHost(u, false);
}

/**
 * What a trigger's target URL (or a notification URL) must pass when it is created or changed: the static rules
 * (scheme, port, no userinfo) and, unless private targets are allowed, no loopback, private, link-local,
 * unique-local, CGNAT, metadata or other non-public literal address, and no `localhost`. Returns the reason it is
 * refused (never containing the URL), or undefined. Hostnames are checked again on the resolved address at send
 * time (`guardedLookup`).
 */
export function checkOutboundUrlAtCreation(url: string | URL, allowPrivate: boolean): string | undefined {
  return checkUrlStatic(url) ?? checkHostAtCreation(url, allowPrivate);
}
