/**
 * Zod schemas of what the status server answers, for its OpenAPI document (document.ts). The
 * requests' schemas are the ones the routes validate with (imported from the route modules);
 * these describe the answers, and a test validates the docs' examples against them.
 */
import { z } from 'zod';
import { COMMLOG_KINDS, type CommlogRow } from '../../db/commlog';
import type {
  BlockedJson, ConversationJson, ConversationsPage, PatientMatch, ReceivedInThreadJson, SentInThreadJson, ThreadDocument, UnreadDocument,
} from '../../office/conversation-document';
import type { OptinRequestResult } from '../../office/optin';
import { OPTIN_STATUSES } from '../../office/optin-status';
import type { PatientView } from '../../office/patient-view';
import type { MessageStatus, SentMessage } from '../../office/send';
import type { OptinSettings } from '../../office/settings';

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

// ---------------------------------------------------------------------------------------------
// The office API's answers. Each schema is checked at compile time against the type the route
// returns (schemaOf), so the document cannot say one thing while the server sends another.

/**
 * `schema`, accepted only when its output type and `T` are assignable both ways: a field added,
 * dropped or retyped on one side and not the other fails the build.
 */
const schemaOf = <T>() => <S extends z.ZodType<T>>(schema: S & ([T] extends [z.output<S>] ? unknown : never)): S => schema;

const phone = z.string().regex(/^\+[1-9]\d{6,14}$/).describe('E.164');
const dbId = z.number().int().positive();
const count = z.number().int().min(0);

const ConversationSchema = schemaOf<ConversationJson>()(z.object({
  phone,
  patientId: dbId.nullable(),
  patientName: z.string().nullable(),
  clinicId: dbId,
  lastAt: isoTime,
  lastDirection: z.enum(['in', 'out']),
  lastBody: z.string().nullable(),
  unread: count,
  blocked: z.boolean(),
}));

export const ConversationsPageSchema = schemaOf<ConversationsPage>()(z.object({
  conversations: z.array(ConversationSchema),
  next: z.string().nullable().describe('the `before` of the next page; null on the last'),
}));

const SentInThreadSchema = schemaOf<SentInThreadJson>()(z.object({
  direction: z.literal('out'),
  guid: z.string(),
  at: isoTime,
  clinicId: dbId,
  body: z.string().nullable(),
  status: z.string(),
  segments: count.nullable(),
  chargeUsd: usd.nullable().describe('null until its receipt brings the charge'),
  origin: z.string().describe("'office', or what the connector sent it for (help_reply, ...)"),
  patientId: dbId.nullable(),
  failureReason: z.string().nullable(),
}));

export const ReceivedInThreadSchema = schemaOf<ReceivedInThreadJson>()(z.object({
  direction: z.literal('in'),
  inboundId: z.string(),
  at: isoTime,
  clinicId: dbId,
  body: z.string(),
  read: z.boolean(),
  hidden: z.boolean(),
  patientId: dbId.nullable(),
  matchCount: count.nullable(),
  segments: count,
  keyword: z.string().nullable(),
}));

const PatientMatchSchema = schemaOf<PatientMatch>()(z.object({ patientId: dbId, name: z.string(), clinicId: dbId.nullable(), textOk: z.string() }));

export const ThreadDocumentSchema = schemaOf<ThreadDocument>()(z.object({
  phone,
  patients: z.array(PatientMatchSchema),
  messages: z.array(z.discriminatedUnion('direction', [SentInThreadSchema, ReceivedInThreadSchema])).describe('oldest first within the page'),
  next: z.string().nullable().describe('the `before` of the page of older messages; null when this page reaches the first'),
}));

export const MarkedReadSchema = z.object({ phone, marked: count.describe('replies that were unread') });

export const UnreadDocumentSchema = schemaOf<UnreadDocument>()(z.object({
  total: count,
  byClinic: z.record(z.string().regex(/^[1-9]\d*$/), count).describe('clinic id to its unread replies; clinics with none left out'),
}));

