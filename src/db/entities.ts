/**
 * The office database, as MikroORM entities. Times are epoch milliseconds (UTC instants; months are
 * derived in OFFICE_TZ at read time, so a change of zone never leaves stale buckets in the rows),
 * money is integer micro-dollars. The schema itself is created by the migrations in ./migrations;
 * a test checks that these entities and the migrations agree.
 *
 * Hot paths (recording a 1,000-item page) write through bulk SQL in src/db/ingest-store.ts, not
 * through the unit of work: one statement per table per page is what makes a backlog drain fast.
 */
import { defineEntity } from '@mikro-orm/core';

export const ClinicSchema = defineEntity({
  name: 'Clinic',
  tableName: 'clinics',
  properties: (p) => ({
    clinicId: p.integer().primary().autoincrement(false),
    name: p.string().nullable(),
    subscribed: p.boolean().default(false),
    primaryPhone: p.string().nullable(),
    countryCode: p.string().length(2).nullable(),
    /** Listed by the latest GET /v1/account. */
    inAccount: p.boolean().default(false),
    /** Named by at least one receipt or inbound message (then it shows in /status even when not in the account). */
    seenInTraffic: p.boolean().default(false),
    optinTitle: p.string().nullable(),
    promptOptin: p.boolean().default(true),
    updatedAt: p.bigint('number').default(0),
  }),
});

export const OutboundMessageSchema = defineEntity({
  name: 'OutboundMessage',
  tableName: 'outbound_messages',
  // With status: the usage recompute leaves out messages HQ refused ('failed') from the index alone.
  indexes: [
    { name: 'outbound_clinic_sent_charge_status', properties: ['clinicId', 'sentAt', 'chargeMicros', 'status'] },
    // A conversation's office texts, in time order; partial: receipts' message rows have no recipient.
    { name: 'outbound_to_sent', expression: 'create index outbound_to_sent on outbound_messages (to_phone, sent_at) where to_phone is not null' },
  ],
  properties: (p) => ({
    guid: p.string().primary(),
    clinicId: p.integer(),
    sentAt: p.bigint('number'),
    /** pending | delivered | delivery_unconfirmed | failed_with_charge | failed_no_charge | failed (refused by HQ) */
    status: p.string(),
    /** The final receipt's charge; null while no receipt has come. */
    chargeMicros: p.bigint('number').nullable(),
    segments: p.integer().nullable(),
    finalReceiptId: p.string().nullable(),
    finalStatusAt: p.bigint('number').nullable(),
    /** 'hq' when first seen in a receipt, 'office' when sent through this daemon. */
    origin: p.string(),
    createdAt: p.bigint('number'),
    // Office-sent messages only (src/office/send.ts); receipts never touch these.
    /** E.164 recipient. */
    toPhone: p.string().nullable(),
    body: p.text().nullable(),
    patientId: p.integer().nullable(),
    /** Why HQ refused it (status 'failed'): 'hq_403_clinic_not_subscribed', … Never patient data. */
    failureReason: p.string().nullable(),
    /** When HQ accepted it (202, or 200 for a repeat): null while it waits in the outbox. */
    acceptedAt: p.bigint('number').nullable(),
    /** Null: a text the office wrote; else an automatic one (src/office/purpose.ts). */
    purpose: p.string().nullable(),
  }),
});

export const ReceiptSchema = defineEntity({
  name: 'Receipt',
  tableName: 'receipts',
  // No index on guid: nothing reads receipts by message (Migration20261128100000_perf).
  properties: (p) => ({
    receiptId: p.string().primary(),
    guid: p.string(),
    clinicId: p.integer(),
    status: p.string(),
    chargeMicros: p.bigint('number'),
    segments: p.integer(),
    countryCode: p.string().length(2),
    sentAt: p.bigint('number'),
    statusAt: p.bigint('number'),
    recordedAt: p.bigint('number'),
  }),
});

