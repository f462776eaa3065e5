/** Small helpers of the benchmark: statistics, formatting, HTTP with keep-alive, machine facts. */
import { cpus, loadavg, totalmem } from 'node:os';
import http from 'node:http';
import { execFileSync } from 'node:child_process';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100) of already collected samples. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank]!;
}

export const round = (v: number, digits = 0): number => Math.round(v * 10 ** digits) / 10 ** digits;

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGb: number;
  node: string;
  os: string;
  sqlite3Driver: string;
  loadAtStart: number[];
}

export function machineInfo(sqliteVersions: string): MachineInfo {
  let os = `${process.platform} ${process.arch}`;
  try {
    os = execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim();
  } catch {
    /* keep the default */
  }
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGb: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    os,
    sqlite3Driver: sqliteVersions,
    loadAtStart: loadavg().map((v) => round(v, 2)),
  };
}

export function load1(): number {
  return round(loadavg()[0]!, 2);
}

/** A tiny keep-alive HTTP client for the load tests (fetch's per-request overhead would dominate). */
export class KeepAliveClient {
  readonly agent: http.Agent;
  private readonly url: URL;

  constructor(base: string, maxSockets: number) {
    this.url = new URL(base);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  /** GETs a path; resolves with the status code once the whole body is read. */
  get(path: string): Promise<{ status: number; bytes: number }> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: this.url.hostname, port: this.url.port, path, method: 'GET', agent: this.agent },
        (res) => {
          let bytes = 0;
          res.on('data', (c: Buffer) => (bytes += c.length));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
