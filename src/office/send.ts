/**
 * The office's send path. A message is first recorded, in one transaction: an outbound_messages
 * row (origin 'office', status 'pending', no charge yet, sent_at now), an outbox row (what the send
 * worker still owes HQ) and its (clinic, month) usage pair marked dirty, so it counts in Sent for
 * Month at once, and its commlog row (src/db/commlog.ts). The send worker then hands it to HQ
 * (POST /v1/messages, idempotent by guid); its receipt later brings the charge, through the same
 * upsert as any receipt (which leaves the office columns alone).
 *
 * Consent is judged by consent.ts when the text is asked for and again when it is handed to HQ: a
 * text queued before a STOP (or before Text OK was set to No) is withheld, recorded as failed with
 * the refusal's code ('opted_out').
 *
 * HQ's final refusal (a 4xx other than 429 and 401) marks the message 'failed' with HQ's reason:
 * it was never sent, so it no longer counts. A 401 (the office's HQ key is wrong) is not the
 * message's fault: it stays owed and is retried like a transient failure. Transient failures are
 * retried by the job with backoff; a message still in the outbox after the job gave up is queued
 * again by the outbox sweep, and one not accepted within OUTBOX_EXPIRY_MS is given up as failed
 * ('not_sent_expired').
 *
 * "Now" on this path is the daemon's calendar clock (`MonthBucketer.now()`, the clock "this
 * month" is read from; docs/testing.md): a text is stamped, counted in its month, judged against
 * that month's limit, and aged by the outbox sweep on that one clock, so a test that moves the
 * calendar moves the send path with it. In production the calendar clock is real time.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from '@mikro-orm/knex';
import type { Logger } from 'winston';
import { chunks, insertRows, rowsOf, selectIn, type SqlValue } from '../db/bulk-sql';
import type { HqClient } from '../hq/client';
import { HqBackoffError, HqRejectedError } from '../hq/errors';
import { readSetting, SETTING_MONTHLY_LIMIT_MICROS } from '../db/store/settings';
import { countSegments, type Encoding } from '../texting/segments';
import type { MonthBucketer } from '../usage/month';
import { REFUSED_STATUS } from '../usage/aggregates';
import { appendCommlog, COMMLOG_KEYS } from '../db/commlog';
import { latestReplyClinicId, noteActivity } from './conversations';
import type { UnknownTextOkPolicy } from '../config/types';
import { consentRefusal, consentRefusals, textOkOfNumber, textOksOf } from './consent';
import { OfficeError, invalid } from './errors';
import type { TextOk } from './text-ok';
import { phoneMatchKey } from './phone';
import { allowedWhenOptedOut, purposeLabel, type Purpose } from './purpose';
import { getDefaultClinicId } from './settings';
import { markUsageDirty } from '../db/store/usage-dirty';

/** HQ's limit on a message body (characters). */
export const MAX_BODY_CHARS = 1600;
/** An office message HQ has not accepted after this long is given up (a day-old reminder is worse than none). */
export const OUTBOX_EXPIRY_MS = 24 * 3_600_000;
/** The sweep re-queues outbox messages older than this (younger ones still have their first job). */
export const OUTBOX_SWEEP_AGE_MS = 30_000;

export interface SendRequest {
  clinicId?: number | null;
  patientId?: number | null;
  /** E.164, already normalized. */
  toPhone: string;
  body: string;
  /** Null (the default): a text the office wrote. */
  purpose?: Purpose | null;
}

export interface SendOptions {
  /** texting.unknownTextOk: may a patient whose Text OK is unknown be texted. */
  unknownTextOk: UnknownTextOkPolicy;
}

export interface SentMessage {
  guid: string;
  clinicId: number;
  patientId: number | null;
  toPhone: string;
  segments: number;
  encoding: Encoding;
  status: 'pending';
  sentAt: string;
}

/** A message to record as pending and owed to HQ. */
export interface OfficeMessage {
  guid: string;
  clinicId: number;
  patientId: number | null;
  toPhone: string;
  body: string;
  segments: number;
  purpose: Purpose | null;
}

