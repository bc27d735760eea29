"""Self-test of the project's OCSF check (TAP, standard library only).

Good records of each class pass; for every rule of ocsf.py at least one bad
record (a good one with one change) fails with that rule, so no rule is
dead. Last, the ids and captions in preload/ocsf.h, which the record builder
and the fallback line write, are looked up in the schema subset: a constant
that is not OCSF 1.8.0 fails here before any record is built."""
import copy
import json
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import ocsf  # noqa: E402
import tap  # noqa: E402

SCHEMA = ocsf.load()
T = tap.TAP()


def ok(cond, what, detail=''):
    T.ok(bool(cond), what, detail or None)


# ---- Good records ------------------------------------------------------------

ACTOR = {
    'process': {
        'pid': 4242, 'ptid': 4243, 'name': 'python3', 'cmd_line': 'python3 train.py',
        'created_time': 1785311998120, 'working_directory': '/workspace',
        'file': {'name': 'python3.11', 'path': '/usr/bin/python3.11', 'type': 'Regular File',
                 'type_id': 1},
        'user': {'uid': '1000', 'name': 'trainer'}, 'parent_process': {'pid': 4200},
    },
    'user': {'uid': '1000', 'name': 'trainer'},
}
METADATA = {
    'version': '1.8.0', 'profiles': ['security_control', 'datetime'],
    'product': {'name': 'trainguard', 'vendor_name': 'trainguard', 'version': '0.1.0'},
    'uid': '01a234f0-177b-7dcc-8000-2b9f00000001', 'sequence': 1,
    'correlation_uid': 'job-17', 'log_name': 'trainguard',
}
DENY_OPEN = {
    'category_uid': 1, 'category_name': 'System Activity',
    'class_uid': 1001, 'class_name': 'File System Activity',
    'activity_id': 14, 'activity_name': 'Open',
    'type_uid': 100114, 'type_name': 'File System Activity: Open',
    'time': 1785312001456, 'time_dt': '2026-07-29T08:00:01.456789000Z',
    'severity_id': 4, 'severity': 'High', 'action_id': 2, 'action': 'Denied',
    'disposition_id': 2, 'disposition': 'Blocked', 'is_alert': True,
    'status_id': 2, 'status': 'Failure', 'status_code': 'EACCES',
    'message': 'denied open64(O_WRONLY) of /datasets/x.tar by python3 (rule ro)',
    'actor': ACTOR,
    'device': {'hostname': 'gpu-node-17', 'type_id': 1, 'type': 'Server'},
    'file': {'name': 'x.tar', 'path': '/datasets/x.tar', 'parent_folder': '/datasets',
             'type_id': 0, 'type': 'Unknown'},
    'access_mask': 524865,
    'observables': [{'name': 'file.path', 'type_id': 45, 'type': 'File Path',
                     'value': '/datasets/x.tar'}],
    'policy': {'uid': 'ro', 'name': 'ro', 'desc': 'datasets are read-only', 'is_applied': True,
               'data': {'source': '/etc/trainguard/train.cfg', 'line': 14}},
    'metadata': METADATA,
    'unmapped': {'trainguard': {'op': 'open64', 'anything': [1, None, {'x': True}]}},
}
SPAWN = {
    'category_uid': 1, 'category_name': 'System Activity',
    'class_uid': 1007, 'class_name': 'Process Activity',
    'activity_id': 1, 'activity_name': 'Launch',
    'type_uid': 100701, 'type_name': 'Process Activity: Launch',
    'time': 1785312001456, 'time_dt': '2026-07-29T08:00:01.456Z',
    'severity_id': 3, 'severity': 'Medium', 'action_id': 1, 'action': 'Allowed',
    'disposition_id': 15, 'disposition': 'Detected', 'is_alert': True,
    'status_id': 1, 'status': 'Success', 'status_code': 'OK',
    'launch_type_id': 1, 'launch_type': 'Spawn',
    'actor': ACTOR,
    'device': {'hostname': 'gpu-node-17', 'type_id': 1, 'type': 'Server'},
    'process': {'uid': '01a234f0-177d-76e6-8000-2b9f00000006', 'name': 'curl',
                'cmd_line': 'curl -s https://example.com/x', 'parent_process': {'pid': 4242},
                'file': {'name': 'curl', 'path': '/usr/bin/curl', 'parent_folder': '/usr/bin',
                         'type_id': 0, 'type': 'Unknown'}},
    'observables': [{'name': 'process.file.path', 'type_id': 45, 'type': 'File Path',
                     'value': '/usr/bin/curl'}],
    'metadata': METADATA,
}
# The form of preload/guard.c's fallback line, written when a record cannot
# be built.
FALLBACK = {
    'activity_id': 99, 'activity_name': 'Other', 'category_uid': 1, 'class_uid': 1008,
    'log_name': 'trainguard',
    'message': 'trainguard could not build the record of open64 /x (decision 0)',
    'metadata': {'product': {'name': 'trainguard'}, 'version': '1.8.0'},
    'severity_id': 4, 'time': 1785312001456, 'type_uid': 100899,
}
GOOD = {'File System Activity deny of open64': DENY_OPEN,
        'Process Activity spawn, audited': SPAWN,
        'Event Log Activity fallback line': FALLBACK}


