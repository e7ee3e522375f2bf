"""How users word things, read right: short forms, names that are no names, jobs by kind."""

from __future__ import annotations

from datetime import UTC, datetime

from confidante.graphs.named_questions import callers
from confidante.memory.ingest.extraction import FactExtraction, interpret
from confidante.memory.ingest.relations_said import relation_grounded
from confidante.memory.ingest.said import opening_name
from confidante.memory.ingest.self_names import user_names_in
from confidante.memory.ingest.shorthand import said_forms
from confidante.memory.ingest.statements import is_grounded, relations_in
from confidante.memory.slots import DEFAULT_SLOTS
from confidante.memory.subjects.directory import SubjectView
from confidante.memory.subjects.names import mentioned_in


def _read(facts: list[str], message: str) -> list[tuple[str, str | None]]:
    got = interpret(FactExtraction(facts=facts), message, [], DEFAULT_SLOTS)
    return [(s.text, s.slot) for s in got.statements]


def test_short_forms_count_as_said() -> None:
    assert {"january", "4", "kg", "kilograms"} <= said_forms(["jan", "4kg"])
    message = "been doing keto since Jan, down 4kg already"
    assert is_grounded("The user has been doing keto since January.", message, set())
    assert is_grounded("The user has lost 4 kilograms.", message, set())
    assert not is_grounded("The user has lost 5 kilograms.", message, set())


def test_a_word_for_the_kind_of_a_said_place_is_no_invented_name() -> None:
    said = "first year engineering at Trinity in Dublin"
    assert is_grounded("The user is a first-year student at Trinity College Dublin.", said, set())
    assert not is_grounded("The user is a student at Oxford College.", said, set())
    assert not is_grounded("The user studies at the College.", said, set())


def test_a_job_or_a_nationality_after_i_am_is_no_name() -> None:
    assert user_names_in("now I am QA engineer at Volvo") == set()
    assert user_names_in("I'm UX lead designer at Grab") == set()
    assert user_names_in("I'm Polish, sorry for my english") == set()
    assert user_names_in("I am Kasia, 27") == {"kasia"}
    message = "I left Nokia 🙌 now I am QA engineer at Volvo"
    read = _read(["The user is now a QA engineer at Volvo.", "The user left Nokia."], message)
    assert ("The user is now a QA engineer at Volvo.", "job_title") in read
    assert not any(slot == "name" for _, slot in read)


def test_a_name_after_a_greeting_to_someone_is_the_users() -> None:
    statements = ["Dale is 45 years old."]
    assert opening_name("hey there. Dale, 45, I drive long haul", statements) == "dale"
    assert opening_name("hi all! Dale, 45", statements) == "dale"
    read = _read(["Dale drives long haul for Werner."], "hey there. Dale, 45, I drive for Werner")
    assert ("The user drives long haul for Werner.", "employer") in read


def test_clauses_with_their_i_left_out_are_the_users() -> None:
    message = "keto is over lol. going vegetarian instead"
    assert ("The user is going vegetarian instead.", "diet") in _read([], message)
    read = _read([], "been doing keto since Jan, my husband refuses to join me")
    assert ("The user has been doing keto since Jan.", "diet") in read
    assert not any("been a" in text for text, _ in _read([], "been a long week, ugh"))


def test_work_and_study_said_by_their_kind_have_their_slot() -> None:
    def slot(text: str) -> str | None:
        found = DEFAULT_SLOTS.slot_of(text, about_user=True)
        return found.name if found else None

    assert slot("The user started local delivery routes for Sysco.") == "employer"
    assert slot("The user got a paid research assistant gig at the City Planning dept.") == (
        "employer"
    )
    assert slot("The user got a place at DCU for computer science.") == "school"
    assert slot("The user is a first-year engineering student at Trinity.") == "school"
    assert slot("The user is doing a masters in urban planning at UofT.") == "school"
    assert slot("The user drives to Lisbon for work.") is None
    assert slot("The user has a shift at the bar tonight.") is None


def test_a_parent_asking_about_my_girl_asks_about_the_daughter() -> None:
    now = datetime.now(UTC)
    kayleigh = SubjectView(
        id="1", name="Kayleigh", relation="daughter", created_at=now, updated_at=now
    )
    sharon = SubjectView(id="2", name="Sharon", relation="ex-wife", created_at=now, updated_at=now)
    assert mentioned_in([kayleigh, sharon], "how old is my girl again?") == [kayleigh]
    assert mentioned_in([kayleigh, sharon], "where does my hubby work?") == []
    assert "my girl" in callers("Kayleigh (the user's daughter)")
    assert "my hubby" in callers("Chidi (the user's husband)")


def test_a_word_said_in_lower_case_with_no_tie_is_no_one() -> None:
    got = interpret(
        FactExtraction(facts=["Keto is officially over.", "Jess baked a cake."]),
        "keto is officially over 😂 jess baked a cake",
        [],
        DEFAULT_SLOTS,
    )
    assert [s.subject for s in got.statements] == [None, None]
    tied = interpret(
        FactExtraction(facts=["Jess is the user's roommate.", "Jess baked a cake."]),
        "my roommate jess baked a cake",
        [],
        DEFAULT_SLOTS,
    )
    assert {(s.subject.name if s.subject else None) for s in tied.statements} == {"Jess"}


def test_a_clause_carried_in_long_forms_is_not_quoted_again() -> None:
    message = "been doing keto since Jan, down 4kg already!!"
    facts = ["The user has been doing keto since January.", "The user has lost 4 kilograms."]
    assert [text for text, _ in _read(facts, message)] == facts
    assert 'The user said "down 4kg already".' in [text for text, _ in _read(facts[:1], message)]


