/** A mistake in how a command was called: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/**
 * Walks a command's arguments, `--flag=value` and `--flag value` alike. `value()` takes the
 * current option's value (the inline one, else the next argument) and fails when there is none.
 */
export function walkArgs(argv: readonly string[], visit: (arg: string, value: () => string) => void): void {
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let inline: string | undefined;
    if (arg.startsWith('--') && arg.includes('=')) {
      inline = arg.slice(arg.indexOf('=') + 1);
      arg = arg.slice(0, arg.indexOf('='));
    }
    visit(arg, () => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value`);
      return v;
    });
  }
}

/**
 * Parses a command's arguments, or answers for it: resolves to the arguments, or to the exit
 * code when the command should stop here (0 after printing the help, 2 after a usage mistake).
 */
export function parseCommandLine<A extends { readonly help: boolean }>(
  command: string,
  usage: string,
  parse: (argv: readonly string[]) => A,
  argv: readonly string[],
  io: { readonly out: (text: string) => void; readonly err: (text: string) => void },
): A | number {
  let args: A;
  try {
    args = parse(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`cdk8s-mlops ${command}: ${e.message}\n\n${usage}`);
    return 2;
  }
  if (args.help) {
    io.out(usage);
    return 0;
  }
  return args;
}
