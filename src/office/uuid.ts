/** Name-based UUIDs (RFC 9562 version 5, SHA-1): the same name always gives the same guid. */
import { createHash } from 'node:crypto';

function uuidBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new RangeError('not a UUID');
  return Buffer.from(hex, 'hex');
}

function format(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function uuidV5(name: string, namespace: string): string {
  const hash = createHash('sha1').update(uuidBytes(namespace)).update(name, 'utf8').digest();
  const bytes = Buffer.from(hash.subarray(0, 16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x50; // version 5
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC variant
  return format(bytes);
}

/** The namespace of the automatic HELP replies' guids (a fixed random UUID). */
export const HELP_REPLY_NAMESPACE = '3c1f5a0e-8d2b-4e57-9a61-0f4b7c2d9e13';

/** The guid of the automatic reply to the HELP/INFO message `inboundId`: one reply per inbound message, whatever happens. */
export function helpReplyGuid(inboundId: string): string {
  return uuidV5(`help-reply:${inboundId}`, HELP_REPLY_NAMESPACE);
}

/** The guid of the confirmation of the STOP message `inboundId`: one per STOP, whatever happens. */
export function stopConfirmationGuid(inboundId: string): string {
  return uuidV5(`stop-confirmation:${inboundId}`, HELP_REPLY_NAMESPACE);
}

/** The guid of the confirmation of the START (UNSTOP, OPTIN, YES) message `inboundId`. */
export function startConfirmationGuid(inboundId: string): string {
  return uuidV5(`start-confirmation:${inboundId}`, HELP_REPLY_NAMESPACE);
}