def test_questions_about_work_and_study_in_other_words_ask_their_slots() -> None:
    assert DEFAULT_SLOTS.asked_in("who am I driving for nowadays?", about_user=True) == [
        "job_title",
        "employer",
    ]
    assert DEFAULT_SLOTS.asked_in("which uni am I at again lol", about_user=True) == ["school"]


def test_the_models_guesses_and_doubled_subjects_are_mended() -> None:
    message = "team lunch at a zi char place later, thinking black pepper crab"
    guesses = ["The user's friends are likely to be thinking about the zi char place."]
    assert not any("likely" in text for text, _ in _read(guesses, message))
    assert _read(["The user will probably go to Rome."], "I'll probably go to Rome") == [
        ("The user will probably go to Rome.", None)
    ]
    read = _read(["Emi misses Emi very much."], "they moved away, i miss Emi so much")
    assert "The user misses Emi very much." in [text for text, _ in read]


def test_relations_joined_by_and_and_pets_by_their_breed() -> None:
    assert relations_in("Mum of twins, my son Tobi and daughter Kemi, they just turned 9") == {
        "tobi": "son",
        "kemi": "daughter",
    }
    assert relations_in("I have a shiba inu named Hana") == {"hana": "dog"}
    assert relations_in("But I have shiba inu, Hana, she is good companion") == {"hana": "dog"}
    assert relations_in("I have a German shepherd called Rex") == {"rex": "dog"}
    assert relations_in("I have a car named Betsy") == {}


def test_a_language_or_nationality_is_nobody() -> None:
    got = interpret(
        FactExtraction(facts=["Japanese is his language."]),
        "Japanese is my language, my english is not so good",
        [],
        DEFAULT_SLOTS,
    )
    assert [s.subject for s in got.statements] == [None]


def test_a_statement_that_names_whom_a_clause_is_about_stays_the_users() -> None:
    read = _read(
        ["The user has a shiba inu named Hana."],
        "I live alone. But I have shiba inu, Hana, she is good companion",
    )
    assert ("The user has a shiba inu named Hana.", None) in read


def test_an_employer_slot_needs_the_employer() -> None:
    assert DEFAULT_SLOTS.slot_of("The user's employer requires a form.", about_user=True) is None
    found = DEFAULT_SLOTS.slot_of("The user's employer is Sysco.", about_user=True)
    assert found is not None and found.name == "employer"


def test_a_name_of_two_words_after_a_relation_is_one_name() -> None:
    assert relations_in("My mother-in-law Mama Bisi is staying with us") == {
        "mama bisi": "mother-in-law"
    }
    assert relations_in("my sister Ana I think is moving") == {"ana": "sister"}
    assert relations_in("my boss Tom Monday said no") == {"tom": "boss"}


def test_a_relation_said_the_other_way_round_must_be_said_too() -> None:
    message = "we renamed the cat to Nuvola, the kids insisted"
    assert not relation_grounded("The user's daughter is Nuvola.", message, {"nuvola": "cat"})
    assert relation_grounded("The user's sister is Ana.", "my sister Ana is here", {})
    assert relation_grounded("The user's partner is pregnant.", "my wife is pregnant", {})


def test_a_relatives_relative_is_the_users_only_when_the_user_says_so() -> None:
    message = "my brother Finn lives in Galway with his wife"
    assert not relation_grounded("Finn's wife is the user's partner.", message, {})
    assert relation_grounded(
        "Ana's brother is the user's boyfriend.", "my boyfriend is Ana's brother", {}
    )


def test_schools_by_name_and_foods_given_up_have_their_slots() -> None:
    def slot(text: str) -> str | None:
        found = DEFAULT_SLOTS.slot_of(text, about_user=True)
        return found.name if found else None

    assert slot("The user is a second-year student at the University of Leeds.") == "school"
    assert slot("The user is transferring to the University of Manchester next term.") == "school"
    assert slot("Tom is starting at the University of Porto in September.") == "school"
    assert slot("The user started at Cork University Hospital on Monday.") == "employer"
    assert slot("Ana starts at Google next week.") == "employer"
    assert slot("The user stopped eating meat last month.") == "diet"
    assert slot("The user gave up dairy.") == "diet"
    assert slot("The user is not eating much these days.") is None


def test_a_relation_said_the_other_way_round_is_said_in_the_usual_order() -> None:
    got = interpret(
        FactExtraction(facts=["The user's boyfriend is Sam."]),
        "my boyfriend is Sam",
        [],
        DEFAULT_SLOTS,
    )
    assert [(s.text, s.slot) for s in got.statements] == [
        ("Sam is the user's boyfriend.", "relation")
    ]


def test_a_clause_of_the_users_own_is_carried_only_by_the_users_statements() -> None:
    message = "keto is over lol. going vegetarian instead, and Wei Jie is joining this time"
    facts = ["Wei Jie's diet is vegetarian."]
    got = interpret(FactExtraction(facts=facts), message, [], DEFAULT_SLOTS)
    assert ("The user is going vegetarian instead.", "diet") in [
        (s.text, s.slot) for s in got.statements
    ]


def test_a_move_to_an_organisation_is_no_new_home() -> None:
    def slot(text: str) -> str | None:
        found = DEFAULT_SLOTS.slot_of(text, about_user=True)
        return found.name if found else None

    assert slot("The user moved from Colégio Positivo to Colégio Marista.") is None
    assert slot("The user moved from Google to the Acme Group.") is None
    assert slot("The user moved to Porto.") == "home_city"
    assert slot("The user moved to the Mission District.") == "home_city"
