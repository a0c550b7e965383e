#!/usr/bin/env python3
"""A tshoot host written in Python: a machine held in dicts.

Probes and fixes (Lua scripts in the KB) reach a machine only through a host.
A host is any object with some of the methods below (the members of
tshoot_host_ops, docs/python.md "Hosts"); tshoot wraps it in a tshoot.Host,
which journals every change with the state before it and rolls a failed fix
back by calling these same methods. An embedder's real host would call the
Windows registry, the file system and the service manager here.

This one reads the machine-description format of the simulated host
(docs/scripts.md, "Machine descriptions": system, registry, files, processes,
services, ui.confirm, faults.ignore_writes), keeps every call it gets in
`calls`, and can be saved back as a dict. Run it on a KB's machine:

    python3 machine_host.py kb/kerio/machines/kofmsp-registry-overwrite.json \\
        "outlook does not start, kofmsp.dll"
"""
import copy
import json
import sys

import tshoot


def _lower(s):
    return s.replace("/", "\\").lower()


class MachineHost:
    """A machine in memory, answering tshoot's host calls."""

    def __init__(self, machine, quarantine_dir="C:\\ProgramData\\tshoot\\quarantine"):
        m = copy.deepcopy(machine)
        self.system = m.get("system", {})
        # key (lower case) -> [key as written, {name (lower case): [name, value]}]
        self.registry = {}
        for key, values in m.get("registry", {}).items():
            self._key(key)
            for name, value in values.items():
                self.registry[_lower(key)][1][name.lower()] = [name, value]
        self.files = {_lower(p): [p, info] for p, info in m.get("files", {}).items()}
        self.processes = m.get("processes", [])
        self.services = {n.lower(): [n, s] for n, s in m.get("services", {}).items()}
        self.confirm = m.get("ui", {}).get("confirm", True)
        self.ignore_writes = [_lower(p) for p in m.get("faults", {}).get("ignore_writes", [])]
        self.quarantine_dir = quarantine_dir
        self.calls = []            # (method, args...) in order
        self.notes = []            # what scripts told the user

    # --- helpers -----------------------------------------------------------------
    def _key(self, key):
        """Create `key` and its parents; return its entry."""
        parts = key.split("\\")
        for i in range(1, len(parts) + 1):
            k = "\\".join(parts[:i])
            self.registry.setdefault(_lower(k), [k, {}])
        return self.registry[_lower(key)]

    def _ignored(self, target):
        t = _lower(target)
        return any(t == p or t.startswith(p + "\\") for p in self.ignore_writes)

    def _children(self, prefix, table):
        p = prefix + "\\"
        names = {k[len(p):].split("\\")[0]: v for k, v in table.items() if k.startswith(p)}
        return names

    # --- the registry ------------------------------------------------------------
    def registry_get(self, key, name):
        self.calls.append(("registry_get", key, name))
        entry = self.registry.get(_lower(key))
        if entry is None:
            return None
        value = entry[1].get(name.lower())
        return None if value is None else value[1]

    def registry_set(self, key, name, value):
        self.calls.append(("registry_set", key, name, value))
        if self._ignored(key):
            return                                   # accepted, but has no effect
        entry = self._key(key)
        if name is not None:
            entry[1][name.lower()] = [name, value]

    def registry_delete(self, key, name):
        self.calls.append(("registry_delete", key, name))
        k = _lower(key)
        if name is not None:
            if k in self.registry:
                self.registry[k][1].pop(name.lower(), None)
            return
        for sub in [s for s in self.registry if s == k or s.startswith(k + "\\")]:
            del self.registry[sub]

    def registry_list(self, key):
        self.calls.append(("registry_list", key))
        k = _lower(key)
        entry = self.registry.get(k)
        if entry is None:
            return None
        subkeys = sorted({self.registry[s][0].split("\\")[-1] for s in self.registry
                          if s.startswith(k + "\\") and "\\" not in s[len(k) + 1:]})
        return {"values": {n: v for n, v in entry[1].values()}, "subkeys": subkeys}

    # --- files, processes, services, the system -------------------------------------
    def file_stat(self, path):
        self.calls.append(("file_stat", path))
        p = _lower(path).rstrip("\\")
        if p in self.files:
            return self.files[p][1]
        if any(f.startswith(p + "\\") for f in self.files):
            return {"folder": True}
        return None

    def file_list(self, path):
        self.calls.append(("file_list", path))
        p = _lower(path).rstrip("\\")
        names = {f[len(p) + 1:].split("\\")[0]: f for f in self.files if f.startswith(p + "\\")}
        if not names:
            return None
        # the names as written
        out = set()
        for f in names.values():
            written = self.files[f][0].replace("/", "\\")
            out.add(written[len(p) + 1:].split("\\")[0])
        return sorted(out)

    def file_move(self, src, dst):
        self.calls.append(("file_move", src, dst))
        s = _lower(src)
        if s not in self.files:
            raise FileNotFoundError(src)
        if self._ignored(src):
            return
        self.files[_lower(dst)] = [dst, self.files.pop(s)[1]]

    def process_list(self):
        self.calls.append(("process_list",))
        return self.processes

    def service_get(self, name):
        self.calls.append(("service_get", name))
        s = self.services.get(name.lower())
        return None if s is None else s[1]

    def service_control(self, name, action):
        self.calls.append(("service_control", name, action))
        s = self.services.get(name.lower())
        if s is None:
            raise tshoot.NotFound(f"no service {name}")
        if not self._ignored(name):
            s[1]["status"] = "running" if action == "start" else "stopped"

    def system_info(self):
        self.calls.append(("system_info",))
        return self.system

    # --- the person -------------------------------------------------------------------
    def ui_confirm(self, text):
        self.calls.append(("ui_confirm", text))
        return self.confirm

    def ui_notify(self, text):
        self.calls.append(("ui_notify", text))
        self.notes.append(text)

    def ui_progress(self, fraction, text):
        self.calls.append(("ui_progress", fraction, text))

    # --- the machine, back as a description ------------------------------------------------
    def machine(self):
        return {
            "system": self.system,
            "registry": {k: {n: v for n, v in vals.values()}
                         for k, vals in sorted(self.registry.values()) if vals},
            "files": {p: info for p, info in sorted(self.files.values())},
            "services": {n: s for n, s in sorted(self.services.values())},
        }


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    machine = MachineHost(json.load(open(argv[1], encoding="utf-8")))
    kb = tshoot.KB()
    s = kb.session(" ".join(argv[2:]), host=machine, fixes=False)
    step = s.next()
    while isinstance(step, tshoot.Ask):
        answer = input(f"{step.prompt} {list(step.choices) or ''} ").strip()
        if answer:
            s.answer(step.question, answer)
        else:
            s.unknown(step.question)
        step = s.next()
    for p in s.probes():
        print(f"probe {p.script}: {p.question} = {p.answer}")
    print(f"cause: {step.cause_title} ({step.probability:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
