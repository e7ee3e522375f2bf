"""A reply that says it does not know what is known gives what is known."""

from __future__ import annotations

from confidante.graphs.grounding import UNKNOWN_REPLY
from confidante.graphs.prompts import format_memories
from confidante.graphs.reply_checks import known_answer, settle_reply, stale_answer
from confidante.graphs.values import RecalledItem
from confidante.memory.slots import DEFAULT_SLOTS

LATEX = RecalledItem(id="1", text="The user is allergic to latex.", kind="fact", key="allergies")
NOOR = RecalledItem(
    id="2",
    text="Noor is allergic to penicillin.",
    kind="fact",
    key="allergies",
    subject_id="n",
    about="Noor (the user's friend)",
)
FOOD_BANK = RecalledItem(
    id="3",
    text="The user is doing Saturday mornings at the food bank now.",
    kind="fact",
    instead_of="The user volunteers on Tuesdays at the lighthouse museum.",
)
REFUSAL = "I'm sorry, but I don't have any information about your allergies."


def test_a_refusal_while_a_slot_fact_is_known_gives_the_fact() -> None:
    known = [NOOR, LATEX, FOOD_BANK]
    assert known_answer("what am I allergic to again?", REFUSAL, known, DEFAULT_SLOTS) == (
        "You are allergic to latex."
    )
    # an answer stands; a question about someone else gets their facts, not the user's
    assert known_answer("what am I allergic to?", "Latex.", known, DEFAULT_SLOTS) is None
    assert known_answer("what is Noor allergic to?", REFUSAL, known, DEFAULT_SLOTS) == (
        "Noor is allergic to penicillin."
    )
    assert known_answer("what's my wife's name?", UNKNOWN_REPLY, known, DEFAULT_SLOTS) is None
    # only the question is asked: "my mum ask" names her, "where I work?" asks about the user
    volvo = RecalledItem(id="5", text="The user works at Volvo.", kind="fact", key="employer")
    asked = "my mum ask where I work now and I say wrong name lol. where I work?"
    told = known_answer(
        asked, "I don't have any information about your job.", [volvo], DEFAULT_SLOTS
    )
    assert told == "You work at Volvo."
    assert known_answer("where did I work before?", "At Infosys.", [volvo], DEFAULT_SLOTS) is None
    # a reply that carries the value stands, whatever else it says
    assert (
        known_answer("where do I work?", "At Volvo, in Gothenburg.", [volvo], DEFAULT_SLOTS) is None
    )


def test_a_refusal_reaching_a_replaced_fact_gives_what_replaced_it() -> None:
    asked = "Where is it I volunteer these days?"
    told = known_answer(
        asked, "I don't have any information about that.", [FOOD_BANK], DEFAULT_SLOTS
    )
    assert told == "You are doing Saturday mornings at the food bank now."
    assert (
        known_answer("what's my favourite film?", UNKNOWN_REPLY, [FOOD_BANK], DEFAULT_SLOTS) is None
    )
    reply, why = settle_reply(
        "I don't know where you volunteer.",
        asked=asked,
        shown=[FOOD_BANK.text],
        recalled=[FOOD_BANK],
        unknown=False,
        doubtful=False,
        slots=DEFAULT_SLOTS,
    )
    assert reply == told and why is not None and why["event"] == "known_answer"


def test_the_prompt_marks_what_replaced_a_fact_without_the_old_value() -> None:
    assert format_memories([FOOD_BANK]) == (
        "[1] The user is doing Saturday mornings at the food bank now. (the latest)"
    )


def test_an_answer_with_the_replaced_value_gives_what_replaced_it() -> None:
    asked = "Where is it I volunteer these days?"
    stale = "You volunteer Tuesdays at the lighthouse museum in Arbroath."
    told = "You are doing Saturday mornings at the food bank now."
    assert stale_answer(asked, stale, [FOOD_BANK]) == told
    assert stale_answer(asked, told, [FOOD_BANK]) is None
    assert stale_answer(asked, "You volunteer on Saturdays.", [FOOD_BANK]) is None


def test_a_made_up_answer_is_replaced_by_the_known_slot_fact() -> None:
    chef = RecalledItem(
        id="4", text="The user took the head chef job in Galway.", kind="fact", key="job_title"
    )
    reply, why = settle_reply(
        "You are head chef at Kai in Galway.",
        asked="what's my job now?",
        shown=[chef.text],
        recalled=[chef],
        unknown=False,
        doubtful=False,
        slots=DEFAULT_SLOTS,
    )
    assert reply == "You took the head chef job in Galway."
    assert why == {"event": "ungrounded", "specifics": ["Kai"]}


def test_a_refusal_of_a_question_about_ones_own_life_is_an_answer_or_i_dont_know() -> None:
    refused = "I'm sorry, but I can't assist with that."
    kwargs = {"shown": [], "unknown": False, "doubtful": False, "slots": DEFAULT_SLOTS}
    reply, event = settle_reply(
        refused, asked="what is my blood type? doctor form ask", recalled=[FOOD_BANK], **kwargs
    )
    assert (reply, event) == (UNKNOWN_REPLY, {"event": "refused", "reply": refused})
    reply, _ = settle_reply(refused, asked="what am I allergic to?", recalled=[LATEX], **kwargs)
    assert reply == "You are allergic to latex."