export const InboundMessageSchema = defineEntity({
  name: 'InboundMessage',
  tableName: 'inbound_messages',
  indexes: [
    { name: 'inbound_clinic_received_charge', properties: ['clinicId', 'receivedAt', 'chargeMicros'] },
    // The replies of one number, in time order: a conversation's thread (src/office/conversation-queries.ts),
    // matching them again after a patient change (src/office/rematch.ts). On SQLite keyed by the number's
    // digits as an integer, on PostgreSQL by from_phone (Migration20261202140000_thread_index_by_number,
    // which creates it; the schema check compares an expression index by name).
    { name: 'inbound_thread', expression: 'create index inbound_thread on inbound_messages (cast(substr(from_phone, 2) as integer), received_at)' },
  ],
  properties: (p) => ({
    inboundId: p.string().primary(),
    clinicId: p.integer(),
    fromPhone: p.string(),
    toPhone: p.string(),
    body: p.text(),
    receivedAt: p.bigint('number'),
    chargeMicros: p.bigint('number'),
    segments: p.integer(),
    recordedAt: p.bigint('number'),
    /** The patient the reply was assigned to (src/office/matching.ts), or null. */
    patientId: p.integer().nullable(),
    /** Patients the assignment was decided among; null for replies recorded before matching existed. */
    matchCount: p.integer().nullable(),
    /** 'stop' | 'start' | 'help' when the whole reply is a carrier keyword. */
    keyword: p.string().nullable(),
    /** Read by the office. Replies recorded before the office could read them start read (the default). */
    isRead: p.boolean().default(true),
    /** Hidden by the office, or from a blocked number: never counted as unread. */
    hidden: p.boolean().default(false),
    /** The office moved the reply to `patientId` (or to none): matching again leaves it alone. */
    patientSetByOffice: p.boolean().default(false),
  }),
});

export const QuarantinedItemSchema = defineEntity({
  name: 'QuarantinedItem',
  tableName: 'quarantine',
  properties: (p) => ({
    /** 'receipt' | 'inbound' */
    kind: p.string().primary(),
    /** The item's own id when it has one, else 'sha256:<hash of raw>': one row per distinct item. */
    itemKey: p.string().primary(),
    /** The id to acknowledge, when the item has one (text: HQ's ids are acknowledged up to 1,000 characters). */
    ackId: p.text().nullable(),
    /** The item verbatim, as HQ sent it. */
    raw: p.text(),
    reason: p.text(),
    firstSeenAt: p.bigint('number'),
    lastSeenAt: p.bigint('number'),
    timesSeen: p.integer().default(1),
  }),
});

export const MonthlyUsageSchema = defineEntity({
  name: 'MonthlyUsage',
  tableName: 'monthly_usage',
  properties: (p) => ({
    month: p.string().length(7).primary(),
    clinicId: p.integer().primary().autoincrement(false),
    sentCount: p.integer(),
    sentChargeMicros: p.bigint('number'),
    receivedCount: p.integer(),
    receivedChargeMicros: p.bigint('number'),
    computedAt: p.bigint('number'),
  }),
});

/** (clinic, month) pairs whose usage must be recomputed. `version` grows on every mark, so a
 * recompute deletes the mark only if nothing marked it again while it was computing. */
export const UsageDirtySchema = defineEntity({
  name: 'UsageDirty',
  tableName: 'usage_dirty',
  properties: (p) => ({
    clinicId: p.integer().primary().autoincrement(false),
    month: p.string().length(7).primary(),
    version: p.integer().default(1),
  }),
});

