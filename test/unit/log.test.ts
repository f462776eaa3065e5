import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Logger } from 'winston';
import { createLogger, jobLogger, maskPhones, redactValue } from '../../src/log';
import { waitFor } from '../support/stack';
import type { LogLevel } from '../../src/config';

const PHONE = '+15035550123';
const BODY = 'Yes, see you then. My new number is 5035550199';

/** A logger writing to memory; `lines()` ends it and returns the parsed JSON lines it wrote. */
function memoryLogger(level: LogLevel = 'silly', file?: string): { logger: Logger; lines(): Promise<Array<Record<string, any>>>; text(): Promise<string> } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const logger = createLogger({ level, stream, file, service: 'test' });
  const finished = async (): Promise<string> => {
    await new Promise<void>((resolve) => {
      logger.on('finish', () => resolve());
      logger.end();
    });
    await new Promise((resolve) => setImmediate(resolve));
    return text;
  };
  return {
    logger,
    text: finished,
    lines: async () =>
      (await finished())
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, any>),
  };
}

describe('maskPhones', () => {
  it.each([
    ['+15035550123', '+*********23'],
    ['+447911123456', '+**********56'],
    ['+12345678', '+******78'],
    ['5035550123', '********23'],
    ['15035550123', '*********23'],
    ['(503) 555-0123', '(***) ***-**23'],
    ['503-555-0123', '***-***-**23'],
    ['503.555.0123', '***.***.**23'],
    ['+1 503-555-0123', '+* ***-***-**23'],
    ['call +15035550123 or 5035550124 now', 'call +*********23 or ********24 now'],
  ])('%s -> %s', (input, masked) => expect(maskPhones(input)).toBe(masked));

  it.each([
    'job 12345 took 1234 ms',
    'at 2026-11-27T21:12:08.123Z',
    'epoch 1764278528123',
    'epoch seconds 1764278528',
    '0.0079 USD',
    'r-000123',
    '127.0.0.1:7380',
    '+1234567',
    '0123456789',
  ])('leaves %j alone', (s) => expect(maskPhones(s)).toBe(s));
});

describe('redactValue', () => {
  it('drops bodies at any depth, masks phones, and does not touch the input', () => {
    const input = { body: BODY, nested: { text: 'hi', messageBody: 'x', list: [{ Body: 'y', to: PHONE }] }, count: 3 };
    const copy = JSON.parse(JSON.stringify(input));
    expect(redactValue(input, { dropBodies: true })).toEqual({
      body: '[redacted]',
      nested: { text: '[redacted]', messageBody: '[redacted]', list: [{ Body: '[redacted]', to: '+*********23' }] },
      count: 3,
    });
    expect(input).toEqual(copy);
  });

  it('keeps bodies (phone-masked) when not dropping them', () => {
    expect(redactValue({ body: BODY }, { dropBodies: false })).toEqual({ body: 'Yes, see you then. My new number is ********99' });
  });

  it('handles errors, cycles, dates, buffers and phone numbers stored as numbers', () => {
    const err = Object.assign(new Error(`send to ${PHONE} failed`), { code: 'E_HQ' });
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const out = redactValue({ err, cyclic, at: new Date(0), buf: Buffer.from('abc'), phone: 5035550123, n: 1234567 }, { dropBodies: true }) as any;
    expect(out.err.message).toBe('send to +*********23 failed');
    expect(out.err.code).toBe('E_HQ');
    expect(out.err.stack).toContain('send to +*********23 failed');
    expect(out.cyclic).toEqual({ name: 'loop', self: '[circular]' });
    expect(out.at).toBe('1970-01-01T00:00:00.000Z');
    expect(out.buf).toBe('[binary 3 bytes]');
    expect(out.phone).toBe('********23');
    expect(out.n).toBe(1234567);
  });
});

