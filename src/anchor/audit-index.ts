/**
 * The `TwinAuditor`'s file: one JSON line per anchored change (`{"t":"record","thingId","revision","stream","seq","kind"}`)
 * and per gap reported (`{"t":"gap","thingId","from","to","reason","at"}`), appended and fsynced after the record is
 * durable in the anchorer's outbox. It is both the checkpoint (the last revision per thing: the highest of its lines)
 * and the index from a thing to its records. A line cut short by a crash is dropped when the file is opened.
 */
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { TwinLedgerError } from '../core/errors.js';
import { syncFolder } from '../core/files.js';
import { type LockFile, acquireLockFile } from '../core/lock-file.js';
import type { RecordKind } from './types.js';

export interface IndexedRecord {
  revision: number;
  stream: string;
  seq: number;
  /** The record's kind: a thing's last record `deleted` means Ditto no longer has it. */
  kind?: RecordKind;
}

export interface IndexedGap {
  from: number;
  to: number;
  reason: string;
  at: string;
}

interface ThingEntry {
  last: number;
  records: IndexedRecord[];
  gaps: IndexedGap[];
}

/** Checkpoint files open in this process (the lock file tells processes apart). */
const openFiles = new Set<string>();

function indexError(path: string, detail: string): TwinLedgerError {
  return new TwinLedgerError(`the twin auditor's checkpoint ${path} is damaged: ${detail}`, {
    code: 'anchor.auditor_checkpoint',
    hint: 'The file was changed outside TwinLedger or the disk is damaged: restore it from a backup (or start a new one; auditThing then knows only the records appended since).',
  });
}

function lockErrors(path: string) {
  const hint = 'One TwinAuditor per checkpoint file: stop the other one, or give this one another checkpoint.';
  const locked = (detail: string) => new TwinLedgerError(detail, { code: 'anchor.auditor_locked', hint });
  return {
    held: (pid: number) => locked(`the twin auditor's checkpoint ${path} is in use by process ${pid}`),
    starting: (pid: number) => locked(`process ${pid} is taking over the twin auditor's checkpoint ${path}`),
    interrupted: (lock: string, marker: string) =>
      locked(`a takeover of ${lock} was interrupted; remove ${marker} once no other auditor uses ${path}`),
    busy: (lock: string) => locked(`the lock file ${lock} kept changing; try again`),
  };
}

export class AuditIndex {
  private readonly things = new Map<string, ThingEntry>();
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly file: FileHandle,
    private readonly lock: LockFile,
    private readonly durable: boolean,
  ) {}

  static async open(file: string, durable: boolean): Promise<AuditIndex> {
    const path = resolve(file);
    if (openFiles.has(path)) throw lockErrors(path).held(process.pid);
    await mkdir(dirname(path), { recursive: true });
    openFiles.add(path);
    let lock: LockFile | undefined;
    let handle: FileHandle | undefined;
    try {
      lock = await acquireLockFile(`${path}.lock`, lockErrors(path));
      const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      handle = await open(path, 'a+');
      if (text === undefined && durable) await syncFolder(dirname(path));
      const complete = text === undefined ? '' : text.slice(0, text.lastIndexOf('\n') + 1);
      // A line cut short by a crash: its record is re-appended from Ditto's history (the checkpoint did not move).
      if (text !== undefined && complete.length !== text.length) await handle.truncate(Buffer.byteLength(complete));
      const index = new AuditIndex(path, handle, lock, durable);
      complete.split('\n').forEach((line, number) => {
        if (line !== '') index.load(line, number + 1);
      });
      return index;
    } catch (error) {
      await handle?.close();
      await lock?.release();
      openFiles.delete(path);
      throw error;
    }
  }

  private load(line: string, number: number): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw indexError(this.path, `line ${number} is not JSON`);
    }
    const entry = parsed as Record<string, unknown>;
    const whole = (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
    if (typeof entry?.thingId !== 'string') throw indexError(this.path, `line ${number} names no thing`);
    if (entry.t === 'record' && whole(entry.revision) && typeof entry.stream === 'string' && whole(entry.seq)) {
      const record: IndexedRecord = { revision: entry.revision as number, stream: entry.stream, seq: entry.seq as number };
      if (typeof entry.kind === 'string') record.kind = entry.kind as RecordKind;
      this.addRecordInMemory(entry.thingId, record);
    } else if (entry.t === 'gap' && whole(entry.from) && whole(entry.to)) {
      const gap = { from: entry.from as number, to: entry.to as number, reason: String(entry.reason), at: String(entry.at) };
      this.addGapInMemory(entry.thingId, gap);
    } else {
      throw indexError(this.path, `line ${number} is neither a record nor a gap`);
    }
  }

  /** The last revision anchored (or given up as a gap) of a thing; undefined when it has none. */
  lastRevision(thingId: string): number | undefined {
    return this.things.get(thingId)?.last;
  }

  /** The kind of the thing's record with the highest revision. */
  lastKind(thingId: string): RecordKind | undefined {
    return this.records(thingId).at(-1)?.kind;
  }

  thingIds(): string[] {
    return [...this.things.keys()];
  }

  /** The thing's records, by revision (a revision anchored twice, after a crash between outbox and file, twice). */
  records(thingId: string): IndexedRecord[] {
    return [...(this.things.get(thingId)?.records ?? [])].sort((a, b) => a.revision - b.revision || a.seq - b.seq);
  }

  gaps(thingId: string): IndexedGap[] {
    return [...(this.things.get(thingId)?.gaps ?? [])];
  }

  async addRecord(thingId: string, record: IndexedRecord): Promise<void> {
    await this.write({ t: 'record', thingId, ...record });
    this.addRecordInMemory(thingId, record);
  }

  async addGap(thingId: string, gap: IndexedGap): Promise<void> {
    await this.write({ t: 'gap', thingId, ...gap });
    this.addGapInMemory(thingId, gap);
  }

  private async write(line: object): Promise<void> {
    if (this.closed) throw new TwinLedgerError(`the twin auditor's checkpoint ${this.path} is closed`, { code: 'anchor.auditor_closed' });
    await this.file.write(`${JSON.stringify(line)}\n`);
    if (this.durable) await this.file.datasync();
  }

  private entry(thingId: string): ThingEntry {
    let entry = this.things.get(thingId);
    if (entry === undefined) {
      entry = { last: 0, records: [], gaps: [] };
      this.things.set(thingId, entry);
    }
    return entry;
  }

  private addRecordInMemory(thingId: string, record: IndexedRecord): void {
    const entry = this.entry(thingId);
    entry.records.push(record);
    entry.last = Math.max(entry.last, record.revision);
  }

  private addGapInMemory(thingId: string, gap: IndexedGap): void {
    const entry = this.entry(thingId);
    entry.gaps.push(gap);
    entry.last = Math.max(entry.last, gap.to);
  }

  /** Closes the file and releases the lock; the index stays readable in memory. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.file.close();
      await this.lock.release();
    } finally {
      openFiles.delete(this.path);
    }
  }
}