/**
 * Inserts pending office messages, their outbox rows and their commlog rows (all insert-or-ignore
 * by guid, so a replayed call inserts nothing twice). Every office text, whatever its purpose,
 * is recorded here. The caller marks their usage pairs dirty in the same transaction.
 */
export async function insertOfficeMessages(trx: Knex.Transaction, messages: readonly OfficeMessage[], now: number): Promise<void> {
  if (messages.length === 0) return;
  await insertRows(trx, 'outbox', ['guid', 'created_at'], messages.map((m) => [m.guid, now]), 'ON CONFLICT (guid) DO NOTHING');
  await insertRows(
    trx,
    'outbound_messages',
    ['guid', 'clinic_id', 'sent_at', 'status', 'charge_micros', 'segments', 'final_receipt_id', 'final_status_at', 'origin', 'created_at',
      'to_phone', 'body', 'patient_id', 'failure_reason', 'accepted_at', 'purpose'],
    messages.map((m): SqlValue[] => [m.guid, m.clinicId, now, 'pending', null, m.segments, null, null, 'office', now, m.toPhone, m.body, m.patientId, null, null, m.purpose]),
    'ON CONFLICT (guid) DO NOTHING',
  );
  // Each text is its number's latest activity (a replayed call moves nothing: same time and guid).
  await noteActivity(trx, messages.map((m) => ({ phone: m.toPhone, clinicId: m.clinicId, at: now, direction: 'out' as const, ref: m.guid, unread: 0 as const })));
  await appendCommlog(trx, messages.map((m) => ({
    eventKey: COMMLOG_KEYS.textSent(m.guid),
    at: now,
    kind: 'text_sent' as const,
    patientId: m.patientId,
    clinicId: m.clinicId,
    phone: m.toPhone,
    guid: m.guid,
    summary: `${purposeLabel(m.purpose)} from clinic ${m.clinicId} (${m.segments} part${m.segments === 1 ? '' : 's'})`,
    body: m.body,
  })));
}

interface PatientRow {
  patient_id: number;
  clinic_id: number | null;
  text_ok: TextOk;
}

interface ClinicRow {
  clinic_id: number;
  in_account: number | boolean;
  subscribed: number | boolean;
}

/** The office's charges in the current month (the /status totals) and its limit, in micro-dollars. */
export async function monthlyCharges(knex: Knex, months: MonthBucketer, now: number): Promise<{ chargesMicros: number; limitMicros: number | null }> {
  const month = months.monthOf(now);
  const sum = rowsOf<{ micros: number | string | null }>(await knex.raw(
    'SELECT SUM(sent_charge_micros + received_charge_micros) AS micros FROM monthly_usage WHERE month = ?', [month]))[0];
  const limit = await readSetting(knex, SETTING_MONTHLY_LIMIT_MICROS);
  return { chargesMicros: Number(sum?.micros ?? 0), limitMicros: limit === null ? null : Number(limit) };
}

/**
 * Checks and records one message the office asked to send (POST /api/messages). Throws
 * OfficeError for a refusal; nothing is written then. The caller queues the send job after this
 * resolves (the outbox sweep covers a queueing that fails).
 */
export async function createOfficeMessage(
  knex: Knex,
  months: MonthBucketer,
  req: SendRequest,
  opts: SendOptions,
  now: number = months.now(),
): Promise<SentMessage> {
  return knex.transaction((trx) => recordOfficeText(trx, months, req, opts, now));
}

/**
 * createOfficeMessage's checks and writes inside the caller's transaction (the opt-in request
 * records its patient's state in the same one). Throws OfficeError for a refusal: the caller's
 * transaction must then roll back.
 */
