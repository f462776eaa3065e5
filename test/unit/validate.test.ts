import { createHash } from 'node:crypto';
import { accountSchema, ackAnswerSchema, describeIssues, inboundPageSchema, parseIsoUtcMs, parserFor, receiptsPageSchema } from '../../src/hq/schemas';
import { receiptSchema, splitPage } from '../../src/hq/items';
import { contractInbound, contractReceipt } from '../support/hq-items';

const receipt = contractReceipt;

const inbound = contractInbound;

const without = (obj: Record<string, unknown>, key: string): Record<string, unknown> => {
  const copy = { ...obj };
  delete copy[key];
  return copy;
};

describe('parseIsoUtcMs', () => {
  it.each([
    ['2026-11-27T21:12:08.123Z', Date.UTC(2026, 10, 27, 21, 12, 8, 123)],
    ['2026-11-27T21:12:08Z', Date.UTC(2026, 10, 27, 21, 12, 8)],
    ['2026-11-27T21:12:08.1Z', Date.UTC(2026, 10, 27, 21, 12, 8, 100)],
    ['2026-11-27T21:12:08.123999999Z', Date.UTC(2026, 10, 27, 21, 12, 8, 123)], // truncated, not rounded
    ['2028-02-29T00:00:00.000Z', Date.UTC(2028, 1, 29)],
    ['2026-12-31T23:59:59.999Z', Date.UTC(2026, 11, 31, 23, 59, 59, 999)],
  ])('accepts %s', (s, ms) => expect(parseIsoUtcMs(s)).toBe(ms));

  it.each([
    '2026-11-27T21:12:08.123+00:00', // offset instead of Z
    '2026-11-27T21:12:08.123-06:00',
    '2026-11-27 21:12:08.123Z',
    '2026-11-27T21:12Z',
    '2026-11-27',
    '2026-11-27T21:12:08.123z',
    '2026-11-27T21:12:08.Z',
    '2026-11-27T21:12:08.1234567890Z',
    '2026-02-29T00:00:00.000Z', // not a leap year
    '2026-02-30T00:00:00.000Z',
    '2026-04-31T00:00:00.000Z',
    '2026-13-01T00:00:00.000Z',
    '2026-00-01T00:00:00.000Z',
    '2026-11-00T00:00:00.000Z',
    '2026-11-27T24:00:00.000Z',
    '2026-11-27T23:60:00.000Z',
    '2026-11-27T23:59:60.000Z',
    '1999-12-31T23:59:59.999Z',
    '+02026-11-27T21:12:08.123Z',
    '1764278528123',
    '',
  ])('rejects %j', (s) => expect(parseIsoUtcMs(s)).toBeNull());
});

