import type { Construct } from 'constructs';

/**
 * Prints `warnings` on stderr when `construct` is synthesized, each once and prefixed by its
 * path: trade-offs the user should know, not errors. The array is read at synth, so warnings
 * added after this call are printed too.
 */
export function printWarningsAtSynth(construct: Construct, warnings: readonly string[]): void {
  let printed = false;
  construct.node.addValidation({
    validate: () => {
      // cdk8s validates more than once per synth; say each warning once.
      if (!printed) for (const warning of warnings) process.stderr.write(`[${construct.node.path}] warning: ${warning}\n`);
      printed = true;
      return [];
    },
  });
}
