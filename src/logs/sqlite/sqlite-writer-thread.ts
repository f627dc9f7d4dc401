import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { WriteItem } from '../log-store';
import { openDatabase, toValues, Value, writeRows } from './sqlite-schema';

type Request = { seq: number; rows: Value[][] } | { seq: number; close: true };
type Reply = { seq: number; added?: number; error?: string };

/**
 * A second connection to the events database in a worker thread, used for writes only. SQLite in
 * WAL mode lets the main connection read while this one writes.
 */
export class WriterThread {
  private readonly worker: Worker;
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (n: number) => void; reject: (e: Error) => void }>();
  private failed: Error | undefined;

  constructor(file: string) {
    const script = __filename;
    this.worker = new Worker(script, {
      workerData: { file },
      // Under ts-node (tests) the worker needs the same TypeScript loader.
      execArgv: script.endsWith('.ts') ? ['-r', 'ts-node/register/transpile-only'] : [],
    });
    this.worker.on('message', (reply: Reply) => {
      const waiter = this.waiting.get(reply.seq);
      this.waiting.delete(reply.seq);
      if (this.waiting.size === 0) this.worker.unref();
      if (reply.error !== undefined) waiter?.reject(new Error(`SQLite write failed: ${reply.error}`));
      else waiter?.resolve(reply.added ?? 0);
    });
    this.worker.on('error', (err) => {
      this.failed = err;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    });
    this.worker.unref();
  }

  /** Rows are made here, so the worker does nothing but SQLite: the two threads share the work evenly. */
  write(items: WriteItem[]): Promise<number> {
    return this.request({ rows: items.map(toValues) });
  }

  async close(): Promise<void> {
    if (this.failed) return;
    await this.request({ close: true });
    await this.worker.terminate();
  }

  private request(body: { rows: Value[][] } | { close: true }): Promise<number> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      const seq = ++this.seq;
      this.waiting.set(seq, { resolve, reject });
      // Keep the process alive while a write is in flight; an idle writer does not hold it.
      this.worker.ref();
      this.worker.postMessage({ seq, ...body } as Request);
    });
  }
}

if (!isMainThread && parentPort && (workerData as { file?: string })?.file) {
  const db = openDatabase((workerData as { file: string }).file);
  const port = parentPort;
  port.on('message', (request: Request) => {
    if ('close' in request) {
      db.close();
      port.postMessage({ seq: request.seq } satisfies Reply);
      return;
    }
    try {
      port.postMessage({ seq: request.seq, added: writeRows(db, request.rows) } satisfies Reply);
    } catch (err) {
      port.postMessage({ seq: request.seq, error: (err as Error).message } satisfies Reply);
    }
  });
}
