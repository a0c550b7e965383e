#!/usr/bin/env python3
"""A chatbot backend over tshoot: the shape a web chat service would have.

    bot = ChatBot(tshoot.KB())          # one KB, shared by every conversation
    reply = bot.turn("conv-42", "Outlook won't start, something about kofmsp.dll")
    reply.messages      # what to show: ["This looks like ...", "Who else has the problem? ..."]
    reply.choices       # quick-reply buttons for the pending step, if any
    reply.done          # True once the diagnosis has ended

It is stateless between turns, like a backend behind a load balancer: each
turn loads the conversation from `store` (any dict-like object: a dict here,
Redis or a database table in production), restores the tshoot session from
its saved JSON, handles the user's text and saves everything back. Nothing
lives in the process between two turns but the shared, read-only KB.

The bot does not parse replies: Session.input() reads them with libtshoot's
one reader (the tshoot command's too) and applies them. So the user may
type an answer ("2019", "yep", "the first one", "2", "sixty-four bit"),
"why?", "how?", "go back", "no idea", at a fix "it worked", "didn't work",
"I can't do this" or "skip", or more about the problem (added to the
description). Only "start over" is the bot's own.

Run it at a terminal: python3 chatbot.py [--kb FILE]
"""
import json
import sys

import tshoot

RESTART = {"start over", "restart", "reset", "new problem"}
FIX_CHOICES = ["it worked", "it did not work", "I can't do this", "skip"]
SAY = {   # what the bot says after each kind of reply, before the next step
    "unknown": "No problem, let's look at something else.",
    "back": "OK, let's go back.",
    "text": "Thanks, I've added that to the description.",
    "did_not_work": "Too bad. Let's see what else it can be.",
    "could_not_try": "OK, let's try something else.",
    "skipped": "OK, let's skip that one.",
}


class Reply:
    """What the bot says after one user message."""

    def __init__(self, messages, choices=(), question=None, done=False):
        self.messages = messages      # list of str, in order
        self.choices = list(choices)  # quick replies for the pending step
        self.question = question      # the pending question's id, or None
        self.done = done              # the diagnosis ended

    def text(self):
        return "\n\n".join(self.messages)

    def __repr__(self):
        return f"Reply(messages={self.messages!r}, question={self.question!r}, done={self.done})"


