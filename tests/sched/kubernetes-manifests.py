"""The Kubernetes example, checked offline (no cluster runs here).

Reads every manifest of examples/kubernetes and asserts what would make the
pod run unguarded, fail to start, or lose its log:
  - each object has apiVersion, kind and a name; kustomization.yaml lists
    files that exist;
  - with Debian's python3-kubernetes, each object deserializes into its
    model and has no key the model does not know (a misspelled field is
    dropped silently by the API server's older versions, or rejected);
  - every container has a name (unique) and an image; every volumeMount
    names a volume of the pod; every volume is mounted; every ConfigMap
    volume names a ConfigMap of the example;
  - the training container's TRAINGUARD_* names are the ones the library
    reads (policy/tg-env.h) or the documented Kubernetes ones;
    LD_PRELOAD, TRAINGUARD_POLICY and TRAINGUARD_LOG are set; LD_PRELOAD
    and the policy sit in an emptyDir that the training container mounts
    read-only and the init container writes, copying exactly those files;
  - downward-API fieldRefs use field paths the API accepts for env, and
    $(VAR) references name a variable defined earlier;
  - the log folder is a volume the log shipper mounts, and its Fluent Bit
    tail Path matches the log file name; the shipper runs as a native
    sidecar (restartPolicy Always);
  - the policy in the ConfigMap loads (`trainguard check`).
Speaks TAP. Needs python3-yaml; python3-kubernetes is used when present.
"""
import fnmatch
import os
import re
import subprocess
import sys
import tempfile

SOURCE_ROOT = os.environ.get('TG_SOURCE_ROOT', '')
BUILD_ROOT = os.environ.get('TG_BUILD_ROOT', '')
sys.path.insert(0, os.path.join(SOURCE_ROOT, 'tests', 'integration'))
import tglib  # noqa: E402

EXAMPLE = os.path.join(SOURCE_ROOT, 'examples', 'kubernetes')
K8S_NAMES = {'TRAINGUARD_K8S_POD', 'TRAINGUARD_K8S_NAMESPACE'}
# The field paths the API server accepts in an env var's fieldRef.
FIELD_PATHS = {'metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName',
               'spec.serviceAccountName', 'status.hostIP', 'status.hostIPs', 'status.podIP',
               'status.podIPs'}
FIELD_KEYED = re.compile(r"^metadata\.(labels|annotations)\['([^']+)'\]$")
LABEL_KEY = re.compile(r'^(([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?/)?'
                       r'[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$')
# Fields newer than Debian's python3-kubernetes models (22.6, Kubernetes
# 1.22): (model, key) pairs allowed anyway, with the release that added them.
NEWER_FIELDS = {('V1Container', 'restartPolicy'): '1.28 (native sidecars)'}


def library_env_names():
    with open(os.path.join(SOURCE_ROOT, 'policy', 'tg-env.h')) as f:
        return set(re.findall(r'#define\s+TG_ENV_\w+\s+"([A-Z_]+)"', f.read()))


def load_manifests(yaml):
    objs = []
    for name in sorted(os.listdir(EXAMPLE)):
        if name.endswith(('.yaml', '.yml')):
            with open(os.path.join(EXAMPLE, name)) as f:
                for doc in yaml.safe_load_all(f):
                    if doc:
                        objs.append((name, doc))
    return objs


def unknown_keys(data, model, models, path):
    """Keys of DATA that MODEL (a python3-kubernetes class) does not know,
    recursively, as dotted paths."""
    out = []
    if not isinstance(data, dict):
        return out
    by_json = {v: k for k, v in model.attribute_map.items()}
    for key, val in data.items():
        if key not in by_json:
            if (model.__name__, key) not in NEWER_FIELDS:
                out.append(f'{path}.{key}')
            continue
        typ = model.openapi_types[by_json[key]]
        m = re.match(r'^list\[(\w+)\]$', typ)
        if m and hasattr(models, m.group(1)):
            for i, item in enumerate(val or []):
                out += unknown_keys(item, getattr(models, m.group(1)), models,
                                    f'{path}.{key}[{i}]')
        elif hasattr(models, typ):
            out += unknown_keys(val, getattr(models, typ), models, f'{path}.{key}')
    return out


