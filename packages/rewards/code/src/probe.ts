import type { IsolationReport } from "./isolation.js";
import { runSandboxed } from "./sandbox.js";

/** What a harmless probe program observed from inside the sandbox. */
export interface ProbeReport {
  uid: number;
  /** Of 10 attempted forks (children sleep 0.3 s, then exit) how many succeeded under maxProcesses=4. */
  forksSucceeded: number;
  /** RLIMIT_NPROC held: at most 3 forks besides the probe itself. */
  processLimitWorks: boolean;
  rootWritable: boolean;
  /** The directory given as `hostDir` (e.g. the repo) was writable from inside. */
  hostDirWritable: boolean;
  /** Connecting to 127.0.0.1 failed with "network unreachable" (loopback down in a new netns). */
  networkBlocked: boolean;
  ok: boolean;
}

const PROBE = `
import errno, json, os, socket, sys, time
host_dir = sys.argv[1]
out = {"uid": os.getuid()}
kids = []
for _ in range(10):
    try:
        pid = os.fork()
    except OSError:
        continue
    if pid == 0:
        time.sleep(0.3)
        os._exit(0)
    kids.append(pid)
out["forks"] = len(kids)
for pid in kids:
    os.waitpid(pid, 0)
def writable(path):
    try:
        with open(os.path.join(path, ".tokenrl-probe-%d" % os.getpid()), "w") as f:
            f.write("x")
        os.unlink(os.path.join(path, ".tokenrl-probe-%d" % os.getpid()))
        return True
    except OSError:
        return False
out["root"] = writable("/")
out["host"] = writable(host_dir)
s = socket.socket()
s.settimeout(1)
try:
    s.connect(("127.0.0.1", 9))
    out["net"] = "connected"
except OSError as e:
    out["net"] = errno.errorcode.get(e.errno, str(e.errno))
os.write(3, json.dumps(out).encode())
`;

/**
 * Runs a harmless probe as sandbox uid `uid` to confirm the protections work before anything hostile
 * runs (a fork bomb without a working process limit would take the machine down).
 */
export async function probeSandbox(
  iso: IsolationReport,
  uid: number,
  hostDir: string,
  signal?: AbortSignal,
): Promise<ProbeReport> {
  if (!iso.python) throw new Error("probeSandbox needs a python3 the sandbox user can run");
  const o = await runSandboxed(
    {
      argv: [iso.python, "-I", "-B", "probe.py", hostDir],
      files: { "probe.py": PROBE },
      stdin: "",
      uid,
      wallMs: 10_000,
      cpuSec: 5,
      addressSpaceBytes: 256 * 1024 * 1024,
      memoryBytes: 256 * 1024 * 1024,
      maxProcesses: 4,
      outputLimitBytes: 64 * 1024,
      diskBytes: 1024 * 1024,
    },
    iso,
    signal,
  );
  let r: { uid: number; forks: number; root: boolean; host: boolean; net: string };
  try {
    r = JSON.parse(o.channel);
  } catch {
    throw new Error(
      `sandbox probe produced no report (exit ${o.exitCode}, signal ${o.signal}): ${o.setupError ?? o.stderrTail}`,
    );
  }
  const processLimitWorks = r.forks <= 3;
  const networkBlocked = r.net === "ENETUNREACH";
  return {
    uid: r.uid,
    forksSucceeded: r.forks,
    processLimitWorks,
    rootWritable: r.root,
    hostDirWritable: r.host,
    networkBlocked,
    ok: r.uid !== 0 && processLimitWorks && !r.root && !r.host && networkBlocked,
  };
}
