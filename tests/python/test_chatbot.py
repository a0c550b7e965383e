"""The example chatbot backend (bindings/python/examples/chatbot.py) holds a
whole Kerio conversation, saving every session between turns."""
import json

import tshoot
from chatbot import ChatBot

# what this user knows, by question; anything else: "I don't know"
USER = {
    "scope.affected": "every windows user of this pc",
    "error.seen": "1",
    "dll.exists": "no",
    "update.recent": "no",
    "office.version": "Outlook 2019",
    "profile.new-works": "nope",
}


def test_kerio_conversation(kb_path):
    store = {}          # what a web backend keeps between requests (JSON strings)
    transcript = []

    def say(text):
        # every turn is a fresh backend process: a new KB handle and a new bot,
        # only the store survives
        with tshoot.KB(kb_path) as kb:
            reply = ChatBot(kb, store).turn("conv-1", text)
        transcript.append(("user", text))
        transcript.extend(("bot", m) for m in reply.messages)
        assert all(isinstance(v, str) for v in store.values())
        return reply

    r = say("Hi, Outlook won't start after the update, something about kofmsp.dll")
    assert r.messages[0].startswith("This looks like: KOFMSP.DLL")
    assert r.question and not r.done
    state = json.loads(store["conv-1"])
    assert json.loads(state["session"])["kb"], "the session is saved between turns"

    first = r.question
    r = say("why?")
    assert r.messages[0].startswith("Because ") and r.question == first
    r = say("banana")                       # no option, no article: asked again
    assert r.messages[0] == "Sorry, I didn't get that." and r.question == first

    went_back = False
    answered = []
    for _ in range(40):
        if r.question is None:
            break
        q = r.question
        r = say(USER.get(q, "I don't know"))
        answered.append(q)
        if q == "dll.exists" and not went_back:
            went_back = True
            r = say("go back")
            assert r.messages[0] == "OK, let's go back." and r.question == "dll.exists"
            r = say("no")
    assert went_back, "dll.exists was asked"
    assert "scope.affected" in answered

    # the conclusion, then its fixes one at a time
    text = "\n".join(r.messages)
    assert "Most likely cause: The connector's DLL is missing or damaged" in text, text
    assert "Did that solve it? (yes/no)" in text and r.choices == ["yes", "no"]
    r = say("no, still broken")
    assert "Too bad" in r.messages[0]
    while not r.done and "Did that solve it?" not in "\n".join(r.messages):
        r = say("I don't know")
    if not r.done:
        r = say("yes, that worked")
    assert r.done
    assert r.messages[-1].startswith("Great") or "IT support" in r.messages[-1]

    # the answers the engine got came from the chat
    s = tshoot.Session.load(tshoot.KB(kb_path), json.loads(store["conv-1"])["session"])
    given = {a.question: a.value for a in s.answers()}
    assert given["dll.exists"] == "no"
    assert given["scope.affected"] == "pc"
    assert given.get("error.seen", "mapi-kofmsp") == "mapi-kofmsp"

    # a new message after the end starts a new diagnosis
    r = say("Outlook hangs on loading profile")
    assert r.messages[0].startswith("This looks like")


def test_answers_understood(kb):
    bot = ChatBot(kb)
    # walk to the choice question office.version ("Which Outlook?")
    s = kb.session("kofmsp.dll", fixes=False)
    for _ in range(60):
        step = s.next()
        assert isinstance(step, tshoot.Ask), "office.version is asked before the end"
        if step.question == "office.version":
            break
        s.unknown(step.question)
    assert bot._match(step, "2019") == "2019"
    assert bot._match(step, "Outlook 2019") == "2019"
    assert bot._match(step, "office 365") == "365"
    assert bot._match(step, "3") == step.choices[2]
    assert bot._match(step, "purple") is None
    yesno = tshoot.Ask(question="q", prompt="p", type="yesno", choices=("yes", "no"),
                       labels=("Yes", "No"))
    assert bot._match(yesno, "Yes.") == "yes" and bot._match(yesno, "nope") == "no"
    assert bot._match(yesno, "maybe") is None
    version = tshoot.Ask(question="v", prompt="Which version?", type="version",
                         choices=(), labels=())
    assert bot._match(version, "it's 9.2.4 I think") == "9.2.4"


def test_conversations_are_separate(kb):
    store = {}
    bot = ChatBot(kb, store)
    a = bot.turn("a", "kofmsp.dll is missing")
    b = bot.turn("b", "Outlook hangs on loading profile")
    assert set(store) == {"a", "b"}
    assert a.question and b.question
    assert bot.turn("a", "start over").messages[0].startswith("Sure")
    assert "a" not in store and "b" in store


def test_nothing_found(kb):
    r = ChatBot(kb).turn("x", "zzqx wibble")
    assert "couldn't find anything" in r.messages[0]
