"""The write path through the graph, on the scripted model: subjects, links, safety, notes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from confidante import Agent
from confidante.graphs import nodes as nodes_module
from confidante.memory.ingest.extraction import Statement
from confidante.memory.ingest.learning import learn
from confidante.memory.ingest.updates import says_change
from confidante.memory.items import MemoryHit
from confidante.memory.store import Memory
from confidante.memory.subjects.directory import Mention
from confidante.models.scripted import ScriptedChatModel
from confidante.models.scripted_rules import default_reply
from confidante.settings import Settings

PEANUT_REMINDER = "Please keep in mind that you are allergic to peanuts."


def _schema(payload: dict[str, Any]) -> str | None:
    return ((payload.get("response_format") or {}).get("json_schema") or {}).get("name")


def _user_text(payload: dict[str, Any]) -> str:
    return [m for m in payload["messages"] if m["role"] == "user"][-1]["content"]


def scripted(
    extractions: dict[str, dict[str, Any]] | None = None, replies: dict[str, str] | None = None
) -> ScriptedChatModel:
    """The scripted model, answering some messages as a real model would, else by its rules.

    ``extractions`` maps a word of the message to the ``FactExtraction`` answer; ``replies``
    maps a word of the message to the chat reply.
    """

    def answer(payload: dict[str, Any]) -> Any:
        text, schema = _user_text(payload), _schema(payload)
        if schema == "FactExtraction":
            table = extractions or {}
        elif not payload.get("response_format"):  # a chat reply
            table = replies or {}
        else:
            table = {}
        for word, reply in table.items():
            if word in text:
                return reply
        return default_reply(payload)

    return ScriptedChatModel(function=answer)


def test_a_task_turn_learns_its_statements_after_the_approval(settings: Settings) -> None:
    model = scripted(
        extractions={
            "Pixel": {"facts": ["Pixel is the user's cat."]},
        }
    )
    agent = Agent(user_id="ana", settings=settings, model=model)
    paused = agent.turn("We got a second cat, Pixel. Remind me to buy a bigger litter box.")
    assert paused.route == "task"
    (approval,) = paused.approvals
    assert approval.tool == "add_reminder"
    assert approval.args == {"text": "buy a bigger litter box", "when": ""}
    assert agent.memory.subjects("ana") == []  # remember runs at the end of the turn
    done = agent.resume("approve")
    assert done.approvals == [] and done.route == "task"
    (pixel,) = agent.memory.subjects("ana")
    assert (pixel.name, pixel.relation, pixel.kind) == ("Pixel", "cat", "pet")
    reminders = agent.memory.list_items("ana", kinds=["reminder"])
    assert [item.text for item in reminders] == ["Reminder: buy a bigger litter box"]
    (fact,) = agent.memory.subject_facts("ana", [pixel.id])
    assert (fact.text, fact.key) == ("Pixel is the user's cat.", "relation")
    learned = [(r["text"], r.get("subject_id")) for r in done.remembered if r.get("key")]
    assert learned == [("Pixel is the user's cat.", pixel.id)]
    (event,) = agent.memory.events("ana", role="user")
    assert event.extraction == "done" and event.error is None
    agent.close()


def test_a_task_turn_learns_with_the_built_in_rules_too(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings)
    paused = agent.turn("I live in Lisbon. Remind me to call my landlord.")
    assert paused.route == "task" and [a.tool for a in paused.approvals] == ["add_reminder"]
    done = agent.resume("approve")
    assert [(r["key"], r["text"]) for r in done.remembered if r["key"]] == [
        ("home_city", "The user lives in Lisbon.")
    ]
    assert [h.text for h in agent.memory.slot_values("ana", "home_city")] == [
        "The user lives in Lisbon."
    ]
    agent.close()


def test_a_subjects_facts_are_recalled_in_a_new_session(settings: Settings) -> None:
    first = Agent(user_id="ana", settings=settings, session_id="s1")
    told = first.turn("My sister Ana lives in Berlin.")
    assert {(r["key"], r["text"]) for r in told.remembered} == {
        ("home_city", "Ana lives in Berlin."),
        ("relation", "Ana is the user's sister."),
    }
    (sister,) = first.memory.subjects("ana")
    assert (sister.name, sister.relation) == ("Ana", "sister")
    first.close()

    second = Agent(user_id="ana", settings=settings, session_id="s2")
    result = second.turn("Where does my sister live?")
    by_text = {item["text"]: item for item in result.recalled}
    assert set(by_text) == {"Ana lives in Berlin.", "Ana is the user's sister."}
    assert by_text["Ana lives in Berlin."]["about"] == "Ana (the user's sister)"
    assert by_text["Ana lives in Berlin."]["subject_id"] == sister.id
    assert "Berlin" in result.reply
    second.close()
    stranger = Agent(user_id="bob", settings=settings, session_id="s2")
    assert stranger.turn("Where does my sister live?").recalled == []
    stranger.close()


@pytest.mark.parametrize("linked", [True, False])
def test_the_subjects_facts_come_from_the_link_when_the_search_misses(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, linked: bool
) -> None:
    first = Agent(user_id="ana", settings=settings)
    first.turn("My sister Ana lives in Berlin.")
    first.turn("I live in Lisbon.")
    first.close()
    agent = Agent(user_id="ana", settings=settings, session_id="other")

    async def search_finds_nothing(user_id: str, queries: list[str], **_: Any) -> list[list[Any]]:
        return [[] for _ in queries]

    monkeypatch.setattr(agent.memory, "aretrieve_many", search_finds_nothing)
    if not linked:  # the control: without the subject link nothing is recalled
        monkeypatch.setattr(nodes_module, "mentioned_in", lambda subjects, text: [])
    result = agent.turn("How is my sister doing?")
    recalled = {item["text"]: item.get("about") for item in result.recalled}
    if linked:
        assert recalled == {
            "Ana lives in Berlin.": "Ana (the user's sister)",
            "Ana is the user's sister.": "Ana (the user's sister)",
        }
    else:
        assert recalled == {}
    agent.close()


ALLERGY = {"allergic": {"facts": ["The user is allergic to peanuts."]}}


def test_a_reply_that_ignores_an_allergy_gets_the_reminder(settings: Settings) -> None:
    model = scripted(extractions=ALLERGY, replies={"cookies": "Sure, enjoy them!"})
    agent = Agent(user_id="ana", settings=settings, model=model)
    told = agent.turn("I'm allergic to peanuts.")
    assert [(r["key"], r["text"]) for r in told.remembered] == [
        ("allergies", "The user is allergic to peanuts.")
    ]
    result = agent.turn("Can I eat peanut butter cookies?")
    assert result.route == "chat"
    assert result.reply == f"Sure, enjoy them! {PEANUT_REMINDER}"
    prompt = next(
        call["messages"][0]["content"]
        for call in reversed(model.calls)
        if _schema(call) is None and _user_text(call).startswith("Can I eat")
    )
    assert "Safety facts about the user" in prompt
    assert "- The user is allergic to peanuts." in prompt
    # the reminder is part of the conversation's state too
    assert agent.state()["messages"][-1].text == result.reply
    agent.close()


def test_the_built_in_reply_quotes_the_allergy_so_no_reminder_is_added(
    settings: Settings,
) -> None:
    agent = Agent(user_id="ana", settings=settings, model=scripted(extractions=ALLERGY))
    agent.turn("I'm allergic to peanuts.")
    result = agent.turn("Can I eat peanut butter cookies?")
    assert result.reply == "From what you told me: The user is allergic to peanuts."
    agent.close()


def test_the_built_in_rules_learn_an_allergy_and_the_reply_uses_it(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings)
    learned = agent.turn("I'm allergic to peanuts.").remembered
    assert [(item["text"], item["key"]) for item in learned] == [
        ("The user is allergic to peanuts.", "allergies")
    ]
    reply = agent.turn("Can I eat peanut butter cookies?").reply
    assert "allergic to peanuts" in reply
    agent.close()


async def test_astream_sends_the_reminder_as_the_last_token(settings: Settings) -> None:
    model = scripted(extractions=ALLERGY, replies={"cookies": "Sure, enjoy them!"})
    agent = Agent(user_id="ana", settings=settings, model=model)
    await agent.aturn("I'm allergic to peanuts.")
    tokens: list[str] = []
    safety: list[dict[str, Any]] = []
    async for kind, data in agent.astream("Can I eat peanut butter cookies?"):
        if kind == "token":
            tokens.append(data["text"])
        elif kind == "custom" and data.get("event") == "safety":
            safety.append(data)
    assert tokens[-1] == f" {PEANUT_REMINDER}"
    assert "".join(tokens) == f"Sure, enjoy them! {PEANUT_REMINDER}"
    assert safety == [{"event": "safety", "reminder": PEANUT_REMINDER}]
    await agent.aclose()


def test_another_subjects_allergy_is_not_the_users(settings: Settings) -> None:
    model = scripted(replies={"shrimp": "Sure, enjoy!"})
    agent = Agent(user_id="ana", settings=settings, model=model)
    (sister,) = agent.memory.resolve("ana", [Mention(name="Lena", relation="sister")])
    agent.memory.remember(
        "ana", "Lena is allergic to shellfish.", key="allergies", subject_id=sister.id
    )
    assert agent.turn("Can I eat shrimp tonight?").reply == "Sure, enjoy!"
    agent.close()


def test_a_fact_about_an_unknown_subject_is_kept_plain_with_a_note(settings: Settings) -> None:
    model = scripted(extractions={"Lisbon": {"facts": ["Zorglub lives in Lisbon."]}})
    agent = Agent(user_id="ana", settings=settings, model=model)
    result = agent.turn("She lives in Lisbon now.")
    (item,) = agent.memory.list_items("ana")
    assert (item.text, item.key, item.subject_id) == ("Zorglub lives in Lisbon.", None, None)
    assert agent.memory.subjects("ana") == []
    assert result.remembered == [
        {"id": item.id, "key": None, "text": "Zorglub lives in Lisbon.", "subject_id": None}
    ]
    (event,) = agent.memory.events("ana", role="user")
    assert event.extraction == "done"
    assert event.error == "subject 'Zorglub' is not in the message: kept as a plain fact"
    assert item.provenance == [event.id]
    agent.close()


# ----------------------------------------------------------------- learn() with the rules


async def _say(memory: Memory, text: str, model: ScriptedChatModel | None = None) -> list[Any]:
    event_id = await memory.arecord_event("u", "user", text)
    return await learn(memory, model or ScriptedChatModel(), "u", event_id, text)


async def test_a_name_correction_renames_the_subject_and_its_facts(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    written = await _say(memory, "My dog is called Peppa.")
    assert [(w["key"], w["text"]) for w in written] == [("relation", "Peppa is the user's dog.")]
    await _say(memory, "Actually it's Pepper, not Peppa.")
    (dog,) = await memory.asubjects("u")
    assert (dog.name, dog.aliases, dog.relation, dog.kind) == ("Pepper", ["Peppa"], "dog", "pet")
    assert [i.text for i in await memory.alist_items("u")] == ["Pepper is the user's dog."]
    memory.close()


async def test_a_move_supersedes_through_learn(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await _say(memory, "I live in Lisbon.")
    await _say(memory, "My sister Ana lives in Berlin.")
    await _say(memory, "I moved to Porto.")
    current = {(i.text, i.key) for i in await memory.alist_items("u")}
    assert current == {
        ("The user lives in Porto.", "home_city"),
        ("Ana lives in Berlin.", "home_city"),
        ("Ana is the user's sister.", "relation"),
    }
    history = [i for i in await memory.alist_items("u", include_history=True) if i.valid_to]
    assert [i.text for i in history] == ["The user lives in Lisbon."]
    memory.close()


async def test_my_name_is_is_remembered(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await _say(memory, "My name is Amara.")
    assert [h.text for h in await memory.aslot_values("u", "name")] == ["The user's name is Amara."]
    memory.close()


async def test_naming_something_of_the_users_keeps_the_users_name(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await memory.aremember("u", "The user's name is Amara.", key="name")
    await _say(memory, "My band is called Muse.")
    assert [h.text for h in await memory.aslot_values("u", "name")] == ["The user's name is Amara."]
    memory.close()


async def test_a_model_that_calls_everything_replaced_cannot_end_unrelated_slots(
    settings: Settings,
) -> None:
    """News said with "now"/"new" puts nearby facts to the model; a slot stays put."""
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await memory.aremember("u", "The user's name is Farida.", key="name")
    await memory.aremember("u", "The user is allergic to peanuts.", key="allergies")
    await memory.aremember("u", "The user plays cricket for the Tigresses.")

    def answer(payload: dict[str, Any]) -> Any:
        if _schema(payload) == "FactExtraction":
            return {"facts": ["The user's club was renamed the Royals."]}
        if _schema(payload) == "UpdateDecision":  # a model that says "replaced" to anything
            pairs = _user_text(payload).count("Earlier:")
            return {"answers": ["replaced"] * pairs}
        return default_reply(payload)

    await _say(
        memory, "Club news: we're the Royals now, new name!", ScriptedChatModel(function=answer)
    )
    current = {i.text for i in await memory.alist_items("u")}
    assert {"The user's name is Farida.", "The user is allergic to peanuts."} <= current
    assert "The user plays cricket for the Tigresses." not in current  # a plain fact may change
    memory.close()


def test_a_question_about_a_slot_recalls_its_value_whatever_its_words(settings: Settings) -> None:
    """One memory recalled per turn: "diet" is in no fact, yet the diet comes."""
    one = settings.model_copy(update={"recall_k": 1})
    agent = Agent(user_id="ana", settings=one)
    agent.memory.remember("ana", "The user has gone fully vegan.", key="diet")
    for text in ["These days the user reads a lot.", "The user's days start at six."]:
        agent.memory.remember("ana", text)
    agent.memory.remember("ana", "Ana likes her job these days.")
    recalled = [item["text"] for item in agent.turn("What's my diet these days?").recalled]
    assert "The user has gone fully vegan." in recalled
    other = Agent(user_id="bob", settings=one)  # another user's slot is never brought
    assert "The user has gone fully vegan." not in [
        item["text"] for item in other.turn("What's my diet these days?").recalled
    ]
    agent.close()
    other.close()


def test_slots_asked_by_a_question() -> None:
    from confidante.memory.slots import DEFAULT_SLOTS

    assert DEFAULT_SLOTS.asked_in("where do I work now?", about_user=True) == [
        "job_title",
        "employer",
    ]
    assert DEFAULT_SLOTS.asked_in("what's my diet these days?", about_user=True) == ["diet"]
    assert DEFAULT_SLOTS.asked_in("what's my dog called?", about_user=True) == []
    # a living earned is work, not a home
    assert DEFAULT_SLOTS.asked_in("what does Tiago do for a living?", about_user=False) == [
        "job_title",
        "employer",
    ]


async def test_a_new_value_said_in_other_words_takes_the_ended_slot(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await memory.aremember("u", "The user works at the bakery.", key="employer")

    def answer(payload: dict[str, Any]) -> Any:
        if _schema(payload) == "FactExtraction":
            return {"facts": ["The user left the bakery.", "The user is at the library now."]}
        if _schema(payload) == "UpdateDecision":
            return {"answers": ["replaced"] * _user_text(payload).count("Earlier:")}
        return default_reply(payload)

    message = "I left the bakery, I'm at the library now."
    await _say(memory, message, ScriptedChatModel(function=answer))
    employer = [hit.text for hit in await memory.aslot_values("u", "employer")]
    assert employer == ["The user is at the library now."]
    memory.close()


def _replaces_everything(facts: list[str], decision: str = "replaced") -> Any:
    """A model that states ``facts`` and answers ``decision`` for every pair it is shown."""

    def answer(payload: dict[str, Any]) -> Any:
        if _schema(payload) == "FactExtraction":
            return {"facts": facts}
        if _schema(payload) == "UpdateDecision":
            return {"answers": [decision] * _user_text(payload).count("Earlier:")}
        return default_reply(payload)

    return ScriptedChatModel(function=answer)


async def test_news_that_says_no_change_ends_nothing_whatever_the_model_says(
    settings: Settings,
) -> None:
    """ "I like jazz festivals" shares "jazz" with "I like jazz": added, nothing ended."""
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await memory.aremember("u", "The user likes jazz.")
    model = _replaces_everything(["The user likes jazz festivals in summer."])
    await _say(memory, "I like jazz festivals in summer.", model)
    current = {i.text for i in await memory.alist_items("u")}
    assert {"The user likes jazz.", "The user likes jazz festivals in summer."} <= current
    memory.close()


async def test_a_change_ends_at_most_the_nearest_plain_fact_of_its_subject(
    settings: Settings,
) -> None:
    """ "I'm done climbing" said to a model that calls everything replaced ends one fact at most.

    The nearest in meaning of the user's plain facts is put to the model (with any that share
    its words: none here); the others, and the sister's job, are never asked about.
    """
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    plain = [
        "The user boulders three times a week.",
        "The user signed up for a pottery class.",
        "The user keeps forgetting their keys.",
    ]
    for text in plain:
        await memory.aremember("u", text)
    ana = (await memory.aresolve("u", [Mention(name="Ana", relation="sister")]))[0]
    await memory.aremember("u", "Ana loves her job.", subject_id=ana.id)
    model = _replaces_everything(["The user is done with it for good."])
    await _say(memory, "Honestly I'm done with it for good.", model)
    current = {i.text for i in await memory.alist_items("u")}
    assert len(set(plain) - current) == 1
    assert {"Ana loves her job.", "The user is done with it for good."} <= current
    memory.close()


async def test_a_missing_cat_that_came_home_is_missing_no_more(settings: Settings) -> None:
    """ "Mango came home" shares no word with "went missing": nearness pairs them."""
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await _say(memory, "our cat Mango went missing 3 days ago")
    (mango,) = await memory.asubjects("u")
    await memory.aremember("u", "The user's cat Mango went missing.", subject_id=mango.id)
    model = _replaces_everything(["Mango came home."])
    await _say(memory, "MANGO CAME HOME!!! skinny but fine", model)
    current = {i.text for i in await memory.alist_items("u")}
    assert "Mango came home." in current
    assert "The user's cat Mango went missing." not in current
    memory.close()


async def test_a_diet_given_up_ends(settings: Settings) -> None:
    """ "I've given up on keto" ends the keto diet (it shares "keto")."""
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await memory.aremember("u", "The user is doing keto since January.", key="diet")
    model = _replaces_everything(["The user has given up on keto."])
    await _say(memory, "I've given up on keto, life's too short", model)
    current = {i.text for i in await memory.alist_items("u")}
    assert "The user is doing keto since January." not in current
    memory.close()


def test_who_someone_is_ends_no_fact_that_names_them() -> None:
    """A relation statement sharing "cardiologist" with the statin does not end it."""
    statin = MemoryHit(
        id="m1",
        text="The user's cardiologist started them on atorvastatin.",
        key="medications",
        created_at=datetime.now(UTC),
        score=0.5,
    )
    who = Statement("Alves is the user's cardiologist.", None, "relation")
    assert not says_change(who, statin, frozenset({"medications"}))
    home = Statement("The user lives in Porto.", None, "home_city")
    assert says_change(home, statin.model_copy(update={"key": None}), frozenset())


async def test_a_renamed_team_ends_the_fact_that_shares_its_name(settings: Settings) -> None:
    """Names other than the subjects' link two facts: "Dhanmondi" in the old and new name."""
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await memory.aremember("u", "The user opens the batting for the Dhanmondi Tigresses.")
    await memory.aremember("u", "The user studies economics.")
    model = _replaces_everything(["The user's club changed its name to the Dhanmondi Royals."])
    await _say(memory, "the sponsor made us change the name, we're the Dhanmondi Royals", model)
    current = {i.text for i in await memory.alist_items("u")}
    assert "The user opens the batting for the Dhanmondi Tigresses." not in current
    assert "The user studies economics." in current
    memory.close()


