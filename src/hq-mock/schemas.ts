/**
 * Request shapes for the mock's endpoints (zod). /v1 shapes follow docs/hq-api.md; /sim shapes
 * are the mock's own and strict, so a typo in a test's request is a 400 rather than silently ignored.
 */
import { z } from 'zod';
import { isUsdString } from '../money';
import { UUID_PATTERN } from './ids';
import { isValidZone } from './months';
import { RECEIPT_STATUSES } from './records';

export const E164 = /^\+[1-9]\d{1,14}$/;
export const MAX_ACK_IDS = 1000;

const usd = z.string().refine(isUsdString, 'must be a USD amount like "0.0079"');
const iso = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 timestamp');
const count = (max: number) => z.number().int().min(0).max(max);

export const PostMessageBody = z.object({
  guid: z.string().regex(UUID_PATTERN, 'must be a UUID'),
  clinicId: z.number().int().positive(),
  toPhone: z.string().regex(E164, 'must be an E.164 phone number'),
  body: z.string().min(1).max(1600),
});

export const ReceiptAckBody = z.object({ receiptIds: z.array(z.string()).max(MAX_ACK_IDS) });
export const InboundAckBody = z.object({ inboundIds: z.array(z.string()).max(MAX_ACK_IDS) });

export const ClinicSchema = z
  .object({
    clinicId: z.number().int().positive(),
    name: z.string().min(1),
    subscribed: z.boolean(),
    primaryPhone: z.string().regex(E164),
    countryCode: z.string().regex(/^[A-Z]{2}$/),
  })
  .strict();

export const SimAdvanceBody = z.object({ ms: z.number().finite().min(0) }).strict();

export const SimConfigBody = z
  .object({
    leaseMs: z.number().int().min(1).max(7 * 86_400_000).optional(),
    receiptDelayMs: z.number().int().min(0).optional(),
    /** How long after the first receipt a second one (e.g. `delivered` after `delivery_unconfirmed`) comes. */
    secondReceiptDelayMs: z.number().int().min(0).optional(),
    monthlyLimitUsd: usd.optional(),
    clinics: z
      .array(ClinicSchema)
      .refine((cs) => new Set(cs.map((c) => c.clinicId)).size === cs.length, 'clinicIds must be unique')
      .optional(),
    /** Zone in which the monthly limit's month is counted (default UTC). */
    timezone: z.string().refine(isValidZone, 'must be an IANA time zone').optional(),
    outcomes: z
      .object({
        delivered: z.number().min(0),
        unconfirmedThenDelivered: z.number().min(0),
        tie: z.number().min(0),
        failedWithCharge: z.number().min(0),
        failedNoCharge: z.number().min(0),
      })
      .partial()
      .strict()
      .optional(),
    pricesUsd: z.record(z.string().regex(/^[A-Z]{2}$/), usd).optional(),
  })
  .strict();
export type SimConfigPatch = z.infer<typeof SimConfigBody>;

export const SimTrafficBody = z
  .object({
    messages: count(5_000_000).optional(),
    inbound: count(2_000_000).optional(),
    from: iso.optional(),
    to: iso.optional(),
    seed: z.number().int().optional(),
    malformed: count(100_000).optional(),
    extraFieldRate: z.number().min(0).max(1).optional(),
  })
  .strict();

const rate = z.number().min(0).max(1).optional();
export const SimFaultsBody = z
  .object({
    rates: z
      .object({
        http500: rate,
        http503: rate,
        http429: rate,
        truncatedJson: rate,
        hang: rate,
        reset: rate,
        lostAck: rate,
        ackResponseLost: rate,
      })
      .strict()
      .optional(),
    retryAfterSeconds: z.number().int().min(0).max(3600).optional(),
    hangMs: z.number().int().min(0).max(600_000).optional(),
    outageMs: z.number().int().min(0).max(3_600_000).optional(),
    seed: z.number().int().optional(),
  })
  .strict();
export type SimFaults = z.infer<typeof SimFaultsBody>;

export const SimMessageBody = z
  .object({
    /** An existing guid (one the office POSTed, or injected before) adds receipts to that message. */
    guid: z.string().regex(UUID_PATTERN).optional(),
    clinicId: z.number().int().positive().optional(),
    countryCode: z.string().regex(/^[A-Z]{2}$/).optional(),
    segments: z.number().int().min(1).max(20).optional(),
    sentAt: iso.optional(),
    receipts: z
      .array(z.object({ status: z.enum(RECEIPT_STATUSES), chargeUsd: usd.optional(), statusAt: iso.optional() }).strict())
      .min(1)
      .max(20),
  })
  .strict();
export type SimMessage = z.infer<typeof SimMessageBody>;

export const SimInboundBody = z
  .object({
    clinicId: z.number().int().positive(),
    fromPhone: z.string().regex(E164),
    toPhone: z.string().regex(E164).optional(),
    body: z.string().min(1).max(1600),
    receivedAt: iso.optional(),
    chargeUsd: usd.optional(),
  })
  .strict();
export type SimInbound = z.infer<typeof SimInboundBody>;

/** One short line naming the first problem: enough for a 400 body, never echoing the input. */
export function describeIssue(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid request';
  const where = issue.path.length ? issue.path.join('.') : 'body';
  return `${where}: ${issue.message}`;
}
