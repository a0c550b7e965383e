"""The example chatbot backend (bindings/python/examples/chatbot.py) holds
whole Kerio conversations, saving every session between turns; the replies
are read by the library (Session.input), not by the bot."""
import json

import tshoot
from chatbot import FIX_CHOICES, ChatBot

KERIO = "Hi, Outlook won't start after the update, something about kofmsp.dll"

# what this user says, by question; anything else: "no idea"
USER = {
    "error.seen": "the first one",
    "dll.exists": "nope",
    "office.version": "Outlook 2019",
    "profile.new-works": "nope",
}


class Conversation:
    """One conversation, every turn a fresh backend process: a new KB handle
    and a new bot; only the store (JSON strings) survives."""

    def __init__(self, kb_path, cid="conv-1"):
        self.kb_path, self.cid, self.store = kb_path, cid, {}

    def say(self, text):
        with tshoot.KB(self.kb_path) as kb:
            reply = ChatBot(kb, self.store).turn(self.cid, text)
        assert all(isinstance(v, str) for v in self.store.values())
        return reply

    def session(self):
        """The conversation's session as saved (on a KB of its own)."""
        data = json.loads(self.store[self.cid])["session"]
        return tshoot.Session.load(tshoot.KB(self.kb_path), data)

    def step(self):
        return self.session().next()


def test_kerio_conversation(kb_path):
    c = Conversation(kb_path)
    r = c.say(KERIO)
    assert r.messages[0].startswith("This looks like: KOFMSP.DLL")
    first = c.step()                       # the engine's first question, whichever it is
    assert isinstance(first, tshoot.Ask) and len(first.choices) >= 2
    assert r.question == first.question and not r.done
    assert json.loads(c.store["conv-1"])["session"], "the session is saved between turns"
    r = c.say("back")
    assert r.messages[0] == "There is nothing to go back to yet."
    r = c.say("why?")
    assert r.messages[0].startswith("Because ") and r.question == first.question
    r = c.say("banana")                    # the library says what it would understand
    assert r.messages[0].startswith("I did not understand that. Answer with 1 (" + first.labels[0])
    assert r.question == first.question

    r = c.say("2")                         # the second option, by its number on screen
    assert c.session().answers()[0].value == first.choices[1]
    for _ in range(40):                    # the user's answers until a fix is proposed
        if not r.question:
            break
        r = c.say(USER.get(r.question, "no idea"))
    first_fix = c.step()
    assert isinstance(first_fix, tshoot.Fix) and r.choices == FIX_CHOICES
    assert first_fix.fix_title in r.messages[-1] and "Did that solve it?" in r.messages[-1]

    r = c.say("I can't do this")           # no evidence: something else is tried
    assert r.messages[0] == "OK, let's try something else."
    assert [(f.fix, f.outcome) for f in c.session().fixes()] == [
        (first_fix.fix, "could_not_try")]
    for _ in range(40):                    # questions may come first
        if not r.question:
            break
        r = c.say(USER.get(r.question, "no idea"))
    second_fix = c.step()
    assert isinstance(second_fix, tshoot.Fix) and second_fix.fix != first_fix.fix
    r = c.say("no, still broken")
    assert r.messages[0] == "Too bad. Let's see what else it can be."
    assert c.session().fixes()[-1].outcome == "did_not_work"
    r = c.say("back")                      # back after a fix: its report is taken back
    assert r.messages[0] == "OK, let's go back."
    assert c.step() == second_fix and second_fix.fix_title in r.messages[-1]
    assert [f.fix for f in c.session().fixes()] == [first_fix.fix]

    # the rest: the user's answers, "no idea" otherwise; every fix fails
    no_idea = []
    for _ in range(60):
        if r.done:
            break
        step = c.step()
        if isinstance(step, tshoot.Ask):
            if step.question not in USER:
                no_idea.append(step.question)
            r = c.say(USER.get(step.question, "no idea"))
        else:
            r = c.say("it did not work")
    assert r.done and r.question is None and r.choices == []
    given = {a.question: a.value for a in c.session().answers()}
    assert given[first.question] == first.choices[1]
    if first.question != "error.seen":
        assert given.get("error.seen", "mapi-kofmsp") == "mapi-kofmsp"   # "the first one"
    assert given.get("dll.exists", "no") == "no"
    assert no_idea and all(given[q] is None for q in no_idea), "'no idea' is don't know"
    end = c.step()
    if isinstance(end, tshoot.Conclude):
        assert "Most likely cause: " + end.cause_title in r.messages[-1]
    else:
        assert end.escalation in r.messages[-1]

    # at the end, "back" goes back; anything else starts a new diagnosis
    at_end = dict(c.store)
    r = c.say("back")
    assert r.messages[0] == "OK, let's go back." and not r.done
    c.store = at_end
    r = c.say("Outlook hangs on loading profile")
    assert r.messages[0].startswith("This looks like") and not r.done


def test_inconclusive_ending(kb_path):
    # a user who knows nothing and cannot try anything: the bot says what to do
    c = Conversation(kb_path)
    r = c.say(KERIO)
    for _ in range(80):
        if r.done:
            break
        r = c.say("no idea" if r.question else "I can't do this")
    assert r.done
    end = c.step()
    assert isinstance(end, tshoot.Inconclusive) and end.escalation
    assert r.messages[-1].startswith("I could not pin the cause down. The most likely is: "
                                     + end.cause_title)
    assert r.messages[-1].endswith(end.escalation)
    assert {f.outcome for f in c.session().fixes()} == {"could_not_try"}
    assert all(a.value is None for a in c.session().answers())


def test_fix_that_works(kb_path):
    c = Conversation(kb_path)
    r = c.say(KERIO)
    r = c.say("2")
    for _ in range(40):
        if not r.question:
            break
        r = c.say(USER.get(r.question, "no idea"))
    fix = c.step()
    assert isinstance(fix, tshoot.Fix)
    r = c.say("yes, that worked")
    assert r.done and r.messages[-1].startswith(f"Great, glad that fixed it ({fix.fix_title})")
    end = c.step()
    assert isinstance(end, tshoot.Conclude) and end.cause == fix.cause


def test_quick_replies_are_understood(kb):
    # every button the bot offers for a question answers it
    bot = ChatBot(kb)
    r = bot.turn("q", KERIO)
    for n, label in enumerate(r.choices[:-2]):
        s = tshoot.Session.load(kb, json.loads(bot.store["q"])["session"])
        step = s.next()
        assert s.read(label) == tshoot.Input("answer", step.choices[n])
    assert r.choices[-2:] == ["I don't know", "why?"]


def test_conversations_are_separate(kb):
    store = {}
    bot = ChatBot(kb, store)
    a = bot.turn("a", "kofmsp.dll is missing")
    b = bot.turn("b", "Outlook hangs on loading profile")
    assert set(store) == {"a", "b"}
    assert a.choices and b.choices and not (a.done or b.done)
    assert bot.turn("a", "start over").messages[0].startswith("Sure")
    assert "a" not in store and "b" in store


def test_nothing_found(kb):
    r = ChatBot(kb).turn("x", "zzqx wibble")
    assert "couldn't find anything" in r.messages[0]