class ChatBot:
    """Conversations by id over one shared KB, saved in `store` between turns."""

    def __init__(self, kb, store=None):
        self.kb = kb
        self.store = {} if store is None else store

    def _load(self, cid):
        raw = self.store.get(cid)
        if raw is None:
            return None
        try:
            return tshoot.Session.load(self.kb, json.loads(raw)["session"])
        except (tshoot.VersionMismatch, tshoot.InvalidArgument):
            return None      # the KB changed too much since (or the state is bad): start afresh

    def _save(self, cid, session):
        self.store[cid] = json.dumps({"session": session.save()})

    # --- one turn -------------------------------------------------------------
    def turn(self, cid, text):
        """Handle the user's `text` in conversation `cid`; return a Reply."""
        if text.strip().lower().strip(" .!") in RESTART:
            self.store.pop(cid, None)
            return Reply(["Sure, let's start over. What is the problem?"])
        session = self._load(cid)
        if session is None:
            return self._start(cid, text)
        step = session.next()
        ended = isinstance(step, (tshoot.Conclude, tshoot.Inconclusive))
        if ended and session.read(text).kind not in ("back", "why", "how"):
            return self._start(cid, text)     # a new problem
        try:
            said = session.input(text)
        except tshoot.NotFound:               # "back" with nothing to take back
            return self._show(cid, session, ["There is nothing to go back to yet."], step)
        if said.kind == "why" and isinstance(step, tshoot.Ask):
            msg = "Because " + _lower_first(session.why().text)
        elif said.kind in ("why", "how"):
            msg = self._ranking(session)
        elif said.kind == "unclear":
            msg = said.message
        else:
            msg = SAY.get(said.outcome or said.kind)
        return self._show(cid, session, [msg] if msg else [], session.next())

    def _start(self, cid, text):
        found = self.kb.search(text, limit=3, any_word=True)
        if not found:
            hint = (f' Did you mean "{found.suggestion}"?' if found.suggestion else "")
            self.store.pop(cid, None)
            return Reply(["I couldn't find anything about that in my articles." + hint +
                          " Could you describe the problem in other words, with the"
                          " exact error message if there is one?"])
        intro = f"This looks like: {found[0].title}. Let me ask a few questions to find the cause."
        session = self.kb.session(text)
        return self._show(cid, session, [intro], session.next())

    # --- steps as chat messages ---------------------------------------------------
    def _show(self, cid, session, messages, step):
        choices, question, done = [], None, False
        if isinstance(step, tshoot.Ask):
            question = step.question
            options = "".join(f"\n  {i}. {label}" for i, label in enumerate(step.labels, 1))
            unit = f" (in {step.unit})" if step.unit else ""
            messages.append(f"{step.prompt}{unit}{options}")
            if step.questions_asked == 0:
                messages.append('(You can always say "I don\'t know", "why?" or "go back".)')
            choices = list(step.labels) + ["I don't know", "why?"]
        elif isinstance(step, tshoot.Fix):
            messages.append(f"It may be this: {step.cause_title} ({step.probability:.0%}). "
                            f"Let's try a fix: {self._fix_text(step, step.fix)}\n\n"
                            "Did that solve it?")
            choices = FIX_CHOICES
        elif isinstance(step, tshoot.Inconclusive):
            done = True
            messages.append(f"I could not pin the cause down. The most likely is: "
                            f"{step.cause_title} ({step.probability:.0%}).\n{step.escalation}")
        elif step.fix_title:                  # a fix worked
            done = True
            messages.append(f"Great, glad that fixed it ({step.fix_title})! Anything else?")
        elif step.cause == "none":
            done = True
            messages.append("None of the causes I know fits. Please contact your IT support "
                            "and tell them what you told me.")
        else:
            done = True
            tried = {f.fix for f in session.fixes()}
            cause = self._cause(step)
            text = f"Most likely cause: {step.cause_title} ({step.probability:.0%})."
            if cause is not None and cause.explanation:
                text += "\n" + cause.explanation
            fix = next((f for f in cause.fixes if f.id not in tried), None) if cause else None
            if fix is not None:
                text += "\n\nTo fix it: " + self._fix_text(step, fix.id)
            messages.append(text)
        self._save(cid, session)
        return Reply(messages, choices, question, done)

    def _cause(self, step):
        causes = self.kb.article(step.article).causes if step.article else ()
        return next((c for c in causes if c.id == step.cause), None)

    def _fix_text(self, step, fix_id):
        cause = self._cause(step)
        fix = next((f for f in cause.fixes if f.id == fix_id), None) if cause else None
        if fix is None:
            return getattr(step, "fix_title", None) or fix_id
        steps = "".join(f"\n  {i}. {s}" for i, s in enumerate(fix.steps, 1))
        check = f"\nTo check: {fix.verify}" if fix.verify else ""
        admin = "\n(This needs administrator rights.)" if fix.needs_admin else ""
        return f"{fix.title}{steps}{check}{admin}"

    def _ranking(self, session):
        lines = [f"  {c.probability:.0%}  {c.title or 'none of the known causes'}"
                 for c in session.causes()[:5]]
        return "What I think now:\n" + "\n".join(lines)


def _lower_first(s):
    return s[:1].lower() + s[1:] if s else s


def main(argv):
    path = None
    if len(argv) > 2 and argv[1] == "--kb":
        path = argv[2]
    bot = ChatBot(tshoot.KB(path))
    print("bot> Hello! What is the problem? (Ctrl-D to quit)")
    for line in sys.stdin:
        if not line.strip():
            continue
        for m in bot.turn("terminal", line).messages:
            print("bot> " + m.replace("\n", "\n     "))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