export async function recordOfficeText(
  trx: Knex.Transaction,
  months: MonthBucketer,
  req: SendRequest,
  opts: SendOptions,
  now: number,
  guid: string = randomUUID(),
): Promise<SentMessage> {
  const { segments, encoding } = countSegments(req.body);
  const phoneKey = phoneMatchKey(req.toPhone);
  if (phoneKey === null) throw invalid('toPhone', 'toPhone is not a phone number');

  // A write first: on SQLite it takes the write lock up front (src/db/sqlite-immediate.ts), so the
  // checks below read what the insert will be judged against. Rolled back with any refusal.
  await insertRows(trx, 'outbox', ['guid', 'created_at'], [[guid, now]], 'ON CONFLICT (guid) DO NOTHING');

  let patient: PatientRow | undefined;
  if (req.patientId != null) {
    patient = rowsOf<PatientRow>(await trx.raw('SELECT patient_id, clinic_id, text_ok FROM patients WHERE patient_id = ?', [req.patientId]))[0];
    if (!patient) throw new OfficeError(404, 'unknown_patient', 'no patient has that id', 'patientId');
  }

  // The clinic asked for; else, answering a conversation, the clinic its latest reply arrived at;
  // else the patient's own; else the default texting clinic.
  const clinicId = req.clinicId ?? (await latestReplyClinicId(trx, req.toPhone)) ?? patient?.clinic_id ?? (await getDefaultClinicId(trx));
  if (clinicId == null) {
    throw invalid('clinicId', req.patientId != null
      ? 'clinicId is required: the patient has no clinic and no default texting clinic is set'
      : 'clinicId is required when no default texting clinic is set');
  }
  const clinic = rowsOf<ClinicRow>(await trx.raw('SELECT clinic_id, in_account, subscribed FROM clinics WHERE clinic_id = ?', [clinicId]))[0];
  if (!clinic || !clinic.in_account) throw new OfficeError(404, 'unknown_clinic', `clinic ${clinicId} is not a clinic of this office`, 'clinicId');
  if (!clinic.subscribed) throw new OfficeError(403, 'clinic_not_subscribed', `clinic ${clinicId} is not subscribed to texting`, 'clinicId');

  const purpose = req.purpose ?? null;
  const textOk = patient ? patient.text_ok : await textOkOfNumber(trx, phoneKey);
  const refusal = await consentRefusal(trx, { phone: req.toPhone, phoneKey, textOk, purpose, unknownTextOk: opts.unknownTextOk });
  if (refusal) throw refusal;

  const { chargesMicros, limitMicros } = await monthlyCharges(trx, months, now);
  if (limitMicros !== null && chargesMicros >= limitMicros) {
    throw new OfficeError(402, 'monthly_limit_reached', 'the office\'s charges this month have reached its monthly limit');
  }

  const patientId = patient?.patient_id ?? null;
  await insertOfficeMessages(trx, [{ guid, clinicId, patientId, toPhone: req.toPhone, body: req.body, segments, purpose }], now);
  await markUsageDirty(trx, [[clinicId, months.monthOf(now)]]);
  return { guid, clinicId, patientId, toPhone: req.toPhone, segments, encoding, status: 'pending' as const, sentAt: new Date(now).toISOString() };
}

interface OwedRow {
  guid: string;
  clinic_id: number;
  sent_at: number | string;
  to_phone: string | null;
  body: string | null;
  final_receipt_id: string | null;
  patient_id: number | null;
  purpose: Purpose | null;
}

const OWED_COLUMNS = 'o.guid, o.clinic_id, o.sent_at, o.to_phone, o.body, o.final_receipt_id, o.patient_id, o.purpose';

export type DeliveryOutcome =
  | { outcome: 'accepted'; segments: number }
  | { outcome: 'refused'; httpStatus: number; reason: string }
  /** Not handed to HQ: consent was withdrawn after it was queued (an opt-out, Text OK set to No). */
  | { outcome: 'withheld'; reason: string }
  /** Nothing owed: HQ accepted or refused it before (a repeated job). */
  | { outcome: 'nothing_owed' };

/** HQ's refusal as a reason code: 'hq_403_clinic_not_subscribed'. HQ's code is checked to be a plain word (errorCode in client.ts). */
function refusalReason(err: HqRejectedError): string {
  return `hq_${err.status}${err.reason ? `_${err.reason}` : ''}`;
}