/** Progress of each HQ stream: what readiness and /status report. */
export const StreamStateSchema = defineEntity({
  name: 'StreamState',
  tableName: 'stream_state',
  properties: (p) => ({
    /** 'receipts' | 'inbound' | 'account' | 'aggregates' */
    stream: p.string().primary(),
    lastOkAt: p.bigint('number').nullable(),
    lastErrorAt: p.bigint('number').nullable(),
    lastError: p.text().nullable(),
    itemsRecorded: p.bigint('number').default(0),
    /** While HQ answers `more` (src/ingest/catch-up.ts): since when, when last said, items since, last rate. */
    catchUpSince: p.bigint('number').nullable(),
    catchUpAt: p.bigint('number').nullable(),
    catchUpItems: p.bigint('number').default(0),
    itemsPerSecond: p.integer().nullable(),
  }),
});

/** Office-wide settings and facts: monthly limit, default clinic, the zone aggregates were computed in. */
export const SettingSchema = defineEntity({
  name: 'Setting',
  tableName: 'settings',
  properties: (p) => ({
    key: p.string().primary(),
    value: p.text(),
    updatedAt: p.bigint('number'),
  }),
});

/** The office's patients, as imported from the practice software (scripts/import-patients.ts). */
export const PatientSchema = defineEntity({
  name: 'Patient',
  tableName: 'patients',
  indexes: [{ name: 'patients_phone_key', properties: ['phoneKey'] }],
  properties: (p) => ({
    patientId: p.integer().primary().autoincrement(false),
    name: p.string(),
    /** E.164. */
    wirelessPhone: p.string().nullable(),
    /** Digits only, a 10-digit NANP number with its leading 1: what replies are matched by. */
    phoneKey: p.string().nullable(),
    /** Null: texted from the default texting clinic. */
    clinicId: p.integer().nullable(),
    /** The family's guarantor (the patient themself when they have none). */
    guarantorId: p.integer(),
    /** Text OK: 'yes' | 'no' | 'unknown'. */
    textOk: p.string(),
    updatedAt: p.bigint('number'),
    /** The name in lower case (JavaScript's toLowerCase): what the name-prefix search compares. */
    nameKey: p.string().nullable(),
    /** The opt-in request: null, or 'suggested' | 'sent' | 'confirmed' | 'declined' (src/office/optin.ts). */
    optinStatus: p.string().nullable(),
    /** When optinStatus was set. */
    optinAt: p.bigint('number').nullable(),
    /** The guid of the opt-in text sent. */
    optinGuid: p.string().nullable(),
    /** When the last opt-in text was asked for: at most one a day. */
    optinRequestedAt: p.bigint('number').nullable(),
  }),
});

/** Carrier opt-out state per number (phone key), set by STOP and START replies; latest reply wins. */
export const OptOutSchema = defineEntity({
  name: 'OptOut',
  tableName: 'opt_outs',
  properties: (p) => ({
    phoneKey: p.string().primary(),
    optedOut: p.boolean(),
    /** receivedAt of the keyword reply that set the state: an older reply arriving late changes nothing. */
    changedAt: p.bigint('number'),
    inboundId: p.string().nullable(),
    updatedAt: p.bigint('number'),
  }),
});

/** Office messages recorded but not yet accepted (or finally refused) by HQ: what the send worker owes. */
export const OutboxSchema = defineEntity({
  name: 'Outbox',
  tableName: 'outbox',
  properties: (p) => ({
    guid: p.string().primary(),
    createdAt: p.bigint('number'),
  }),
});

/**
 * The communication log (src/db/commlog.ts): one row per fact, appended in the fact's own
 * transaction, never changed or deleted. The practice software pulls the rows after an id.
 */
