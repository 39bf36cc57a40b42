import { join } from 'node:path';
import { TwinLedgerError, ValidationError } from '../core/errors.js';
import { type LockFile, type LockFileOptions, acquireLockFile } from '../core/lock-file.js';

export type RelayLockOptions = LockFileOptions;
export type RelayLock = LockFile;
/**
 * Takes `<stateDir>/relay.lock` (see `acquireLockFile`): one relay per state folder.
 */
export async function acquireRelayLock(stateDir: string, options: RelayLockOptions = {}): Promise<RelayLock> {
  return acquireLockFile(join(stateDir, 'relay.lock'), {
    ...options,
    held: (pid) => new ValidationError('stateDir', `another relay (pid ${pid}) uses ${stateDir}`, 'Run one relay per state folder.'),
    starting: (pid) =>
      new ValidationError('stateDir', `another relay (pid ${pid}) is starting on ${stateDir}`, 'Run one relay per state folder.'),
    interrupted: (path, marker) =>
      new ValidationError(
        'stateDir',
        `a takeover of the stale lock ${path} was interrupted (${marker} is left behind)`,
        `If no relay runs on ${stateDir}, delete ${path} and ${marker}, then start the relay again.`,
      ),
    busy: (path) =>
      new TwinLedgerError(`cannot lock ${path}: it keeps changing`, {
        code: 'relay.lock',
        hint: 'Another process keeps creating and removing the lock file; run one relay per state folder.',
      }),
  });
}
