/**
 * The office API as the office tests drive it: one client for the status server's /api routes
 * (answers with their status, the token or none), the daemon's database for what a route wrote,
 * the HQ mock's record of a message that reached it, and the stack those tests start (API_TOKEN
 * set, every receipt a plain 'delivered' at full price so charges are exact, the account synced).
 */
import { rowsOf } from '../../src/db/bulk-sql';
import { answerProblems } from './openapi-answers';
import { startStack, waitFor, type StackOptions, type TestStack } from './stack';
import type { StatusDocument } from './status-client';

export type Json = Record<string, unknown>;

export interface Answer<T = Json> {
  status: number;
  body: T;
}

export const ALL_DELIVERED = { delivered: 1, unconfirmedThenDelivered: 0, tie: 0, failedWithCharge: 0, failedNoCharge: 0 };

/**
 * Mock time from a POST to its first receipt in the office stacks. The mock's clock ticks with real
 * time, so at the mock's default (2 s) a slow run could see the receipt before it saw the message
 * pending; an hour means a receipt comes only when a test moves the clock past it.
 */
export const OFFICE_RECEIPT_DELAY_MS = 3_600_000;

/** `stack` is a function: the tests make the client before their beforeAll starts the stack. */
export function officeClient(stack: () => TestStack, token: string) {
  /** A request to the status server with `auth` as the bearer token (null: none). */
  const api = async <T = Json>(method: string, path: string, body?: unknown, auth: string | null = token): Promise<Answer<T>> => {
    const res = await fetch(`${stack().daemon.statusUrl}${path}`, {
      method,
      headers: {
        ...(auth === null ? {} : { authorization: `Bearer ${auth}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const answer = { status: res.status, body: (await res.json()) as T };
    // Every answer is what /openapi.json says it is (./openapi-answers.ts).
    expect(answerProblems(method, path, answer.status, answer.body)).toEqual([]);
    return answer;
  };
  /** A query on the daemon's own database. */
  const q = async <T = Json>(sql: string, b: unknown[] = []): Promise<T[]> => rowsOf<T>(await stack().daemon.app.db.knex.raw(sql, b as never));
  /** The mock's record of a POSTed message (its segments as HQ counted them), or undefined before it arrived. */
  const atHq = (guid: string): { segments: number; clinicId: number } | undefined => {
    const m = stack().mock.hq.messages;
    for (let i = 0; i < m.size; i++) if (m.guidOf(i) === guid) return { segments: m.segmentsOf(i), clinicId: m.clinicOf(i) };
    return undefined;
  };
  return { api, q, atHq };
}

/** A stack with API_TOKEN, every receipt 'delivered' OFFICE_RECEIPT_DELAY_MS after its POST, and the account (four clinics) synced. */
export async function startOfficeStack(token: string, opts: StackOptions = {}): Promise<TestStack> {
  const stack = await startStack({ ...opts, env: { ...opts.env, API_TOKEN: token } });
  try {
    await stack.sim('POST', '/sim/config', { outcomes: ALL_DELIVERED, receiptDelayMs: OFFICE_RECEIPT_DELAY_MS });
    await waitFor('account sync', async () => (await stack.status<StatusDocument>()).clinics.length >= 4);
    return stack;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}