def pod_spec(obj):
    kind = obj.get('kind')
    if kind == 'Pod':
        return obj.get('spec', {})
    if kind in ('Job', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'):
        return obj.get('spec', {}).get('template', {}).get('spec', {})
    if kind == 'CronJob':
        return obj['spec']['jobTemplate']['spec']['template']['spec']
    return None


def env_map(container):
    return {e['name']: e for e in container.get('env', []) or []}


def mount_of(container, path):
    """The volumeMount of CONTAINER holding PATH (longest mountPath)."""
    best = None
    for m in container.get('volumeMounts', []) or []:
        mp = m['mountPath'].rstrip('/')
        if path == mp or path.startswith(mp + '/'):
            if not best or len(mp) > len(best['mountPath'].rstrip('/')):
                best = m
    return best


def fluent_bit_paths(configmaps):
    paths = []
    for cm in configmaps.values():
        for text in (cm.get('data') or {}).values():
            section = None
            for line in text.splitlines():
                s = line.strip()
                if s.startswith('['):
                    section = s
                elif section == '[INPUT]' and s.split()[:1] == ['Path']:
                    paths += s.split(None, 1)[1].split(',')
    return [p.strip() for p in paths]


def check_pod(t, where, spec, configmaps, known_env):
    inits = spec.get('initContainers', []) or []
    mains = spec.get('containers', []) or []
    everyone = inits + mains
    names = [c.get('name') for c in everyone]
    t.ok(all(names) and len(set(names)) == len(names),
         f'{where}: every container has a name, each once', names)
    t.ok(all(c.get('image') for c in everyone), f'{where}: every container has an image',
         [c.get('name') for c in everyone if not c.get('image')])

    volumes = {v['name']: v for v in spec.get('volumes', []) or []}
    mounts = [(c['name'], m['name']) for c in everyone for m in c.get('volumeMounts', []) or []]
    t.ok(all(v in volumes for _, v in mounts), f'{where}: every volumeMount names a volume',
         [m for m in mounts if m[1] not in volumes])
    t.ok(set(volumes) <= {v for _, v in mounts}, f'{where}: every volume is mounted',
         sorted(set(volumes) - {v for _, v in mounts}))
    cm_refs = [v['configMap']['name'] for v in volumes.values() if 'configMap' in v]
    t.ok(all(n in configmaps for n in cm_refs),
         f'{where}: every ConfigMap volume names a ConfigMap of the example', cm_refs)

    # Downward API and $(VAR) references, in every container.
    bad_refs, bad_vars = [], []
    for c in everyone:
        seen = set()
        for e in c.get('env', []) or []:
            fr = (e.get('valueFrom') or {}).get('fieldRef')
            if fr is not None:
                fp = fr.get('fieldPath', '')
                m = FIELD_KEYED.match(fp)
                if not (fp in FIELD_PATHS or (m and LABEL_KEY.match(m.group(2)))) or \
                        fr.get('apiVersion', 'v1') != 'v1':
                    bad_refs.append(f'{c["name"]}: {e["name"]} <- {fp}')
            for ref in re.findall(r'\$\(([A-Za-z_][A-Za-z0-9_]*)\)', str(e.get('value', ''))):
                if ref not in seen:
                    bad_vars.append(f'{c["name"]}: {e["name"]} uses $({ref}) before it is set')
            seen.add(e['name'])
    t.ok(not bad_refs, f'{where}: downward-API fieldRefs use field paths env accepts', bad_refs)
    t.ok(not bad_vars, f'{where}: $(VAR) references name variables set before them', bad_vars)

    guarded = [c for c in mains if 'LD_PRELOAD' in env_map(c)]
    if not t.ok(guarded, f'{where}: a container sets LD_PRELOAD'):
        return
    for c in guarded:
        env = env_map(c)
        cn = c['name']
        ours = {n for n in env if n.startswith('TRAINGUARD_')}
        t.ok(ours <= known_env | K8S_NAMES,
             f'{where}/{cn}: TRAINGUARD_* names are ones the library reads or the documented '
             'Kubernetes ones', sorted(ours - known_env - K8S_NAMES))
        t.ok({'TRAINGUARD_POLICY', 'TRAINGUARD_LOG', 'TRAINGUARD_JOB_ID'} <= set(env) and
             K8S_NAMES <= set(env),
             f'{where}/{cn}: policy, log, job id, pod and namespace are set', sorted(env))
        pods = {n: env[n].get('valueFrom', {}).get('fieldRef', {}).get('fieldPath')
                for n in K8S_NAMES if n in env}
        t.ok(pods == {'TRAINGUARD_K8S_POD': 'metadata.name',
                      'TRAINGUARD_K8S_NAMESPACE': 'metadata.namespace'},
             f'{where}/{cn}: the pod name and namespace come from the downward API', pods)

        # The library and the policy: in an emptyDir, read-only here,
        # written by an init container that copies exactly these files.
        for var in ('LD_PRELOAD', 'TRAINGUARD_POLICY'):
            if var not in env:
                continue
            val = env[var].get('value', '')
            paths = re.split(r'[: ]', val) if var == 'LD_PRELOAD' else [val]
            for p in paths:
                m = mount_of(c, p)
                vol = volumes.get(m['name']) if m else None
                t.ok(os.path.isabs(p) and m and vol and 'emptyDir' in vol and m.get('readOnly'),
                     f'{where}/{cn}: {var} {p} is in an emptyDir mounted read-only', m)
                if not m:
                    continue
                writers = []
                for i in inits:
                    im = [x for x in i.get('volumeMounts', []) or [] if x['name'] == m['name']
                          and not x.get('readOnly')]
                    if im:
                        dest = im[0]['mountPath'].rstrip('/') + p[len(m['mountPath'].rstrip('/')):]
                        cmd = ' '.join(i.get('command', []) + i.get('args', []))
                        if re.search(r'\bcp\b[^;&|]*\s' + re.escape(dest) + r'(\s|;|$)', cmd):
                            writers.append(i['name'])
                t.ok(writers, f'{where}/{cn}: an init container copies {os.path.basename(p)} '
                     f'to where {var} finds it')
        if any(p.endswith('libtrainguard.so') for p in re.split(r'[: ]', env['LD_PRELOAD']['value'])):
            t.ok(True, f'{where}/{cn}: LD_PRELOAD names libtrainguard.so')
        else:
            t.ok(False, f'{where}/{cn}: LD_PRELOAD names libtrainguard.so', env['LD_PRELOAD'])

        # The log: on a volume a sidecar reads, under its tail Path.
        logval = env.get('TRAINGUARD_LOG', {}).get('value', '')
        m = mount_of(c, logval)
        t.ok(m and not m.get('readOnly'), f'{where}/{cn}: the log {logval} is on a writable mount',
             m)
        if not m:
            continue
        shippers = [i for i in inits if i.get('restartPolicy') == 'Always'] + \
            [x for x in mains if x is not c]
        readers = [s for s in shippers
                   if any(x['name'] == m['name'] for x in s.get('volumeMounts', []) or [])]
        t.ok(readers, f'{where}/{cn}: a sidecar mounts the log volume {m["name"]}')
        t.ok(all(r in inits and r.get('restartPolicy') == 'Always' for r in readers),
             f'{where}/{cn}: the log shipper is a native sidecar (restartPolicy Always), so the '
             'Job ends with the training container')
        sidecar_log = None
        for r in readers:
            rm = [x for x in r['volumeMounts'] if x['name'] == m['name']][0]
            sidecar_log = rm['mountPath'].rstrip('/') + logval[len(m['mountPath'].rstrip('/')):]
        pattern = re.sub(r'\$\([A-Za-z_][A-Za-z0-9_]*\)', 'pod-x', sidecar_log or '')
        tails = fluent_bit_paths(configmaps)
        t.ok(any(fnmatch.fnmatch(pattern, g) for g in tails),
             f'{where}/{cn}: the shipper\'s tail Path matches the log ({pattern})', tails)


def main():
    t = tglib.TAP()
    try:
        import yaml
    except ImportError:
        print('1..0 # SKIP no python3-yaml (apt-get install python3-yaml)')
        return 0
    objs = load_manifests(yaml)
    t.ok(objs, f'{len(objs)} objects in examples/kubernetes')
    for name, o in objs:
        t.ok(o.get('apiVersion') and o.get('kind') and
             (o.get('kind') == 'Kustomization' or o.get('metadata', {}).get('name')),
             f'{name}: {o.get("kind")} has apiVersion, kind and a name')
    for name, o in objs:
        if o.get('kind') == 'Kustomization':
            missing = [r for r in o.get('resources', []) if not os.path.exists(
                os.path.join(EXAMPLE, r))]
            listed = set(o.get('resources', []))
            others = {n for n, x in objs if x.get('kind') != 'Kustomization'}
            t.ok(not missing and others <= listed,
                 f'{name}: lists every manifest, and only files that exist',
                 {'missing': missing, 'unlisted': sorted(others - listed)})

    try:
        import kubernetes.client as kc
        from kubernetes.client import models
    except ImportError:
        kc = None
        t.skip('objects deserialize into python3-kubernetes models',
               'no python3-kubernetes (apt-get install python3-kubernetes)')
    if kc:
        api = kc.ApiClient()
        for name, o in objs:
            kind = o.get('kind')
            version = o.get('apiVersion', '').split('/')[-1]
            model = getattr(models, version.capitalize() + kind, None)
            if not model or o.get('kind') == 'Kustomization':
                continue
            try:
                api._ApiClient__deserialize(o, model.__name__)
                err = None
            except (ValueError, TypeError) as e:
                err = str(e)
            t.ok(err is None, f'{name}: the {kind} deserializes into {model.__name__}', err)
            extra = unknown_keys(o, model, models, kind)
            t.ok(not extra, f'{name}: no key the {model.__name__} model does not know', extra)

    configmaps = {o['metadata']['name']: o for _, o in objs if o.get('kind') == 'ConfigMap'}
    known_env = library_env_names()
    t.ok({'TRAINGUARD_POLICY', 'TRAINGUARD_LOG', 'LD_PRELOAD'} <= known_env,
         'policy/tg-env.h names the variables the library reads', sorted(known_env))
    with open(os.path.join(EXAMPLE, 'README.md')) as f:
        readme = f.read()
    t.ok(all(n in readme for n in K8S_NAMES),
         'examples/kubernetes/README.md documents the Kubernetes variables')
    pods = 0
    for name, o in objs:
        spec = pod_spec(o)
        if spec is not None:
            pods += 1
            check_pod(t, f'{name}', spec, configmaps, known_env)
    t.ok(pods >= 1, f'{pods} pod template(s) checked')

    cli = os.path.join(BUILD_ROOT, 'cli', 'trainguard')
    policies = [(n, k, v) for n, cm in configmaps.items()
                for k, v in (cm.get('data') or {}).items() if k.endswith('.cfg')]
    t.ok(policies, 'a ConfigMap holds a policy')
    for n, k, text in policies:
        with tempfile.NamedTemporaryFile('w', suffix='.cfg') as f:
            f.write(text)
            f.flush()
            r = subprocess.run([cli, 'check', f.name], capture_output=True, text=True,
                               timeout=30)
        t.ok(r.returncode == 0, f'ConfigMap {n}, {k}: trainguard check accepts the policy',
             r.stdout + r.stderr)
    t.done()
    return 1 if t.failed else 0


if __name__ == '__main__':
    sys.exit(main())
