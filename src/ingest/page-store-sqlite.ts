/**
 * The page store on SQLite (page-store.ts). Pages are written on a thread of their own
 * (sqlite-page-writer.ts, through better-sqlite3), so the event loop keeps serving HTTP, Redis and
 * the next page's fetch while a page is written and synced: receipts by prepared statements, reply
 * pages by recordInboundPage (record-inbound.ts, the code PostgreSQL runs) through knex on the
 * thread's connection, with the office's upkeep of each reply. A page with no item at all is only a
 * good poll, recorded here on the ORM's connection.
 *
 * In-process writers take turns: while the thread writes a page, this holds the ORM's one SQLite
 * connection (the pool's only one), so office requests, the usage recompute and the other
 * stream's pages queue behind the page in order, exactly as they did behind each other, instead of
 * meeting its write lock and polling for it with busy_timeout. Writers in other processes still
 * wait on the lock (busy_timeout), as before.
 *
 * A thread that dies (it should not) fails the pages it held, which are then simply not
 * acknowledged; the next page starts a new thread.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Knex } from '@mikro-orm/knex';
import type { MonthBucketer } from '../usage/month';
import type { InboundPage, PageOutcome, PageStore, ReceiptsPage } from './page-store';
import { packReceipts } from './receipts-transfer';
import { recordEmptyPoll } from './record-inbound';
import type { WriterAnswer, WriterData, WriterPage, WriterRequest } from './sqlite-page-writer';

/** The thread's compiled file: beside this one in dist/, or in dist/ when this runs from src/ (tests). */
function writerFile(): string {
  const here = join(__dirname, 'sqlite-page-writer.js');
  if (existsSync(here)) return here;
  const built = resolve(__dirname, '../../dist/src/ingest/sqlite-page-writer.js');
  if (existsSync(built)) return built;
  throw new Error('SQLite page store: dist/src/ingest/sqlite-page-writer.js is missing (run npm run build)');
}

export class PageWriterError extends Error {
  override name = 'PageWriterError';
  constructor(message: string, readonly code: string | null) {
    super(message);
  }
}

/** Where the thread writes: the SQLite file and the office's time zone. */
type WriterTarget = Omit<WriterData, 'calendarOffsetMs'>;

/**
 * The calendar clock's offset from real time. The daemon's calendar is real time plus a fixed
 * offset (config.testClock, src/daemon/daemon.ts); a clock cannot cross to the thread, its offset
 * can, read here to the millisecond (a read that straddles a millisecond tick is taken again).
 */
function calendarOffset(months: MonthBucketer): number {
  for (let attempt = 0; ; attempt++) {
    const before = Date.now();
    const calendar = months.now();
    if (Date.now() === before || attempt >= 100) return calendar - before;
  }
}

interface KnexClientLike {
  acquireConnection(): Promise<unknown>;
  releaseConnection(conn: unknown): Promise<unknown>;
}

export class SqlitePageStore implements PageStore {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: PageOutcome) => void; reject: (e: Error) => void }>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;

  private readonly data: WriterData;

  /** `months` is the daemon's calendar: the thread's follows it (sqlite-page-writer.ts). */
  constructor(private readonly knex: Knex, months: MonthBucketer, target: WriterTarget) {
    this.data = { path: target.path, officeTz: target.officeTz, calendarOffsetMs: calendarOffset(months) };
  }

  /**
   * Records one page in one transaction on the thread. Rejects on any failure, and the page is
   * then not acknowledged: rolled back, or (a thread that died between its commit and its answer)
   * stored and recognised as already stored when HQ hands it out again.
   */
  recordReceipts(page: ReceiptsPage): Promise<PageOutcome> {
    if (page.receipts.length === 0 && page.quarantined.length === 0) return this.track(() => recordEmptyPoll(this.knex, 'receipts', page.now));
    return this.track(() => this.takeTurn({ kind: 'receipts', page: { ...page, receipts: packReceipts(page.receipts) ?? page.receipts } }));
  }

  /** Likewise for a page of replies; the outcome names the automatic texts to queue (sendGuids). */
  recordInbound(page: InboundPage): Promise<PageOutcome> {
    if (page.messages.length === 0 && page.quarantined.length === 0) return this.track(() => recordEmptyPoll(this.knex, 'inbound', page.now));
    return this.track(() => this.takeTurn({ kind: 'inbound', page }));
  }

  /** close() waits for every page already handed over, from its turn in the queue to its answer. */
  private track(record: () => Promise<PageOutcome>): Promise<PageOutcome> {
    if (this.closed) return Promise.reject(new PageWriterError('page store closed', null));
    const recording = record();
    const settled = recording.then(() => undefined, () => undefined);
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return recording;
  }

  private async takeTurn(request: WriterPage): Promise<PageOutcome> {
    const client = (this.knex as unknown as { client: KnexClientLike }).client;
    const conn = await client.acquireConnection();
    try {
      return await this.send(request);
    } finally {
      await client.releaseConnection(conn);
    }
  }

  private send(request: WriterPage): Promise<PageOutcome> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<PageOutcome>((resolvePage, rejectPage) => {
      this.pending.set(id, { resolve: resolvePage, reject: rejectPage });
      // A receipts page's numbers are moved to the thread, not copied (receipts-transfer.ts).
      worker.postMessage({ ...request, id } satisfies WriterRequest, request.kind === 'receipts' && 'numbers' in request.page.receipts ? [request.page.receipts.numbers.buffer] : []);
    });
  }

  private start(): Worker {
    // The thread's heap is its own: without limits V8 let it grow to ~25 MB more peak RSS over a
    // drain once reply pages ran there (their live set is a page or two). A thread out of memory
    // dies like any other failure below: its pages are not acknowledged, the next starts a thread.
    // The start flag --max-semi-space-size=8 (ecosystem.config.js) sets every thread's young
    // generation, this one's too, and wins over the young limit here: both come to 16 MB.
    const worker = new Worker(writerFile(), { workerData: this.data, resourceLimits: { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 64 } });
    worker.on('message', (answer: WriterAnswer) => {
      const waiting = this.pending.get(answer.id);
      if (!waiting) return;
      this.pending.delete(answer.id);
      if (answer.ok) waiting.resolve(answer.result);
      // better-sqlite3's messages lack the code ("database is locked"); the line an operator reads
      // names it, as the ORM driver's errors do ("SQLITE_BUSY: database is locked").
      else waiting.reject(new PageWriterError(answer.code !== null && !answer.message.startsWith(answer.code) ? `${answer.code}: ${answer.message}` : answer.message, answer.code));
    });
    const fail = (err: Error): void => {
      if (this.worker === worker) this.worker = null;
      for (const waiting of this.pending.values()) waiting.reject(err);
      this.pending.clear();
    };
    worker.on('error', (err) => fail(new PageWriterError(`SQLite page writer thread failed: ${err.message}`, null)));
    worker.on('exit', (code) => fail(new PageWriterError(`SQLite page writer thread exited (code ${code})`, null)));
    // Not a reason to keep the process alive on its own.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /** Lets the pages being recorded finish, then closes the thread's connection and the thread. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.inFlight]);
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((done) => worker.once('exit', () => done()));
    worker.postMessage('close');
    await exited;
    this.worker = null;
  }
}