async def test_a_pet_renamed_ends_no_fact_near_it(settings: Settings) -> None:
    """ "we renamed her Chispa" renames the dog; the user's job is not "near" enough to end."""
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await _say(memory, "My dog is called Pancho.")
    await memory.aremember("u", "The user is a freelance illustrator.")
    await memory.aremember("u", "The user adopted a dog named Pancho.")
    model = _replaces_everything(["The user renamed Pancho to Chispa."])
    await _say(memory, "turns out Pancho is a girl, we renamed her Chispa", model)
    (dog,) = await memory.asubjects("u")
    assert (dog.name, dog.aliases) == ("Chispa", ["Pancho"])
    current = {i.text for i in await memory.alist_items("u")}
    assert "The user adopted a dog named Chispa." in current  # the user's fact says it too
    assert "The user is a freelance illustrator." in current
    assert "The user renamed Pancho to Chispa." in current  # says the rename as it was said
    memory.close()


async def test_a_thing_renamed_by_what_it_is_takes_its_new_name(settings: Settings) -> None:
    """ "renaming the truck!! Saffron & Smoke": the one known as the user's truck is renamed."""
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    (truck,) = await memory.aresolve("u", [Mention(name="Saffron Road", relation="food truck")])
    await memory.aremember("u", "Saffron Road sells koobideh wraps.", subject_id=truck.id)
    model = _replaces_everything(["The user is renaming the truck to Saffron & Smoke."])
    await _say(memory, "we're renaming the truck!! Saffron & Smoke, since we added a grill", model)
    (renamed,) = await memory.asubjects("u")
    assert (renamed.name, renamed.aliases) == ("Saffron & Smoke", ["Saffron Road"])
    current = {i.text for i in await memory.alist_items("u")}
    assert "Saffron & Smoke sells koobideh wraps." in current
    assert "Saffron Road sells koobideh wraps." not in current
    memory.close()


