"""A change leaves no old value current: echoes of it, the user said as someone else, renames."""

from __future__ import annotations

from datetime import UTC, datetime

from test_write_path_graph import _say
from test_write_path_updates import _answers_both

from confidante.memory.ingest.echoes import old_names
from confidante.memory.ingest.extraction import FactExtraction, interpret
from confidante.memory.ingest.given_up import given_up
from confidante.memory.ingest.job_places import left_for_good
from confidante.memory.ingest.jobs_said import job_said
from confidante.memory.ingest.renames import renames_in
from confidante.memory.ingest.said import opening_name
from confidante.memory.ingest.self_names import as_user_when_companion
from confidante.memory.ingest.verbs import in_said_tense
from confidante.memory.slots import DEFAULT_SLOTS
from confidante.memory.store import Memory
from confidante.memory.subjects.directory import Mention, SubjectView
from confidante.settings import Settings


def _slot(text: str) -> str | None:
    found = DEFAULT_SLOTS.slot_of(text, about_user=True)
    return found.name if found else None


def test_a_name_given_in_lower_case_is_the_users_when_the_model_spells_it() -> None:
    message = "heyyy im yasmin 💅 22, 2nd year nursing student at King's College London"
    facts = ["Yasmin is 22 years old.", "Yasmin is a nursing student at King's College London."]
    assert opening_name(message, facts) == "yasmin"
    got = interpret(FactExtraction(facts=facts), message, [], DEFAULT_SLOTS)
    read = {(s.text, s.subject, s.slot) for s in got.statements}
    assert ("The user is 22 years old.", None, "age") in read
    assert ("The user is a nursing student at King's College London.", None, "school") in read
    assert any(s.slot == "name" and "Yasmin" in s.text for s in got.statements)
    # a word after "I'm" is no name unless the model opens a statement with it
    assert opening_name("im polish and 22", ["The user is Polish."]) is None
    assert opening_name("im tired today", ["The user is tired today."]) is None


def test_news_with_only_our_in_it_is_the_users_not_a_known_persons() -> None:
    now = datetime.now(UTC)
    jukka = SubjectView(id="1", name="Jukka", relation="husband", created_at=now, updated_at=now)
    message = "started at HUS meilahti last monday 😅 commute from our new flat in Kallio is 20 min"
    facts = ["Jukka started at HUS meilahti last Monday.", "The user's new flat is in Kallio."]
    got = interpret(FactExtraction(facts=facts), message, [jukka], DEFAULT_SLOTS)
    read = {(s.text, s.subject, s.slot) for s in got.statements}
    assert ("The user started at HUS meilahti last Monday.", None, "employer") in read
    assert ("The user's new flat is in Kallio.", None, "home_city") in read


def test_a_name_said_only_as_company_does_not_take_the_users_news() -> None:
    message = "also went fully vegan after watching a documentary w Jukka. Jukka is not convinced"
    assert as_user_when_companion("Jukka went fully vegan after a documentary.", message) == (
        "The user went fully vegan after a documentary."
    )
    assert as_user_when_companion("Jukka is not convinced.", message) == "Jukka is not convinced."
    # the name acts in the clause, or a pronoun may stand for someone: left as it is
    for text, said in (
        ("Ana is moving to Berlin.", "my sister Ana is moving to Berlin"),
        ("Ana went hiking in the Alps.", "she went hiking in the Alps with Ana"),
        ("Ana and Leo went hiking in the Alps.", "Ana and Leo went hiking in the Alps"),
    ):
        assert as_user_when_companion(text, said) == text


def test_a_new_home_said_by_where_it_is_sets_the_home_city() -> None:
    assert _slot("The user's new flat is above a chippy in Fallowfield.") == "home_city"
    assert _slot("The user shifted to a PG in Koramangala.") == "home_city"
    assert _slot("Otso hates the elevator in the new building.") is None
    assert _slot("The user bought a new house in the countryside.") is None


