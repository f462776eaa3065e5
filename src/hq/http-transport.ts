/**
 * One HTTP exchange with HQ on node:http / node:https, with a keep-alive agent per client: the
 * answer's status, its headers and its body as text, at most `maxBytes` of it.
 *
 * Why not fetch: in a drain, fetch (undici) took 14-19% of the main thread, and compiling its
 * HTTP parser (WebAssembly) kept about 30 MB of the daemon's peak RSS (BENCHMARKS.md, "Where a
 * drain's time goes" and "Memory"); node:http parses with the runtime's native parser.
 *
 * What the client relies on, as it had it with fetch: no redirect is followed (the API key would
 * go along to wherever it points: a 3xx is refused like a failed connection); a body is decoded as
 * UTF-8 (invalid sequences become U+FFFD; a leading byte-order mark is now dropped, as JSON allows);
 * the request's signal, the client's timeout included, cuts the exchange wherever it is, a body
 * trickling in too; a connection that closes before the whole answer is an error, never a short body.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface HttpAnswer {
  status: number;
  /** A response header by name (any case), or null; repeated headers joined with ", ". */
  header(name: string): string | null;
  text: string;
}

/** A body longer than the client reads. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
}

/** HQ answered with a redirect, which is never followed. */
export class RedirectRefusedError extends Error {
  override name = 'RedirectRefusedError';
  readonly code = 'redirect_refused';
}

/** The connection ended before the whole answer arrived. */
class AnswerCutError extends Error {
  override name = 'AnswerCutError';
  readonly code = 'answer_cut';
}

/** How long an idle keep-alive connection is kept: under the 5 s a Node server (and many load balancers) keeps one. */
const IDLE_TIMEOUT_MS = 4000;

export class HttpTransport {
  /**
   * Idle connections are closed after IDLE_TIMEOUT_MS (or sooner when HQ's Keep-Alive header asks:
   * Node honours that hint only below an agent timeout), so a poll rarely writes to a connection
   * HQ or a load balancer is closing, which would fail as a reset and close the endpoint's gate.
   */
  private readonly http = new HttpAgent({ keepAlive: true, timeout: IDLE_TIMEOUT_MS, scheduling: 'lifo' });
  private readonly https = new HttpsAgent({ keepAlive: true, timeout: IDLE_TIMEOUT_MS, scheduling: 'lifo' });

  /** `url` is absolute (http: or https:); `body`, when given, is sent as it is. */
  request(url: string, method: 'GET' | 'POST', headers: Record<string, string>, body: string | undefined, signal: AbortSignal, maxBytes: number): Promise<HttpAnswer> {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    if (!secure && target.protocol !== 'http:') return Promise.reject(new Error(`unsupported protocol ${target.protocol}`));
    const send = secure ? httpsRequest : httpRequest;
    return new Promise<HttpAnswer>((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown): void => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      const req = send(target, {
        method,
        headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: secure ? this.https : this.http,
        signal,
      }, (res) => this.readAnswer(res, maxBytes, (answer) => {
        if (settled) return;
        settled = true;
        resolve(answer);
      }, fail));
      req.on('error', fail);
      // A request can close with neither an answer nor an error: an answer of 101 (an upgrade nobody
      // asked for) makes Node drop the socket, after which the signal cannot end it either. After a
      // good answer this comes a tick after 'end', when the promise has settled: then it does nothing.
      req.on('close', () => fail(new AnswerCutError('the connection closed without an answer')));
      req.end(body);
    });
  }

  /** Closes the idle connections (the agents' sockets are unreferenced while idle, so this is for tidiness). */
  close(): void {
    this.http.destroy();
    this.https.destroy();
  }

  private readAnswer(res: IncomingMessage, maxBytes: number, done: (answer: HttpAnswer) => void, fail: (err: unknown) => void): void {
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400) {
      res.destroy();
      fail(new RedirectRefusedError(`HQ answered ${status} (a redirect, not followed)`));
      return;
    }
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      // Destroyed rather than read to the end: the connection is not kept reading.
      res.destroy();
      fail(new BodyTooLargeError(`body of ${declared} bytes, more than ${maxBytes}`));
      return;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    res.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        res.destroy();
        fail(new BodyTooLargeError(`body of more than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => {
      let text = Buffer.concat(chunks, total).toString('utf8');
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      done({ status, text, header: (name) => headerOf(res, name) });
    });
    res.on('error', fail);
    // A connection that closes mid-answer (HQ, a proxy, the signal) ends the body without 'end'.
    res.on('close', () => {
      if (!res.complete) fail(new AnswerCutError('the connection closed before the whole answer'));
    });
  }
}

function headerOf(res: IncomingMessage, name: string): string | null {
  const v = res.headers[name.toLowerCase()];
  if (v === undefined) return null;
  return Array.isArray(v) ? v.join(', ') : v;
}
