import { execFileSync } from 'child_process';
import { join } from 'path';

const script = join(__dirname, '..', '..', 'assets', 'coordinate.sh');

describe('the coordinator script', () => {
  // The script runs unattended in a pod; quoting and exit-status mistakes only show there.
  test('passes shellcheck with no finding (needs shellcheck on PATH; .ci/run installs it)', () => {
    expect(execFileSync('shellcheck', ['--shell=bash', '--severity=style', script], { encoding: 'utf8' })).toBe('');
  });

  test('is valid bash', () => {
    expect(execFileSync('bash', ['-n', script], { encoding: 'utf8' })).toBe('');
  });
});