def problems(rec):
    raw = rec if isinstance(rec, bytes) else json.dumps(rec).encode()
    return ocsf.check_line(SCHEMA, raw)


for what, rec in GOOD.items():
    found = problems(rec)
    ok(not found, f'good: {what} passes', '\n'.join(f'{r}: {m}' for r, m in found))

# A null is as good as absent for an optional attribute, and other 99s.
rec = copy.deepcopy(DENY_OPEN)
rec['message'] = None
rec['activity_id'], rec['type_uid'] = 99, 100199
rec['activity_name'], rec['type_name'] = 'fchmod', 'File System Activity: Other'
ok(not problems(rec), 'good: activity 99 names the call; a null optional attribute is absent',
   problems(rec))

# ---- Bad records: (rule, what, the good record, the change) --------------------


def drop(path):
    def change(rec):
        *parents, last = path.split('.')
        obj = rec
        for p in parents:
            obj = obj[int(p)] if isinstance(obj, list) else obj[p]
        del obj[last]
    return change


def put(path, value):
    def change(rec):
        *parents, last = path.split('.')
        obj = rec
        for p in parents:
            obj = obj[int(p)] if isinstance(obj, list) else obj[p]
        obj[last] = value
    return change


BAD = [
    ('json', 'a line that is not JSON', b'{"class_uid": 1001,'),
    ('json', 'an empty line', b''),
    ('json', 'a line that is not UTF-8', b'{"message": "\xff"}'),
    ('json', 'a JSON array', b'[1, 2]'),
    ('json', 'a key twice', b'{"class_uid": 1001, "class_uid": 1001}'),
    ('class', 'no class_uid', DENY_OPEN, drop('class_uid')),
    ('class', 'class_uid 1002', DENY_OPEN, put('class_uid', 1002)),
    ('class', 'class_uid as a string', DENY_OPEN, put('class_uid', '1001')),
    ('required', 'no time', DENY_OPEN, drop('time')),
    ('required', 'severity_id null', DENY_OPEN, put('severity_id', None)),
    ('required', 'no file in File System Activity', DENY_OPEN, drop('file')),
    ('required', 'no file.name', DENY_OPEN, drop('file.name')),
    ('required', 'no file.type_id', DENY_OPEN, drop('file.type_id')),
    ('required', 'no actor.process.file.type_id', DENY_OPEN, drop('actor.process.file.type_id')),
    ('required', 'no device.type_id', DENY_OPEN, drop('device.type_id')),
    ('required', 'no metadata.version', DENY_OPEN, drop('metadata.version')),
    ('required', 'no metadata.product', DENY_OPEN, drop('metadata.product')),
    ('required', 'no process in Process Activity', SPAWN, drop('process')),
    ('required', 'no observable type_id', DENY_OPEN, drop('observables.0.type_id')),
    ('required', 'no actor in File System Activity', DENY_OPEN, drop('actor')),
    ('type', 'time as a string', DENY_OPEN, put('time', '1785312001456')),
    ('type', 'is_alert as 1', DENY_OPEN, put('is_alert', 1)),
    ('type', 'severity_id true', DENY_OPEN, put('severity_id', True)),
    ('type', 'pid as 1.0', DENY_OPEN, put('actor.process.pid', 1.0)),
    ('type', 'an integer past 64 bits', DENY_OPEN, put('access_mask', 2 ** 64)),
    ('type', 'device as a string', DENY_OPEN, put('device', 'gpu-node-17')),
    ('type', 'observables as an object', DENY_OPEN, put('observables', {})),
    ('type', 'a profile that is not a string', DENY_OPEN, put('metadata.profiles',
                                                            ['security_control', 'datetime', 7])),
    ('enum', 'severity_id 7', DENY_OPEN, put('severity_id', 7)),
    ('enum', 'action_id 5', DENY_OPEN, put('action_id', 5)),
    ('enum', 'disposition_id 28', DENY_OPEN, put('disposition_id', 28)),
    ('enum', 'status_id 3', DENY_OPEN, put('status_id', 3)),
    ('enum', 'category_uid 2', DENY_OPEN, put('category_uid', 2)),
    ('enum', 'file activity 15', DENY_OPEN, put('activity_id', 15)),
    ('enum', 'process activity 6', SPAWN, put('activity_id', 6)),
    ('enum', 'launch_type_id 4', SPAWN, put('launch_type_id', 4)),
    ('enum', 'file.type_id 9', DENY_OPEN, put('file.type_id', 9)),
    ('enum', 'device.type_id 16', DENY_OPEN, put('device.type_id', 16)),
    ('enum', 'observable type_id 46', DENY_OPEN, put('observables.0.type_id', 46)),
    ('enum', 'log_type_id 3', FALLBACK, put('log_type_id', 3)),
    ('enum', 'type_uid of no activity', DENY_OPEN, put('type_uid', 100115)),
    ('caption', 'action "Allowed" for action_id 2', DENY_OPEN, put('action', 'Allowed')),
    ('caption', 'disposition "Allowed" for 2', DENY_OPEN, put('disposition', 'Allowed')),
    ('caption', 'severity "Medium" for 4', DENY_OPEN, put('severity', 'Medium')),
    ('caption', 'status "Success" for 2', DENY_OPEN, put('status', 'Success')),
    ('caption', 'activity_name "Read" for 14', DENY_OPEN, put('activity_name', 'Read')),
    ('caption', 'class_name of another class', DENY_OPEN, put('class_name', 'Process Activity')),
    ('caption', 'category_name wrong', DENY_OPEN, put('category_name', 'File')),
    ('caption', 'type_name of another activity', DENY_OPEN,
     put('type_name', 'File System Activity: Read')),
    ('caption', 'file.type "Folder" for 0', DENY_OPEN, put('file.type', 'Folder')),
    ('caption', 'device.type "Desktop" for 1', DENY_OPEN, put('device.type', 'Desktop')),
    ('caption', 'launch_type "Exec" for 1', SPAWN, put('launch_type', 'Exec')),
    ('caption', 'observable type "File Name" for 45', DENY_OPEN,
     put('observables.0.type', 'File Name')),
    ('type_uid', 'type_uid of another class', DENY_OPEN, put('type_uid', 100714)),
    ('type_uid', 'type_uid of another activity', DENY_OPEN, put('type_uid', 100102)),
    ('version', 'metadata.version 1.7.0', DENY_OPEN, put('metadata.version', '1.7.0')),
    ('profile', 'a profile OCSF does not have', DENY_OPEN,
     put('metadata.profiles', ['security_control', 'datetime', 'trainguard'])),
    ('profile', 'action_id without security_control', DENY_OPEN,
     put('metadata.profiles', ['datetime'])),
    ('profile', 'time_dt without datetime', DENY_OPEN,
     put('metadata.profiles', ['security_control'])),
    ('profile', 'policy with no profiles declared', DENY_OPEN, drop('metadata.profiles')),
    ('at_least_one', 'Event Log Activity without log_name', FALLBACK, drop('log_name')),
    ('at_least_one', 'an empty actor', DENY_OPEN, put('actor', {})),
    ('at_least_one', 'a process with neither pid nor uid', SPAWN, drop('process.uid')),
    ('at_least_one', 'a device without hostname', DENY_OPEN, drop('device.hostname')),
    ('at_least_one', 'a product without name', DENY_OPEN, drop('metadata.product.name')),
    ('at_least_one', 'a policy without uid or name', DENY_OPEN,
     put('policy', {'is_applied': True})),
    ('at_least_one', 'a user without uid or name', DENY_OPEN, put('actor.user', {})),
    ('time', 'time in seconds', DENY_OPEN, put('time', 1785312001)),
    ('time', 'time in microseconds', DENY_OPEN, put('time', 1785312001456789)),
    ('time', 'created_time in seconds', DENY_OPEN, put('actor.process.created_time', 1785311998)),
    ('time', 'time_dt not RFC 3339', DENY_OPEN, put('time_dt', '2026-07-29 08:00:01Z')),
    ('time', 'time_dt on February 30', DENY_OPEN, put('time_dt', '2026-02-30T08:00:01.456Z')),
    ('time', 'time_dt a millisecond off', DENY_OPEN, put('time_dt', '2026-07-29T08:00:01.457Z')),
    ('time', 'time_dt in another zone naming another instant', DENY_OPEN,
     put('time_dt', '2026-07-29T08:00:01.456+02:00')),
    ('observable', 'an observable naming no attribute', DENY_OPEN,
     put('observables.0.name', 'file.inode')),
    ('observable', 'an observable naming the other class', DENY_OPEN,
     put('observables.0.name', 'process.file.path')),
    ('unknown', 'a top-level key outside the subset', DENY_OPEN, put('trainguard', {})),
    ('unknown', 'actor.process.tid (deprecated in 1.8.0: ptid)', DENY_OPEN,
     put('actor.process.tid', 4243)),
    ('unknown', 'file.mime_type, not in our subset', DENY_OPEN, put('file.mime_type', 'text/plain')),
]

