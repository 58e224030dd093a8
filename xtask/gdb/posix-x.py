# gdb helpers for POSIX-X (docs/debugging.md); `cargo xtask run --gdb` prints the command that
# sources this file. They read the kernel's thread registry, `task::diagnose::THREADS` (a spin
# Mutex<Vec<Weak<Thread>>>), through the DWARF types, without calling into the stopped kernel.
#   px-threads      every thread: tid, state, kernel rsp, what it waits on
#   px-bt TID       the kernel backtrace of a thread that is not running (frame pointers)

import gdb

STATES = {0: "runnable", 1: "running", 2: "sleeping"}
# arch/x86_64/context.rs: a switched-out stack holds r15 r14 r13 r12 rbx rbp, then the return.
SAVED_RBP, SAVED_RET = 5 * 8, 6 * 8


def field(val, *names):
    """The first of `names` found in `val`, looking through single-field wrappers
    (UnsafeCell, Cell, NonNull, Unique, RawVec...)."""
    for _ in range(12):
        t = val.type.strip_typedefs()
        fields = [f.name for f in t.fields()] if t.code == gdb.TYPE_CODE_STRUCT else []
        for n in names:
            if n in fields:
                return val[n]
        if len(fields) == 0:
            break
        # Descend into the first field (wrappers keep what we want first).
        val = val[fields[0]]
    raise gdb.GdbError("no field %s in %s" % (names, val.type))


def scalar(val):
    """The integer inside an atomic or a wrapper."""
    for _ in range(8):
        t = val.type.strip_typedefs()
        if t.code in (gdb.TYPE_CODE_INT, gdb.TYPE_CODE_BOOL, gdb.TYPE_CODE_PTR, gdb.TYPE_CODE_CHAR):
            return int(val)
        val = val[t.fields()[0].name]
    return int(val)


def threads():
    """(tid, Thread value) for every registered thread still alive."""
    name = "posix_x::task::diagnose::THREADS"
    sym = gdb.lookup_static_symbol(name) or gdb.lookup_global_symbol(name)
    if sym is None:
        raise gdb.GdbError("no symbol %s (is the kernel's ELF loaded?)" % name)
    reg = sym.value()
    vec = field(reg, "data")
    vec = field(vec, "value") if vec.type.strip_typedefs().fields()[0].name == "value" else vec
    length = int(field(vec, "len"))
    ptr = field(vec, "buf")
    ptr = field(ptr, "ptr")
    while ptr.type.strip_typedefs().code != gdb.TYPE_CODE_PTR:
        ptr = ptr[ptr.type.strip_typedefs().fields()[0].name]
    weak_type = gdb.lookup_type("alloc::sync::Weak<posix_x::task::thread::Thread, alloc::alloc::Global>")
    items = ptr.cast(weak_type.pointer())
    out = []
    for i in range(length):
        inner = field(items[i], "ptr")
        while inner.type.strip_typedefs().code != gdb.TYPE_CODE_PTR:
            inner = inner[inner.type.strip_typedefs().fields()[0].name]
        arc = inner.dereference()
        if scalar(arc["strong"]) == 0:
            continue
        t = arc["data"]
        out.append((scalar(t["tid"]), t))
    return out


def wait_of(t):
    info = field(t["wait"], "data")
    site = info["site"] if "site" in [f.name for f in info.type.strip_typedefs().fields()] else None
    text = ""
    if site is not None:
        s = str(site)
        if "file" in s:
            text = s
    queue = scalar(field(info, "queue"))
    return "queue %#x %s" % (queue, text) if queue else text


class PxThreads(gdb.Command):
    """List POSIX-X's threads: tid, state, saved kernel rsp, what a sleeper waits on."""

    def __init__(self):
        super().__init__("px-threads", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        for tid, t in threads():
            state = STATES.get(scalar(t["state"]), "dead")
            rsp = scalar(t["saved_rsp"])
            line = "tid %-4d %-9s rsp %#x" % (tid, state, rsp)
            if state == "sleeping":
                try:
                    line += "  waits on " + wait_of(t)
                except gdb.error as e:
                    line += "  (wait info: %s)" % e
            print(line)


def symbol(pc):
    try:
        return gdb.execute("info symbol %#x" % pc, to_string=True).strip()
    except gdb.error:
        return "??"


class PxBt(gdb.Command):
    """px-bt TID: the kernel backtrace of thread TID (the running one: use bt)."""

    def __init__(self):
        super().__init__("px-bt", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        want = int(arg, 0)
        for tid, t in threads():
            if tid != want:
                continue
            if scalar(t["state"]) == 1:
                print("tid %d is running: use bt" % tid)
                return
            inferior = gdb.selected_inferior()
            read = lambda addr: int.from_bytes(inferior.read_memory(addr, 8).tobytes(), "little")
            rsp = scalar(t["saved_rsp"])
            pc, rbp = read(rsp + SAVED_RET), read(rsp + SAVED_RBP)
            for n in range(64):
                print("#%-2d %#x in %s" % (n, pc, symbol(pc)))
                if rbp == 0 or rbp < 0xffff800000000000:
                    break
                pc, rbp = read(rbp + 8), read(rbp)
                if pc == 0:
                    break
            return
        print("no thread %d" % want)


PxThreads()
PxBt()
