/**
 * Matching a patient reply to patients (docs/texting-services.md): by phone key (see phone.ts), patients
 * of the clinic the text arrived at first; the number of matches is kept; one match, or several
 * sharing one guarantor, assigns the reply to that patient (the guarantor, when several family
 * members share the number), otherwise to nobody.
 */
export interface PatientCandidate {
  patientId: number;
  clinicId: number | null;
  /** The family's guarantor; a patient with none is their own. */
  guarantorId: number | null;
}

export interface MatchResult {
  patientId: number | null;
  /** Patients the decision was made among: those of the receiving clinic when it has any, else all. */
  matchCount: number;
}

export function matchReply(candidates: readonly PatientCandidate[], receivingClinicId: number): MatchResult {
  const ofClinic = candidates.filter((c) => c.clinicId === receivingClinicId);
  const pool = ofClinic.length > 0 ? ofClinic : candidates;
  if (pool.length === 0) return { patientId: null, matchCount: 0 };
  if (pool.length === 1) return { patientId: pool[0]!.patientId, matchCount: 1 };
  const guarantors = new Set(pool.map((c) => c.guarantorId ?? c.patientId));
  return { patientId: guarantors.size === 1 ? [...guarantors][0]! : null, matchCount: pool.length };
}
