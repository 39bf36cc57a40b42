import { createRequire } from 'node:module';
import { DevLedgerError } from './errors.js';

/** What fabric-shim's contract dispatcher answers, as a chaincode server sends it to the peer. */
export interface ChaincodeResponse {
  status: number;
  message?: string;
  payload?: Uint8Array;
}

/** The TwinLedger chaincode, loaded in this process, behind fabric-shim's own dispatcher. */
export interface ChaincodeRuntime {
  /** `twinledger-chaincode` package version. */
  readonly version: string;
  /** Runs the transaction the stub's arguments name, exactly as the chaincode server does (`ChaincodeFromContract.Invoke`). */
  invoke(stub: object): Promise<ChaincodeResponse>;
}

interface Dispatcher {
  Invoke(stub: object): Promise<ChaincodeResponse>;
}
type DispatcherClass = new (contracts: unknown[], serializers: unknown, metadata: object, title: string, version: string) => Dispatcher;
interface FabricLogger {
  silent?: boolean;
  levels?: Record<string, number>;
  [level: string]: unknown;
}

let runtime: ChaincodeRuntime | undefined;

const HINT =
  'DevLedger runs the twinledger-chaincode package in-process. In the repository, `npm install` at the root installs and builds it ' +
  '(chaincode/ is an npm workspace; rebuild with `npm run build --workspace twinledger-chaincode`); an application gets it as a ' +
  'dependency of twinledger.';

/**
 * Loads the chaincode once per process. Done lazily (by `DevLedger.open`), so that importing `twinledger/ledger/dev`
 * costs nothing until a ledger is opened. Everything is resolved from the chaincode package, so the contract classes
 * and the dispatcher share one fabric-shim / fabric-contract-api.
 */
export function loadChaincode(): ChaincodeRuntime {
  if (runtime) return runtime;
  const sdkRequire = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = sdkRequire.resolve('twinledger-chaincode');
  } catch (error) {
    throw new DevLedgerError('the twinledger-chaincode package is not installed or not built', {
      code: 'ledger.dev.chaincode',
      hint: HINT,
      cause: error,
    });
  }
  const chaincodeRequire = createRequire(entry);
  let apiRequire: NodeJS.Require;
  let shimRequire: NodeJS.Require;
  let transformer: string;
  try {
    apiRequire = createRequire(chaincodeRequire.resolve('fabric-contract-api'));
    shimRequire = createRequire(chaincodeRequire.resolve('fabric-shim'));
    transformer = (apiRequire('class-transformer/package.json') as { version: string }).version;
  } catch (error) {
    throw new DevLedgerError(`the twinledger-chaincode package's dependencies are missing: ${(error as Error).message}`, {
      code: 'ledger.dev.chaincode',
      hint: HINT,
      cause: error,
    });
  }
  // fabric-contract-api's class-transformer must be 0.4.0: 0.4.1 breaks every transaction, and an application's
  // install does not see the chaincode package's `overrides`.
  if (transformer !== '0.4.0') {
    throw new DevLedgerError(`fabric-contract-api would run with class-transformer ${transformer}, which breaks every transaction`, {
      code: 'ledger.dev.chaincode',
      hint: 'Pin it: "overrides": { "class-transformer": "0.4.0" } in your package.json, then npm install.',
    });
  }

  // Loading fabric-shim and fabric-contract-api has process-wide effects a library must not have: their winston loggers
  // print every decorator at INFO, and they register uncaughtException / unhandledRejection handlers that keep a
  // crashing process alive. Their loggers are created while they load: make those silent no-ops (winston formats each
  // message before it filters by level — a sixth of a transaction's time), then take back the handlers the load added.
  const winstons = [...new Set([shimRequire.resolve('winston'), apiRequire.resolve('winston')])].map(
    (path) => sdkRequire(path) as { createLogger: (...args: unknown[]) => FabricLogger },
  );
  const createLoggers = winstons.map((winston) => winston.createLogger);
  winstons.forEach((winston, index) => {
    const create = createLoggers[index] as (...args: unknown[]) => FabricLogger;
    winston.createLogger = function quietLogger(...args: unknown[]): FabricLogger {
      const logger = create.apply(winston, args);
      logger.silent = true;
      for (const level of Object.keys(logger.levels ?? {})) logger[level] = () => logger;
      return logger;
    };
  });
  const handlers = {
    uncaughtException: process.listeners('uncaughtException'),
    unhandledRejection: process.listeners('unhandledRejection'),
  };
  let contracts: unknown[];
  let version: string;
  let Dispatcher: DispatcherClass;
  let JSONSerializer: unknown;
  try {
    ({ contracts } = chaincodeRequire(entry) as { contracts: unknown[] });
    ({ version } = sdkRequire('twinledger-chaincode/package.json') as { version: string });
    Dispatcher = shimRequire('./lib/contract-spi/chaincodefromcontract') as DispatcherClass;
    ({ JSONSerializer } = chaincodeRequire('fabric-contract-api') as { JSONSerializer: unknown });
  } catch (error) {
    throw new DevLedgerError(`cannot load the twinledger-chaincode package: ${(error as Error).message}`, {
      code: 'ledger.dev.chaincode',
      hint: HINT,
      cause: error,
    });
  } finally {
    winstons.forEach((winston, index) => {
      winston.createLogger = createLoggers[index] as typeof winston.createLogger;
    });
    for (const listener of process.listeners('uncaughtException')) {
      if (!handlers.uncaughtException.includes(listener)) process.removeListener('uncaughtException', listener);
    }
    for (const listener of process.listeners('unhandledRejection')) {
      if (!handlers.unhandledRejection.includes(listener)) process.removeListener('unhandledRejection', listener);
    }
  }
  if (!Array.isArray(contracts) || contracts.length === 0) {
    throw new DevLedgerError('the twinledger-chaincode package exports no contracts', { code: 'ledger.dev.chaincode', hint: HINT });
  }
  const serializers = { transaction: 'jsonSerializer', serializers: { jsonSerializer: JSONSerializer } };
  const dispatcher = new Dispatcher([...contracts], serializers, {}, 'twinledger-chaincode', version);
  runtime = { version, invoke: (stub) => dispatcher.Invoke(stub) };
  return runtime;
}
