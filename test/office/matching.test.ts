import { matchReply, type PatientCandidate } from '../../src/office/matching';

const p = (patientId: number, clinicId: number | null, guarantorId: number | null = null): PatientCandidate => ({ patientId, clinicId, guarantorId });

describe('matchReply', () => {
  it('no patient with the number: nobody, 0 matches', () => {
    expect(matchReply([], 1)).toEqual({ patientId: null, matchCount: 0 });
  });

  it('one match assigns the reply to that patient, whatever their clinic', () => {
    expect(matchReply([p(7, 1)], 1)).toEqual({ patientId: 7, matchCount: 1 });
    expect(matchReply([p(7, 2)], 1)).toEqual({ patientId: 7, matchCount: 1 });
    expect(matchReply([p(7, null)], 1)).toEqual({ patientId: 7, matchCount: 1 });
  });

  it('patients of the receiving clinic come first', () => {
    // Two unrelated patients share the number, one at each clinic: the clinic the text came to decides.
    expect(matchReply([p(7, 1), p(8, 2)], 1)).toEqual({ patientId: 7, matchCount: 1 });
    expect(matchReply([p(7, 1), p(8, 2)], 2)).toEqual({ patientId: 8, matchCount: 1 });
  });

  it('several matches sharing one guarantor assign the reply to the guarantor', () => {
    expect(matchReply([p(10, 1, 10), p(11, 1, 10), p(12, 1, 10)], 1)).toEqual({ patientId: 10, matchCount: 3 });
    // A patient without a guarantor is their own: the family head and the child share guarantor 10.
    expect(matchReply([p(10, 1, null), p(11, 1, 10)], 1)).toEqual({ patientId: 10, matchCount: 2 });
    // The guarantor need not be among the matches (the children share a number, the parent has another).
    expect(matchReply([p(11, 1, 10), p(12, 1, 10)], 1)).toEqual({ patientId: 10, matchCount: 2 });
  });

  it('several matches with different guarantors assign the reply to nobody, keeping the count', () => {
    expect(matchReply([p(7, 1), p(8, 1)], 1)).toEqual({ patientId: null, matchCount: 2 });
    expect(matchReply([p(7, 2), p(8, 3)], 1)).toEqual({ patientId: null, matchCount: 2 });
  });

  it('when the receiving clinic has none, all matches are considered', () => {
    expect(matchReply([p(11, 2, 10), p(12, 3, 10)], 1)).toEqual({ patientId: 10, matchCount: 2 });
  });
});
