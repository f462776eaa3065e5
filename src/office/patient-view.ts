/**
 * Patients as the office API answers them (GET /api/patients, GET and PUT /api/patients/:id):
 * with their Text OK, whether their number has opted out, and the state of their opt-in request.
 * Names and numbers: only for requests carrying the API token.
 */
import type { Knex } from '@mikro-orm/knex';
import { rowsOf } from '../db/bulk-sql';
import type { OptinStatus } from './optin-status';
import type { TextOk } from './text-ok';

export interface PatientView {
  patientId: number;
  name: string;
  wirelessPhone: string | null;
  clinicId: number | null;
  guarantorId: number;
  textOk: TextOk;
  /** The number replied STOP (and no START since): texts to it are refused whatever Text OK says. */
  optedOut: boolean;
  optin: null | { status: OptinStatus; at: string | null; guid: string | null };
  updatedAt: string;
}

export interface PatientRowFull {
  patient_id: number;
  name: string;
  wireless_phone: string | null;
  phone_key: string | null;
  clinic_id: number | null;
  guarantor_id: number;
  text_ok: TextOk;
  updated_at: number | string;
  optin_status: OptinStatus | null;
  optin_at: number | string | null;
  optin_guid: string | null;
  optin_requested_at: number | string | null;
  opted_out: number | boolean | null;
}

export const PATIENT_SELECT = `SELECT p.patient_id, p.name, p.wireless_phone, p.phone_key, p.clinic_id, p.guarantor_id, p.text_ok, p.updated_at,
    p.optin_status, p.optin_at, p.optin_guid, p.optin_requested_at, o.opted_out
  FROM patients p LEFT JOIN opt_outs o ON o.phone_key = p.phone_key`;

export function patientView(r: PatientRowFull): PatientView {
  return {
    patientId: Number(r.patient_id),
    name: r.name,
    wirelessPhone: r.wireless_phone,
    clinicId: r.clinic_id === null ? null : Number(r.clinic_id),
    guarantorId: Number(r.guarantor_id),
    textOk: r.text_ok,
    optedOut: Boolean(r.opted_out),
    optin: r.optin_status === null ? null : {
      status: r.optin_status,
      at: r.optin_at === null ? null : new Date(Number(r.optin_at)).toISOString(),
      guid: r.optin_guid,
    },
    updatedAt: new Date(Number(r.updated_at)).toISOString(),
  };
}

export async function readPatientRow(knex: Knex | Knex.Transaction, patientId: number): Promise<PatientRowFull | null> {
  return rowsOf<PatientRowFull>(await knex.raw(`${PATIENT_SELECT} WHERE p.patient_id = ?`, [patientId]))[0] ?? null;
}

export async function readPatient(knex: Knex | Knex.Transaction, patientId: number): Promise<PatientView | null> {
  const row = await readPatientRow(knex, patientId);
  return row === null ? null : patientView(row);
}

export const MAX_PATIENT_PAGE = 200;

export interface PatientSearch {
  /** A phone key (phone.ts): the patients of that number. */
  phoneKey?: string;
  /** A name prefix, any case. */
  namePrefix?: string;
  limit: number;
  /** Keyset cursor: patients with a smaller patientId (the `next` of the page before). */
  before?: number;
}

/** Escapes LIKE's wildcards (with '\' as the escape character). */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Patients by phone and/or name prefix, greatest patientId first, `limit` at a time; `next` is the
 * cursor of the following page, null on the last one.
 */
export async function searchPatients(knex: Knex, s: PatientSearch): Promise<{ patients: PatientView[]; next: number | null }> {
  const where: string[] = [];
  const bindings: Array<string | number> = [];
  if (s.phoneKey !== undefined) {
    where.push('p.phone_key = ?');
    bindings.push(s.phoneKey);
  }
  if (s.namePrefix !== undefined) {
    // name_key is the name lowered by JavaScript, as the prefix is: the same folding on both engines.
    where.push("p.name_key LIKE ? ESCAPE '\\'");
    bindings.push(likePrefix(s.namePrefix.toLowerCase()));
  }
  if (s.before !== undefined) {
    where.push('p.patient_id < ?');
    bindings.push(s.before);
  }
  const limit = Math.min(Math.max(1, s.limit), MAX_PATIENT_PAGE);
  const rows = rowsOf<PatientRowFull>(await knex.raw(
    `${PATIENT_SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY p.patient_id DESC LIMIT ?`, [...bindings, limit + 1]));
  const page = rows.slice(0, limit).map(patientView);
  return { patients: page, next: rows.length > limit ? page[page.length - 1]!.patientId : null };
}
