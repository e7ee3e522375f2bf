"""Updates said in ordinary words, on the scripted model: breakups, promotions, rota changes."""

from __future__ import annotations

from typing import Any

from test_write_path_graph import _replaces_everything, _say

from confidante.memory.ingest.endings import ended_tie
from confidante.memory.ingest.extraction import FactExtraction, interpret
from confidante.memory.ingest.jobs_said import job_said
from confidante.memory.ingest.said import left_out
from confidante.memory.ingest.self_names import as_user_when_unnamed, names_the_unmentioned
from confidante.memory.ingest.verbs import retold as _tidy
from confidante.memory.slots import SlotVocabulary
from confidante.memory.store import Memory
from confidante.memory.subjects.directory import Mention
from confidante.settings import Settings


def test_a_job_is_read_from_the_users_own_words() -> None:
    assert job_said("I'm Seun, a staff nurse on the cardiac ward, been doing nights") == (
        "staff nurse"
    )
    assert job_said("I'm Jamal, first officer with Delta, based out of Atlanta") == (
        "first officer"
    )
    assert job_said("made captain!!! 12 years of flying to get here") == "captain"
    assert job_said("got promoted to head nurse today") == "head nurse"
    assert job_said("yo. kenji. 34, software dev at Rakuten in Osaka") == "software dev"
    assert job_said("hoi! Zainab, pharmacist at the OLVG in Amsterdam") == "pharmacist"
    assert job_said("Jonas here, carpenter at Holzbau Krause in Leipzig.") == "carpenter"
    assert job_said("hiii Mei-Ling here 🙋‍♀️ UX designer at Grab") == "UX designer"
    assert job_said("I quit Infosys. Starting at Swiggy next Monday as a product analyst 🎉") == (
        "product analyst"
    )
    assert job_said("I joined Stripe as an engineering manager") == "engineering manager"
    assert job_said("we gig round Cardiff, day job is sound engineer at a studio") == (
        "sound engineer"
    )
    assert job_said("so… I took the head chef job in Galway!! moving soon") == "head chef"
    assert job_said("I got the charge nurse position!") == "charge nurse"
    for no_job in (
        "I'm seeing a therapist on Monday",
        "I'm a big fan of jazz",
        "I'm not a doctor lol",
        "we made the doctor laugh",
        "am I a good manager?",
        "my brother joined Google as an engineer",
        "Kavya, nurse at Manipal, is visiting",
        "starting at 9 as a favour",
        "my sister took the head chef job",
        "My wife just got the head nurse job!",
        "I took the dog to the vet",
    ):
        assert job_said(no_job) is None, no_job


def test_a_job_slot_needs_a_job_and_a_new_employer_its_name() -> None:
    slots = SlotVocabulary()

    def slot(text: str) -> str | None:
        found = slots.slot_of(text, about_user=True)
        return found.name if found else None

    assert slot("The user's job is mostly boring spreadsheets.") is None
    assert slot("The user's job is a nurse.") == "job_title"
    assert slot("The user is starting at Swiggy next Monday.") == "employer"
    assert slot("The user starts at 9am on Mondays.") is None


def test_a_job_the_model_left_out_is_kept_with_its_slot() -> None:
    message = "I'm Jamal, first officer with Delta, based out of Atlanta"
    model_said = FactExtraction(facts=["The user's name is Jamal.", "The user works for Delta."])
    got = interpret(model_said, message, [], SlotVocabulary())
    assert ("The user is a first officer.", None, "job_title") in {
        (s.text, s.subject, s.slot) for s in got.statements
    }
    # a job the model wrote with its slot is not said twice
    said = FactExtraction(facts=["The user works as a first officer for Delta."])
    again = interpret(said, message, [], SlotVocabulary())
    assert [s.text for s in again.statements if s.slot == "job_title"] == [
        "The user works as a first officer for Delta."
    ]


