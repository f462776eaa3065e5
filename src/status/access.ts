/**
 * Who may talk to the status server (docs/security.md).
 *
 * - The bearer token: `Authorization: Bearer <API_TOKEN>`, the scheme matched case-insensitively
 *   (RFC 9110: auth schemes are case-insensitive, so `bearer` works). The token is compared as a
 *   SHA-256 digest in constant time: the comparison takes the same time for every wrong token,
 *   whatever its length or how much of it is right.
 * - The Host header (DNS rebinding): a web page on another site can make the office's browser
 *   send requests to 127.0.0.1 under the attacker's own host name. Answering only Host names
 *   that are loopback, an IP address, the bound address, or a name in `status.allowedHosts` turns those away
 *   with 421 Misdirected Request before any route runs.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { isLoopbackHost } from '../config/settings';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** A check of `Authorization` header values against one token. */
export function bearerTokenCheck(token: string): (header: string | undefined) => boolean {
  const expected = digest(token);
  return (header) => {
    const m = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
    // A missing or malformed header is still compared, so it costs what a wrong token costs.
    return timingSafeEqual(digest(m ? m[1]! : '\u0000'), expected) && m !== null;
  };
}

/** The host name of a Host header value: port dropped, brackets of an IPv6 literal removed, lower case. */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(1, end);
  }
  const colon = h.indexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

/**
 * A check of Host header values: loopback names and addresses, the address the server is bound
 * to (unless it is a wildcard: 0.0.0.0 and :: name no host), `allowed` (lower case), and any IP
 * literal: rebinding needs a DNS name (a page whose origin is an IP address is that address
 * itself), so an office reaching the server by its LAN address needs no setting.
 */
export function hostCheck(boundHost: string, allowed: readonly string[]): (header: string | undefined) => boolean {
  const names = new Set(allowed.map((h) => h.toLowerCase()));
  const bound = hostName(boundHost.includes(':') && !boundHost.startsWith('[') ? `[${boundHost}]` : boundHost);
  if (bound !== '0.0.0.0' && bound !== '::') names.add(bound);
  return (header) => {
    if (header === undefined || header === '') return false;
    const name = hostName(header);
    return isLoopbackHost(name) || names.has(name) || isIP(name) !== 0;
  };
}