export const CommlogSchema = defineEntity({
  name: 'Commlog',
  tableName: 'commlog',
  indexes: [{ name: 'commlog_patient', properties: ['patientId', 'id'] }],
  uniques: [{ name: 'commlog_event_key_unique', properties: ['eventKey'] }],
  properties: (p) => ({
    // bigserial on PostgreSQL; on SQLite an AUTOINCREMENT key must be declared INTEGER (64-bit
    // there anyway), which the schema diff would read as a type change.
    id: p.bigint('number').primary().autoincrement().ignoreSchemaChanges('type'),
    at: p.bigint('number'),
    /** text_sent | text_failed | reply_received | opt_out | opt_in | text_ok_changed | reply_moved */
    kind: p.string(),
    patientId: p.integer().nullable(),
    clinicId: p.integer().nullable(),
    /** E.164. */
    phone: p.string().nullable(),
    guid: p.string().nullable(),
    inboundId: p.string().nullable(),
    summary: p.text(),
    /** The text sent or received, for text_sent and reply_received. */
    body: p.text().nullable(),
    /** Names the fact ('reply:<inboundId>', 'sent:<guid>', …): one row per fact whatever happens. */
    eventKey: p.string(),
  }),
});

/**
 * One row per phone number the office has texted or heard from (E.164): its latest message and its
 * unread replies, kept in the transaction of every reply and text recorded (src/office/conversations.ts).
 * On SQLite a WITHOUT ROWID table, its rows in the primary key's B-tree
 * (Migration20261202040000_conversations_without_rowid).
 */
export const ConversationSchema = defineEntity({
  name: 'Conversation',
  tableName: 'conversations',
  indexes: [
    // The conversation list's keyset order (newest activity first, the phone breaking ties), covering
    // the clinic and unread filters: one index, since every reply moves its entry
    // (Migration20261201224000_conversations_one_index).
    { name: 'conversations_recent', properties: ['lastAt', 'phone', 'clinicId', 'unread'] },
  ],
  properties: (p) => ({
    phone: p.string().primary(),
    /** The clinic of the latest message. */
    clinicId: p.integer(),
    lastAt: p.bigint('number'),
    /** 'in' (a reply) or 'out' (a text the office sent). */
    lastDirection: p.string().length(3),
    /** The latest message: its inboundId or guid. */
    lastRef: p.string(),
    /** Replies neither read nor hidden. */
    unread: p.integer().default(0),
  }),
});

/**
 * Conversation activity not yet folded into `conversations`: one row per page of replies, batch of
 * texts or office change, appended in its transaction and folded many at a time
 * (src/office/conversation-fold.ts; Migration20261202080000_conversation_activity).
 */
export const ConversationActivitySchema = defineEntity({
  name: 'ConversationActivity',
  tableName: 'conversation_activity',
  properties: (p) => ({
    // bigserial on PostgreSQL, INTEGER on SQLite (see CommlogSchema).
    id: p.bigint('number').primary().autoincrement().ignoreSchemaChanges('type'),
    entries: p.integer(),
    /** JSON: [phone, clinicId, at, direction, ref, unread] per number. */
    batch: p.text(),
  }),
});

/** Unread replies per clinic (hidden and blocked ones left out), kept with every change of them. */
export const UnreadCountSchema = defineEntity({
  name: 'UnreadCount',
  tableName: 'unread_counts',
  properties: (p) => ({
    clinicId: p.integer().primary().autoincrement(false),
    unread: p.integer(),
  }),
});

/** Numbers the office blocked: their replies are stored hidden, texts to them refused. */
export const BlockedNumberSchema = defineEntity({
  name: 'BlockedNumber',
  tableName: 'blocked_numbers',
  properties: (p) => ({
    /** Digits only (src/office/phone.ts phoneMatchKey). */
    phoneKey: p.string().primary(),
    /** E.164, as the office gave it. */
    phone: p.string(),
    blockedAt: p.bigint('number'),
  }),
});

export const ALL_ENTITIES = [
  ClinicSchema,
  OutboundMessageSchema,
  ReceiptSchema,
  InboundMessageSchema,
  QuarantinedItemSchema,
  MonthlyUsageSchema,
  UsageDirtySchema,
  StreamStateSchema,
  SettingSchema,
  PatientSchema,
  OptOutSchema,
  OutboxSchema,
  CommlogSchema,
  ConversationSchema,
  ConversationActivitySchema,
  UnreadCountSchema,
  BlockedNumberSchema,
];