async def test_a_promotion_said_as_made_captain_replaces_the_title(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await _say(memory, "I'm Jamal, first officer with Delta", _replaces_everything([]))
    await _say(memory, "made captain!!!", _replaces_everything(["The user is the team captain."]))
    titles = [i.text for i in await memory.alist_items("u") if i.key == "job_title"]
    assert titles == ["The user is a captain."]
    memory.close()


async def test_a_breakup_ends_the_users_fact_that_names_the_ex(settings: Settings) -> None:
    """ "Felix and I split up" may end "The user shares a flat with Felix."; not other facts."""
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    felix = (await memory.aresolve("u", [Mention(name="Felix", relation="boyfriend")]))[0]
    await memory.aremember(
        "u", "Felix is the user's boyfriend.", key="relation", subject_id=felix.id
    )
    await memory.aremember("u", "The user shares a flat with her boyfriend Felix.")
    await memory.aremember("u", "The user sings alto in a choir.")
    model = _replaces_everything(["Felix and the user split up."])
    await _say(memory, "Felix and I split up.", model)
    current = {i.text for i in await memory.alist_items("u")}
    assert "The user shares a flat with her boyfriend Felix." not in current
    assert "Felix is the user's boyfriend." not in current
    assert "The user sings alto in a choir." in current
    memory.close()


async def test_a_roommate_who_moved_out_is_a_former_roommate(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    bea = (await memory.aresolve("u", [Mention(name="Bea", relation="roommate")]))[0]
    await memory.aremember("u", "Bea is the user's roommate.", key="relation", subject_id=bea.id)
    await memory.aremember("u", "The user sings alto in a choir.")
    model = _replaces_everything(["Bea moved out last week."])
    await _say(memory, "Bea moved out last week", model)
    (bea,) = await memory.asubjects("u")
    assert bea.relation == "former roommate"
    assert "The user sings alto in a choir." in {i.text for i in await memory.alist_items("u")}
    memory.close()


async def test_a_rota_change_said_as_off_nights_may_end_the_night_shifts(
    settings: Settings,
) -> None:
    """ "I'm off nights from next month" says a change: the model's "replaced" is taken."""
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await memory.aremember("u", "The user has been doing nights for about 2 years.")
    model = _replaces_everything(["The user is off nights from next month."])
    await _say(memory, "Rota change! I'm off nights from next month.", model)
    current = {i.text for i in await memory.alist_items("u")}
    assert current == {"The user is off nights from next month."}
    memory.close()


async def test_a_change_that_names_what_ended_is_paired_by_the_name(settings: Settings) -> None:
    """ "I left Libreria Ulisse last week" ends the job there, not the trip "next week"."""
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await memory.aremember("u", "The user works at Libreria Ulisse.")
    await memory.aremember("u", "The user is going to Rome next week.")
    model = _replaces_everything(["The user left Libreria Ulisse last week."])
    await _say(memory, "I left Libreria Ulisse last week, sad to go", model)
    current = {i.text for i in await memory.alist_items("u")}
    assert "The user works at Libreria Ulisse." not in current
    assert "The user is going to Rome next week." in current
    memory.close()


async def test_a_move_ends_where_the_user_lived_not_where_they_work(settings: Settings) -> None:
    """A statement setting ``home_city`` is paired by nearness only with a fact about a home."""
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await memory.aremember("u", "The user works in Munich.")
    await memory.aremember("u", "The user shares a flat with Felix.")
    model = _replaces_everything(["The user moved into a tiny studio in Schwabing."])
    await _say(memory, "I moved into a tiny studio in Schwabing", model)
    current = {i.text for i in await memory.alist_items("u")}
    assert "The user works in Munich." in current
    assert "The user shares a flat with Felix." not in current
    memory.close()


async def test_a_slot_set_ends_no_fact_of_another_slot(settings: Settings) -> None:
    """ "settled in Galway" (a home) shares Galway with the job there but does not end it."""
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await memory.aremember("u", "The user took the head chef job in Galway.", key="job_title")
    model = _replaces_everything(["The user settled in Galway."])
    await _say(memory, "settled in Galway!", model)
    current = {i.text for i in await memory.alist_items("u")}
    assert "The user took the head chef job in Galway." in current
    assert "The user settled in Galway." in current
    memory.close()


async def test_a_change_is_paired_by_the_words_of_its_sentence(settings: Settings) -> None:
    """The model dropped "This winter"; the sentence still pairs the change with the winters."""
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    winters = "The user spends her winters in Puerto Vallarta."
    await memory.aremember("u", winters)
    await memory.aremember("u", "The user sings in a choir.")
    await memory.aremember("u", "The user rented a flat in Mazatlán once.")  # the nearest
    model = _replaces_everything(["The user rented a casita in Mazatlán instead."])
    await _say(memory, "This winter I'm renting a casita in Mazatlán instead, quieter", model)
    current = {i.text for i in await memory.alist_items("u")}
    assert winters not in current and "The user sings in a choir." in current
    memory.close()


async def test_nearness_does_not_add_to_a_fact_that_shares_words(settings: Settings) -> None:
    """ "taking the under-12s instead" ends the coaching it shares "coach" with, only."""
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    coaching = "The user coaches the girls' under-10 team."
    visits = "The user's team of girls wears green shirts."  # shares words with the coaching
    await memory.aremember("u", coaching)
    await memory.aremember("u", visits)
    model = _replaces_everything(["The user is taking the under-12s instead of the old coach."])
    await _say(memory, "from August I'm taking the under-12s instead", model)
    current = {i.text for i in await memory.alist_items("u")}
    assert coaching not in current and visits in current
    memory.close()


async def test_news_sharing_only_a_verb_ends_no_medication(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    statin = "The user's cardiologist started them on atorvastatin for their cholesterol."
    await memory.aremember("u", statin, key="medications")
    model = _replaces_everything(["The user has started Spanish classes online."])
    await _say(memory, "I've started Spanish classes online.", model)
    assert statin in {i.text for i in await memory.alist_items("u")}
    memory.close()


async def test_a_new_employer_may_end_a_job_said_with_its_employer(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    old = "The user works as a nurse at St Mary's Hospital."
    await memory.aremember("u", old, key="job_title")
    model = _replaces_everything(["The user works at King's College Hospital now."])
    await _say(memory, "These days I work at King's College Hospital.", model)
    assert old not in {i.text for i in await memory.alist_items("u")}
    memory.close()


def _said(message: str, *model_facts: str) -> set[tuple[str, str | None]]:
    got = interpret(FactExtraction(facts=list(model_facts)), message, [], SlotVocabulary())
    return {(s.text, s.slot) for s in got.statements}


def test_a_clause_from_a_month_is_no_hometown() -> None:
    message = "old coach retired, so from August I'm taking the under-12s instead"
    got = _said(message, "The old coach retired.")
    assert not any(slot == "hometown" for _, slot in got), got
    got = _said("I'm Jun, based out of Rotterdam", "The user's name is Jun.")
    assert ("The user is based out of Rotterdam.", "home_city") in got, got


def test_a_fact_the_model_turned_into_knowing_is_kept_in_the_users_words() -> None:
    message = "Also so you know I've got coeliac disease, so anything with gluten is a no for me"
    got = _said(message, "The user knows about coeliac disease.")
    assert ("The user has got coeliac disease.", "health_conditions") in got
    assert not any("knows" in text for text, _ in got)
    # the user's own "told" is kept as the model says it
    told = _said("I told my boss about the promotion", "The user told their boss about it.")
    assert ("The user told their boss about it.", None) in told


def test_a_clause_that_goes_on_describing_the_user_is_the_users() -> None:
    message = "I'm Jamal, first officer with Delta, based out of Atlanta"
    got = _said(message, "The user's name is Jamal.", "The user works for Delta.")
    assert ("The user is based out of Atlanta.", "home_city") in got
    # after someone else is named, such a clause is not put on the user
    other = _said(
        "My brother Tom, living in Leeds now, works as a chef", "Tom is the user's brother."
    )
    assert not any(text.startswith("The user is living") for text, _ in other)


def test_a_clause_with_its_i_left_out_is_retold_in_the_past() -> None:
    got = _said("quit my job in Jan and I'm backpacking SE Asia for 6 months", "The user is hot.")
    assert any(text.startswith("The user quit the user's job in Jan") for text, _ in got), got
    # a past form stays past, a present one agrees
    for said, told in (
        ("I left the bakery", "The user left the bakery."),
        ("I need milk", "The user needs milk."),
        ("I got a cat", "The user got a cat."),
    ):
        assert _tidy(said) == told


def test_a_clause_the_statements_carry_in_other_words_is_not_quoted() -> None:
    relations = {"pancho": "dog", "lucía": "girlfriend"}
    naming = "my girlfriend Lucía and I adopted a dog, we're calling him Pancho"
    said = ["Lucía is the user's girlfriend.", "The user adopted a dog named Pancho."]
    assert left_out(naming, said, relations, _tidy) == []
    remark = "drew a picture of Pancho asleep on the sofa, came out pretty cute"
    drawn = ["The user drew a picture of Pancho asleep on the sofa.", "The picture was cute."]
    assert left_out(remark, drawn, relations, _tidy) == []
    # a name no statement carries is still kept
    renamed = left_out("we renamed her Chispa", ["The user has a dog."], relations, _tidy)
    assert renamed == [('The user said "we renamed her Chispa".', None)]


def test_a_statement_opened_with_someone_unmentioned_is_the_users() -> None:
    relations: dict[str, str | None] = {"lucía": "girlfriend", "pancho": "dog", "łukasz": "son"}
    drew = "drew a picture of Pancho asleep on the sofa, came out pretty cute"
    assert as_user_when_unnamed("Lucía drew a picture of Pancho.", relations, drew) == (
        "The user drew a picture of Pancho."
    )
    # named, said by relation, or spoken of by a pronoun: the model's reading stands
    for message in ("Lucía drew a picture", "my gf drew a picture", "she drew a picture"):
        assert as_user_when_unnamed("Lucía drew a picture.", relations, message).startswith("Lucía")
    assert as_user_when_unnamed("Łukasz is 3.", relations, "Łukasz is 3") == "Łukasz is 3."
    assert as_user_when_unnamed("Lucía and the user split.", relations, "we split") == (
        "Lucía and the user split."
    )


def test_a_left_out_verb_and_time_is_not_quoted() -> None:
    promoted = ["The user was promoted to design lead."]
    assert left_out("GOT PROMOTED to design lead!!! starts next month", promoted, {}, _tidy) == []
    assert left_out("first officer with Delta", [], {}, _tidy) == [
        ('The user said "first officer with Delta".', None)
    ]


def test_a_statement_that_brings_in_someone_unmentioned_is_dropped() -> None:
    relations: dict[str, str | None] = {"mere": "wife", "kuri": "dog"}
    fed = "i keep forgetting which one I've already fed in the morning lol"
    assert names_the_unmentioned("The user has already fed Mere.", relations, fed)
    assert not names_the_unmentioned("The user fed the dog.", relations, fed)
    assert not names_the_unmentioned("The user fed Kuri.", relations, "fed the dog already")
    assert not names_the_unmentioned("Mere and the user ate.", relations, "we ate out")
    got = _said(fed, "The user has already fed Mere in the morning.")
    assert not any("Mere" in text for text, _ in got)
    assert any(text.startswith("The user keeps forgetting") for text, _ in got), got


def test_a_remark_to_the_assistant_is_no_fact_and_myself_is_retold() -> None:
    got = _said("it was a whole thing. I won't bore you", "I won't bore you.")
    assert not any("bore" in text for text, _ in got)
    assert _tidy("I plan on eating half of it myself") == (
        "The user plans on eating half of it themself."
    )
    assert _tidy("I don't want it coming up") == "The user doesn't want it coming up."
    assert _tidy("I haven’t called") == "The user hasn't called."
    assert _tidy("The user originally from Pune.") == "The user is originally from Pune."
    assert _tidy("I married Ana in 2019.") == "The user married Ana in 2019."
    assert _tidy("I want to write a thank-you card") == "The user wants to write a thank-you card."


async def test_a_change_of_part_of_a_fact_keeps_the_rest(settings: Settings) -> None:
    """ "switching from architecture to urban planning" keeps the school and the city."""
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    old = "The user is a second year architecture student at Los Andes in Bogotá."
    await memory.aremember("u", old)
    model = _replaces_everything(
        ["The user is switching from architecture to urban planning next semester."]
    )
    await _say(memory, "I'm switching from architecture to urban planning next semester", model)
    current = {i.text for i in await memory.alist_items("u")}
    assert old not in current
    assert "The user is a second year urban planning student at Los Andes in Bogotá." in current
    assert "The user is switching from architecture to urban planning next semester." in current
    history = await memory.alist_items("u", include_history=True)
    assert old in {i.text for i in history}  # the earlier fact is in the history
    memory.close()


def _answers_both(facts: list[str]) -> Any:
    """A model that states ``facts`` and answers "both" for every pair it is shown."""
    return _replaces_everything(facts, "both")


async def test_a_breakup_said_plainly_ends_the_tie_whatever_the_model_says(
    settings: Settings,
) -> None:
    """The local model answered "both" for "split up" against "is the user's boyfriend"."""
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    devon = (await memory.aresolve("u", [Mention(name="Devon", relation="boyfriend")]))[0]
    await memory.aremember(
        "u", "Devon is the user's boyfriend.", key="relation", subject_id=devon.id
    )
    await _say(
        memory, "we might split up, idk", _answers_both(["The user might split up with Devon."])
    )
    assert (await memory.asubjects("u"))[0].relation == "boyfriend"  # unsure: nothing ended
    said = "devon and I split up last week"
    await _say(memory, said, _answers_both(["The user and Devon split up last week."]))
    (devon,) = await memory.asubjects("u")
    assert devon.relation == "former boyfriend"
    assert "Devon is the user's boyfriend." not in {i.text for i in await memory.alist_items("u")}
    memory.close()


async def test_a_death_makes_the_relation_late(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    nana = (await memory.aresolve("u", [Mention(name="Rosa", relation="grandmother")]))[0]
    await memory.aremember(
        "u", "Rosa is the user's grandmother.", key="relation", subject_id=nana.id
    )
    await _say(memory, "Rosa passed away on Sunday", _answers_both(["Rosa passed away on Sunday."]))
    (nana,) = await memory.asubjects("u")
    assert nana.relation == "late grandmother"
    memory.close()


def test_ended_ties_need_a_plain_end_of_that_tie() -> None:
    boyfriend = "Devon is the user's boyfriend."
    assert ended_tie("Devon dumped the user.", boyfriend) == "former"
    assert ended_tie("The user and Devon are not together anymore.", boyfriend) == "former"
    for unsure in (
        "The user and Devon almost broke up.",
        "The user is afraid Devon will split up with them.",
        "The user's sister and Devon broke up.",  # not the user's own tie
        "The user and Devon watched a film about a couple who split up.",
    ):
        assert ended_tie(unsure, boyfriend) is None, unsure
    assert ended_tie("The user and Ana broke up.", "Ana is the user's sister.") is None


async def test_a_move_they_made_together_moves_the_others_too(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    emi = (await memory.aresolve("u", [Mention(name="Emi", relation="daughter")]))[0]
    await memory.aremember("u", "Emi lives in Osaka.", subject_id=emi.id)
    await memory.aremember("u", "The user's friend Ken lives in Osaka.")
    said = "Emi's husband got a new job, so they moved from Osaka to Fukuoka last week"
    await _say(memory, said, _replaces_everything(["Emi's husband moved from Osaka to Fukuoka."]))
    current = {(i.subject_id, i.text) for i in await memory.alist_items("u")}
    assert (emi.id, "Emi lives in Fukuoka.") in current
    assert (emi.id, "Emi lives in Osaka.") not in current
    assert (None, "The user's friend Ken lives in Osaka.") in current  # not named: not "they"
    # a move said of one person alone moves no one else
    await memory.aremember("u", "Emi's friend Yui lives in Kyoto.", subject_id=emi.id)
    await _say(
        memory,
        "Ken moved from Kyoto to Nara",
        _replaces_everything(["Ken moved from Kyoto to Nara."]),
    )
    assert "Emi's friend Yui lives in Kyoto." in {i.text for i in await memory.alist_items("u")}
    memory.close()


async def test_sharing_only_living_or_years_pairs_no_facts(settings: Settings) -> None:
    """ "lives alone since their wife passed away" ended "lives in Sapporo" on the local model."""
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await memory.aremember("u", "The user lives in Sapporo.", key="home_city")
    said = "I live alone since my wife passed away 3 years ago"
    await _say(
        memory,
        said,
        _replaces_everything(["The user lives alone since their wife passed away 3 years ago."]),
    )
    await _say(
        memory,
        "I am vegetarian for 20 years",
        _replaces_everything(["The user is vegetarian for 20 years."]),
    )
    current = {i.text for i in await memory.alist_items("u")}
    assert "The user lives in Sapporo." in current
    assert "The user lives alone since their wife passed away 3 years ago." in current
    memory.close()


async def test_a_new_workplace_ends_the_old_one_said_inside_the_job(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    await memory.aremember(
        "u", "The user is a nurse at St Vincent's hospital in Dublin.", key="job_title"
    )
    started = "The user started at Cork University Hospital on Monday."
    await _say(memory, "I started at Cork University Hospital on Monday!", _answers_both([started]))
    current = {(i.key, i.text) for i in await memory.alist_items("u")}
    assert ("job_title", "The user is a nurse.") in current
    assert ("employer", started) in current
    assert not any("Vincent" in text for _, text in current)
    # a new job at a new place ends the old employer
    await _say(
        memory,
        "now I'm a midwife at Bon Secours",
        _answers_both(["The user is now a midwife at Bon Secours."]),
    )
    current = {(i.key, i.text) for i in await memory.alist_items("u")}
    assert ("employer", started) not in current
    memory.close()


async def test_a_turn_that_ends_a_tie_does_not_restate_it(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    devon = (await memory.aresolve("u", [Mention(name="Devon", relation="boyfriend")]))[0]
    await memory.aremember(
        "u", "Devon is the user's boyfriend.", key="relation", subject_id=devon.id
    )
    model = _answers_both(["Devon is the user's boyfriend.", "The user split up with Devon."])
    await _say(memory, "devon and I split up last week", model)
    (devon,) = await memory.asubjects("u")
    assert devon.relation == "former boyfriend"
    assert "Devon is the user's boyfriend." not in {i.text for i in await memory.alist_items("u")}
    memory.close()