def test_the_old_value_is_what_the_new_statement_does_not_name() -> None:
    assert old_names(
        "The user works at Rotorua Hospital.", "The user works at Tauranga Hospital."
    ) == ["Rotorua Hospital"]
    assert old_names("The user lives in Rotorua.", "The user moved from Rotorua to Tauranga.") == [
        "Rotorua"
    ]
    assert old_names("The user is a pescatarian.", "The user went vegan.") == ["pescatarian"]
    assert old_names("The user lives in Oslo.", "The user lives in Oslo with Ana.") == []


async def test_a_new_value_ends_the_facts_that_still_say_the_old_one(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await memory.aremember("u", "The user lives in Rotorua.", key="home_city")
    await memory.aremember("u", "The user is still living in Rotorua.")
    await memory.aremember("u", 'The user said "still in Rotorua with Tane".')
    await memory.aremember("u", "The user was born in Rotorua.")
    await memory.aremember("u", "The user is from Rotorua.", key="hometown")
    (wiremu,) = await memory.aresolve("u", [Mention(name="Wiremu", relation="brother")])
    await memory.aremember("u", "Wiremu lives in Rotorua.", key="home_city", subject_id=wiremu.id)
    moved = "The user lives in Tauranga now."
    await _say(memory, "we live in Tauranga now!", _answers_both([moved]))
    current = {i.text for i in await memory.alist_items("u")}
    assert moved in current
    assert {"The user was born in Rotorua.", "The user is from Rotorua."} <= current
    assert "Wiremu lives in Rotorua." in current  # another subject's own value
    assert not current & {
        "The user lives in Rotorua.",
        "The user is still living in Rotorua.",
        'The user said "still in Rotorua with Tane".',
    }
    history = {i.text for i in await memory.alist_items("u", include_history=True)}
    assert "The user is still living in Rotorua." in history
    memory.close()


async def test_a_new_employer_ends_a_job_said_in_its_office(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await memory.aremember(
        "u", "The user works as a data analyst in Infosys Pune office.", key="job_title"
    )
    joined = "The user joined Flipkart last Monday."
    await _say(
        memory, "cracked the Flipkart interview, joined last monday", _answers_both([joined])
    )
    current = {(i.key, i.text) for i in await memory.alist_items("u")}
    assert ("employer", joined) in current
    assert ("job_title", "The user works as a data analyst.") in current
    assert not any("Infosys" in text for _, text in current)
    memory.close()


def test_a_new_name_said_as_what_it_is_now_renames() -> None:
    message = "we decided Kiwi didn't suit her at all so she's Miro now, she answers to it"
    assert renames_in(message, ["Kiwi", "Tane"]) == [("Kiwi", "Miro")]
    assert renames_in("Kiwi is great, he's now called Bruno", ["Kiwi"]) == [("Kiwi", "Bruno")]
    # two known names said: which one is renamed is not known
    assert renames_in("Kiwi and Tane are fine, she's Miro now", ["Kiwi", "Tane"]) == []


def test_a_change_said_as_done_is_not_retold_as_going_on() -> None:
    message = "ok update, we're all moved in to our new place in Tauranga!! 5 min from the beach"
    model_said = FactExtraction(facts=["The user is moving to Tauranga."])
    got = interpret(model_said, message, [], DEFAULT_SLOTS)
    read = {(s.text, s.slot) for s in got.statements}
    assert ("The user moved to Tauranga.", "home_city") in read
    assert in_said_tense("Ana is starting at Google.", "Ana started at Google on Monday") == (
        "Ana started at Google."
    )
    for text, said in (  # said going on too, or ahead: as the model said it
        ("The user is moving to Tauranga.", "we are moving to Tauranga, moved the couch already"),
        ("The user is leaving Lisbon.", "I left Lisbon; we will miss it"),
    ):
        assert in_said_tense(text, said) == text


def test_a_workplace_reached_by_transfer_or_the_users_own_is_the_employer() -> None:
    assert _slot("The user transferred to Tauranga Hospital.") == "employer"
    assert _slot("The user transferred their degree to University of Manchester.") == "school"
    assert _slot("The user transferred money to Ana.") is None
    assert _slot("The user will be their own boss from April.") == "employer"
    assert _slot("The user is self-employed now.") == "employer"


async def test_a_place_left_for_good_ends_the_job_that_names_it(settings: Settings) -> None:
    """The model may answer "both"; "gave notice at Krause" ends the job at Holzbau Krause."""
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await memory.aremember("u", "The user works as a carpenter at Holzbau Krause.", key="job_title")
    await memory.aremember("u", "The user plays football with Krause colleagues.")
    gave = "The user gave notice at Krause."
    await _say(memory, "So. I gave notice at Krause.", _answers_both([gave]))
    current = {i.text for i in await memory.alist_items("u")}
    assert gave in current
    assert "The user works as a carpenter at Holzbau Krause." not in current
    assert "The user plays football with Krause colleagues." in current  # no job: the model's
    assert left_for_good("The user quit Infosys.", "The user works at Infosys.", "employer")
    assert not left_for_good("The user left Google early.", "The user works at Google.", "employer")
    assert not left_for_good("The user quit Infosys.", "The user likes Infosys.", None)
    memory.close()


async def test_an_ended_tie_leaves_no_fact_calling_them_by_it(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    (devon,) = await memory.aresolve("u", [Mention(name="Devon", relation="boyfriend")])
    await memory.aremember(
        "u", "Devon is the user's boyfriend.", key="relation", subject_id=devon.id
    )
    await memory.aremember("u", "The user's boyfriend Devon is a nurse.", subject_id=devon.id)
    await memory.aremember("u", "The user lives with Devon, the user's boyfriend, in Leeds.")
    await _say(
        memory, "devon and I split up last week", _answers_both(["The user split up with Devon."])
    )
    current = {i.text for i in await memory.alist_items("u")}
    assert "Devon is a nurse." in current
    assert "The user lives with Devon in Leeds." in current
    assert not any("boyfriend" in text for text in current)
    history = {i.text for i in await memory.alist_items("u", include_history=True)}
    assert "The user's boyfriend Devon is a nurse." in history
    memory.close()


async def test_a_fact_naming_the_old_value_on_another_topic_stays(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await memory.aremember("u", "The user lives in Rotorua.", key="home_city")
    await memory.aremember("u", "The user's favourite cafe is in Rotorua.")
    await memory.aremember("u", "The user has lived in Rotorua all her life.")
    await _say(
        memory, "we live in Tauranga now!", _answers_both(["The user lives in Tauranga now."])
    )
    current = {i.text for i in await memory.alist_items("u")}
    assert "The user's favourite cafe is in Rotorua." in current
    assert "The user has lived in Rotorua all her life." not in current
    memory.close()


async def test_a_retirement_ends_the_job_and_a_lost_job_the_employer(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    (kenji,) = await memory.aresolve("u", [Mention(name="Kenji", relation="husband")])
    await memory.aremember("u", "Kenji works at Toyota.", key="employer", subject_id=kenji.id)
    await memory.aremember("u", "Kenji is an engineer.", key="job_title", subject_id=kenji.id)
    await memory.aremember("u", "The user works at Infosys.", key="employer")
    await memory.aremember("u", "The user is a data analyst.", key="job_title")
    await _say(
        memory, "Kenji will retire next year", _answers_both(["Kenji will retire next year."])
    )
    assert len(await memory.aslot_values("u", ["employer", "job_title"], kenji.id)) == 2
    await _say(memory, "Kenji retired last month!", _answers_both(["Kenji retired last month."]))
    assert await memory.aslot_values("u", ["employer", "job_title"], kenji.id) == []
    await _say(memory, "I got laid off today", _answers_both(["The user got laid off today."]))
    left = await memory.aslot_values("u", ["employer", "job_title"])
    assert [hit.text for hit in left] == ["The user is a data analyst."]
    memory.close()


async def test_an_engagement_makes_the_partner_a_fiancee(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    (mai,) = await memory.aresolve("u", [Mention(name="Mai", relation="girlfriend")])
    await memory.aremember("u", "Mai is the user's girlfriend.", key="relation", subject_id=mai.id)
    plan = "The user is thinking of getting engaged to Mai."
    await _say(memory, "thinking of proposing to Mai", _answers_both([plan]))
    (mai,) = await memory.asubjects("u")
    assert mai.relation == "girlfriend"
    model = _answers_both(["The user got engaged!", "Mai is the user's girlfriend."])
    await _say(memory, "WE GOT ENGAGED!!! she said yes", model)
    (mai,) = await memory.asubjects("u")
    assert mai.relation == "fiancée"
    current = {i.text for i in await memory.alist_items("u")}
    assert "Mai is the user's fiancée." in current
    assert "Mai is the user's girlfriend." not in current
    memory.close()


def test_news_said_in_common_words_sets_its_slot() -> None:
    for text, slot in (
        ("The user is now based in Berlin.", "home_city"),
        ("The user now calls Lisbon home.", "home_city"),
        ("The user made the move to Toronto.", "home_city"),
        ("The user is in Singapore now.", "location"),
        ("The user is now working at Shopee.", "employer"),
        ("The user's first day at Shopee was Monday.", "employer"),
        ("The user eats no more meat.", "diet"),
        ("The user is on an exchange in Germany.", "school"),
        ("The user is now a midwife at Bon Secours.", "job_title"),
    ):
        assert _slot(text) == slot, text


def test_jobs_homes_schools_said_plainly_or_without_an_article_have_slots() -> None:
    for text, slot in (
        ("The user is QA tester at Sao Mai Software.", "job_title"),
        ("The user is just a baker now.", "job_title"),
        ("Kenji is a salaryman at Panasonic.", "job_title"),
        ("The user is in the first week of classes at McGill.", "school"),
        ("Yuto went to Copenhagen for one year exchange at the Royal Danish Academy.", "school"),
        ("The user is in a new villa in Sharjah.", "home_city"),
        ("The user has lived in Dubai for 4 years.", "home_city"),
        ("The user is starting a bookkeeping business.", "employer"),
        ("The user owns a small bakery in Osaka.", "employer"),
    ):
        assert _slot(text) == slot, text
    for text in (
        "The user is a happy person.",
        "The user lived in Paris for three years.",
        "The user is starting a book club.",
    ):
        assert _slot(text) is None, text
    assert job_said("they made me welding inspector. Now I check the welds") == (
        "welding inspector"
    )
    assert job_said("she made me a coffee") is None


def test_what_the_user_gave_up_is_read_from_their_words() -> None:
    assert given_up("no more badminton for me, here I started bouldering") == [frozenset({"badmi"})]
    assert given_up("doctor said no more hot yoga, so I switched to swimming") == [
        frozenset({"hot", "yoga"})
    ]
    for said in ("she quit smoking", "no more boss, I am just baker", "should I quit yoga?"):
        assert given_up(said) == [], said


async def test_an_activity_given_up_ends_the_users_facts_about_it(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await memory.aremember("u", "The user plays badminton with their team on Sundays.")
    await memory.aremember("u", "The user is not good at badminton.")
    await memory.aremember("u", "The user plays football on Fridays.")
    news = "The user started bouldering with coworkers."
    await _say(memory, "no more badminton for me, I started bouldering", _answers_both([news]))
    current = {i.text for i in await memory.alist_items("u")}
    assert news in current and "The user plays football on Fridays." in current
    assert "The user plays badminton with their team on Sundays." not in current
    assert "The user is not good at badminton." in current  # says no more than it did
    memory.close()


def test_a_correction_may_say_what_the_name_is_like() -> None:
    message = "autocorrect again. Cat name is Kinoko, like mushroom, not Kinako."
    assert renames_in(message, ["Kinako", "Yuto"]) == [("Kinako", "Kinoko")]
    assert renames_in("I like Ana, she is nice, not Maria", ["Ana", "Maria"]) == []


async def test_an_accepted_proposal_makes_the_partner_a_fiancee(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    (linh,) = await memory.aresolve("u", [Mention(name="Linh", relation="girlfriend")])
    await memory.aremember(
        "u", "Linh is the user's girlfriend.", key="relation", subject_id=linh.id
    )
    asked = "The user proposed to Linh."
    await _say(memory, "I proposed to Linh, waiting for her answer", _answers_both([asked]))
    assert (await memory.asubjects("u"))[0].relation == "girlfriend"
    await _say(memory, "I proposed to Linh and she said YES", _answers_both([asked]))
    assert (await memory.asubjects("u"))[0].relation == "fiancée"
    memory.close()
