"""WebAssembly operations per record, by function, of one export of the filter (npm run bench:ops).

Counts are exact and need no Fluent Bit: the module runs in pywasm (a pure-Python interpreter), whose loop is
patched below to count every operation under the function executing it. Inside Fluent Bit 5.1.1 (WAMR's fast
interpreter) each counted operation costs 13.3-13.7 native instructions on this filter, measured against
callgrind on both profiles and both record mixes; local.get/set, constants and block markers, which that
interpreter folds into other operations, are counted apart. For A/B of the filter on a noisy machine.

usage: wasm_ops.py <module.wasm> <module.wat> <export> <records.jsonl>   (prints JSON)
"""
import collections
import inspect
import json
import re
import sys

try:
    import pywasm
    import pywasm.core as core
    import pywasm.opcode as op
except ImportError:
    sys.stderr.write('pywasm is missing: python3 -m pip install pywasm==2.2.3\n')
    sys.exit(2)

# The patch: every frame carries its function's address; the loop counts each operation under it.
PATCHES = [
    ("        self.value = value\n\n    def __repr__", "        self.value = value\n        self.addr = -1\n\n    def __repr__"),
    ("            label.index += 1\n            pywasm.log.debugln('    ', instr)\n",
     "            label.index += 1\n            d = PROF[frame.addr]; d[instr.opcode] = d.get(instr.opcode, 0) + 1\n"),
    ("                    len(self.stack.value),\n                ))\n",
     "                    len(self.stack.value),\n                ))\n                self.stack.frame[-1].addr = addr\n"),
    ("        self.stack.frame.append(Frame(func.module, locals, len(func.type.rets), 0, 0))\n",
     "        self.stack.frame.append(Frame(func.module, locals, len(func.type.rets), 0, 0))\n        self.stack.frame[-1].addr = addr\n"),
]


def patch() -> None:
    src = inspect.getsource(core)
    for old, new in PATCHES:
        if src.count(old) != 1:
            sys.stderr.write(f'pywasm {getattr(pywasm, "version", "?")} does not have the loop this script patches: use pywasm==2.2.3\n')
            sys.exit(2)
        src = src.replace(old, new)
    core.__dict__['PROF'] = collections.defaultdict(dict)
    exec(compile(src, core.__file__, 'exec'), core.__dict__)


# Operations Fluent Bit's fast interpreter (WAMR) folds into others: shown, not counted as cost.
FREE = {op.local_get, op.local_set, op.local_tee, op.i32_const, op.i64_const, op.block, op.loop, op.end}


def main() -> None:
    wasm, wat, fn, records_file = sys.argv[1:5]
    patch()
    # Function addresses in the store are the module's function indices (the module has no imports), which are
    # the order of the functions in the .wat.
    names = re.findall(r'^ \(func \$(\S+)', open(wat, encoding='utf8').read(), re.M)
    rt = core.Runtime()
    mod = rt.instance_from_file(wasm)
    mem = rt.machine.store.mems[mod.mems[0]]
    records = [line.rstrip('\n').encode() for line in open(records_file, encoding='utf8') if line.strip()]
    if not records:
        sys.stderr.write(f'{records_file} holds no records\n')
        sys.exit(2)

    def call(name, args):
        return rt.invocate(mod, name, args)

    def run(r: bytes) -> None:
        # As Fluent Bit calls it: tag and record copied in through the module's malloc, NUL-terminated.
        p = call('malloc', [len(r) + 1])[0]
        mem.data[p:p + len(r)] = r
        mem.data[p + len(r)] = 0
        t = call('malloc', [5])[0]
        mem.data[t:t + 5] = b'test\0'
        call(fn, [t, 4, 0, 0, p, len(r)])
        call('free', [p])
        call('free', [t])

    for r in records:  # first uses (names interned, areas grown) off the books
        run(r)
    core.PROF.clear()
    for r in records:
        run(r)
    n = len(records)
    rows = []
    for addr, d in core.PROF.items():
        name = names[addr] if 0 <= addr < len(names) else f'#{addr}'
        cost = sum(v for k, v in d.items() if k not in FREE)
        rows.append({'function': name, 'ops': cost / n, 'free': (sum(d.values()) - cost) / n})
    rows.sort(key=lambda x: -x['ops'])
    print(json.dumps({'records': n, 'ops': sum(x['ops'] for x in rows), 'free': sum(x['free'] for x in rows), 'functions': rows}))


if __name__ == '__main__':
    main()