async def test_a_left_wrist_ends_nothing_and_a_quote_is_never_near(settings: Settings) -> None:
    """ "left" says a change only of what was left: "my left wrist" ends no fact."""
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await memory.aremember("u", 'The user said "a rescue huntaway called Tama".')
    await memory.aremember("u", "The user cycles to work.")
    model = _replaces_everything(["The user's left wrist is broken."])
    await _say(memory, "broke my left wrist", model)
    current = {i.text for i in await memory.alist_items("u")}
    assert {'The user said "a rescue huntaway called Tama".', "The user cycles to work."} <= current
    model = _replaces_everything(["The user stopped it for good."])
    await _say(memory, "I stopped it for good", model)
    current = {i.text for i in await memory.alist_items("u")}
    assert 'The user said "a rescue huntaway called Tama".' in current  # a quote is no state
    memory.close()


async def test_made_a_card_is_no_news_and_leaving_a_place_ends_it(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await memory.aremember("u", "The user teaches 4th medio at Liceo Eduardo.")
    model = _replaces_everything(["The user's 4th medio class made them a card."])
    await _say(memory, "the kids in 4th medio made me a card", model)
    current = {i.text for i in await memory.alist_items("u")}
    assert "The user teaches 4th medio at Liceo Eduardo." in current
    model = _replaces_everything(["The user is leaving Liceo."])
    await _say(memory, "I'm leaving Liceo", model)
    current = {i.text for i in await memory.alist_items("u")}
    assert "The user teaches 4th medio at Liceo Eduardo." not in current
    memory.close()


async def test_an_idiom_a_small_model_misreads_is_not_shown_to_it(settings: Settings) -> None:
    """ "heads up: severe egg allergy" once became "The user's head is on severe egg allergy."."""
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    shown: list[str] = []

    def answer(payload: dict[str, Any]) -> Any:
        if _schema(payload) == "FactExtraction":
            shown.append(_user_text(payload))
            return {"facts": ["The user has a severe egg allergy."]}
        return default_reply(payload)

    await _say(
        memory, "heads up: severe egg allergy, no mayo for me", ScriptedChatModel(function=answer)
    )
    assert shown == ["severe egg allergy, no mayo for me"]
    assert [hit.text for hit in await memory.aslot_values("u", "allergies")] == [
        "The user has a severe egg allergy."
    ]
    memory.close()
