#!/usr/bin/env python3
"""A chatbot backend over tshoot: the shape a web chat service would have.

    bot = ChatBot(tshoot.KB())          # one KB, shared by every conversation
    reply = bot.turn("conv-42", "Outlook won't start, something about kofmsp.dll")
    reply.messages      # what to show: ["This looks like ...", "Who else has the problem? ..."]
    reply.choices       # quick-reply buttons for the pending question, if any
    reply.done          # True once the diagnosis has named its cause

It is stateless between turns, like a backend behind a load balancer: each
turn loads the conversation from `store` (any dict-like object: a dict here,
Redis or a database table in production), restores the tshoot session from
its saved JSON, handles the user's text and saves everything back. Nothing
lives in the process between two turns but the shared, read-only KB.

What the user may type while a question is pending:
  an answer        "2019", "yes", "no", "64-bit", "2" (the second option),
                   or words of an option ("every user of this PC")
  "why?"           why the question is asked (and which causes it tells apart)
  "go back"        withdraw the last answer
  "I don't know"   skip the question ("not sure", "skip", "no idea")
  "causes"         the causes considered now, most likely first
  "start over"     forget this conversation
Text that answers nothing is searched: when it describes the problem further
("it also hangs on loading profile") it is added to the description,
otherwise the bot asks again. The first message of a conversation is
searched the same way.

Run it at a terminal: python3 chatbot.py [--kb FILE]
"""
import json
import re
import sys

import tshoot

YES = {"yes", "y", "yeah", "yep", "yup", "sure", "correct", "right", "true", "it does",
       "it is", "i do", "it worked", "worked", "fixed", "that worked", "ok it works",
       "it works", "affirmative"}
NO = {"no", "n", "nope", "nah", "not", "false", "it doesn't", "it does not", "it isn't",
      "it is not", "didn't work", "did not work", "it didn't work", "still broken",
      "no luck", "negative"}
DONT_KNOW = {"i don't know", "i dont know", "don't know", "dont know", "no idea", "not sure",
             "i'm not sure", "im not sure", "skip", "dunno", "idk", "i can't tell",
             "can't tell", "cannot tell", "unknown"}
WHY = {"why", "why?", "?", "why do you ask", "why do you ask?", "why is that", "what for",
       "why does it matter", "why this question"}
BACK = {"go back", "back", "undo", "previous", "change my answer", "oops", "wait, go back"}
CAUSES = {"causes", "what are the causes", "what do you think", "show causes", "how",
          "how?", "ranking"}
RESTART = {"start over", "restart", "reset", "new problem", "something else"}
STOP_WORDS = {"the", "a", "an", "of", "is", "it", "its", "it's", "my", "i", "on", "in", "at",
              "to", "and", "or", "but", "for", "with", "this", "that", "we", "our", "me",
              "only", "just", "are", "was", "be", "have", "has", "all", "any", "some"}


def _norm(text):
    return re.sub(r"\s+", " ", text.strip().lower()).strip(" .!,;")


def _words(text):
    return [w for w in re.findall(r"[\w.+-]+", text.lower()) if w not in STOP_WORDS]


class Reply:
    """What the bot says after one user message."""

    def __init__(self, messages, choices=(), question=None, done=False):
        self.messages = messages      # list of str, in order
        self.choices = list(choices)  # quick replies for the pending question
        self.question = question      # the pending question's id, or None
        self.done = done              # the diagnosis concluded

    def text(self):
        return "\n\n".join(self.messages)

    def __repr__(self):
        return f"Reply(messages={self.messages!r}, question={self.question!r}, done={self.done})"


