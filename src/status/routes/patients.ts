/**
 * Patients in the office API (token on every route: answers carry names and numbers):
 *
 *   GET  /api/patients?phone=&q=&limit=&before=   by phone (any form the send path takes) and/or
 *                                                  name prefix; greatest patientId first, keyset
 *                                                  paging: {"patients": [...], "next": id|null}
 *   GET  /api/patients/:id                         one patient
 *   PUT  /api/patients/:id                         {"name", "wirelessPhone", "clinicId", "guarantorId", "textOk"}, any of them
 *   POST /api/patients/:id/optin-request           send the opt-in text (at most one a day)
 *
 * A patient in answers: patientId, name, wirelessPhone, clinicId, guarantorId, textOk, optedOut,
 * optin (null or {"status", "at", "guid"}), updatedAt. Rules: src/office/patient-edit.ts, optin.ts.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { OfficeError } from '../../office/errors';
import { requestOptin } from '../../office/optin';
import { updatePatient } from '../../office/patient-edit';
import { MAX_PATIENT_PAGE, readPatient, searchPatients } from '../../office/patient-view';
import { normalizePhone, phoneMatchKey } from '../../office/phone';
import { parseRequest } from '../../office/validation';
import { API_BODY_LIMIT_BYTES, pathId, type ApiRouteDeps } from './api-common';

const MAX_NAME = 200;
const PHONE_RULE = 'must be an E.164 number (+15035550123) or a North American number of 10 digits, or 1 and 10 digits';
const id = z.number().int().positive().max(2_147_483_647);
const queryInt = (max: number) => z.string().regex(/^[1-9]\d{0,9}$/, { message: 'must be a positive integer' }).transform(Number).refine((n) => n <= max, { message: `must be at most ${max}` });

export const PatientSearchQuery = z
  .object({
    phone: z.string().max(40).refine((s) => normalizePhone(s) !== null, { message: `phone ${PHONE_RULE}` }).optional(),
    q: z.string().max(MAX_NAME).refine((s) => s.trim() !== '', { message: 'q must not be blank' }).optional(),
    limit: queryInt(MAX_PATIENT_PAGE).optional(),
    before: queryInt(2_147_483_647).optional(),
  })
  .strict();

export const PatientPutBody = z
  .object({
    name: z.string().max(MAX_NAME).refine((s) => s.trim() !== '', { message: 'name must not be blank' }).optional(),
    // Blank clears the number, as a blank cell does in the import.
    wirelessPhone: z.string().max(40).refine((s) => s.trim() === '' || normalizePhone(s) !== null, { message: `wirelessPhone ${PHONE_RULE}` }).nullable().optional(),
    // 0 is "no clinic", as in the import (Open Dental's ClinicNum 0).
    clinicId: z.union([id, z.literal(0)]).nullable().optional(),
    guarantorId: id.nullable().optional(),
    textOk: z.enum(['yes', 'no', 'unknown']).optional(),
  })
  .strict();

/** The opt-in request takes no fields (an empty body or none). */
export const OptinRequestBody = z.object({}).strict();

/** Fastify turns ?a=1&a=2 into an array: the API takes each parameter once. */
function singleValued(query: unknown): unknown {
  if (typeof query !== 'object' || query === null) return query;
  for (const [key, value] of Object.entries(query)) {
    if (Array.isArray(value)) throw new OfficeError(400, 'invalid_request', `${key} must be given once`, key);
  }
  return query;
}

export function registerPatientRoutes(api: FastifyInstance, { app, requireToken }: ApiRouteDeps): void {
  const knex = app.db.knex;

  api.get('/patients', { onRequest: requireToken }, async (req) => {
    const query = parseRequest(PatientSearchQuery, singleValued(req.query));
    return searchPatients(app.db.reader, {
      ...(query.phone !== undefined ? { phoneKey: phoneMatchKey(normalizePhone(query.phone)!)! } : {}),
      ...(query.q !== undefined ? { namePrefix: query.q.trim() } : {}),
      limit: query.limit ?? 50,
      ...(query.before !== undefined ? { before: query.before } : {}),
    });
  });

  api.get<{ Params: { id: string } }>('/patients/:id', { onRequest: requireToken }, async (req, reply) => {
    const patient = await readPatient(app.db.reader, pathId(req.params.id, 'patient'));
    if (!patient) return reply.code(404).send({ error: 'unknown_patient', field: 'id', message: 'no patient has that id' });
    return patient;
  });

  api.put<{ Params: { id: string } }>('/patients/:id', { onRequest: requireToken, bodyLimit: API_BODY_LIMIT_BYTES }, async (req) => {
    const patientId = pathId(req.params.id, 'patient');
    const input = parseRequest(PatientPutBody, req.body);
    const result = await updatePatient(knex, patientId, {
      ...(input.name !== undefined ? { name: input.name.trim() } : {}),
      ...(input.wirelessPhone !== undefined ? { wirelessPhone: input.wirelessPhone === null || input.wirelessPhone.trim() === '' ? null : normalizePhone(input.wirelessPhone)! } : {}),
      ...(input.clinicId !== undefined ? { clinicId: input.clinicId === 0 ? null : input.clinicId } : {}),
      ...(input.guarantorId !== undefined ? { guarantorId: input.guarantorId } : {}),
      ...(input.textOk !== undefined ? { textOk: input.textOk } : {}),
    });
    if (result.changed) app.logger.info('patient changed', { patientId, rematched: result.rematched, optin: result.patient.optin?.status ?? null });
    return { changed: result.changed, ...(result.warning ? { warning: result.warning } : {}), rematched: result.rematched, ...result.patient };
  });

  api.post<{ Params: { id: string } }>('/patients/:id/optin-request', { onRequest: requireToken, bodyLimit: API_BODY_LIMIT_BYTES }, async (req, reply) => {
    const patientId = pathId(req.params.id, 'patient');
    if (req.body !== undefined && req.body !== null) parseRequest(OptinRequestBody, req.body);
    const result = await requestOptin(knex, app.months, patientId, app.config.texting);
    // Recorded and counted already: a send that cannot be queued now is queued by the outbox sweep.
    await app.followUp({ sendGuids: [result.message.guid], recomputeUsage: true });
    app.logger.info('opt-in text queued', { guid: result.message.guid, patientId, clinicId: result.message.clinicId });
    return reply.code(202).send(result);
  });
}
