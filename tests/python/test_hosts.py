"""Hosts: the simulated host, a host written in Python (journaled, rolled
back), probes in sessions, fixes, scripts run alone, limits."""
import json
import threading

import pytest

import tshoot
from conftest import ROOT
from machine_host import MachineHost

MACHINES = ROOT / "kb" / "kerio" / "machines"
REGISTRY = MACHINES / "kofmsp-registry-overwrite.json"
TEXT = "outlook does not start, kofmsp.dll"
KOFF_KEY = ("HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows Messaging Subsystem\\Services"
            "\\KOFF")
# what the person says on the registry-overwrite machine (its description)
PERSON = {"update.recent": "office", "profile.new-works": "no", "scope.affected": "pc",
          "error.seen": "mapi-kofmsp", "eventlog.provider-blocked": "no",
          "office.reinstalled": "no"}


def machine(path=REGISTRY):
    return json.loads(path.read_text(encoding="utf-8"))


def diagnose(kb, host, person=PERSON):
    s = kb.session(TEXT, host=host, fixes=False)
    for _ in range(60):
        step = s.next()
        if isinstance(step, (tshoot.Conclude, tshoot.Inconclusive)):
            return s, step
        if step.question in person:
            s.answer(step.question, person[step.question])
        else:
            s.unknown(step.question)
    pytest.fail("no conclusion")


def walk_probes(kb, host):
    s = kb.session(TEXT, host=host, fixes=False)
    for _ in range(60):
        step = s.next()
        if isinstance(step, (tshoot.Conclude, tshoot.Inconclusive)):
            break
        s.unknown(step.question)
    return [(p.question, p.answer, p.status) for p in s.probes()]


@pytest.fixture(scope="module")
def scripted_kb(kb):
    if kb.info.scripts == 0:
        pytest.skip("this KB has no scripts")
    return kb


def test_kb_script(scripted_kb):
    body = scripted_kb.script("kerio/os-version.lua")
    assert "host.system.info()" in body
    with pytest.raises(tshoot.NotFound, match="os-version.lua"):
        scripted_kb.script("kerio/os-versoin.lua")


def test_simhost(scripted_kb):
    h = tshoot.SimHost(REGISTRY)
    assert isinstance(h, tshoot.Host) and h.target is None and h.journal() == []
    s, step = diagnose(scripted_kb, h)
    assert s.host is h
    assert step.cause == "kofmsp.registry-overwrite"
    probed = {a.question: a.value for a in s.answers() if a.source == "probe"}
    # which questions get probed depends on the path the diagnosis takes;
    # whatever was probed must be what this machine says
    assert probed["dll.exists"] == "yes" and probed.get("office.version", "2016") == "2016"
    assert all(a.source == "user" for a in s.answers() if a.question in PERSON)
    probes = s.probes()
    assert probes and all(isinstance(p, tshoot.Probe) for p in probes)
    assert all(p.script.startswith("kerio/") for p in probes)

    # the fix that writes the registration back, planned then applied
    plan = s.run_fix("kofmsp.fix.reg-technician", dry_run=True)
    assert isinstance(plan, tshoot.Run) and plan.status == 0
    assert [c.op for c in plan.changes] == ["registry.set", "registry.set"]
    assert h.journal() == [], "a plan changes nothing"
    run = s.run_fix("kofmsp.fix.reg-technician")
    assert run.status == 0 and run.verified and not run.rolled_back and run.notes
    journal = h.journal()
    assert [c.op for c in journal] == ["registry.set", "registry.set"]
    assert all(isinstance(c, tshoot.Change) and not c.undone for c in journal)
    assert journal[0].before == "null" and KOFF_KEY in journal[0].target
    assert KOFF_KEY.replace("\\", "\\\\") in h.save()
    assert len(h.journal_json().splitlines()) == 2


def test_simhost_errors(tmp_path):
    with pytest.raises(tshoot.NotFound):
        tshoot.SimHost(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "system": {"arch": 64}\n}\n')
    with pytest.raises(tshoot.InvalidArgument) as e:
        tshoot.SimHost(bad)
    assert e.value.line == 2
    h = tshoot.SimHost(json='{"machine": "empty"}', name="inline")
    assert json.loads(h.save()) == {"machine": "empty"}
    with pytest.raises(TypeError):
        tshoot.SimHost()
    with pytest.raises(TypeError):
        tshoot.SimHost(bad, json="{}")


def test_python_host_matches_simhost(scripted_kb):
    # a host written in Python answers every probe as the simulated host does
    for path in sorted(MACHINES.glob("*.json")):
        sim = walk_probes(scripted_kb, tshoot.SimHost(path))
        py = walk_probes(scripted_kb, MachineHost(machine(path)))
        assert sim == py, path.name


