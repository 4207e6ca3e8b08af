/**
 * The programs that run inside the sandbox around the untrusted solution. They report on fd 3:
 *   "C <msg>"  compile error (syntax error, or the called function/class does not exist)
 *   "M"        out of memory
 *   "R <json>" the return value of a function-call test
 *   "U <msg>"  the return value could not be serialised (counts as a wrong answer)
 *   "E <msg>"  the function raised (runtime error)
 * Expected outputs never enter the sandbox, so a program writing to fd 3 cannot fake a pass without
 * producing the right answer.
 */

/**
 * LiveCodeBench's `import_string`, run before the solution so its implicit imports work:
 * `from m import *` for every module, then `import m` for all but builtins and typing.
 */
const PY_PRELUDE_MODULES = [
  "string",
  "re",
  "datetime",
  "collections",
  "heapq",
  "bisect",
  "copy",
  "math",
  "random",
  "statistics",
  "itertools",
  "functools",
  "operator",
  "io",
  "sys",
  "json",
  "builtins",
  "typing",
];
const PY_PRELUDE = [
  ...PY_PRELUDE_MODULES.map((m) => `from ${m} import *`),
  ...PY_PRELUDE_MODULES.filter((m) => m !== "builtins" && m !== "typing").map((m) => `import ${m}`),
  "sys.setrecursionlimit(50000)",
].join("\n");

export const PYTHON_HARNESS = `
import builtins, json, os, sys, traceback

def _report(msg):
    try:
        os.write(3, msg.encode("utf-8", "replace"))
    except OSError:
        pass

def _main():
    mode = sys.argv[1]
    with open("solution.py", encoding="utf-8", errors="replace") as f:
        src = f.read()
    try:
        code = compile(src, "solution.py", "exec")
    except (SyntaxError, ValueError) as e:
        _report("C " + repr(e))
        return 0
    g = {"__name__": "__main__", "__file__": "solution.py", "__builtins__": builtins}
    exec(compile(${JSON.stringify(PY_PRELUDE)}, "<prelude>", "exec"), g)
    if mode == "stdio":
        try:
            exec(code, g)
        except SystemExit:
            # LiveCodeBench ignores SystemExit in stdio tests: the output decides.
            pass
        except MemoryError:
            _report("M")
            return 1
        except BaseException:
            traceback.print_exc()
            return 1
        return 0
    fn_name = sys.argv[2]
    with open("args.json", encoding="utf-8") as f:
        args = json.load(f)
    try:
        exec(code, g)
        if "class Solution" in src:
            target = g["Solution"]()
            fn = getattr(target, fn_name, None)
        else:
            fn = g.get(fn_name)
    except MemoryError:
        _report("M")
        return 1
    except BaseException as e:
        traceback.print_exc()
        _report("E " + repr(e))
        return 1
    if not callable(fn):
        _report("C function " + repr(fn_name) + " not found")
        return 0
    try:
        result = fn(*args)
    except MemoryError:
        _report("M")
        return 1
    except BaseException as e:
        traceback.print_exc()
        _report("E " + repr(e))
        return 1
    if isinstance(result, tuple):
        result = list(result)
    try:
        text = json.dumps(result)
    except (TypeError, ValueError) as e:
        _report("U " + repr(e))
        return 0
    _report("R " + text)
    return 0

sys.stdout.flush()
_code = _main()
try:
    sys.stdout.flush()
except BaseException:
    pass
os._exit(_code)
`;

export const JS_HARNESS = `"use strict";
const fs = require("fs");
const vm = require("vm");
const path = require("path");
function report(msg) { try { fs.writeSync(3, msg); } catch {} }
function isOom(e) { return e instanceof RangeError && /allocation failed|out of memory/i.test(String(e.message)); }
const mode = process.argv[2];
const file = path.resolve("solution.js");
const src = fs.readFileSync(file, "utf8");
let body;
try {
  // The trailing lookup lets the harness find top-level declarations (class Solution, function f)
  // that CommonJS code keeps local to its module wrapper.
  body = vm.compileFunction(src + "\\n;return (__tokenrl_name) => eval(__tokenrl_name);",
    ["require", "module", "exports", "__filename", "__dirname"], { filename: file });
} catch (e) {
  if (e instanceof SyntaxError || (e && e.name === "SyntaxError")) { report("C " + e.message); process.exit(0); }
  throw e;
}
const mod = { exports: {} };
let lookup;
try {
  lookup = body.call(mod.exports, require, mod, mod.exports, file, path.dirname(file));
} catch (e) {
  if (isOom(e)) report("M");
  console.error(e);
  process.exit(1);
}
if (mode === "call") {
  const fnName = process.argv[3];
  const args = JSON.parse(fs.readFileSync("args.json", "utf8"));
  const find = (n) => { try { return lookup(n); } catch { return undefined; } };
  let target;
  let fn;
  const Sol = /class\\s+Solution\\b/.test(src) ? find("Solution") : undefined;
  if (typeof Sol === "function") { target = new Sol(); fn = target[fnName]; }
  else { fn = find(fnName); if (typeof fn !== "function") fn = mod.exports && mod.exports[fnName]; }
  if (typeof fn !== "function") { report("C function " + JSON.stringify(fnName) + " not found"); process.exit(0); }
  Promise.resolve().then(() => fn.apply(target, args)).then((result) => {
    let text;
    try { text = JSON.stringify(result === undefined ? null : result); }
    catch (e) { report("U " + String(e && e.message)); process.exit(0); }
    report("R " + text);
    process.exit(0);
  }, (e) => {
    if (isOom(e)) report("M"); else report("E " + String(e && e.message));
    console.error(e);
    process.exit(1);
  });
}
`;
