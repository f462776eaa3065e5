/** HQ items as the contract's examples show them (docs/hq-api.md), with fields to override. */
export function contractReceipt(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    receiptId: 'r-000123',
    guid: '6f1c2f9e-1111-4222-8333-444455556666',
    clinicId: 1,
    status: 'delivered',
    chargeUsd: '0.0079',
    segments: 1,
    countryCode: 'US',
    sentAt: '2026-11-02T15:04:05.000Z',
    statusAt: '2026-11-02T15:04:09.000Z',
    ...over,
  };
}

/** A reply as the contract's example shows it (docs/hq-api.md), with fields to override. */
export function contractInbound(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    inboundId: 'i-000045',
    clinicId: 2,
    fromPhone: '+15035550199',
    toPhone: '+15035550100',
    body: 'Yes, see you then',
    receivedAt: '2026-11-03T16:00:00.000Z',
    chargeUsd: '0.0079',
    segments: 1,
    ...over,
  };
}
