/**
 * Zod schemas of what the status server answers, for its OpenAPI document (document.ts). The
 * requests' schemas are the ones the routes validate with (imported from the route modules);
 * these describe the answers, and a test validates the docs' examples against them.
 */
import { z } from 'zod';

const usd = z.string().regex(/^\d+(\.\d{1,6})?$/).describe('US dollars as a decimal string, exact to the micro-dollar');
const isoTime = z.string().describe('ISO 8601 instant in UTC with milliseconds');
const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/).describe("'YYYY-MM' in OFFICE_TZ");

export const ErrorBody = z
  .object({
    error: z.string().describe('a stable code: invalid_request, unauthorized, api_token_not_set, not_found, ...'),
    message: z.string().optional().describe('one line for a person; never quotes a phone number or a text'),
    field: z.string().nullable().optional().describe('the request field that was refused'),
  })
  .describe('An error answer');

const ClinicUsage = z.object({
  clinicId: z.number().int().positive(),
  name: z.string().nullable(),
  isDefault: z.boolean(),
  subscribed: z.boolean(),
  primaryPhone: z.string().nullable(),
  countryCode: z.string().nullable(),
  sentCount: z.number().int().min(0),
  sentChargesUsd: usd,
  receivedCount: z.number().int().min(0),
  receivedChargesUsd: usd,
  unreadCount: z.number().int().min(0).optional(),
});

export const StatusDocumentSchema = z.object({
  month,
  timezone: z.string(),
  limitUsd: usd.nullable(),
  overLimit: z.boolean(),
  defaultClinicId: z.number().int().positive().nullable(),
  totals: z.object({
    sentCount: z.number().int().min(0),
    sentChargesUsd: usd,
    receivedCount: z.number().int().min(0),
    receivedChargesUsd: usd,
    chargesUsd: usd,
    unreadCount: z.number().int().min(0).optional(),
  }),
  clinics: z.array(ClinicUsage),
  econnector: z.object({
    lastReceiptsPollAt: isoTime.nullable(),
    lastInboundPollAt: isoTime.nullable(),
    lastAccountSyncAt: isoTime.nullable(),
    aggregatesComputedAt: isoTime.nullable(),
    quarantined: z.number().int().min(0),
    catchingUp: z.boolean().optional().describe('true while HQ answers `more` (a backlog is draining)'),
    itemsPerSecond: z.number().int().min(0).optional().describe('items a second recorded while catching up; 0 otherwise'),
  }),
});

export const UsageHistorySchema = z.object({
  timezone: z.string(),
  limitUsd: usd.nullable().describe("today's monthly limit, for all locations together"),
  months: z.array(
    z.object({
      month,
      sentCount: z.number().int().min(0),
      sentChargesUsd: usd,
      receivedCount: z.number().int().min(0),
      receivedChargesUsd: usd,
      chargesUsd: usd,
      overLimit: z.boolean(),
    }),
  ),
});

const Check = z.object({
  status: z.enum(['pass', 'warn', 'fail']),
  observedValue: z.unknown().optional(),
  observedUnit: z.string().optional(),
  output: z.string().optional(),
  time: isoTime,
});

export const HealthDocument = z
  .object({ status: z.enum(['pass', 'warn', 'fail']), checks: z.record(z.string(), z.array(Check)).optional() })
  .describe('application/health+json');
