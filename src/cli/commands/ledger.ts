/** `twinledger ledger head|batch|history`: what the ledger holds for a stream, a batch or a PoC 1 hash key. */
import { CliError } from '../errors.js';
import { openBackends } from '../environment.js';
import type { Output } from '../io.js';

export type LedgerQuery =
  { what: 'head'; stream: string } | { what: 'batch'; stream: string; batchId: string } | { what: 'history'; key: string };

export async function runLedger(output: Output, query: LedgerQuery): Promise<void> {
  const backends = await openBackends(output);
  try {
    const { ledger } = backends;
    if (query.what === 'head') {
      const head = await ledger.getHead(query.stream);
      output.result(head, () => `${query.stream}: ${head.seq} batches, head root ${head.root}`);
    } else if (query.what === 'batch') {
      const batch = await ledger.getBatch(query.stream, query.batchId);
      if (batch === undefined) {
        throw new CliError(
          `the ledger has no batch ${query.batchId} on stream ${query.stream}`,
          'Batch IDs are in proofs (batchId) and in `twinledger ledger head <stream>` (the last one).',
        );
      }
      output.result(batch, () => JSON.stringify(batch, null, 2));
    } else {
      const history = await ledger.getHashHistory(query.key);
      output.result(history, () =>
        history.length === 0 ? `no history for ${query.key}` : history.map((entry) => JSON.stringify(entry)).join('\n'),
      );
    }
  } finally {
    await backends.close();
  }
}
