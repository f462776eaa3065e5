/**
 * The one way the page calls the office API with its token (app.ts's settings, messages.ts's
 * text messages): the bearer header, no cache, JSON both ways, and a refusal read into its parts.
 * What to tell the person (and whether to ask for the token again) stays with the caller, whose
 * words fit what it was doing.
 */

/** The error document the office API answers with (src/status/openapi/schemas.ts, ErrorBody). */
export interface ApiError {
  error?: string;
  field?: string;
  message?: string;
}

export type ApiAnswer<T> =
  | { ok: true; status: number; body: T }
  /** The connector answered with a refusal or a failure: its status and (when JSON) its error document. */
  | { ok: false; status: number; error: ApiError }
  /** The connector did not answer at all (status 0). */
  | { ok: false; status: 0; error: ApiError; unreachable: string };

export async function callApi<T>(method: string, path: string, token: string, body?: unknown): Promise<ApiAnswer<T>> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      cache: 'no-store',
      headers: { accept: 'application/json', authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    return { ok: false, status: 0, error: {}, unreachable: (err as Error).message };
  }
  if (res.ok) return { ok: true, status: res.status, body: (await res.json()) as T };
  let error: ApiError = {};
  try {
    error = (await res.json()) as ApiError;
  } catch {
    /* not JSON: the status code says enough */
  }
  return { ok: false, status: res.status, error };
}
