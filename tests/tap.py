"""The one TAP printer of the Python tests: ok() numbers each assertion
and prints the diagnostics of a failure as comments, skip() is a visible
"# SKIP" with its reason (never a silent pass), group() turns an exception
into one failed assertion, done() prints the plan at the end (the number
of assertions may depend on the system) and exits non-zero when any
assertion failed or none ran."""
import sys
import traceback


class TAP:
    """TAP output with the plan at the end (the number of assertions
    depends on what the system has). A group that raises is one failure,
    not the end of the script."""

    def __init__(self):
        self.n = 0
        self.failed = 0
        self.todo = 0
        self.skipped = 0

    def ok(self, cond, desc, diag=None, todo=None):
        self.n += 1
        desc = ' '.join(str(desc).split())
        line = f'{"ok" if cond else "not ok"} {self.n} - {desc}'
        if todo:
            line += f' # TODO {todo}'
            if not cond:
                self.todo += 1
        elif not cond:
            self.failed += 1
        print(line, flush=True)
        if not cond and diag:
            self.diag(diag)
        return cond

    def skip(self, desc, reason):
        self.n += 1
        self.skipped += 1
        print(f'ok {self.n} - {desc} # SKIP {reason}', flush=True)

    def diag(self, text):
        for line in str(text).rstrip('\n').splitlines()[:80]:
            print(f'#   {line}', flush=True)

    def group(self, fn, *args):
        """Runs one test function; an exception is a failed assertion."""
        try:
            fn(self, *args)
        except Exception:
            self.ok(False, f'{fn.__name__} ran to the end', traceback.format_exc())

    def done(self):
        print(f'1..{self.n}', flush=True)
        if self.todo:
            print(f'# {self.todo} known guard bug(s) marked TODO', flush=True)
        sys.exit(1 if self.failed or self.n == 0 else 0)

    def skip_all(self, reason):
        """The whole script cannot run here: an empty plan with the reason."""
        print(f'1..0 # SKIP {reason}', flush=True)
        sys.exit(0)
