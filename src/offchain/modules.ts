/**
 * The IPFS packages of the stores, loaded on first use rather than when `twinledger/offchain` (or the root) is
 * imported: together they take about half a second and 25 MiB to load (kubo-rpc-client alone ~0.3 s), which an
 * application that never opens a store should not pay.
 */
import type * as CarWriter from '@ipld/car/buffer-writer';
import type * as Blockstore from 'blockstore-fs';
import type * as Sharding from 'blockstore-fs/sharding';
import type * as Importer from 'ipfs-unixfs-importer';
import type * as Chunker from 'ipfs-unixfs-importer/chunker';
import type * as Layout from 'ipfs-unixfs-importer/layout';
import type * as KuboClient from 'kubo-rpc-client';
import type { ResolvedCidOptions } from './cid.js';

type EmbeddedModules = [typeof Importer, typeof Chunker, typeof Layout, typeof Blockstore, typeof Sharding, typeof CarWriter];

let embedded: Promise<EmbeddedModules> | undefined;
let kubo: Promise<typeof KuboClient> | undefined;

/** What `EmbeddedStore` uses besides the exporter (dag.ts loads that one). */
export interface LoadedEmbeddedModules {
  importFile: typeof Importer.importFile;
  fixedSize: typeof Chunker.fixedSize;
  balanced: typeof Layout.balanced;
  FsBlockstore: typeof Blockstore.FsBlockstore;
  NextToLast: typeof Sharding.NextToLast;
  car: typeof CarWriter;
}

export async function loadEmbeddedModules(): Promise<LoadedEmbeddedModules> {
  embedded ??= Promise.all([
    import('ipfs-unixfs-importer'),
    import('ipfs-unixfs-importer/chunker'),
    import('ipfs-unixfs-importer/layout'),
    import('blockstore-fs'),
    import('blockstore-fs/sharding'),
    import('@ipld/car/buffer-writer'),
  ]);
  const [importer, chunker, layout, blockstore, sharding, car] = await embedded;
  return {
    importFile: importer.importFile,
    fixedSize: chunker.fixedSize,
    balanced: layout.balanced,
    FsBlockstore: blockstore.FsBlockstore,
    NextToLast: sharding.NextToLast,
    car,
  };
}

export function loadKuboClient(): Promise<typeof KuboClient> {
  kubo ??= import('kubo-rpc-client');
  return kubo;
}

/** The importer options that give Kubo's CIDs for `cid` (see `CidOptions`). */
export function unixfsImportOptions(modules: LoadedEmbeddedModules, cid: ResolvedCidOptions, blockWriteConcurrency: number) {
  return {
    cidVersion: cid.version,
    rawLeaves: cid.rawLeaves,
    leafType: 'file' as const,
    reduceSingleLeafToSelf: true,
    chunker: modules.fixedSize({ chunkSize: cid.chunkSize }),
    layout: modules.balanced({ maxChildrenPerNode: cid.maxLinks }),
    blockWriteConcurrency,
    wrapWithDirectory: false,
  };
}
