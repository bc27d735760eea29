"""The project's own OCSF 1.8.0 check of trainguard's records (Python 3,
standard library only).

The schema facts are in ocsf-1.8.0.json beside this file: exactly the
classes (File System Activity 1001, Process Activity 1007, Event Log
Activity 1008), attributes, objects and enums our records use, plus what
OCSF requires of them. Every record of a log must pass all of these rules:

  json        the line is UTF-8 and one JSON object, no key twice in an object
  class       class_uid is 1001, 1007 or 1008
  required    every required attribute is there (null counts as missing),
              at the top and inside each object present (file.name,
              file.type_id, device.type_id, metadata.version, ...)
  type        each value has its type (an integer is never true or 1.0)
  enum        each id is defined (activity_id by class, severity_id, ...)
  caption     a caption agrees with its id (action_id 2: action "Denied"),
              except for 99, Other, whose caption is free
  type_uid    type_uid = class_uid * 100 + activity_id
  version     metadata.version is "1.8.0"
  profile     metadata.profiles lists OCSF profiles only, and an attribute
              a profile adds (action_id, policy, time_dt, ...) appears only
              when its profile is declared
  at_least_one  OCSF's at-least-one constraints (actor, process, device,
              product, policy, user; Event Log Activity: log_name,
              log_provider, log_type, log_type_id or log_file)
  time        timestamps are epoch milliseconds; X_dt is RFC 3339 and names
              the millisecond of X
  observable  observables[].name is the dotted path of an attribute of the
              class
  unknown     no attribute outside the subset (unmapped takes anything):
              a record that gains one fails until it is added here from the
              schema

Usage: ocsf-check [--strict] FILE...   (--strict is accepted and changes
nothing: every rule is an error). Prints 'FILE:LINE: rule: problem' and a
summary; exit 0 when every record passes, 1 when one does not, 2 when a
file cannot be read.
"""
import json
import os
import re
import sys
from datetime import datetime, timezone

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ocsf-1.8.0.json')
RFC3339 = re.compile(r'(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)')
KINDS = {'int': int, 'long': int, 'timestamp': int, 'string': str, 'datetime': str,
         'bool': bool}


def load(path=SCHEMA):
    with open(path, encoding='utf-8') as f:
        return Schema(json.load(f))


class Schema:
    def __init__(self, doc):
        self.version = doc['version']
        self.profiles = set(doc['profiles'])
        self.categories = {int(k): v for k, v in doc['categories'].items()}
        self.ms_low, self.ms_high = doc['epoch_ms']
        self.enums = {name: {int(k): v for k, v in e.items()} for name, e in doc['enums'].items()}
        self.objects = doc['objects']
        self.classes = {}
        for uid, c in doc['classes'].items():
            attrs = dict(doc['event'])
            attrs.update(c['attributes'])
            self.classes[int(uid)] = dict(c, attributes=attrs)


def parse_type(spec):
    """'file/required' -> ('file', False, True); '[string]' -> ('string', True, False)."""
    t, _, req = spec['type'].partition('/')
    array = t.startswith('[')
    return t.strip('[]'), array, req == 'required'


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    dup = {k for k in keys if keys.count(k) > 1}
    if dup:
        raise ValueError(f'key {sorted(dup)[0]!r} appears twice in one object')
    return dict(pairs)


def rfc3339_ms(text):
    """Epoch ms named by an RFC 3339 date-time, or None when it is not one."""
    m = RFC3339.fullmatch(text)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(m[i]) for i in range(1, 7))
    try:
        when = datetime(y, mo, d, h, mi, s, tzinfo=timezone.utc)
    except ValueError:
        return None
    ms = int(when.timestamp()) * 1000 + int((m[7] or '.0')[1:4].ljust(3, '0'))
    zone = m[8]
    if zone not in ('Z', 'z'):
        sign = 1 if zone[0] == '+' else -1
        ms -= sign * (int(zone[1:3]) * 60 + int(zone[4:6])) * 60000
    return ms


