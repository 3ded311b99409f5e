import { readdirSync } from 'fs';
import { join } from 'path';
import { runTool } from '../support/tools';

// Every script the package ships: a new one is linted without being listed here.
const SCRIPTS = readdirSync(join(__dirname, '..', '..', 'assets')).filter((f) => f.endsWith('.sh')).sort();

test('the shipped scripts are found', () => {
  expect(SCRIPTS).toEqual(expect.arrayContaining(['coordinate.sh', 'gate.sh', 'prune-runs.sh', 'promote.sh', 'report-values.sh', 'select-best.sh', 'start-run.sh']));
});

describe.each(SCRIPTS)('the library script %s', (name) => {
  const script = join(__dirname, '..', '..', 'assets', name);

  // The script runs unattended in a pod; quoting and exit-status mistakes only show there.
  test('passes shellcheck with no finding (needs shellcheck on PATH; .ci/run installs it)', () => {
    expect(runTool('shellcheck', ['--shell=bash', '--severity=style', script], SHELLCHECK_INSTALL)).toEqual({ status: 0, output: '' });
  });

  test('is valid bash', () => {
    expect(runTool('bash', ['-n', script], 'apt-get install bash')).toEqual({ status: 0, output: '' });
  });

});

describe('the lint', () => {
  test('without shellcheck on PATH, the lint fails naming the tool and how to install it', () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => runTool('shellcheck', ['--version'], SHELLCHECK_INSTALL))
        .toThrow(new Error('shellcheck is not on PATH, and this test needs it; install it with apt-get install shellcheck (Debian, Ubuntu) or brew install shellcheck (macOS)'));
    } finally {
      process.env.PATH = path;
    }
  });
});

const SHELLCHECK_INSTALL = 'apt-get install shellcheck (Debian, Ubuntu) or brew install shellcheck (macOS)';