/** Office messages that will never be sent, each with why: what recordFailures writes. */
interface Failure {
  row: OwedRow;
  reason: string;
}

/**
 * Marks office messages that will never be sent as failed (unless a receipt says otherwise), logs
 * each in the commlog and marks their months for a recount, inside the caller's transaction. A
 * few statements whatever the number of messages: one per distinct reason, not one per message.
 */
async function recordFailures(trx: Knex.Transaction, months: MonthBucketer, failures: readonly Failure[], now: number): Promise<void> {
  if (failures.length === 0) return;
  await deleteOwed(trx, failures.map((f) => f.row.guid));
  const byReason = new Map<string, string[]>();
  for (const f of failures) byReason.set(f.reason, [...(byReason.get(f.reason) ?? []), f.row.guid]);
  for (const [reason, guids] of byReason) {
    // A receipt is the truth about a message: never overwrite one.
    await updateIn(trx, 'UPDATE outbound_messages SET status = ?, failure_reason = ? WHERE final_receipt_id IS NULL AND guid IN {in}', [REFUSED_STATUS, reason], guids);
  }
  await appendCommlog(trx, failures.filter((f) => f.row.final_receipt_id === null).map(({ row, reason }) => ({
    eventKey: COMMLOG_KEYS.textFailed(row.guid), at: now, kind: 'text_failed' as const, patientId: row.patient_id === null ? null : Number(row.patient_id),
    clinicId: Number(row.clinic_id), phone: row.to_phone, guid: row.guid, summary: `Text not sent (${reason})`,
  })));
  await markUsageDirty(trx, failures.map((f) => [f.row.clinic_id, months.monthOf(Number(f.row.sent_at))] as const));
}

/** Marks one office message that will never be sent as failed: recordFailures in a transaction of its own. */
async function markFailed(knex: Knex, months: MonthBucketer, row: OwedRow, reason: string, now: number): Promise<void> {
  await knex.transaction((trx) => recordFailures(trx, months, [{ row, reason }], now));
}

/** Runs `sql`, whose `{in}` stands for a list of guids after the bound `values`, in chunks under the parameter limit. */
async function updateIn(db: Knex | Knex.Transaction, sql: string, values: readonly SqlValue[], guids: readonly string[]): Promise<void> {
  for (const part of chunks(guids, 500)) await db.raw(sql.replace('{in}', `(${part.map(() => '?').join(', ')})`), [...values, ...part]);
}

async function deleteOwed(db: Knex | Knex.Transaction, guids: readonly string[]): Promise<void> {
  await updateIn(db, 'DELETE FROM outbox WHERE guid IN {in}', [], guids);
}

/**
 * Why each queued text may no longer go (consent.ts), or null, in order: the Text OK of their
 * patients and numbers, then their consent, each read once for all of them (textOksOf,
 * consentRefusals). The policy for an unknown Text OK is not judged again: it was judged when the
 * text was asked for.
 */
async function withheldReasons(knex: Knex, rows: ReadonlyArray<OwedRow & { to_phone: string }>): Promise<Array<string | null>> {
  const keyed = rows.flatMap((row) => {
    const phoneKey = phoneMatchKey(row.to_phone);
    // STOP and START confirmations go whatever the consent (consentRefusal): nothing to read.
    return phoneKey === null || allowedWhenOptedOut(row.purpose) ? [] : [{ row, phoneKey }];
  });
  const textOks = await textOksOf(knex, keyed.map(({ row, phoneKey }) => ({ patientId: row.patient_id, phoneKey })));
  const refusals = await consentRefusals(knex, keyed.map(({ row, phoneKey }, i) => ({
    phone: row.to_phone, phoneKey, textOk: textOks[i]!, purpose: row.purpose, unknownTextOk: null,
  })));
  const reasons = new Map(keyed.map(({ row }, i) => [row, refusals[i]?.code ?? null]));
  return rows.map((row) => (phoneMatchKey(row.to_phone) === null ? 'not_sendable' : reasons.get(row) ?? null));
}