class Record:
    """The problems of one parsed record: a list of (rule, message)."""

    def __init__(self, schema, rec):
        self.s, self.problems = schema, []
        uid = rec.get('class_uid')
        if type(uid) is not int or uid not in schema.classes:
            self.add('class', f'class_uid {uid!r} is not one of '
                     + ', '.join(map(str, sorted(schema.classes))))
            return
        self.uid, self.cls = uid, schema.classes[uid]
        self.declared = self.profiles(rec)
        self.walk(rec, self.cls['attributes'], self.cls.get('at_least_one'), '')
        self.record_rules(rec)

    def add(self, rule, message):
        self.problems.append((rule, message))

    def profiles(self, rec):
        meta = rec.get('metadata')
        names = meta.get('profiles') if isinstance(meta, dict) else None
        names = [n for n in names if isinstance(n, str)] if isinstance(names, list) else []
        for n in names:
            if n not in self.s.profiles:
                self.add('profile', f'metadata.profiles names {n!r}, no OCSF '
                         f'{self.s.version} profile')
        return set(names)

    def walk(self, obj, attrs, at_least_one, prefix):
        for key, value in obj.items():
            path = prefix + key
            spec = attrs.get(key)
            if spec is None:
                self.add('unknown', f'{path!r} is not an attribute of the subset')
                continue
            if spec.get('profile') and spec['profile'] not in self.declared:
                self.add('profile', f'{path!r} comes from profile {spec["profile"]!r}, '
                         'which metadata.profiles does not declare')
                continue
            if value is None:
                continue
            t, array, _ = parse_type(spec)
            if array:
                if not isinstance(value, list):
                    self.add('type', f'{path!r} is not an array')
                    continue
                for i, item in enumerate(value):
                    self.value(item, t, spec, f'{path}[{i}]', obj, key)
            else:
                self.value(value, t, spec, path, obj, key)
        for key, spec in attrs.items():
            t, _, required = parse_type(spec)
            if required and obj.get(key) is None:
                self.add('required', f'{prefix + key!r} is required')
        if at_least_one and not any(k in obj for k in at_least_one):
            self.add('at_least_one', f'{prefix.rstrip(".") or "the record"} needs one of '
                     + ', '.join(at_least_one))

    def value(self, value, t, spec, path, parent, key):
        if t == 'json':
            return
        if t in self.s.objects:
            if not isinstance(value, dict):
                self.add('type', f'{path!r} is not an object')
                return
            o = self.s.objects[t]
            self.walk(value, o['attributes'], o.get('at_least_one'), path + '.')
            return
        want = KINDS[t]
        if type(value) is not want:
            self.add('type', f'{path!r} is {type(value).__name__}, not {t}')
            return
        if want is int and not -2**63 <= value < 2**63:
            self.add('type', f'{path!r} {value} does not fit in 64 bits')
        if t == 'timestamp' and not self.s.ms_low <= value < self.s.ms_high:
            self.add('time', f'{path!r} {value} is no epoch in milliseconds')
        if t == 'datetime':
            ms = rfc3339_ms(value)
            twin = parent.get(key[:-3])
            if ms is None:
                self.add('time', f'{path!r} {value!r} is not RFC 3339')
            elif type(twin) is int and ms != twin:
                self.add('time', f'{path!r} names {ms} ms, {key[:-3]!r} is {twin}')
        if 'enum' in spec:
            self.enum(value, spec, path, parent)

    def enum(self, value, spec, path, parent):
        name = spec['enum']
        if name == '@class':
            ids = {self.uid: self.cls['name']}
        elif name == '@category':
            ids = {self.cls['category']: self.s.categories[self.cls['category']]}
        elif name == '@type':
            acts = self.s.enums[self.cls['activities']]
            ids = {self.uid * 100 + a: f'{self.cls["name"]}: {c}' for a, c in acts.items()}
        else:
            ids = self.s.enums[name]
        if value not in ids:
            self.add('enum', f'{path!r} {value} is not defined')
            return
        other = value == 99 or (name == '@type' and value % 100 == 99)
        caption = spec.get('caption')
        if caption and not other and caption in parent and parent[caption] != ids[value]:
            self.add('caption', f'{caption!r} is {parent[caption]!r}, but {path!r} {value} '
                     f'is {ids[value]!r}')

    def record_rules(self, rec):
        acts = self.s.enums[self.cls['activities']]
        activity = rec.get('activity_id')
        if type(activity) is int:
            if activity not in acts:
                self.add('enum', f'activity_id {activity} is not defined for class {self.uid}')
            elif (activity != 99 and 'activity_name' in rec
                  and rec['activity_name'] != acts[activity]):
                self.add('caption', f'activity_name is {rec["activity_name"]!r}, but '
                         f'activity_id {activity} is {acts[activity]!r}')
            if type(rec.get('type_uid')) is int and rec['type_uid'] != self.uid * 100 + activity:
                self.add('type_uid', f'type_uid {rec["type_uid"]} is not '
                         f'{self.uid} * 100 + {activity}')
        meta = rec.get('metadata')
        version = meta.get('version') if isinstance(meta, dict) else None
        if isinstance(version, str) and version != self.s.version:
            self.add('version', f'metadata.version is {version!r}, not {self.s.version!r}')
        observables = rec.get('observables')
        for i, o in enumerate(observables if isinstance(observables, list) else []):
            name = o.get('name') if isinstance(o, dict) else None
            if isinstance(name, str) and not self.names_attribute(name):
                self.add('observable', f'observables[{i}].name {name!r} names no attribute '
                         f'of class {self.uid}')

    def names_attribute(self, dotted):
        attrs = self.cls['attributes']
        parts = dotted.split('.')
        for i, part in enumerate(parts):
            spec = attrs.get(part.split('[')[0])
            if spec is None:
                return False
            if spec.get('profile') and spec['profile'] not in self.declared:
                return False
            t, _, _ = parse_type(spec)
            if i == len(parts) - 1:
                return True
            if t not in self.s.objects:
                return False
            attrs = self.s.objects[t]['attributes']
        return False


