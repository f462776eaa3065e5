/**
 * Human lines on a terminal, JSON lines elsewhere (LOG_FORMAT): the same redacted entry either way.
 */
import { PassThrough } from 'node:stream';
import type { LogFormat } from '../../src/config';
import { createLogger, humanLine } from '../../src/log';
import { loadConfig } from '../../src/config';

const PHONE = '+15035550123';
const BODY = 'Yes, see you then';

async function written(format: LogFormat, tty: boolean, log: (l: ReturnType<typeof createLogger>) => void): Promise<string> {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean };
  if (tty) stream.isTTY = true;
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString('utf8')));
  const logger = createLogger({ level: 'info', stream, format, service: 'test' });
  log(logger);
  await new Promise<void>((resolve) => {
    logger.on('finish', () => resolve());
    logger.end();
  });
  await new Promise((resolve) => setImmediate(resolve));
  return text;
}

const strip = (s: string): string => s.replace(/\x1b\[\d+m/g, '');

describe('log format', () => {
  const entry = (l: ReturnType<typeof createLogger>): void => {
    l.info('reply recorded', { clinicId: 2, fromPhone: PHONE, body: BODY, note: 'two words', nested: { n: 1 } });
  };

  it('auto is JSON lines when stdout is not a terminal, human lines on one', async () => {
    const json = await written('auto', false, entry);
    const parsed = JSON.parse(json.trim()) as Record<string, unknown>;
    expect(parsed).toMatchObject({ level: 'info', message: 'reply recorded', clinicId: 2, fromPhone: '+*********23', body: '[redacted]', service: 'test' });

    const human = strip(await written('auto', true, entry));
    expect(human.split('\n').filter(Boolean)).toHaveLength(1);
    expect(human).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} info {2}reply recorded {2}clinicId=2 fromPhone=\+\*{9}23 body=\[redacted\] note="two words" nested=\{"n":1\}\n$/);
  });

  it('LOG_FORMAT=json and =human win over the terminal check; redaction holds in both', async () => {
    for (const [format, tty] of [['json', true], ['human', false]] as const) {
      const text = await written(format, tty, entry);
      expect(text).not.toContain(PHONE);
      expect(text).not.toContain(BODY);
      expect(text.trim().startsWith('{')).toBe(format === 'json');
    }
    // Colour only on a terminal.
    expect(await written('human', false, entry)).not.toContain('\x1b[');
    expect(await written('human', true, entry)).toContain('\x1b[32minfo');
  });

  it("an error's stack follows its line, indented", () => {
    const line = humanLine({ level: 'error', message: 'boom', timestamp: '2026-12-01T10:00:00.000Z', stack: 'Error: boom\n    at a (x.js:1:1)\n    at b (y.js:2:2)' }, false);
    expect(line.split('\n')).toEqual([expect.stringMatching(/ error boom$/), '    at a (x.js:1:1)', '    at b (y.js:2:2)']);
  });

  it('LOG_FORMAT is a checked setting', () => {
    const env = { OFFICE_TZ: 'UTC', NODE_ENV: 'test' };
    expect(loadConfig({ ...env }).log.format).toBe('auto');
    expect(loadConfig({ ...env, LOG_FORMAT: 'JSON' }).log.format).toBe('json');
    expect(() => loadConfig({ ...env, LOG_FORMAT: 'xml' })).toThrow("LOG_FORMAT: 'xml' is not a log format (auto, json, human)");
  });
});