def test_python_host_fix_journaled(scripted_kb):
    m = MachineHost(machine())
    s, step = diagnose(scripted_kb, m)
    assert step.cause == "kofmsp.registry-overwrite"
    host = s.host
    assert isinstance(host, tshoot.Host) and host.target is m
    assert m.registry_get(KOFF_KEY, "PR_SERVICE_DLL_NAME") is None
    run = s.run_fix("kofmsp.fix.reg-technician")
    assert run.status == 0 and run.verified
    assert m.registry_get(KOFF_KEY, "PR_SERVICE_DLL_NAME").endswith("kofmsp.dll")
    assert [(c.op, c.undone) for c in host.journal()] == [("registry.set", False)] * 2
    assert ("registry_set", KOFF_KEY, "PR_SERVICE_DLL_NAME",
            m.registry_get(KOFF_KEY, "PR_SERVICE_DLL_NAME")) in m.calls
    assert m.notes and "registered again" in m.notes[0]


def test_python_host_rollback(scripted_kb):
    # writes to the services key are accepted but do not take effect (as when
    # a policy puts a value back): the fix's verify fails and every change it
    # made is undone, through the same Python methods, in reverse order
    desc = machine()
    desc.setdefault("faults", {})["ignore_writes"] = [KOFF_KEY.rsplit("\\", 1)[0]]
    m = MachineHost(desc)
    before = json.dumps(m.machine(), sort_keys=True)
    s, step = diagnose(scripted_kb, m)
    host = s.host
    n_calls = len(m.calls)
    run = s.run_fix("kofmsp.fix.reg-technician")
    assert run.status == -1 and not run.verified and run.rolled_back
    assert "verify" in run.message
    journal = host.journal()
    assert journal and all(c.undone for c in journal)
    assert json.dumps(m.machine(), sort_keys=True) == before, "the machine is as it was"
    undo = [c for c in m.calls[n_calls:] if c[0] in ("registry_set", "registry_delete")]
    assert undo[-1][0] == "registry_delete", "the changes were taken back"
    # a failed fix is evidence against its cause
    assert s.causes()[0].probability < step.probability


def test_python_host_refuses(scripted_kb):
    desc = machine()
    desc["ui"] = {"confirm": False}
    m = MachineHost(desc)
    s, _ = diagnose(scripted_kb, m)
    run = s.run_fix("kofmsp.fix.reg-technician")      # needs admin: confirmed first
    assert run.status == tshoot.CallbackError.code and not run.verified
    assert any(c[0] == "ui_confirm" for c in m.calls)
    assert s.host.journal() == []


class Broken:
    """A host whose methods fail in different ways."""

    def __init__(self):
        self.session = None

    def system_info(self):
        raise KeyError("no system here")

    def registry_get(self, key, name):
        return object()                   # not an answer

    def file_stat(self, path):
        if self.session is not None:
            self.session.next()           # a host cannot use its own session
        return None

    def registry_list(self, key):
        raise tshoot.NotFound("no such key")


def test_python_host_errors(scripted_kb):
    h = tshoot.Host(Broken())
    r = tshoot.run_script("t.lua", "return host.system.info().os.version", host=h)
    assert r.status == -1 and "KeyError" in r.message and "no system here" in r.message
    assert isinstance(h.last_error, KeyError)
    r = tshoot.run_script("t.lua", "return host.registry.get('HKLM\\\\X', 'v')", host=h)
    assert r.status == -1 and "TypeError" in r.message
    r = tshoot.run_script("t.lua", "return host.service.get('x')", host=h)   # no such method
    assert r.status != 0 and "cannot" in r.message
    r = tshoot.run_script("t.lua", "return host.registry.keys('HKLM\\\\X')", host=h)
    assert r.status != 0 and "no such key" in r.message

    target = Broken()
    s = scripted_kb.session(TEXT, host=target, fixes=False)
    target.session = s
    for _ in range(60):              # the probes fail; the person is asked instead
        step = s.next()
        if isinstance(step, (tshoot.Conclude, tshoot.Inconclusive)):
            break
        s.unknown(step.question)
    assert s.probes() and all(p.answer is None for p in s.probes())
    assert any(p.status != 0 for p in s.probes())
    assert all(a.source == "user" for a in s.answers())


class Reentrant:
    """A host whose every method calls back into its own host or session."""

    def __init__(self):
        self.host = self.session = None

    def _call_back(self, *args):
        if self.session is not None:
            self.session.causes()
        else:
            self.host.journal()

    system_info = registry_get = registry_list = file_stat = file_list = _call_back
    process_list = service_get = _call_back


def test_host_method_cannot_reenter(scripted_kb):
    # The lock order is the session's lock, then its host's; a host method
    # runs with the host's lock held, so using its own host or session from
    # there is refused (RuntimeError) instead of waiting for ever.
    target = Reentrant()
    target.host = h = tshoot.Host(target)
    r = tshoot.run_script("t.lua", "return host.system.info().os.version", host=h)
    assert r.status != 0 and "RuntimeError" in r.message
    assert isinstance(h.last_error, RuntimeError) and "already in use" in str(h.last_error)

    target = Reentrant()
    s = scripted_kb.session(TEXT, host=target, fixes=False)
    target.session = s
    for _ in range(60):
        step = s.next()
        if isinstance(step, (tshoot.Conclude, tshoot.Inconclusive)):
            break
        s.unknown(step.question)
    assert s.probes() and all(p.answer is None for p in s.probes())
    assert isinstance(s.host.last_error, RuntimeError)
    assert "already in use" in str(s.host.last_error)
    s.close()                                   # the locks were given back
    assert h.journal() == []