/** What handing one text of a batch to HQ came to: its outcome, or the error its job retries on. */
type Delivery = { ok: true; outcome: DeliveryOutcome } | { ok: false; error: unknown };

/** POSTs one batch has at HQ at once (OutboxSender runs BATCHES_AT_ONCE batches at a time). */
const POSTS_AT_ONCE = 4;
/** The longest a text of a batch goes out after its consent was read (a STOP committed since withholds it). */
export const CONSENT_FRESH_MS = 1_000;
const POST_MESSAGES = ['POST', '/v1/messages'] as const;

/** What deliverOfficeMessages needs; `logger` gets the one line a batch-wide failure is worth. */
interface SendDeps {
  knex: Knex;
  hq: HqClient;
  months: MonthBucketer;
  logger?: Pick<Logger, 'warn'>;
  /** A monotonic clock in ms for CONSENT_FRESH_MS (performance.now; tests move it). */
  elapsed?: () => number;
}

type Sendable = OwedRow & { to_phone: string; body: string };

/**
 * Hands a batch of office messages to HQ, in a few database round trips whatever its size: one
 * read of what is owed; the consent of every text not yet sent, read together, and read again
 * whenever that reading is CONSENT_FRESH_MS old, so a text leaves at most that long after its
 * consent was read (a STOP committed before withholds it); the POSTs, POSTS_AT_ONCE at a time; then
 * ONE transaction that records every answer. One transaction per text was what held the automatic
 * answers of a drain back: each waited for the one SQLite connection behind every page being
 * written, several times per text (BENCHMARKS.md).
 *
 * Idempotent like a single send: a message no longer in the outbox is not sent again, and HQ
 * answers a repeated guid with its first answer. A message HQ took but whose answer was not
 * recorded (a crash, a failed write) stays owed and is sent again later, to the same effect. If
 * the batch's transaction fails, each answer is recorded in a transaction of its own, so a text
 * whose write always fails fails alone instead of every batch it lands in. A final refusal is
 * recorded and returned; a transient failure, a 401, a 429 or the HQ client's backoff gate is
 * returned as that text's error, for its job to retry. With the gate of POST /v1/messages closed
 * (a Retry-After, a backoff), or the signal aborted (shutdown), the texts not yet sent fail at
 * once with that, without another query or POST.
 */
