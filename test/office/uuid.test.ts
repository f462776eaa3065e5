import { helpReplyGuid, uuidV5 } from '../../src/office/uuid';

describe('uuidV5', () => {
  it('matches the RFC test vector (DNS namespace, www.example.com)', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('gives each inbound message one stable help-reply guid', () => {
    const a = helpReplyGuid('i-abc-000000001');
    expect(a).toBe(helpReplyGuid('i-abc-000000001'));
    expect(a).not.toBe(helpReplyGuid('i-abc-000000002'));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
