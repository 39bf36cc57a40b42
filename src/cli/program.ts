/** The `twinledger` command line: commands, options, help, and the exit code of a run. */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { AbortError, ValidationError } from '../core/errors.js';
import type { AuditOptions } from './commands/anchoring.js';
import type { CommandOptions } from './commands/command.js';
import type { SendOptions } from './commands/devices.js';
import type { WatchOptions } from './commands/watch.js';
import { type CliIo, EXIT_CODES, type ExitCode, type GlobalOptions, Output, describeFailure } from './io.js';

const VERSION = '0.1.0';

// Each command's module is imported when it runs: `--help` and `--version` load no SDK module (gRPC, LMDB, aedes, …).

/** Runs `twinledger` with `argv` (without the node and script paths); resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT_CODES.ok;
  let debug = argv.includes('--debug');
  const program = new Command('twinledger')
    .description('Tamper-evident digital twins on Eclipse Cloud2Edge: the sandbox, devices, commands, anchoring and proofs.')
    .version(VERSION)
    .option('--json', 'print results as JSON (one document, or one line per watched message)', false)
    .option(
      '--data-dir <dir>',
      'where the sandbox, the anchorer, the embedded ledger and store keep their data',
      io.env.TWINLEDGER_DATA_DIR ?? '.twinledger',
    )
    .option('--quiet', 'no progress messages on stderr', false)
    .option('--debug', 'print the stack trace of a failure', false)
    .showHelpAfterError('(twinledger --help lists the commands)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });

  const output = (command: Command): Output => {
    const globals = command.optsWithGlobals<{ json: boolean; quiet: boolean; debug: boolean; dataDir: string }>();
    debug = globals.debug;
    const dataDir = resolve(io.cwd, globals.dataDir);
    if (existsSync(dataDir) && !statSync(dataDir).isDirectory()) {
      throw new ValidationError('--data-dir', `${dataDir} is not a folder`, 'Pass a folder (it is created when missing).');
    }
    const options: GlobalOptions = { json: globals.json, quiet: globals.quiet, debug: globals.debug, dataDir };
    return new Output(io, options);
  };
  const failedCheck = (holds: boolean) => {
    if (!holds) exitCode = EXIT_CODES.checkFailed;
  };

  program
    .command('sandbox')
    .description('run the embedded Cloud2Edge sandbox until Ctrl-C; print the variables that point clients at it')
    .option('--memory', 'keep no state on disk', false)
    .action(async (options: { memory: boolean }, command: Command) =>
      (await import('./commands/sandbox.js')).runSandbox(output(command), options),
    );

  program
    .command('provision <thingId>')
    .description('create tenant, device, credentials, Ditto connection, policy and thing in one idempotent call')
    .option('--tenant <tenant>', 'the Hono tenant (default: the namespace of the thing ID)')
    .option('--auth-id <authId>', 'the device logs in as <authId>@<tenant> (default: the name part of the thing ID)')
    .option('--password <password>', "the device's password (default: a generated one, printed)")
    .action(async (thingId: string, options: { tenant?: string; authId?: string; password?: string }, command: Command) =>
      (await import('./commands/devices.js')).runProvision(output(command), thingId, options),
    );

  program
    .command('send <thingId> <json>')
    .description('send telemetry, an event or a twin update as the device (over MQTT or HTTP)')
    .option('--password <password>', "the device's password (or TWINLEDGER_DEVICE_PASSWORD)")
    .option('--tenant <tenant>', 'the Hono tenant (default: the namespace of the thing ID)')
    .option('--auth-id <authId>', 'default: the name part of the thing ID')
    .option('--transport <transport>', 'mqtt or http', 'mqtt')
    .option('--event', 'send it as an event (at least once)', false)
    .option('--property <feature/path>', 'send <json> as a Ditto Protocol update of this feature property of the twin')
    .action(async (thingId: string, json: string, options: SendOptions, command: Command) =>
      (await import('./commands/devices.js')).runSend(output(command), thingId, json, options),
    );

  program
    .command('watch <tenant>')
    .description("print a tenant's telemetry and events as they arrive (northbound: Kafka, or AMQP 1.0)")
    .option('--kind <kind>', 'telemetry, event or both', 'both')
    .option('--count <n>', 'stop after n messages')
    .option('--username <username>', 'messaging user (AMQP default consumer@HONO)')
    .option('--password <password>', 'messaging password (or TWINLEDGER_NORTHBOUND_PASSWORD; AMQP default verysecret)')
    .option('--group-id <groupId>', 'Kafka consumer group', 'twinledger-cli-watch')
    .action(async (tenant: string, options: WatchOptions, command: Command) =>
      (await import('./commands/watch.js')).runWatch(output(command), tenant, options),
    );

  program
    .command('command <thingId> <subject> [json]')
    .description('send a Ditto message to the thing; its device gets it as a Hono command and answers')
    .option('--timeout <seconds>', 'how long to wait for the answer (0: do not wait)', '10')
    .option('--feature <featureId>', "send it to one of the thing's features")
    .action(async (thingId: string, subject: string, json: string | undefined, options: CommandOptions, command: Command) => {
      const status = await (await import('./commands/command.js')).runCommand(output(command), thingId, subject, json, options);
      failedCheck(status < 400);
    });

  const anchor = program.command('anchor').description("the anchorer's outbox and streams");
  anchor
    .command('status')
    .description('records waiting, per stream the last record and the last batch on the ledger, the last error')
    .action(async (_options: object, command: Command) => (await import('./commands/anchoring.js')).runAnchorStatus(output(command)));

  program
    .command('verify <target>')
    .description('verify a proof file against the ledger and the payload store (a thing ID: audit the thing)')
    .option('--tenant <tenant>', 'for a thing: the tenant of its records')
    .option('--checkpoint <file>', "for a thing: the twin auditor's checkpoint (default <data-dir>/twin-auditor.jsonl)")
    .action(async (target: string, options: AuditOptions, command: Command) =>
      failedCheck(await (await import('./commands/anchoring.js')).runVerify(output(command), target, options)),
    );

  program
    .command('audit <thingId>')
    .description("audit a twin: each anchored revision's proof, Ditto's history and the current state")
    .option('--tenant <tenant>', 'the tenant of its records (default: the namespace of the thing ID)')
    .option('--checkpoint <file>', "the twin auditor's checkpoint (default <data-dir>/twin-auditor.jsonl)")
    .action(async (thingId: string, options: AuditOptions, command: Command) =>
      failedCheck(await (await import('./commands/anchoring.js')).runAudit(output(command), thingId, options)),
    );

  const ledger = program.command('ledger').description('read the ledger');
  ledger
    .command('head <stream>')
    .description("a stream's head: batches anchored and the last root")
    .action(async (stream: string, _options: object, command: Command) =>
      (await import('./commands/ledger.js')).runLedger(output(command), { what: 'head', stream }),
    );
  ledger
    .command('batch <stream> <batchId>')
    .description('one anchored batch')
    .action(async (stream: string, batchId: string, _options: object, command: Command) =>
      (await import('./commands/ledger.js')).runLedger(output(command), { what: 'batch', stream, batchId }),
    );
  ledger
    .command('history <key>')
    .description("a PoC 1 hash key's history (InitHash / UpdateHash), newest first")
    .action(async (key: string, _options: object, command: Command) =>
      (await import('./commands/ledger.js')).runLedger(output(command), { what: 'history', key }),
    );

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; commander already printed its one-line error otherwise.
      return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
    }
    if (error instanceof AbortError && io.signal?.aborted) {
      io.stderr.write('interrupted\n');
      return EXIT_CODES.interrupted;
    }
    const failure = describeFailure(error, debug);
    io.stderr.write(failure.text);
    return failure.code;
  }
}