async function deliverOfficeMessages(deps: SendDeps, guids: readonly string[], signal?: AbortSignal): Promise<Map<string, Delivery>> {
  const { knex, hq } = deps;
  // Answers are stamped on the daemon's calendar clock, read when each is recorded.
  const now = (): number => deps.months.now();
  const out = new Map<string, Delivery>();
  const wanted = [...new Set(guids)];
  const failAll = (list: readonly string[], error: unknown): void => {
    for (const guid of list) out.set(guid, { ok: false, error });
  };
  // Why the texts not yet sent must wait, if they must: shutdown, or HQ's gate for the endpoint.
  const held = (): unknown => {
    if (signal?.aborted) return signal.reason ?? new Error('aborted');
    const wait = hq.waitMs(...POST_MESSAGES);
    return wait > 0 ? new HqBackoffError(POST_MESSAGES.join(' '), wait) : null;
  };
  const atStart = held();
  if (atStart !== null) {
    failAll(wanted, atStart);
    return out;
  }

  // What is still owed, in the order the texts were asked for.
  let rows: OwedRow[];
  try {
    const order = new Map(wanted.map((guid, i) => [guid, i]));
    rows = (await selectIn<OwedRow>(knex, `SELECT ${OWED_COLUMNS} FROM outbox x JOIN outbound_messages o ON o.guid = x.guid WHERE x.guid IN {in}`, wanted))
      .sort((a, b) => order.get(a.guid)! - order.get(b.guid)!);
  } catch (err) {
    failAll(wanted, err);
    return out;
  }
  const owed = new Set(rows.map((r) => r.guid));
  const nothingOwed = wanted.filter((guid) => !owed.has(guid));
  for (const guid of nothingOwed) out.set(guid, { ok: true, outcome: { outcome: 'nothing_owed' } });
  const failures: Failure[] = [];
  const sendable: Sendable[] = [];
  for (const row of rows) {
    if (row.to_phone === null || row.body === null) {
      failures.push({ row, reason: 'not_sendable' });
      out.set(row.guid, { ok: true, outcome: { outcome: 'refused', httpStatus: 0, reason: 'not_sendable' } });
    } else sendable.push({ ...row, to_phone: row.to_phone, body: row.body });
  }

  const accepted: Array<{ guid: string; segments: number }> = [];
  const send = async (row: Sendable): Promise<void> => {
    try {
      const answer = await hq.sendMessage({ guid: row.guid, clinicId: row.clinic_id, toPhone: row.to_phone, body: row.body }, signal);
      accepted.push({ guid: row.guid, segments: answer.segments });
      out.set(row.guid, { ok: true, outcome: { outcome: 'accepted', segments: answer.segments } });
    } catch (err) {
      // 401 is about the office's HQ_API_KEY, not this message: it stays owed until the key is fixed.
      if (!(err instanceof HqRejectedError) || err.status === 401) {
        out.set(row.guid, { ok: false, error: err });
        return;
      }
      const reason = refusalReason(err);
      failures.push({ row, reason });
      out.set(row.guid, { ok: true, outcome: { outcome: 'refused', httpStatus: err.status, reason } });
    }
  };
  // Consent is read for every text not yet sent, together (one wait for the connection, behind
  // whatever page holds it), and read again before the next POSTs once that reading is
  // CONSENT_FRESH_MS old: a text leaves at most that long after its consent was read, and a batch
  // does not wait for the connection once per group of POSTs (which held a drain's answers back
  // behind its pages again).
  const elapsed = deps.elapsed ?? (() => performance.now());
  let checkedAt = -Infinity;
  const settled = new Set<string>();
  for (let i = 0; i < sendable.length; i += POSTS_AT_ONCE) {
    const holding = held();
    if (holding !== null) {
      failAll(sendable.slice(i).filter((r) => !settled.has(r.guid)).map((r) => r.guid), holding);
      break;
    }
    if (elapsed() - checkedAt >= CONSENT_FRESH_MS) {
      checkedAt = elapsed();
      const rest = sendable.slice(i).filter((r) => !settled.has(r.guid));
      let reasons: Array<string | null>;
      try {
        reasons = await withheldReasons(knex, rest);
      } catch (err) {
        // Consent could not be read: none of them goes; each job retries with that error.
        failAll(rest.map((r) => r.guid), err);
        break;
      }
      rest.forEach((row, k) => {
        const reason = reasons[k] ?? null;
        if (reason !== null) {
          settled.add(row.guid);
          failures.push({ row, reason });
          out.set(row.guid, { ok: true, outcome: { outcome: 'withheld', reason } });
        }
      });
    }
    await Promise.all(sendable.slice(i, i + POSTS_AT_ONCE).filter((r) => !settled.has(r.guid)).map(send));
  }

  if (accepted.length + failures.length + nothingOwed.length === 0) return out;
  try {
    await knex.transaction(async (trx) => {
      // An outbox row without its message (cannot happen through this code) goes too.
      await deleteOwed(trx, nothingOwed);
      const at = now();
      await recordAccepted(trx, accepted, at);
      await recordFailures(trx, deps.months, failures, at);
    });
  } catch (err) {
    // One line for the batch; then each answer on its own, so only a text whose write fails stays
    // owed (and is sent again later, to the same effect) and fails its job.
    deps.logger?.warn('recording a batch of office messages failed: recording each on its own', {
      texts: accepted.length + failures.length, error: (err as Error).message,
    });
    // Outbox rows without their message (nothingOwed: cannot happen through this code) owe HQ
    // nothing: there is no text to send, and their jobs are answered so. If they cannot be
    // dropped now, they stay for the outbox sweep (sweepOutbox drops them once they are
    // OUTBOX_SWEEP_AGE_MS old); failing the jobs instead would only retry a send that has nothing
    // to send. One line says so (how many texts were asked for with nothing owed; no number, no text).
    await deleteOwed(knex, nothingOwed).catch((e: unknown) => deps.logger?.warn('could not drop outbox rows without their message: the outbox sweep drops them', {
      nothingOwed: nothingOwed.length, error: (e as Error).message,
    }));
    for (const a of accepted) {
      await knex.transaction((trx) => recordAccepted(trx, [a], now())).catch((e: unknown) => failAll([a.guid], e));
    }
    for (const f of failures) {
      await knex.transaction((trx) => recordFailures(trx, deps.months, [f], now())).catch((e: unknown) => failAll([f.row.guid], e));
    }
  }
  return out;
}