seen = set()
for rule, what, base, *change in BAD:
    if change:
        rec = copy.deepcopy(base)
        change[0](rec)
    else:
        rec = base
    found = problems(rec)
    rules = {r for r, _ in found}
    seen.add(rule)
    ok(rule in rules, f'bad: {what} fails rule {rule}',
       '\n'.join(f'{r}: {m}' for r, m in found) or 'passed')

# Each rule of the docstring is exercised above.
documented = set(re.findall(r'^  (\w+) {2,}', ocsf.__doc__, re.M))
ok(documented and documented == seen, 'every rule ocsf.py documents has a failing record',
   f'documented {sorted(documented)}, exercised {sorted(seen)}')

# A log with one bad line: the command says which line and exits 1.
log = os.path.join(os.environ.get('TMPDIR', '/tmp'), f'tg-ocsf-selftest-{os.getpid()}.jsonl')
with open(log, 'w') as f:
    f.write(json.dumps(DENY_OPEN) + '\n' + json.dumps(dict(DENY_OPEN, severity_id=7)) + '\n')
found = ocsf.check_file(SCHEMA, log)
ok([n for n, _, _ in found] == [2], 'a log: the bad record is reported by its line number',
   found)
os.unlink(log)

# ---- preload/ocsf.h speaks OCSF 1.8.0 ------------------------------------------

