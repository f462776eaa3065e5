/**
 * The communication log: the patient's legal record of communication, which the practice software
 * copies into its own commlog. One row per fact, appended IN THE TRANSACTION THAT RECORDS THE FACT
 * (a text recorded, a reply stored, an opt-out applied, a Text OK changed, a reply moved), so a
 * fact without its row, or a row without its fact, cannot be committed.
 *
 * Exactly once: every row carries an event key that names its fact (COMMLOG_KEYS), unique in the
 * table, and is inserted with ON CONFLICT DO NOTHING; a fact recorded again (a redelivered reply,
 * a replayed transaction) adds no second row. The table is append-only: nothing updates or
 * deletes a row.
 *
 * Reading: rows after a cursor, by id. Ids only grow, and become visible in id order: SQLite has
 * one writer, and on PostgreSQL a transaction takes the commlog's lock (pg-serialized.ts) before
 * its first row draws an id and holds it to its commit, so a row with a smaller id can never
 * commit after a reader saw a greater one (page transactions run side by side there). Rows are
 * only written inside transactions for that reason. Callers append late in their transaction:
 * other appenders wait from there to its commit.
 */
import type { Knex } from '@mikro-orm/knex';
import { insertRows, rowsOf, type SqlValue } from './bulk-sql';
import { lockKeys, LOCK_SPACE } from './pg-serialized';

export const COMMLOG_KINDS = [
  /** An office text recorded to be sent (any purpose: office, HELP answer, opt-in prompt, confirmation). */
  'text_sent',
  /** An office text HQ refused for good, or one the connector gave up: it was never sent. */
  'text_failed',
  'reply_received',
  /** A STOP (or its family) opted the number out. */
  'opt_out',
  /** A START (or YES, UNSTOP, OPTIN) opted the number back in, or a patient confirmed the opt-in text. */
  'opt_in',
  'text_ok_changed',
  /** A reply assigned to another patient: moved by the office, or matched again after a patient change. */
  'reply_moved',
] as const;
export type CommlogKind = (typeof COMMLOG_KINDS)[number];

export interface CommlogEntry {
  /** Names the fact: build it with COMMLOG_KEYS. */
  eventKey: string;
  at: number;
  kind: CommlogKind;
  patientId: number | null;
  clinicId: number | null;
  /** E.164. */
  phone: string | null;
  guid?: string | null;
  inboundId?: string | null;
  /** One line for a person: what happened (no message text: that is `body`). */
  summary: string;
  body?: string | null;
}

/** Event keys: one fact, one key, whichever code path records it. */
export const COMMLOG_KEYS = {
  textSent: (guid: string) => `sent:${guid}`,
  textFailed: (guid: string) => `failed:${guid}`,
  reply: (inboundId: string) => `reply:${inboundId}`,
  /** The opt-out or opt-in a keyword reply caused. */
  consent: (inboundId: string) => `consent:${inboundId}`,
  /** A patient's answer to the opt-in text (confirmed or declined), per patient. */
  optinAnswer: (inboundId: string, patientId: number) => `optin:${patientId}:${inboundId}`,
  /** A Text OK change caused by a reply, per patient. */
  textOkByReply: (inboundId: string, patientId: number) => `textok:${patientId}:${inboundId}`,
  /** A change made by the office (a PUT, an import): `change` is unique to that change. */
  textOkByOffice: (change: string, patientId: number) => `textok:${patientId}:${change}`,
  /** A reply moved: `change` is unique to that move. */
  replyMoved: (inboundId: string, change: string) => `moved:${inboundId}:${change}`,
} as const;

const COLUMNS = ['event_key', 'at', 'kind', 'patient_id', 'clinic_id', 'phone', 'guid', 'inbound_id', 'summary', 'body'];

/** Appends rows (those whose event key is already there are left out). Call it inside the fact's transaction. */
export async function appendCommlog(trx: Knex.Transaction, entries: readonly CommlogEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await lockKeys(trx, LOCK_SPACE.commlog, ['ids']);
  // One statement's rows in the order given: ids follow the order of the facts.
  await insertRows(
    trx,
    'commlog',
    COLUMNS,
    entries.map((e): SqlValue[] => [e.eventKey, e.at, e.kind, e.patientId, e.clinicId, e.phone, e.guid ?? null, e.inboundId ?? null, e.summary, e.body ?? null]),
    'ON CONFLICT (event_key) DO NOTHING',
  );
}

/** A row as the API and the export give it. */
export interface CommlogRow {
  id: number;
  /** ISO 8601 UTC. */
  at: string;
  kind: CommlogKind;
  patientId: number | null;
  clinicId: number | null;
  phone: string | null;
  guid: string | null;
  inboundId: string | null;
  summary: string;
  body: string | null;
}

interface StoredRow {
  id: number | string;
  at: number | string;
  kind: CommlogKind;
  patient_id: number | null;
  clinic_id: number | null;
  phone: string | null;
  guid: string | null;
  inbound_id: string | null;
  summary: string;
  body: string | null;
}

export const MAX_COMMLOG_PAGE = 1000;

/** Rows with id > `after`, oldest first, at most `limit`. */
export async function readCommlog(knex: Knex, after: number, limit: number): Promise<CommlogRow[]> {
  const rows = rowsOf<StoredRow>(await knex.raw(
    `SELECT id, at, kind, patient_id, clinic_id, phone, guid, inbound_id, summary, body FROM commlog WHERE id > ? ORDER BY id LIMIT ?`,
    [after, Math.max(1, limit)],
  ));
  return rows.map((r) => ({
    id: Number(r.id),
    at: new Date(Number(r.at)).toISOString(),
    kind: r.kind,
    patientId: r.patient_id === null ? null : Number(r.patient_id),
    clinicId: r.clinic_id === null ? null : Number(r.clinic_id),
    phone: r.phone,
    guid: r.guid,
    inboundId: r.inbound_id,
    summary: r.summary,
    body: r.body,
  }));
}

/** The number of rows after `after` (the export's progress line). */
export async function countCommlogAfter(knex: Knex, after: number): Promise<number> {
  return Number(rowsOf<{ n: number | string }>(await knex.raw('SELECT COUNT(*) AS n FROM commlog WHERE id > ?', [after]))[0]?.n ?? 0);
}