def check_line(schema, raw):
    """The problems of one line of a log (bytes, without its newline)."""
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError as e:
        return [('json', f'not UTF-8: {e}')]
    try:
        rec = json.loads(text, object_pairs_hook=no_duplicates)
    except ValueError as e:
        return [('json', f'not JSON: {e}')]
    if not isinstance(rec, dict):
        return [('json', 'not one JSON object')]
    return Record(schema, rec).problems


def check_file(schema, path):
    """[(line number, rule, message)] for a JSON Lines file."""
    found = []
    with open(path, 'rb') as f:
        for n, raw in enumerate(f, 1):
            found += [(n, rule, msg) for rule, msg in check_line(schema, raw.rstrip(b'\n'))]
    return found


def main(argv):
    files = [a for a in argv if a != '--strict']
    if not files or any(a.startswith('-') for a in files):
        print('usage: ocsf-check [--strict] FILE...', file=sys.stderr)
        return 2
    schema = load()
    bad = 0
    for path in files:
        try:
            found = check_file(schema, path)
            with open(path, 'rb') as f:
                records = sum(1 for _ in f)
        except OSError as e:
            print(f'ocsf-check: cannot read {path!r}: {e.strerror}', file=sys.stderr)
            return 2
        for n, rule, msg in found:
            print(f'{path}:{n}: {rule}: {msg}')
        invalid = len({n for n, _, _ in found})
        bad += invalid
        print(f'{path}: {records} records, {records - invalid} pass OCSF {schema.version}, '
              f'{invalid} do not')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
