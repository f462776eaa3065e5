import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePatientsCsv } from '../../src/office/patients';

const known = { clinicIds: new Set([1, 2, 3, 4]), patientIds: new Set<number>() };
const HEADER = 'patientId,name,wirelessPhone,clinicId,guarantorId,textOk';

describe('parsePatientsCsv', () => {
  it('reads the demo file without a problem', async () => {
    const text = readFileSync(join(__dirname, '../../scripts/demo-patients.csv'), 'utf8');
    const parsed = await parsePatientsCsv(text, known);
    expect(parsed.problems).toEqual([]);
    expect(parsed.rows.length).toBe(parsed.total);
    expect(parsed.rows.find((r) => r.patientId === 1002)).toMatchObject({
      wirelessPhone: '+15035550142', phoneKey: '15035550142', clinicId: 1, guarantorId: 1001, textOk: 'yes',
    });
    // Blank guarantor: the patient is their own; blank clinic: none.
    expect(parsed.rows.find((r) => r.patientId === 1011)).toMatchObject({ guarantorId: 1011, clinicId: null });
  });

  it('reports every bad row with its line, field and reason, never the value', async () => {
    const text = [
      HEADER,
      '1,Ana,(503) 555-0101,1,,yes', // line 2: good
      'x,Ben,5035550102,1,,yes', // 3: patientId
      '3,,5035550103,1,,yes', // 4: name
      '4,Dee,555-0104,1,,yes', // 5: phone
      '5,Eve,5035550105,9,,yes', // 6: unknown clinic
      '6,Fay,5035550106,1,,maybe', // 7: textOk
      '1,Gus,5035550107,1,,yes', // 8: repeated id
      '8,Hal,5035550108,1,99,yes', // 9: unknown guarantor
      '9,Ida,5035550109,1,3,yes', // 10: guarantor on a bad row
      '10,Jo,5035550110,1', // 11: too few fields
      '', // blank lines are skipped
      '11,"Kim, K.",5035550111,,,', // 13: good (quoted comma, blanks)
    ].join('\n');
    const parsed = await parsePatientsCsv(text, known);
    expect(parsed.rows.map((r) => r.patientId)).toEqual([1, 11]);
    expect(parsed.rows[1]).toMatchObject({ name: 'Kim, K.', clinicId: null, guarantorId: 11, textOk: 'unknown' });
    expect(parsed.problems.map((p) => [p.line, p.field])).toEqual([
      [3, 'patientId'],
      [4, 'name'],
      [5, 'wirelessPhone'],
      [6, 'clinicId'],
      [7, 'textOk'],
      [8, 'patientId'],
      [9, 'guarantorId'],
      [10, 'guarantorId'],
      [11, null],
    ]);
    expect(parsed.problems.find((p) => p.line === 10)!.reason).toContain('line 4');
    expect(JSON.stringify(parsed.problems)).not.toMatch(/555|Dee|Ben/);
  });

  it('takes Open Dental column names, first and last names, and guarantors imported before', async () => {
    const text = 'PatNum,FName,LName,WirelessPhone,ClinicNum,Guarantor,TxtMsgOk\n20,Ana,Ruiz,+15035550120,0,7,N\n';
    const parsed = await parsePatientsCsv(text, { clinicIds: null, patientIds: new Set([7]) });
    expect(parsed.problems).toEqual([]);
    expect(parsed.rows[0]).toMatchObject({ patientId: 20, name: 'Ana Ruiz', clinicId: null, guarantorId: 7, textOk: 'no' });
  });

  it('refuses a header with a missing or unknown column', async () => {
    const parsed = await parsePatientsCsv('patientId,wirelesPhone\n1,5035550101\n', known);
    expect(parsed.rows).toEqual([]);
    expect(parsed.problems.map((p) => p.field)).toEqual(expect.arrayContaining(['wirelesPhone', 'name']));
    expect((await parsePatientsCsv('', known)).problems[0]).toMatchObject({ line: 1 });
  });

  it('reports broken quoting with its line', async () => {
    const parsed = await parsePatientsCsv(`${HEADER}\n1,Ana,5035550101,1,,yes\n2,"Ben,5035550102,1,,yes\n`, known);
    expect(parsed.rows.map((r) => r.patientId)).toEqual([1]);
    expect(parsed.problems).toEqual([{ line: 3, field: null, reason: 'not valid CSV (CSV_QUOTE_NOT_CLOSED)' }]);
  });
});

describe('parsePatientsCsv against prototype names', () => {
  it('reports constructor / __proto__ / toString values and headers as bad, like any other', async () => {
    const text = [
      HEADER,
      '1,Ana,5035550101,1,,constructor',
      '2,Ben,5035550102,1,,__proto__',
      '3,Cy,5035550103,1,,toString',
      '4,Dee,5035550104,1,,yes',
    ].join('\n');
    const parsed = await parsePatientsCsv(text, known);
    expect(parsed.rows.map((r) => r.patientId)).toEqual([4]);
    expect(parsed.problems).toEqual([2, 3, 4].map((line) => ({ line, field: 'textOk', reason: 'must be yes, no or unknown' })));

    const headers = await parsePatientsCsv('patientId,name,constructor,__proto__\n1,Ana,x,y', known);
    expect(headers.rows).toEqual([]);
    expect(headers.problems.map((p) => [p.field, p.reason])).toEqual([['constructor', 'unknown column'], ['__proto__', 'unknown column']]);
  });
});