/** Records HQ's acceptance of office messages, inside the caller's transaction: no longer owed, accepted at `at`. */
async function recordAccepted(trx: Knex.Transaction, accepted: ReadonlyArray<{ guid: string; segments: number }>, at: number): Promise<void> {
  if (accepted.length === 0) return;
  await deleteOwed(trx, accepted.map((a) => a.guid));
  const bySegments = new Map<number, string[]>();
  for (const a of accepted) bySegments.set(a.segments, [...(bySegments.get(a.segments) ?? []), a.guid]);
  for (const [segments, list] of bySegments) {
    // HQ's part count is the one it bills; a receipt that came first already set it.
    await updateIn(trx, 'UPDATE outbound_messages SET accepted_at = ?, segments = CASE WHEN final_receipt_id IS NULL THEN ? ELSE segments END WHERE guid IN {in}',
      [at, segments], list);
  }
}

/** Texts one batch takes (OutboxSender). */
export const BATCH_SIZE = 100;
/** Batches under way at once: while one waits for HQ, the next reads what it owes. */
export const BATCHES_AT_ONCE = 2;

interface Waiting {
  promise: Promise<DeliveryOutcome>;
  resolve: (outcome: DeliveryOutcome) => void;
  reject: (err: unknown) => void;
  signal: AbortSignal | undefined;
}

/**
 * Gathers the texts that this process's send jobs ask for into batches (deliverOfficeMessages):
 * a job asks for its one guid and gets its own outcome, as if it had sent it alone, so each text
 * keeps its job, its id (never queued twice), its retries and its log line; but the database sees
 * a few statements per batch instead of a transaction per text. A guid asked for while it waits
 * or is being sent shares that delivery: two deliveries of one text never run side by side here.
 */
export class OutboxSender {
  private readonly waiting = new Map<string, Waiting>();
  private readonly sending = new Map<string, Waiting>();
  private batches = 0;
  private scheduled = false;

  constructor(private readonly deps: SendDeps) {}

  /**
   * `signal` is the process's shutdown signal (src/queues/workers.ts hands every job the same one):
   * a batch stops sending when any signal of its texts aborts, so a signal of one job's own would
   * stop its batch-mates too.
   */
  deliver(guid: string, signal?: AbortSignal): Promise<DeliveryOutcome> {
    const known = this.waiting.get(guid) ?? this.sending.get(guid);
    if (known) return known.promise;
    let resolve!: Waiting['resolve'];
    let reject!: Waiting['reject'];
    const promise = new Promise<DeliveryOutcome>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.waiting.set(guid, { promise, resolve, reject, signal });
    this.schedule();
    return promise;
  }