def test_run_script():
    sim = tshoot.SimHost(REGISTRY)
    r = tshoot.run_script("os.lua", "return host.system.info().os.version", host=sim)
    assert r.status == 0 and r.answer == "10.0" and r.elapsed_ms >= 0 and r.memory_peak > 0
    r = tshoot.run_script("none.lua", "return nil")
    assert r.status == 0 and r.answer is None
    r = tshoot.run_script("err.lua", "error('boom')")
    assert r.status == -1 and "err.lua:1: boom" in r.message
    r = tshoot.run_script("io.lua", "return io.open('/etc/passwd')")
    assert r.status == -1
    loop = "local n = 0 while true do n = n + 1 end"
    r = tshoot.run_script("loop.lua", loop, limits=tshoot.Limits(instructions=100_000,
                                                                  exact_count=True))
    assert r.status == tshoot.LimitExceeded.code and "instruction" in r.message
    r = tshoot.run_script("loop.lua", loop, limits={"time_ms": 50})
    assert r.status == tshoot.LimitExceeded.code
    r = tshoot.run_script("mem.lua", "local t = {} for i = 1, 1e7 do t[i] = i end",
                          limits=tshoot.Limits(memory_kib=1024))
    assert r.status == tshoot.LimitExceeded.code and "memory" in r.message
    fix = ("local f = {} function f.apply() host.registry.set('HKCU\\\\Software\\\\T', 'v', 1) end "
           "function f.verify() return host.registry.get('HKCU\\\\Software\\\\T', 'v') == 1 end "
           "return f")
    plan = tshoot.run_script("fix.lua", fix, "plan", host=sim)
    assert plan.status == 0 and [c.op for c in plan.changes] == ["registry.set"]
    applied = tshoot.run_script("fix.lua", fix, "apply", host=sim)
    assert applied.status == 0 and applied.verified and len(sim.journal()) == 1
    with pytest.raises(tshoot.InvalidArgument):
        tshoot.run_script("x.lua", "return 1", "sideways")
    with pytest.raises(TypeError):
        tshoot.run_script("x.lua", "return 1", limits=[1])
    with pytest.raises(TypeError):
        tshoot.run_script("x.lua", "return 1", limits={"memory": 1})


def test_run_script_with_fix_info(scripted_kb):
    art = scripted_kb.article("kofmsp")
    fix = next(f for c in art.causes for f in c.fixes if f.id == "kofmsp.fix.reg-technician")
    body = scripted_kb.script(fix.script)
    sim = tshoot.SimHost(REGISTRY)
    sim.set_confirm(False)
    r = tshoot.run_script(fix.script, body, "apply", host=sim, fix=fix)
    assert r.status == tshoot.CallbackError.code, "needs admin: refused without confirmation"
    sim.set_confirm(True)
    r = tshoot.run_script(fix.script, body, "apply", host=sim, fix=fix)
    assert r.status == 0 and r.verified
    assert all(c.fix == fix.id for c in sim.journal())


def test_set_host_and_load(scripted_kb):
    s = scripted_kb.session(TEXT, fixes=False)
    assert s.host is None
    with pytest.raises(tshoot.InvalidArgument):
        s.run_fix("kofmsp.fix.reg-technician")          # no host
    sim = tshoot.SimHost(REGISTRY)
    s.set_host(sim, limits=tshoot.Limits(time_ms=1000))
    assert s.host is sim
    s.next()
    assert s.probes()
    data = s.save()
    back = tshoot.Session.load(scripted_kb, data, host=tshoot.SimHost(REGISTRY))
    # unsigned, a saved "probe" source is the file's claim: it loads as the person's
    assert [(a.question, a.value) for a in back.answers()] == [(a.question, a.value) for a in s.answers()]
    assert any(a.source == "probe" for a in s.answers())
    assert all(a.source == "user" for a in back.answers())
    s.set_host(None)
    assert s.host is None
    with pytest.raises(tshoot.NotFound):
        back.run_fix("no.such.fix")


def test_hosts_in_threads(scripted_kb):
    # sessions with their own hosts run in parallel; one host shared by two
    # sessions in two threads is taken in turns
    shared = tshoot.SimHost(REGISTRY)
    errors = []

    def work(own):
        try:
            for _ in range(3):
                host = tshoot.SimHost(REGISTRY) if own else shared
                s, step = diagnose(scripted_kb, host)
                assert step.cause == "kofmsp.registry-overwrite"
                s.run_fix("kofmsp.fix.reg-technician", dry_run=True)
        except Exception as e:   # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k % 2 == 0,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_host_cycle_collected(scripted_kb):
    import gc
    import weakref

    class Host(MachineHost):
        pass

    m = Host(machine())
    s = scripted_kb.session(TEXT, host=m)
    m.session = s                      # a cycle through the C objects
    ref = weakref.ref(s)
    del s, m
    gc.collect()
    assert ref() is None
