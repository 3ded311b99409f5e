import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';

/**
 * Only the clock is simulated: `date` and `sleep` are stand-ins that ask the simulation,
 * whose time moves only while every process sleeps. They are tiny bash scripts, not node
 * programs (a node start costs ~40 ms, bash plus a loopback connection ~3 ms). Each sends
 * its argv over TCP (bash's /dev/tcp) to the simulation and blocks until the answer:
 * `<exit code> <stderr bytes>\n<stderr><stdout>`.
 */
const HEADER = `exec 3<>"/dev/tcp/127.0.0.1/@PORT@" || { echo "@TOOL@: cannot reach the cdk8s-mlops simulator" >&2; exit 255; }
printf '%s\\0' "@TOKEN@" @TOOL@ "$#" "$@" >&3
LC_ALL=C read -r rc errlen <&3 || exit 255
if (( errlen > 0 )); then LC_ALL=C IFS= read -r -N "$errlen" err <&3; printf '%s' "$err" >&2; fi
`;

const CLOCK: Record<'date' | 'sleep', string> = {
  sleep: 'exit "$rc"\n',
  // The simulation only knows the time; any other format is the real date's job.
  date: `IFS= read -r now <&3 || exit 255
(( rc == 0 )) || exit "$rc"
if [[ $# -eq 1 && "$1" == "+%s" ]]; then printf '%s\\n' "$now"; exit 0; fi
exec "@DATE@" -d "@$now" "$@"
`,
};

/**
 * kubectl is the real client, run unchanged with the pod's credentials (a kubeconfig that
 * stands for the in-cluster config: the API server's URL, its CA and this pod's
 * ServiceAccount token, or none when the pod mounts no token). This wrapper answers
 * nothing: it passes stdout and stderr through and exits with kubectl's code, and only
 * reports the call (arguments, exit code, stderr) so that the simulation can group the
 * API requests it saw by the call that made them.
 */
const KUBECTL = `#!/bin/bash
# kubectl of the cdk8s-mlops simulator: the real client, with a report of each call.
err=$(mktemp "@DIR@/kubectl-stderr.XXXXXX")
@CONFIG@"@REAL@" "$@" 2>"$err"
rc=$?
if exec 3<>"/dev/tcp/127.0.0.1/@PORT@"; then
  printf '%s\\0' "@TOKEN@" kubectl-done "$(( $# + 2 ))" "$rc" "$(<"$err")" "$@" >&3
  read -r _ <&3
  exec 3<&-
fi
cat "$err" >&2
rm -f "$err"
exit "$rc"
`;

export type Tool = 'kubectl-done' | 'date' | 'sleep';

export interface ToolRequest {
  readonly token: string;
  readonly tool: Tool;
  readonly argv: string[];
}

export type Reply = (exitCode: number, stdout: string, stderr: string) => void;

export interface StandInOptions {
  readonly port: number;
  readonly token: string;
  readonly realDate: string;
  /** The real kubectl binary. */
  readonly kubectl: string;
  /** The pod's kubeconfig, or undefined when it mounts no ServiceAccount token. */
  readonly kubeconfig?: string;
}

/** Write `date`, `sleep` and the kubectl wrapper for one pod's process into `dir`. */
export function writeStandIns(dir: string, o: StandInOptions): void {
  fs.mkdirSync(dir, { recursive: true });
  const fill = (text: string, tool: string) =>
    text.replace(/@PORT@/g, String(o.port)).replace(/@TOKEN@/g, o.token).replace(/@TOOL@/g, tool).replace(/@DATE@/g, o.realDate);
  for (const tool of Object.keys(CLOCK) as Array<keyof typeof CLOCK>) {
    const text = `#!/bin/bash\n# ${tool} stand-in of the cdk8s-mlops simulator: the simulated clock answers.\n${HEADER}${CLOCK[tool]}`;
    fs.writeFileSync(path.join(dir, tool), fill(text, tool), { mode: 0o755 });
  }
  let config = '';
  if (o.kubeconfig !== undefined) {
    const file = path.join(dir, 'kubeconfig');
    fs.writeFileSync(file, o.kubeconfig, { mode: 0o600 });
    config = `KUBECONFIG="${file}" `;
  }
  const wrapper = fill(KUBECTL, 'kubectl').replace(/@DIR@/g, dir).replace(/@REAL@/g, o.kubectl).replace(/@CONFIG@/g, config);
  fs.writeFileSync(path.join(dir, 'kubectl'), wrapper, { mode: 0o755 });
}

/** A loopback server that turns each connection into one tool request. */
export function serveTools(onRequest: (req: ToolRequest, reply: Reply) => void): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer((socket) => {
    let buf = Buffer.alloc(0);
    let taken = false;
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      if (taken) return;
      buf = Buffer.concat([buf, chunk]);
      const req = parseRequest(buf);
      if (!req) return;
      taken = true;
      onRequest(req, (exitCode, stdout, stderr) => {
        if (socket.destroyed) return;
        socket.end(`${exitCode} ${Buffer.byteLength(stderr)}\n${stderr}${stdout}`);
      });
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as net.AddressInfo).port }));
  });
}

function parseRequest(buf: Buffer): ToolRequest | undefined {
  const fields: string[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0) {
      fields.push(buf.subarray(start, i).toString('utf8'));
      start = i + 1;
    }
  }
  if (fields.length < 3) return undefined;
  const argc = Number(fields[2]);
  if (fields.length < 3 + argc) return undefined;
  return { token: fields[0], tool: fields[1] as Tool, argv: fields.slice(3, 3 + argc) };
}

/** Seconds for `sleep` arguments (GNU: several add up; suffixes s, m, h, d). */
export function sleepSeconds(argv: readonly string[]): number | string {
  if (argv.length === 0) return "sleep: missing operand\nTry 'sleep --help' for more information.\n";
  let total = 0;
  for (const a of argv) {
    const m = a.match(/^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/);
    if (!m) return `sleep: invalid time interval '${a}'\nTry 'sleep --help' for more information.\n`;
    total += Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  }
  return total;
}

/** The first executable called `name` on PATH. */
export function which(name: string, pathVar = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVar.split(':').filter(Boolean)) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}