HEADER = os.path.join(HERE, '..', '..', 'preload', 'ocsf.h')
# Prefix of a constant -> the enum (or the fact) it must be found in.
FAMILIES = [
    ('TG_OCSF_FILE_ACTIVITY', 'class'), ('TG_OCSF_PROCESS_ACTIVITY', 'class'),
    ('TG_OCSF_EVENT_LOG_ACTIVITY', 'class'),
    ('TG_OCSF_FILE_CREATE', 'file_activity_id'), ('TG_OCSF_FILE_READ', 'file_activity_id'),
    ('TG_OCSF_FILE_UPDATE', 'file_activity_id'), ('TG_OCSF_FILE_DELETE', 'file_activity_id'),
    ('TG_OCSF_FILE_RENAME', 'file_activity_id'),
    ('TG_OCSF_FILE_SET_ATTRIBUTES', 'file_activity_id'),
    ('TG_OCSF_FILE_OPEN', 'file_activity_id'), ('TG_OCSF_OTHER', 'file_activity_id'),
    ('TG_OCSF_PROCESS_LAUNCH', 'process_activity_id'),
    ('TG_OCSF_PROCESS_TERMINATE', 'process_activity_id'),
    ('TG_OCSF_LOG_', 'event_log_activity_id'),
    ('TG_OCSF_LAUNCH_', 'launch_type_id'), ('TG_OCSF_SEVERITY_', 'severity_id'),
    ('TG_OCSF_ACTION_', 'action_id'), ('TG_OCSF_DISPOSITION_', 'disposition_id'),
    ('TG_OCSF_STATUS_', 'status_id'), ('TG_OCSF_FILE_', 'file.type_id'),
    ('TG_OCSF_DEVICE_', 'device.type_id'), ('TG_OCSF_OBSERVABLE_', 'observable.type_id'),
    ('TG_OCSF_FINGERPRINT_', 'fingerprint.algorithm_id'),
    ('TG_OCSF_CATEGORY', 'category'),
]
text = open(HEADER).read()
ids = {m[1]: int(m[2]) for m in re.finditer(r'\b(TG_OCSF_\w+) = (\d+)', text)}
words = {m[1]: m[2] for m in re.finditer(r'#define (TG_OCSF_\w+?)_NAME\s+"([^"]*)"', text)}
strings = {m[1]: m[2] for m in re.finditer(r'#define (TG_OCSF_\w+)\s+"([^"]*)"', text)}
ok(len(ids) >= 25 and set(ids) <= set(words), f'ocsf.h: {len(ids)} ids, each with its caption',
   f'ids without a caption: {sorted(set(ids) - set(words))}')
for name, value in sorted(ids.items()):
    family = next((f for p, f in FAMILIES if name == p or
                   (p.endswith('_') and name.startswith(p))), None)
    if family == 'class':
        want = SCHEMA.classes.get(value, {}).get('name')
    elif family == 'category':
        want = SCHEMA.categories.get(value)
    elif family:
        want = SCHEMA.enums[family].get(value)
    else:
        want = None
    ok(want is not None and words.get(name) == want,
       f'ocsf.h: {name} = {value} is {words.get(name)!r} in {family or "no known enum"}',
       f'OCSF 1.8.0 says {want!r}')
ok(strings.get('TG_OCSF_VERSION') == SCHEMA.version,
   f'ocsf.h: TG_OCSF_VERSION is the subset\'s version {SCHEMA.version}',
   strings.get('TG_OCSF_VERSION'))
ok(all(strings.get(p) in SCHEMA.profiles for p in ('TG_OCSF_PROFILE_1', 'TG_OCSF_PROFILE_2')),
   'ocsf.h: the declared profiles are OCSF profiles',
   [strings.get('TG_OCSF_PROFILE_1'), strings.get('TG_OCSF_PROFILE_2')])

T.done()