describe('createLogger: real output', () => {
  it('writes JSON lines with timestamp, level, message, service and meta', async () => {
    const { logger, lines } = memoryLogger('info');
    logger.info('page recorded', { stream: 'receipts', items: 1000 });
    const [line] = await lines();
    expect(line).toMatchObject({ level: 'info', message: 'page recorded', service: 'test', stream: 'receipts', items: 1000 });
    expect(new Date(line!.timestamp).toISOString()).toBe(line!.timestamp);
  });

  it('at info and above, no phone number or body leaks anywhere', async () => {
    const { logger, text } = memoryLogger('silly');
    const job = { data: { toPhone: PHONE, body: BODY } };
    logger.error(`could not text ${PHONE}`, { job, inbound: { fromPhone: '+15035550199', text: BODY, messageBody: BODY } });
    logger.warn('reply', { body: BODY, from: '(503) 555-0199' });
    logger.info({ message: `from ${PHONE}`, body: BODY });
    logger.info('nested', { a: { b: { c: { body: BODY, phones: [PHONE, '15035550199'] } } } });
    const out = await text();
    expect(out.split('\n').filter(Boolean)).toHaveLength(4);
    for (const secret of [PHONE, '15035550123', '5035550123', '5035550199', '555-0199', BODY, 'see you then']) expect(out).not.toContain(secret);
    expect(out).toContain('+*********23');
    expect(out).toContain('(***) ***-**99');
    expect(out).toContain('"body":"[redacted]"');
    // The caller's objects are left as they were.
    expect(job.data).toEqual({ toPhone: PHONE, body: BODY });
  });

  it('below info (debug), bodies may appear but phones are still masked', async () => {
    const { logger, lines } = memoryLogger('debug');
    logger.debug('inbound', { body: BODY, fromPhone: PHONE });
    logger.http('request', { text: 'GET /status' });
    logger.silly('not written at debug', { body: BODY });
    const out = await lines();
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({ level: 'debug', body: 'Yes, see you then. My new number is ********99', fromPhone: '+*********23' });
    expect(out[1]).toMatchObject({ level: 'http', text: 'GET /status' });
  });

  it('respects the level', async () => {
    const { logger, lines } = memoryLogger('warn');
    logger.info('hidden');
    logger.warn('shown');
    expect((await lines()).map((l) => l.message)).toEqual(['shown']);
  });

  it('serializes errors with message and stack, masked', async () => {
    const { logger, lines } = memoryLogger('info');
    logger.error(new Error(`boom for ${PHONE}`));
    logger.error('job failed', { err: new TypeError(`bad body ${PHONE}`) });
    logger.error('job failed:', new RangeError(`out of range ${PHONE}`));
    const [first, second, third] = await lines();
    expect(first).toMatchObject({ level: 'error', message: 'boom for +*********23' });
    expect(first!.stack).toContain('Error: boom for +*********23');
    expect(second!.err).toMatchObject({ name: 'TypeError', message: 'bad body +*********23' });
    expect(second!.err.stack).toContain('TypeError: bad body +*********23');
    expect(third!.message).toBe('job failed: out of range +*********23');
    expect(third!.stack).toContain('RangeError');
    expect(JSON.stringify([first, second, third])).not.toContain('5035550123');
  });

  it('refuses a level winston does not know', () => {
    expect(() => createLogger({ level: 'loud' as LogLevel, stream: new PassThrough() })).toThrow(RangeError);
  });
});

describe('jobLogger', () => {
  it('adds queue, job id and attempt to every entry, still redacted', async () => {
    const { logger, lines } = memoryLogger('info');
    const log = jobLogger(logger, { queue: 'poll-receipts', jobId: 'poll-receipts', attempt: 2, attempts: 5 });
    log.info('job done', { durationMs: 120, body: BODY });
    const [line] = await lines();
    expect(line).toMatchObject({ queue: 'poll-receipts', jobId: 'poll-receipts', attempt: 2, attempts: 5, durationMs: 120, body: '[redacted]' });
  });
});

describe('log file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'econnector-log-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the same redacted JSON lines to the file (creating its folder)', async () => {
    const file = join(dir, 'logs', 'econnector.log');
    const { logger, text } = memoryLogger('info', file);
    logger.info(`texted ${PHONE}`, { body: BODY });
    await text();
    // The file transport finishes writing shortly after the logger ends: wait for the line.
    const content = await waitFor('the log line in the file', async () => {
      try {
        const text = readFileSync(file, 'utf8');
        return text.includes('\n') ? text : undefined;
      } catch {
        return undefined; // not created yet
      }
    }, 15_000, 20);
    const line = JSON.parse(content.trim().split('\n')[0]!);
    expect(line).toMatchObject({ level: 'info', message: 'texted +*********23', body: '[redacted]' });
    expect(content).not.toContain(PHONE);
    expect(content).not.toContain(BODY);
  });
});