describe('splitPage: receipts', () => {
  it('parses a valid receipt into epoch ms and micro-dollars', () => {
    const { valid, quarantined } = splitPage('receipt', [receipt()]);
    expect(quarantined).toEqual([]);
    expect(valid).toEqual([
      {
        receiptId: 'r-000123',
        guid: '6f1c2f9e-1111-4222-8333-444455556666',
        clinicId: 1,
        status: 'delivered',
        chargeMicros: 7900,
        segments: 1,
        countryCode: 'US',
        sentAtMs: Date.UTC(2026, 10, 2, 15, 4, 5),
        statusAtMs: Date.UTC(2026, 10, 2, 15, 4, 9),
      },
    ]);
  });

  it('accepts every status, a zero charge, and many segments', () => {
    const statuses = ['delivered', 'delivery_unconfirmed', 'failed_with_charge', 'failed_no_charge'];
    const { valid, quarantined } = splitPage(
      'receipt',
      statuses.map((status, i) => receipt({ receiptId: `r-${i}`, status, chargeUsd: i === 3 ? '0' : '12.5', segments: 7 })),
    );
    expect(quarantined).toEqual([]);
    expect(valid.map((v) => v.status)).toEqual(statuses);
    expect(valid.map((v) => v.chargeMicros)).toEqual([12_500_000, 12_500_000, 12_500_000, 0]);
  });

  it('accepts (and drops) unknown extra fields', () => {
    const { valid, quarantined } = splitPage('receipt', [receipt({ carrier: 'Verizon', meta: { a: 1 } })]);
    expect(quarantined).toEqual([]);
    expect(valid).toHaveLength(1);
    expect(valid[0]).not.toHaveProperty('carrier');
  });

  it.each([
    ['money with an exponent', { chargeUsd: '1e-3' }, 'chargeUsd'],
    ['negative money', { chargeUsd: '-0.01' }, 'chargeUsd'],
    ['money that is not a number', { chargeUsd: 'abc' }, 'chargeUsd'],
    ['money with 7 decimals', { chargeUsd: '0.1234567' }, 'chargeUsd'],
    ['money as a JSON number', { chargeUsd: 0.0079 }, 'chargeUsd'],
    ['money with a leading dot', { chargeUsd: '.5' }, 'chargeUsd'],
    ['an unknown status', { status: 'pending' }, 'status'],
    ['segments as a string', { segments: '2' }, 'segments'],
    ['zero segments', { segments: 0 }, 'segments'],
    ['fractional segments', { segments: 1.5 }, 'segments'],
    ['clinicId zero', { clinicId: 0 }, 'clinicId'],
    ['clinicId negative', { clinicId: -3 }, 'clinicId'],
    ['clinicId as a string', { clinicId: '1' }, 'clinicId'],
    ['a lower-case country', { countryCode: 'us' }, 'countryCode'],
    ['a three-letter country', { countryCode: 'USA' }, 'countryCode'],
    ['a timestamp with an offset', { sentAt: '2026-11-02T10:04:05.000-05:00' }, 'sentAt'],
    ['an impossible date', { statusAt: '2026-02-30T00:00:00.000Z' }, 'statusAt'],
    ['a timestamp as epoch ms', { statusAt: 1764278528123 }, 'statusAt'],
    ['an empty guid', { guid: '' }, 'guid'],
    ['a null guid', { guid: null }, 'guid'],
    ['a huge receiptId', { receiptId: 'r'.repeat(500) }, 'receiptId'],
    // Within the contract's letter, but no database column can hold them exactly.
    ['a receiptId of 256 characters', { receiptId: 'r'.repeat(256) }, 'receiptId'],
    ['a guid of 256 characters', { guid: 'g'.repeat(256) }, 'guid'],
    ['a clinicId above 2^31-1', { clinicId: 2 ** 31 }, 'clinicId'],
    ['3,000,000,000 segments', { segments: 3_000_000_000 }, 'segments'],
    ['a charge of 5,000,000,000 USD', { chargeUsd: '5000000000' }, 'chargeUsd'],
    ['a charge just above 1000 USD', { chargeUsd: '1000.000001' }, 'chargeUsd'],
    ['a NUL in the receiptId', { receiptId: 'r-1\u0000x' }, 'receiptId'],
    ['a NUL in the guid', { guid: 'g-\u0000' }, 'guid'],
    ['a lone surrogate in the guid', { guid: 'g-\ud800' }, 'guid'],
  ])('quarantines a receipt with %s', (_what, over, field) => {
    const item = receipt(over);
    const { valid, quarantined } = splitPage('receipt', [item]);
    expect(valid).toEqual([]);
    expect(quarantined).toHaveLength(1);
    const q = quarantined[0]!;
    expect(q.kind).toBe('receipt');
    expect(q.raw).toBe(JSON.stringify(item));
    expect(q.reason).toContain(field);
    const id = item.receiptId as string;
    expect(q.ackId).toBe(id);
    // At most 200 code points (as the id schema counts), no NUL, no lone surrogate.
    const storable = [...id].length <= 200 && !/\u0000|\p{Cs}/u.test(id);
    expect(q.itemKey).toBe(storable ? id : `sha256:${createHash('sha256').update(q.raw).digest('hex')}`);
    // The verbatim text itself is always storable: JSON escapes NUL and lone surrogates.
    expect(q.raw).not.toMatch(/\u0000|\p{Cs}/u);
  });

  it('accepts the largest values the database holds: clinicId and segments 2^31-1, a charge of 1000 USD', () => {
    const { valid, quarantined } = splitPage('receipt', [receipt({ clinicId: 2 ** 31 - 1, segments: 2 ** 31 - 1, chargeUsd: '1000.000000', receiptId: 'r'.repeat(200) })]);
    expect(quarantined).toEqual([]);
    expect(valid[0]).toMatchObject({ clinicId: 2 ** 31 - 1, segments: 2 ** 31 - 1, chargeMicros: 1_000_000_000 });
  });

  it.each(['receiptId', 'guid', 'clinicId', 'status', 'chargeUsd', 'segments', 'countryCode', 'sentAt', 'statusAt'])(
    'quarantines a receipt missing %s',
    (field) => {
      const { valid, quarantined } = splitPage('receipt', [without(receipt(), field)]);
      expect(valid).toEqual([]);
      expect(quarantined[0]!.reason).toMatch(new RegExp(`(^|; )${field}: [a-z_]+ \\(missing\\)`));
    },
  );

  it('names the field and zod issue code in the reason, and lists several problems', () => {
    const { quarantined } = splitPage('receipt', [receipt({ segments: '2', chargeUsd: '1e-3', status: 'lost' })]);
    const reason = quarantined[0]!.reason;
    expect(reason).toContain('segments: invalid_type (expected number)');
    expect(reason).toContain('chargeUsd: custom (not a USD amount)');
    expect(reason).toContain('status: invalid_value');
  });

  it('gives an item without a usable id a sha256 key and no ack id', () => {
    const item = without(receipt({ chargeUsd: 'abc' }), 'receiptId');
    const { quarantined } = splitPage('receipt', [item, receipt({ receiptId: '' }), receipt({ receiptId: 42 })]);
    for (const q of quarantined) {
      expect(q.ackId).toBeNull();
      expect(q.itemKey).toBe(`sha256:${createHash('sha256').update(q.raw).digest('hex')}`);
      expect(q.itemKey).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
    // The same item redelivered gets the same key, so it counts once.
    expect(splitPage('receipt', [item]).quarantined[0]!.itemKey).toBe(quarantined[0]!.itemKey);
  });

  it('acknowledges a malformed item by its id even when other fields are broken', () => {
    const { quarantined } = splitPage('receipt', [receipt({ receiptId: 'r-9', guid: 7, clinicId: null })]);
    expect(quarantined[0]).toMatchObject({ itemKey: 'r-9', ackId: 'r-9' });
  });

  it.each([null, 42, 'r-000123', true, [receipt()], []])('quarantines an item that is not an object: %j', (item) => {
    const { valid, quarantined } = splitPage('receipt', [item]);
    expect(valid).toEqual([]);
    expect(quarantined).toEqual([
      {
        kind: 'receipt',
        itemKey: `sha256:${createHash('sha256').update(JSON.stringify(item)).digest('hex')}`,
        ackId: null,
        raw: JSON.stringify(item),
        reason: '(item): invalid_type (expected object)',
      },
    ]);
  });

  it('keeps the good items of a page with bad ones, in order', () => {
    const items = [receipt({ receiptId: 'a' }), receipt({ receiptId: 'b', chargeUsd: '-1' }), null, receipt({ receiptId: 'c' })];
    const { valid, quarantined } = splitPage('receipt', items);
    expect(valid.map((v) => v.receiptId)).toEqual(['a', 'c']);
    expect(quarantined.map((q) => q.ackId)).toEqual(['b', null]);
  });
});

describe('splitPage: inbound', () => {
  it.each([
    ['a NUL in the body', { body: 'see you\u0000then' }, 'body'],
    ['a lone surrogate in the body', { body: 'smile \udc00' }, 'body'],
    ['a clinicId above 2^31-1', { clinicId: 2 ** 31 }, 'clinicId'],
    ['3,000,000,000 segments', { segments: 3_000_000_000 }, 'segments'],
    ['a charge of 5,000,000,000 USD', { chargeUsd: '5000000000' }, 'chargeUsd'],
    ['an inboundId of 256 characters', { inboundId: 'i'.repeat(256) }, 'inboundId'],
  ])('quarantines an inbound message with %s', (_what, over, field) => {
    const item = inbound(over);
    const { valid, quarantined } = splitPage('inbound', [item]);
    expect(valid).toEqual([]);
    expect(quarantined[0]!.raw).toBe(JSON.stringify(item));
    expect(quarantined[0]!.reason).toContain(field);
    expect(quarantined[0]!.reason).not.toContain('see you');
  });

  it('keeps an emoji (a surrogate pair) in the body exactly', () => {
    const { valid } = splitPage('inbound', [inbound({ body: 'ok \u{1F600}' })]);
    expect(valid[0]!.body).toBe('ok \u{1F600}');
  });

  it('parses a valid inbound message', () => {
    const { valid, quarantined } = splitPage('inbound', [inbound()]);
    expect(quarantined).toEqual([]);
    expect(valid).toEqual([
      {
        inboundId: 'i-000045',
        clinicId: 2,
        fromPhone: '+15035550199',
        toPhone: '+15035550100',
        body: 'Yes, see you then',
        receivedAtMs: Date.UTC(2026, 10, 3, 16),
        chargeMicros: 7900,
        segments: 1,
      },
    ]);
  });

  it('accepts a zero charge, an empty body and extra fields', () => {
    const { valid } = splitPage('inbound', [inbound({ chargeUsd: '0', body: '', media: [] })]);
    expect(valid).toHaveLength(1);
    expect(valid[0]!.chargeMicros).toBe(0);
  });

  it.each([
    ['a phone without +', { fromPhone: '15035550199' }, 'fromPhone'],
    ['a phone with spaces', { toPhone: '+1 503 555 0100' }, 'toPhone'],
    ['a phone starting +0', { fromPhone: '+05035550199' }, 'fromPhone'],
    ['a too-long phone', { fromPhone: '+1234567890123456' }, 'fromPhone'],
    ['a body that is not a string', { body: 12 }, 'body'],
    ['zero segments', { segments: 0 }, 'segments'],
    ['segments as a string', { segments: '1' }, 'segments'],
    ['bad money', { chargeUsd: '0.1234567' }, 'chargeUsd'],
    ['a bad timestamp', { receivedAt: '2026-11-03T16:00:00' }, 'receivedAt'],
  ])('quarantines an inbound message with %s', (_what, over, field) => {
    const { valid, quarantined } = splitPage('inbound', [inbound(over)]);
    expect(valid).toEqual([]);
    expect(quarantined[0]).toMatchObject({ kind: 'inbound', itemKey: 'i-000045', ackId: 'i-000045' });
    expect(quarantined[0]!.reason).toContain(field);
  });

  it('uses inboundId, not receiptId, as the key', () => {
    const { quarantined } = splitPage('inbound', [{ receiptId: 'r-1', segments: 'x' }]);
    expect(quarantined[0]!.ackId).toBeNull();
    expect(quarantined[0]!.itemKey).toMatch(/^sha256:/);
  });
});

describe('reasons never carry the values', () => {
  const secretBody = 'My SSN is 123-45-6789, call me';
  const cases: Array<['receipt' | 'inbound', Record<string, unknown>, string[]]> = [
    ['inbound', inbound({ fromPhone: '15035550199', body: secretBody, segments: 'two' }), ['15035550199', secretBody, 'two', '5035550100']],
    ['inbound', inbound({ toPhone: '+1503555', body: { text: secretBody }, chargeUsd: '-0.0079' }), ['+1503555', secretBody, '0.0079']],
    ['receipt', receipt({ chargeUsd: '1e-3', status: 'mystery-status', countryCode: 'zz', guid: '' }), ['1e-3', 'mystery-status', 'zz']],
    ['receipt', receipt({ sentAt: '2026-02-30T01:02:03.000Z', chargeUsd: '99999999999999999999' }), ['2026-02-30', '99999999999999999999']],
  ];
  it.each(cases)('%s item', (kind, item, values) => {
    const { quarantined } = splitPage(kind, [item]);
    const reason = quarantined[0]!.reason;
    expect(reason.length).toBeGreaterThan(0);
    for (const v of values) expect(reason).not.toContain(v);
    expect(reason).not.toMatch(/\d{6,}/);
  });
});

describe('page envelopes, account and ack answers', () => {
  it('accepts pages of the contract shape, items unchecked', () => {
    expect(receiptsPageSchema.safeParse({ receipts: [receipt(), null, 3], more: true }).success).toBe(true);
    expect(inboundPageSchema.safeParse({ messages: [], more: false, extra: 1 }).success).toBe(true);
  });

  it.each([
    null,
    [],
    'x',
    {},
    { receipts: [] },
    { receipts: {}, more: false },
    { receipts: [], more: 'false' },
    { messages: [], more: false },
  ])('refuses a receipts page %j', (body) => {
    expect(receiptsPageSchema.safeParse(body).success).toBe(false);
    expect(parserFor(receiptsPageSchema)(body)).toBeNull();
  });

  it('refuses an inbound page with receipts in it', () => {
    expect(inboundPageSchema.safeParse({ receipts: [], more: false }).success).toBe(false);
  });

  const account = {
    officeId: 'office-123',
    monthlyLimitUsd: '50.00',
    clinics: [
      { clinicId: 1, name: 'Main Street', subscribed: true, primaryPhone: '+15035550100', countryCode: 'US' },
      { clinicId: 2, name: 'Elm', subscribed: false, primaryPhone: '+15035550101', countryCode: 'US', tz: 'x' },
    ],
  };

  // The account job parses with parserFor(accountSchema), as here (workers/sync-account.ts).
  const parseAccount = parserFor(accountSchema);

  it('parses the account with the limit in micro-dollars', () => {
    expect(parseAccount(account)).toEqual({
      officeId: 'office-123',
      monthlyLimitMicros: 50_000_000,
      clinics: [
        { clinicId: 1, name: 'Main Street', subscribed: true, primaryPhone: '+15035550100', countryCode: 'US' },
        { clinicId: 2, name: 'Elm', subscribed: false, primaryPhone: '+15035550101', countryCode: 'US' },
      ],
    });
  });

  it.each([
    [{ ...account, monthlyLimitUsd: '-5' }, 'monthlyLimitUsd'],
    [{ ...account, monthlyLimitUsd: 50 }, 'monthlyLimitUsd'],
    [{ ...account, officeId: '' }, 'officeId'],
    [{ ...account, clinics: [{ ...account.clinics[0], primaryPhone: '5035550100' }] }, 'clinics[0].primaryPhone'],
    [{ ...account, clinics: [{ ...account.clinics[0], subscribed: 'yes' }] }, 'clinics[0].subscribed'],
    [{ ...account, clinics: [account.clinics[0], account.clinics[0]] }, 'clinics[1].clinicId'],
    [{ ...account, clinics: undefined }, 'clinics'],
  ])('refuses a bad account (%#), naming %s', (body, field) => {
    expect(parseAccount(body)).toBeNull();
    const result = accountSchema.safeParse(body);
    expect(result.success).toBe(false);
    const described = describeIssues(result.error!.issues, body);
    expect(described.slice(0, field.length + 1)).toBe(`${field}:`);
    expect(described).not.toContain('5035550100');
  });

  it('parses the ack answer', () => {
    expect(ackAnswerSchema.parse({ acked: 3 })).toEqual({ acked: 3 });
    expect(ackAnswerSchema.safeParse({ acked: -1 }).success).toBe(false);
    expect(ackAnswerSchema.safeParse({ acked: '3' }).success).toBe(false);
    expect(ackAnswerSchema.safeParse({}).success).toBe(false);
  });

  it('receiptSchema is usable on its own', () => {
    expect(receiptSchema.safeParse(receipt()).success).toBe(true);
  });
});
