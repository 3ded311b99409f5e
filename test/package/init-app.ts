import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'fs';
import { homedir } from 'os';
import { dirname, join } from 'path';

/*
 * A project exactly as `cdk8s init typescript-app` writes it, made from the template that
 * ships in the cdk8s-cli package with the values `cdk8s init` fills in, and installed from
 * the npm registry. (`cdk8s init` itself also runs `cdk8s import`, which needs GitHub.)
 */
const root = join(__dirname, '..', '..');
const cliDir = dirname(require.resolve('cdk8s-cli/package.json', { paths: [root] }));
const templateDir = join(cliDir, 'templates', 'typescript-app');
/** The template's own chart test and its snapshot test the template's `MyChart`, not ours. */
const TEMPLATE_FILES = ['package.json', 'tsconfig.json', 'cdk8s.yaml', 'jest.config.js', '{{}}.gitignore'];

/** The cdk8s-plus package a project uses; `cdk8s init` writes cdk8s-plus-33 today. */
export type PlusPackage = 'cdk8s-plus-33' | 'cdk8s-plus-27';

export const env = { ...process.env, CDK8S_CHECK_UPGRADE: 'false', npm_config_update_notifier: 'false' };

export const run = (cmd: string, args: string[], cwd: string): string =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env, maxBuffer: 64 * 1024 * 1024 });

const versionFrom = (pkg: string, from: string): string =>
  JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`, { paths: [from] }), 'utf8')).version;

/** The values `cdk8s init` fills into the template (see cdk8s-cli's lib/cli/cmds/init.js). */
function templateValues(name: string): Record<string, string> {
  const cli = JSON.parse(readFileSync(join(cliDir, 'package.json'), 'utf8'));
  return {
    $base: name,
    cdk8s_core_version: versionFrom('cdk8s', cliDir),
    cdk8s_plus_version: versionFrom('cdk8s-plus-33', cliDir),
    constructs_version: cli.dependencies.constructs.replace('^', ''),
    cdk8s_cli_spec: `^${cli.version}`,
  };
}

/** The template's files for a project named `name` using `plus`, by file name. */
export function initTemplate(name: string, plus: PlusPackage): Record<string, string> {
  const values = templateValues(name);
  const files: Record<string, string> = {};
  for (const f of TEMPLATE_FILES) {
    const text = readFileSync(join(templateDir, f), 'utf8').replace(/\{\{ *([$\w]+) *\}\}/g, (_, key: string) => values[key]);
    files[f.replace('{{}}', '')] = text;
  }
  if (plus !== 'cdk8s-plus-33') {
    const pkg = JSON.parse(files['package.json']);
    delete pkg.dependencies['cdk8s-plus-33'];
    pkg.dependencies[plus] = `^${versionFrom(plus, root)}`;
    files['package.json'] = JSON.stringify(pkg, undefined, 2);
  }
  return files;
}

/**
 * A directory holding the template's project with its dependencies installed, made once
 * per distinct package.json and kept under ~/.cache: installing the template's 400
 * packages takes about 30 s, copying them about 2 s.
 */
function cachedInstall(plus: PlusPackage): string {
  const files = initTemplate('app', plus);
  const key = createHash('sha256').update(files['package.json']).digest('hex').slice(0, 16);
  const cacheRoot = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cdk8s-mlops-tests');
  const dir = join(cacheRoot, `init-app-${plus}-${key}`);
  if (existsSync(join(dir, 'node_modules'))) return dir;
  // Install beside the final path and rename, so concurrent test runs never see half an install.
  const partial = `${dir}.partial-${process.pid}`;
  mkdirSync(partial, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(partial, f), text);
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], partial);
  try {
    renameSync(partial, dir);
  } catch {
    rmSync(partial, { recursive: true, force: true }); // another run finished first
  }
  return dir;
}

/**
 * A fresh `cdk8s init typescript-app` project in `parent/name` (its package named `app`), with its
 * dependencies installed and `main.ts` written; `npm install <tarball>` then adds the
 * library as a user would.
 */
export function initApp(parent: string, name: string, plus: PlusPackage, main: string): string {
  const dir = join(parent, name);
  cpSync(cachedInstall(plus), dir, { recursive: true, verbatimSymlinks: true });
  writeFileSync(join(dir, 'main.ts'), main);
  return dir;
}