  /** Starts batches on the next turn of the event loop, so that the jobs fetched meanwhile join them. */
  private schedule(): void {
    if (this.scheduled || this.batches >= BATCHES_AT_ONCE || this.waiting.size === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.batches < BATCHES_AT_ONCE && this.waiting.size > 0) this.startBatch();
    });
  }

  private startBatch(): void {
    const batch = new Map<string, Waiting>();
    for (const [guid, w] of this.waiting) {
      if (batch.size >= BATCH_SIZE) break;
      batch.set(guid, w);
    }
    for (const [guid, w] of batch) {
      this.waiting.delete(guid);
      this.sending.set(guid, w);
    }
    this.batches += 1;
    const signals = [...new Set([...batch.values()].flatMap((w) => (w.signal ? [w.signal] : [])))];
    const signal = signals.length <= 1 ? signals[0] : AbortSignal.any(signals);
    void deliverOfficeMessages(this.deps, [...batch.keys()], signal)
      .then((deliveries) => {
        for (const [guid, w] of batch) {
          const d = deliveries.get(guid);
          if (d?.ok) w.resolve(d.outcome);
          else w.reject(d ? d.error : new Error('office message not delivered'));
        }
      }, (err: unknown) => {
        for (const w of batch.values()) w.reject(err);
      })
      .finally(() => {
        for (const guid of batch.keys()) this.sending.delete(guid);
        this.batches -= 1;
        this.schedule();
      });
  }
}

/** Messages the outbox sweep found: queue these again; `expired` were given up as failed. */
export interface SweepOutcome {
  requeue: string[];
  expired: number;
}

/** Finds outbox messages whose job may be gone (older than OUTBOX_SWEEP_AGE_MS) and gives up the expired ones. */
export async function sweepOutbox(knex: Knex, months: MonthBucketer, now: number = months.now(), limit = 500): Promise<SweepOutcome> {
  const rows = rowsOf<OwedRow & { created_at: number | string }>(await knex.raw(
    `SELECT ${OWED_COLUMNS}, x.created_at
       FROM outbox x JOIN outbound_messages o ON o.guid = x.guid
      WHERE x.created_at < ? ORDER BY x.created_at LIMIT ?`, [now - OUTBOX_SWEEP_AGE_MS, limit]));
  const requeue: string[] = [];
  let expired = 0;
  for (const row of rows) {
    if (Number(row.created_at) < now - OUTBOX_EXPIRY_MS) {
      await markFailed(knex, months, row, 'not_sent_expired', now);
      expired += 1;
    } else requeue.push(row.guid);
  }
  // Outbox rows without their message (cannot happen through this code) are dropped.
  await knex.raw('DELETE FROM outbox WHERE created_at < ? AND guid NOT IN (SELECT guid FROM outbound_messages)', [now - OUTBOX_SWEEP_AGE_MS]);
  return { requeue, expired };
}

/** What GET /api/messages/:guid shows: status and money, never the recipient or the text. */
export interface MessageStatus {
  guid: string;
  clinicId: number;
  patientId: number | null;
  origin: string;
  status: string;
  segments: number | null;
  chargeMicros: number | null;
  sentAt: string;
  acceptedAt: string | null;
  failureReason: string | null;
  /** Still owed to HQ (in the outbox). */
  queued: boolean;
}

export async function readMessageStatus(knex: Knex, guid: string): Promise<MessageStatus | null> {
  const row = rowsOf<{
    guid: string; clinic_id: number; patient_id: number | null; origin: string; status: string; segments: number | null;
    charge_micros: number | string | null; sent_at: number | string; accepted_at: number | string | null; failure_reason: string | null; queued: number | string | null;
  }>(await knex.raw(
    `SELECT o.guid, o.clinic_id, o.patient_id, o.origin, o.status, o.segments, o.charge_micros, o.sent_at, o.accepted_at, o.failure_reason,
            (SELECT COUNT(*) FROM outbox x WHERE x.guid = o.guid) AS queued
       FROM outbound_messages o WHERE o.guid = ?`, [guid]))[0];
  if (!row) return null;
  return {
    guid: row.guid,
    clinicId: Number(row.clinic_id),
    patientId: row.patient_id === null ? null : Number(row.patient_id),
    origin: row.origin,
    status: row.status,
    segments: row.segments === null ? null : Number(row.segments),
    chargeMicros: row.charge_micros === null ? null : Number(row.charge_micros),
    sentAt: new Date(Number(row.sent_at)).toISOString(),
    acceptedAt: row.accepted_at === null ? null : new Date(Number(row.accepted_at)).toISOString(),
    failureReason: row.failure_reason,
    queued: Number(row.queued ?? 0) > 0,
  };
}
