/**
 * `cdk8s-mlops` command line: dispatches subcommands. Kept free of side effects at import so
 * tests can call `main` directly; `bin/cdk8s-mlops.js` is the thin executable around it.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { dryRun } from './dry-run';
import { main as graphMain } from './graph';
import { main as statusMain, StatusCliOptions } from './status';
import { main as verifyMain, VerifyCliOptions } from './verify';

export const USAGE = `usage: cdk8s-mlops <command> [arguments]

commands:
  verify <file-or-folder>...   check manifests offline, print each pipeline's plan and
                               dry-run its coordinator against a simulated cluster
                               (cdk8s-mlops verify --help for its options)
  graph <file-or-folder|->...  draw each pipeline as Mermaid, DOT and a self-contained
                               HTML report (cdk8s-mlops graph --help)
  status <pipeline> [-n ns]    each step's state in the cluster, read with your kubectl;
         [--watch]             --watch waits for the run to end (cdk8s-mlops status --help)

options:
  -h, --help                   show this help
  --version                    print the version of cdk8s-mlops

exit codes: 0 success; 1 problems found (verify), a file or pipeline that could not be
read or drawn (graph), a run still going (status); 2 bad invocation; status only: 3 the
run failed, 4 a gate rejected the model, 5 the Jobs could not be read
`;

/** Options shared by every subcommand (output streams, hooks). */
export type CliOptions = VerifyCliOptions & StatusCliOptions;

/** Runs the CLI; resolves to the process exit code (0 ok, 1 problems found, 2 bad invocation). */
export async function main(argv: readonly string[], options: CliOptions = {}): Promise<number> {
  const out = options.out ?? ((t: string) => void process.stdout.write(t));
  const err = options.err ?? ((t: string) => void process.stderr.write(t));
  const [command, ...rest] = argv;
  switch (command) {
    case 'verify':
      return verifyMain(rest, { simulate: dryRun, ...options });
    case 'graph':
      return graphMain(rest, options);
    case 'status':
      return statusMain(rest, options);
    case '--version':
      out(`${version()}\n`);
      return 0;
    case '-h':
    case '--help':
    case 'help':
      out(USAGE);
      return 0;
    case undefined:
      err(USAGE);
      return 2;
    default:
      err(`cdk8s-mlops: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

/** The package's version, read from its package.json (two levels up from both src/cli and lib/cli). */
function version(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
}
