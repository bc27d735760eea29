"""The Fluent Bit and Vector configurations of examples/logging (and the
Fluent Bit ConfigMap of examples/kubernetes), checked offline: neither
shipper is in Debian, so they cannot run here (the rsyslog path runs, in
rsyslog.py). What is asserted is what would lose or change records:
  - Fluent Bit: a tail input on *.jsonl read from the head, no multiline
    setting, long lines skipped rather than the file dropped, a JSON parser
    that keeps its time key; the Kubernetes ConfigMap uses the same parser
    and input settings;
  - Vector: a file source read from the beginning with no multiline, a
    transform that only parses the line (the OCSF record shipped as is),
    every transform and sink input defined, and every OCSF field the ECS
    transform reads named in the mapping table of examples/logging/README.md.
Speaks TAP. Needs python3-yaml.
"""
import os
import re
import sys

SOURCE_ROOT = os.environ.get('TG_SOURCE_ROOT', '')
sys.path.insert(0, os.path.join(SOURCE_ROOT, 'tests', 'integration'))
import tglib  # noqa: E402

LOGGING = os.path.join(SOURCE_ROOT, 'examples', 'logging')


def fb_sections(text):
    """Fluent Bit classic configuration: a list of (section, {key: value})
    with keys lower-cased."""
    out = []
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith('#'):
            continue
        if s.startswith('[') and s.endswith(']'):
            out.append((s[1:-1].upper(), {}))
        elif out:
            k, _, v = s.partition(' ')
            out[-1][1][k.lower()] = v.strip()
    return out


def check_fluent_bit(t, where, conf, parsers):
    secs = fb_sections(conf)
    psecs = {p.get('name'): p for s, p in fb_sections(parsers) if s == 'PARSER'}
    tails = [kv for s, kv in secs if s == 'INPUT' and kv.get('name') == 'tail']
    if not t.ok(tails, f'{where}: a tail input'):
        return None
    tail = tails[0]
    t.ok(tail.get('path', '').endswith('*.jsonl'), f'{where}: tail reads *.jsonl', tail)
    t.ok(tail.get('read_from_head', '').lower() == 'on', f'{where}: read from the first line',
         tail)
    t.ok(not any(k.startswith('multiline') or k in ('docker_mode', 'parser_firstline')
                 for k in tail), f'{where}: no multiline setting', sorted(tail))
    t.ok(tail.get('skip_long_lines', '').lower() == 'on',
         f'{where}: a long line is skipped, not the whole file', tail)
    parser = psecs.get(tail.get('parser'))
    t.ok(parser and parser.get('format') == 'json',
         f'{where}: the parser {tail.get("parser")} is JSON', psecs)
    t.ok(parser and parser.get('time_keep', '').lower() == 'on' and
         parser.get('time_key') == 'time_dt',
         f'{where}: the parser takes time_dt as the time and keeps it in the record', parser)
    t.ok(not [s for s, kv in secs if s == 'FILTER'],
         f'{where}: no filter changes the record', [s for s, _ in secs])
    return tail, parser


def main():
    t = tglib.TAP()
    try:
        import yaml
    except ImportError:
        print('1..0 # SKIP no python3-yaml (apt-get install python3-yaml)')
        return 0

    with open(os.path.join(LOGGING, 'fluent-bit', 'fluent-bit.conf')) as f:
        conf = f.read()
    with open(os.path.join(LOGGING, 'fluent-bit', 'parsers.conf')) as f:
        parsers = f.read()
    plain = check_fluent_bit(t, 'fluent-bit.conf', conf, parsers)

    with open(os.path.join(SOURCE_ROOT, 'examples', 'kubernetes',
                           'fluent-bit-configmap.yaml')) as f:
        cm = yaml.safe_load(f)
    data = cm.get('data', {})
    pod = check_fluent_bit(t, 'the Kubernetes ConfigMap', data.get('fluent-bit.conf', ''),
                           data.get('parsers.conf', ''))
    if plain and pod:
        same = {k: v for k, v in plain[0].items() if k not in ('path', 'db', 'storage.type',
                                                               'refresh_interval')}
        t.ok(all(pod[0].get(k) == v for k, v in same.items()) and plain[1] == pod[1],
             'the Kubernetes ConfigMap reads and parses as examples/logging/fluent-bit does',
             {'logging': plain, 'kubernetes': pod})

    with open(os.path.join(LOGGING, 'vector', 'vector.yaml')) as f:
        vec = yaml.safe_load(f)
    sources = vec.get('sources', {})
    transforms = vec.get('transforms', {})
    sinks = vec.get('sinks', {})
    files = [s for s in sources.values() if s.get('type') == 'file']
    t.ok(files and all(s.get('read_from') == 'beginning' and 'multiline' not in s and
                       s.get('max_line_bytes', 0) >= 65536 for s in files),
         'vector: file sources read from the beginning, no multiline, long lines kept', files)
    names = set(sources) | set(transforms)
    undefined = [(n, i) for n, c in list(transforms.items()) + list(sinks.items())
                 for i in c.get('inputs', []) if i not in names]
    t.ok(not undefined, 'vector: every input names a source or transform', undefined)
    ocsf = transforms.get('trainguard_ocsf', {})
    src = ' '.join(ocsf.get('source', '').split())
    t.ok(src == '. = object!(parse_json!(string!(.message)))',
         'vector: the OCSF transform only parses the line', src)
    ecs = transforms.get('trainguard_ecs', {}).get('source', '')
    with open(os.path.join(LOGGING, 'README.md')) as f:
        readme = f.read()
    table = ' '.join(line.split('|')[1] for line in readme.splitlines()
                     if line.startswith('| `') and line.count('|') >= 3)
    # `p` is actor.process in the transform.
    used = {('actor.process.' + m[2:]) if m.startswith('p.') else m[2:]
            for m in re.findall(r'\b[op]\.[a-z_][a-z_.]*[a-z_]', ecs)}
    undocumented = sorted(u for u in used if not documented(u, table))
    t.ok(used and not undocumented,
         f'vector: the {len(used)} OCSF fields the ECS transform reads are in the README table',
         undocumented)
    t.done()
    return 1 if t.failed else 0


def documented(path, table):
    """PATH (a.b.c) appears in the table: whole, as a prefix of a row
    (a.b of a.b.c, a.b.*), or in an a.{b,c} group."""
    if re.search(r'`' + re.escape(path) + r'[`. ]', table):
        return True
    head, _, leaf = path.rpartition('.')
    for m in re.finditer(r'`([a-z_.]*)\{([a-z_,]+)\}', table):
        if m.group(1).rstrip('.') == head and leaf in m.group(2).split(','):
            return True
    return False


if __name__ == '__main__':
    sys.exit(main())