const BlockedSchema = schemaOf<BlockedJson>()(z.object({ phone, blockedAt: isoTime }));
export const BlockedListSchema = z.object({ blocked: z.array(BlockedSchema) });
export const BlockAnswerSchema = z.object({ changed: z.boolean().describe('false when it was blocked already'), phone, blockedAt: isoTime });
export const UnblockAnswerSchema = z.object({ changed: z.literal(true), phone });

export const SentMessageSchema = schemaOf<SentMessage>()(z.object({
  guid: z.string(),
  clinicId: dbId,
  patientId: dbId.nullable(),
  toPhone: phone,
  segments: count,
  encoding: z.enum(['GSM-7', 'UCS-2']),
  status: z.literal('pending'),
  sentAt: isoTime,
}));

export const PatientSchema = schemaOf<PatientView>()(z.object({
  patientId: dbId,
  name: z.string(),
  wirelessPhone: phone.nullable(),
  clinicId: dbId.nullable(),
  guarantorId: dbId,
  textOk: z.enum(['yes', 'no', 'unknown']),
  optedOut: z.boolean().describe('the number replied STOP (and no START since)'),
  optin: z.object({ status: z.enum(OPTIN_STATUSES), at: isoTime.nullable(), guid: z.string().nullable() }).nullable(),
  updatedAt: isoTime,
}));

export const PatientPageSchema = z.object({ patients: z.array(PatientSchema), next: dbId.nullable().describe('the `before` of the next page; null on the last') });

export const PatientChangeSchema = PatientSchema.extend({
  changed: z.boolean(),
  warning: z.string().optional(),
  rematched: count.describe('replies that now belong to another patient'),
});

export const OptinRequestSchema = schemaOf<OptinRequestResult>()(z.object({ patient: PatientSchema, message: SentMessageSchema }));

const CommlogRowSchema = schemaOf<CommlogRow>()(z.object({
  id: dbId,
  at: isoTime,
  kind: z.enum(COMMLOG_KINDS),
  patientId: dbId.nullable(),
  clinicId: dbId.nullable(),
  phone: phone.nullable(),
  guid: z.string().nullable(),
  inboundId: z.string().nullable(),
  summary: z.string(),
  body: z.string().nullable(),
}));

export const CommlogPageSchema = z.object({ rows: z.array(CommlogRowSchema), next: dbId.nullable().describe('the `after` of the next page; null when this is the last for now') });

export const MessageStatusSchema = schemaOf<Omit<MessageStatus, 'chargeMicros'> & { chargeUsd: string | null }>()(z.object({
  guid: z.string(),
  clinicId: dbId,
  patientId: dbId.nullable(),
  origin: z.string(),
  status: z.string(),
  segments: count.nullable(),
  chargeUsd: usd.nullable().describe('null until its receipt brings the charge'),
  sentAt: isoTime,
  acceptedAt: isoTime.nullable(),
  failureReason: z.string().nullable(),
  queued: z.boolean().describe('still owed to HQ'),
}));

/** What a PUT of a setting answers besides the setting: whether it changed, and a warning when it changed nothing useful. */
const change = { changed: z.boolean(), warning: z.string().optional() };

export const DefaultClinicSchema = z.object({ defaultClinicId: dbId.nullable() });
export const DefaultClinicChangeSchema = DefaultClinicSchema.extend(change);

export const OptinSettingsSchema = schemaOf<OptinSettings>()(z.object({
  clinicId: dbId,
  optinTitle: z.string().nullable(),
  titleInEffect: z.string().describe("the clinic's title, else the practice's, else \"Your Dentist\""),
  promptForOptin: z.boolean(),
}));
export const OptinSettingsChangeSchema = OptinSettingsSchema.extend(change);

export const PracticeSchema = z.object({ title: z.string().nullable() });
export const PracticeChangeSchema = PracticeSchema.extend(change);
