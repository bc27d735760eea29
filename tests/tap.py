"""TAP output for the test scripts that collect (passed, description,
detail) triples: the plan, one line each, the detail of each failure as
comments. Returns the exit status."""


def report(results, max_detail=40):
    print(f'1..{len(results)}')
    failed = 0
    for i, (cond, what, detail) in enumerate(results, 1):
        print(f'{"ok" if cond else "not ok"} {i} - {what}')
        if not cond:
            failed += 1
            for line in str(detail).splitlines()[:max_detail]:
                print('# ' + line)
    return 1 if failed else 0