class ChatBot:
    """Conversations by id over one shared KB, saved in `store` between turns.

    propose_fixes: let the engine propose a fix in the middle of the questions
    when trying it is cheaper than asking more (decision-theoretic); by default
    the bot asks first and offers the concluded cause's fixes, one at a time,
    at the end.
    """

    def __init__(self, kb, store=None, propose_fixes=False):
        self.kb = kb
        self.store = {} if store is None else store
        self.propose_fixes = propose_fixes

    # --- the conversation's saved state -----------------------------------------
    def _load(self, cid):
        raw = self.store.get(cid)
        if raw is None:
            return None, {}
        state = json.loads(raw)
        session = None
        if state.get("session"):
            try:
                session = tshoot.Session.load(self.kb, state["session"])
            except (tshoot.VersionMismatch, tshoot.InvalidArgument):
                # the KB was updated since (or the saved state is bad): start afresh
                return None, {}
        return session, state

    def _save(self, cid, session, state):
        state["session"] = session.save() if session is not None else None
        self.store[cid] = json.dumps(state)

    # --- one turn -------------------------------------------------------------
    def turn(self, cid, text):
        """Handle the user's `text` in conversation `cid`; return a Reply."""
        session, state = self._load(cid)
        said = _norm(text)
        if said in RESTART:
            self.store.pop(cid, None)
            return Reply(["Sure, let's start over. What is the problem?"])
        if session is None or state.get("phase") == "done":
            return self._start(cid, text)
        if state.get("phase") == "fixing":
            return self._fixing(cid, session, state, text, said)
        step = session.next()
        messages = []
        if said in WHY:
            messages.append("Because " + _lower_first(session.why(step.question).text))
            return self._show(cid, session, state, messages, step, repeat=True)
        if said in CAUSES:
            messages.append(self._ranking(session))
            return self._show(cid, session, state, messages, step, repeat=True)
        if said in BACK:
            return self._back(cid, session, state)
        if said in DONT_KNOW:
            session.unknown(step.question)
            messages.append("No problem, let's look at something else.")
            return self._show(cid, session, state, messages, session.next())
        value = self._match(step, text)
        if value is not None:
            try:
                session.answer(step.question, value)
            except tshoot.InvalidArgument as e:
                messages.append(f"Sorry, I can't use that: {e.message}")
                return self._show(cid, session, state, messages, step, repeat=True)
            return self._show(cid, session, state, messages, session.next())
        # it answers nothing: an attempt at an answer, or more about the problem?
        if (len(_words(said)) >= 2 and self._yes_no(said) is None
                and not self._about(step, said) and self.kb.search(text, spelling=False)):
            state["text"] = (state.get("text", "") + " " + text).strip()
            session.describe(state["text"])
            messages.append("Thanks, I've added that to the description.")
            return self._show(cid, session, state, messages, session.next())
        messages.append("Sorry, I didn't get that.")
        return self._show(cid, session, state, messages, step, repeat=True)

    def _start(self, cid, text):
        found = self.kb.search(text, limit=3, any_word=True)
        if not found:
            hint = (f' Did you mean "{found.suggestion}"?' if found.suggestion else "")
            self.store.pop(cid, None)
            return Reply(["I couldn't find anything about that in my articles." + hint +
                          " Could you describe the problem in other words, with the"
                          " exact error message if there is one?"])
        session = self.kb.session(text, fixes=self.propose_fixes)
        state = {"text": text, "phase": "diagnose", "tried": []}
        intro = f"This looks like: {found[0].title}. Let me ask a few questions to find the cause."
        return self._show(cid, session, state, [intro], session.next())

    def _back(self, cid, session, state):
        try:
            session.undo()
            messages = ["OK, let's go back."]
        except tshoot.NotFound:
            messages = ["There is nothing to go back to yet."]
        state["phase"] = "diagnose"
        return self._show(cid, session, state, messages, session.next())

    def _fixing(self, cid, session, state, text, said):
        """A fix was offered: did it work?"""
        fix = state["fix"]
        if said in WHY or said in CAUSES:
            msg = (session.how(state["cause"]).text if said in WHY else self._ranking(session))
            return self._save_reply(cid, session, state, [msg, "Did that solve it? (yes/no)"],
                                    ["yes", "no"])
        if said in BACK:
            return self._back(cid, session, state)
        worked = self._yes_no(said)
        if worked is None:
            return self._save_reply(cid, session, state,
                                    ["Please tell me: did that solve it? (yes/no)"],
                                    ["yes", "no"])
        session.fix_result(fix, worked)
        state["tried"].append(fix)
        if worked:
            state["phase"] = "done"
            return self._save_reply(cid, session, state,
                                    ["Great, glad that fixed it! Anything else?"], done=True)
        state["phase"] = "diagnose"
        return self._show(cid, session, state, ["Too bad. Let's see what else it can be."],
                          session.next())

    def _save_reply(self, cid, session, state, messages, choices=(), done=False):
        self._save(cid, session, state)
        return Reply(messages, choices, None, done)

    # --- steps as chat messages ---------------------------------------------------
    def _show(self, cid, session, state, messages, step, repeat=False):
        choices, question, done = [], None, False
        if isinstance(step, tshoot.Ask):
            question = step.question
            if step.type == "yesno":
                choices = ["yes", "no"]
                messages.append(f"{step.prompt} (yes/no)")
            elif step.choices:
                choices = list(step.labels)
                options = "\n".join(f"  {i}. {label}" for i, label in enumerate(step.labels, 1))
                messages.append(f"{step.prompt}\n{options}")
            else:
                unit = f" (in {step.unit})" if step.unit else ""
                messages.append(step.prompt + unit)
            if not repeat and step.questions_asked == 0:
                messages.append('(You can always say "I don\'t know", "why?" or "go back".)')
            choices += ["I don't know", "why?"]
        elif isinstance(step, tshoot.Fix):        # proposed by the engine (propose_fixes)
            state.update(phase="fixing", fix=step.fix, cause=step.cause)
            messages.append(self._fix_text(step.article, step.cause, step.fix,
                                           f"It may be this: {step.cause_title} "
                                           f"({step.probability:.0%}). Let's try a fix"))
            choices = ["yes", "no"]
        else:
            messages.append(self._conclusion(step))
            fix = self._next_fix(step, state["tried"])
            if fix is None:
                state["phase"] = "done"
                done = True
                if step.cause != "none":
                    messages.append("I have no other fix to suggest for it: please contact "
                                    "your IT support and show them this conversation.")
            else:
                state.update(phase="fixing", fix=fix, cause=step.cause)
                messages.append(self._fix_text(step.article, step.cause, fix, "Let's fix it"))
                choices = ["yes", "no"]
        self._save(cid, session, state)
        return Reply(messages, choices, question, done)

    def _next_fix(self, step, tried):
        cause, _ = self._fix_info(step.article, step.cause)
        if cause is None:
            return None
        for f in cause.fixes:
            if f.id not in tried:
                return f.id
        return None

    def _fix_info(self, article, cause, fix=None):
        if not article:
            return None, None
        for c in self.kb.article(article).causes:
            if c.id == cause:
                fixes = [f for f in c.fixes if fix is None or f.id == fix]
                return c, (fixes[0] if fixes else None)
        return None, None

    def _fix_text(self, article, cause, fix_id, head):
        _, fix = self._fix_info(article, cause, fix_id)
        if fix is None:
            return head + ". Did that solve it? (yes/no)"
        steps = "\n".join(f"  {i}. {s}" for i, s in enumerate(fix.steps, 1))
        check = f"\nTo check: {fix.verify}" if fix.verify else ""
        admin = "\n(This needs administrator rights.)" if fix.needs_admin else ""
        return f"{head}: {fix.title}\n{steps}{check}{admin}\n\nDid that solve it? (yes/no)"

    def _conclusion(self, step):
        if step.cause == "none":
            return ("I could not pin the problem down to a cause I know. Please contact "
                    "your IT support and tell them what you told me.")
        cause, _ = self._fix_info(step.article, step.cause)
        text = f"Most likely cause: {step.cause_title} ({step.probability:.0%})."
        if cause is not None and cause.explanation:
            text += "\n" + cause.explanation
        return text

    def _ranking(self, session):
        lines = [f"  {c.probability:.0%}  {c.title or 'none of the known causes'}"
                 for c in session.causes()[:5]]
        return "What I think now:\n" + "\n".join(lines)

    # --- understanding replies ----------------------------------------------------
    @staticmethod
    def _about(step, said):
        """Does the reply use words of the question or its options?"""
        own = set(_words(step.prompt + " " + " ".join(step.labels)))
        return bool(own & set(_words(said)))

    @staticmethod
    def _yes_no(said):
        if said in YES or re.match(r"(yes|yeah|yep)\b", said):
            return True
        if said in NO or re.match(r"(no|nope)\b", said):
            return False
        return None

    def _match(self, step, text):
        """The value of step's question that `text` means, or None."""
        said = _norm(text)
        values = [v.lower() for v in step.choices]
        labels = [_norm(l) for l in step.labels]
        if step.type == "yesno":
            yn = self._yes_no(said)
            return None if yn is None else ("yes" if yn else "no")
        if not step.choices:                 # version, number, text: the text itself
            m = re.search(r"\d[\w.]*", said) if step.type in ("version", "number") else None
            return m.group(0) if m else (said if step.type == "text" and said else None)
        for v, value, label in zip(step.choices, values, labels):
            if said in (value, label):
                return v
        if said.isdigit() and 1 <= int(said) <= len(values):
            return step.choices[int(said) - 1]    # "2": the second option
        words = set(_words(said))
        hits = [v for v, value in zip(step.choices, values) if value in words]
        if len(hits) == 1:                        # "Outlook 2019", "it's x64"
            return hits[0]
        # the option whose label shares the most words with the reply
        best, best_score, tie = None, 0.0, False
        for v, label in zip(step.choices, labels):
            lw = set(_words(label))
            if not lw or not words:
                continue
            common = len(words & lw)
            score = common / len(words)
            if score > best_score:
                best, best_score, tie = v, score, False
            elif score == best_score and common:
                tie = True
        if best is not None and best_score >= 0.5 and not tie:
            return best
        return None


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
