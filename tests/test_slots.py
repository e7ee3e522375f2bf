"""Slots: the closed vocabulary read off statements, and how slot values are written per subject.

The vocabulary tests are pure; the write tests run on every backend of the ``memory`` fixture.
"""

from __future__ import annotations

import pytest

from confidante.errors import ConfigurationError
from confidante.memory.items import MemoryItem
from confidante.memory.slots import DEFAULT_SLOTS, Slot, SlotVocabulary
from confidante.memory.store import Memory
from confidante.memory.subjects.directory import Mention

# (statement, about_user, expected slot): a positive and a negative example of every default slot
SLOT_CASES = [
    ("The user is currently in Hanoi.", True, "location"),
    ("The user is currently in a band.", True, None),
    # relation (others only)
    ("Ana is the user's sister.", False, "relation"),
    ("Ana is now the user's ex-partner.", False, "relation"),
    ("Ana is the user's sister.", True, None),
    ("Ana met the user's sister at work.", False, None),
    # name (the user only)
    ("The user's name is Amara.", True, "name"),
    ("The user goes by Sam.", True, "name"),
    ("The user's name is Amara.", False, None),
    ("Ana is called Annie by her friends.", False, None),
    # allergies
    ("The user is allergic to peanuts.", True, "allergies"),
    ("Ana has a shellfish allergy.", False, "allergies"),
    ("The user is allergic to penicillin.", True, "allergies"),  # before medications
    ("The user loves peanuts.", True, None),
    # medications
    ("The user takes insulin every morning.", True, "medications"),
    ("The user uses an inhaler.", True, "medications"),
    ("The user takes the bus every morning.", True, None),
    # health_conditions
    ("The user has asthma.", True, "health_conditions"),
    ("The user is lactose intolerant.", True, "health_conditions"),
    ("The user is pregnant.", True, "health_conditions"),
    ("The user has a bicycle.", True, None),
    # diet
    ("The user is vegan.", True, "diet"),
    ("The user went vegetarian last year.", True, "diet"),
    ("The user likes vegan restaurants.", True, None),
    # home_city
    ("The user lives in Lisbon.", True, "home_city"),
    ("The user moved to Porto.", True, "home_city"),
    ("The user moved into a tiny studio in Schwabing.", True, "home_city"),
    ("The user moved into a new role at work.", True, None),
    ("Ana lives in Berlin.", False, "home_city"),
    ("The user's sister is moving to Berlin in May.", True, None),
    ("The user visited Berlin in May.", True, None),
    ("Lena is getting married in June in Seville.", False, None),
    # hometown
    ("The user is originally from Porto.", True, "hometown"),
    ("The user grew up in Leeds.", True, "hometown"),
    ("The user flew in from Porto.", True, None),
    ("The user is in Buenos Aires.", True, "home_city"),
    ("The user is officially in Medellín.", True, "home_city"),
    ("The user is in London for a conference.", True, None),
    ("The user is now in Hue.", True, "location"),
    ("The user is in HR.", True, None),
    # job_title
    ("The user works as a nurse.", True, "job_title"),
    ("The user was promoted to team lead.", True, "job_title"),
    ("The user works hard.", True, None),
    ("The user is a backend engineer.", True, "job_title"),
    ("Keisha is now a head nurse.", False, "job_title"),
    ("The user is a big fan of jazz.", True, None),
    ("The user is a devoted cook's daughter.", True, None),
    # employer
    ("The user works at Google.", True, "employer"),
    ("The user joined Spotify.", True, "employer"),
    ("The user works from home.", True, None),
    # school
    ("The user studies at MIT.", True, "school"),
    ("The user likes to study.", True, None),
    # birthday
    ("The user's birthday is on May 3.", True, "birthday"),
    ("Ana was born on 4 July.", False, "birthday"),
    ("Hiro's birthday is on March 12.", False, "birthday"),
    ("The user is hosting the user's sister's birthday dinner.", True, None),
    ("The user's birthday party is on Saturday.", True, None),
    ("Lena is getting married in June in Seville.", True, None),
    # age
    ("The user is 34 years old.", True, "age"),
    ("The user turned 30.", True, "age"),
    ("The user bought 3 apples.", True, None),
    # relationship_status (the user only)
    ("The user is married.", True, "relationship_status"),
    ("The user got engaged.", True, "relationship_status"),
    ("Lena is married.", False, None),
    ("The user is a ceramicist.", True, "job_title"),
    # their own business is their employer
    ("The user is starting their own HR consultancy from home.", True, "employer"),
    ("The user went freelance.", True, "employer"),
    ("The user accepted an offer from Grab.", True, "employer"),
    ("The user accepted the invitation.", True, None),
    ("The user is relocating to Singapore.", True, "home_city"),
    ("The user is moving the couch to the garage.", True, None),
    ("The user owns their own car.", True, None),
    # languages
    ("The user speaks Spanish.", True, "languages"),
    ("The user is fluent in German.", True, "languages"),
    ("The user spoke to the manager.", True, None),
    # no slot at all
    ("The user likes jazz.", True, None),
    ("The user is visiting Berlin.", True, None),
]


@pytest.mark.parametrize(("statement", "about_user", "expected"), SLOT_CASES)
def test_slot_of_reads_the_slot_from_the_statement(
    statement: str, about_user: bool, expected: str | None
) -> None:
    slot = DEFAULT_SLOTS.slot_of(statement, about_user=about_user)
    assert (slot.name if slot else None) == expected


def test_every_default_slot_has_a_positive_and_a_negative_case() -> None:
    positives = {expected for _, _, expected in SLOT_CASES if expected}
    assert positives == {slot.name for slot in DEFAULT_SLOTS}
    assert len([case for case in SLOT_CASES if case[2] is None]) >= len(positives)


def test_default_multi_valued_and_safety_slots() -> None:
    assert DEFAULT_SLOTS.multi_valued() == {
        "allergies",
        "medications",
        "health_conditions",
        "languages",
    }
    assert DEFAULT_SLOTS.safety() == {"allergies", "medications", "health_conditions", "diet"}
    assert DEFAULT_SLOTS.get("relation") is not None and DEFAULT_SLOTS.get("relation").others_only
    assert DEFAULT_SLOTS.get(None) is None and DEFAULT_SLOTS.get("shoe_size") is None


def test_registering_a_custom_slot() -> None:
    vocabulary = SlotVocabulary()  # a copy of the defaults: DEFAULT_SLOTS stays untouched
    assert vocabulary.slot_of("The user wears shoe size 42.", about_user=True) is None
    vocabulary.register(Slot("shoe_size", r"\bshoe size\b", "their shoe size"))
    slot = vocabulary.slot_of("The user wears shoe size 42.", about_user=True)
    assert slot is not None and slot.name == "shoe_size"
    assert [s.name for s in vocabulary][-1] == "shoe_size"  # tried after the defaults
    vocabulary.register(Slot("pollen", r"\bhay fever\b", many=True, safety=True))
    assert "pollen" in vocabulary.multi_valued() and "pollen" in vocabulary.safety()
    assert DEFAULT_SLOTS.get("shoe_size") is None and DEFAULT_SLOTS.get("pollen") is None


def test_duplicate_and_malformed_slot_names_are_refused() -> None:
    vocabulary = SlotVocabulary()
    with pytest.raises(ConfigurationError, match="already has a slot 'home_city'"):
        vocabulary.register(Slot("home_city", r"\bhouse\b"))
    vocabulary.register(Slot("shoe_size", r"\bshoe size\b"))
    with pytest.raises(ConfigurationError, match="shoe_size"):
        vocabulary.register(Slot("shoe_size", r"\bfeet\b"))
    with pytest.raises(ConfigurationError, match="snake_case"):
        Slot("Shoe Size", r"\bshoe\b")
    with pytest.raises(ConfigurationError):
        SlotVocabulary([Slot("a", "x"), Slot("a", "y")])


def test_studying_medicine_is_a_school_not_a_medication() -> None:
    slot = DEFAULT_SLOTS.slot_of("The user studies medicine in Lisbon.", about_user=True)
    assert slot is not None and slot.name == "school"


def test_a_custom_slot_statement_with_a_number_is_not_an_age() -> None:
    vocabulary = SlotVocabulary()
    vocabulary.register(Slot("shoe_size", r"\bshoe size\b"))  # the module docstring's example
    slot = vocabulary.slot_of("The user's shoe size is 42.", about_user=True)
    assert slot is not None and slot.name == "shoe_size"


def test_the_name_of_the_users_band_is_not_the_users_name() -> None:
    assert DEFAULT_SLOTS.slot_of("The user's band is called Muse.", about_user=True) is None


# ----------------------------------------------------------------- slot values in a memory


def test_a_subjects_slot_does_not_supersede_the_users(memory: Memory) -> None:
    (ana,) = memory.resolve("alice", [Mention(name="Ana", relation="sister")])
    mine = memory.remember("alice", "The user lives in Lisbon.", key="home_city")
    hers = memory.remember("alice", "Ana lives in Berlin.", key="home_city", subject_id=ana.id)
    current = {item.id: item for item in memory.list_items("alice")}
    assert set(current) == {mine, hers}
    assert current[hers].subject_id == ana.id and current[mine].subject_id is None
    assert [hit.id for hit in memory.slot_values("alice", "home_city")] == [mine]
    assert [hit.id for hit in memory.slot_values("alice", "home_city", ana.id)] == [hers]


def test_a_second_value_of_a_slot_supersedes_the_first_with_history(memory: Memory) -> None:
    (ana,) = memory.resolve("alice", [Mention(name="Ana", relation="sister")])
    hers = memory.remember("alice", "Ana lives in Berlin.", key="home_city", subject_id=ana.id)
    old = memory.remember("alice", "The user lives in Lisbon.", key="home_city")
    new = memory.remember("alice", "The user lives in Porto.", key="home_city")
    assert new != old
    assert {item.text for item in memory.list_items("alice")} == {
        "Ana lives in Berlin.",
        "The user lives in Porto.",
    }
    everything = {item.id: item for item in memory.list_items("alice", include_history=True)}
    assert set(everything) == {hers, old, new}
    assert everything[old].valid_to is not None
    assert everything[new].valid_to is None and everything[hers].valid_to is None
    assert [entry["action"] for entry in memory.history("alice", old)] == ["add", "supersede"]
    # a new value for Ana supersedes hers, not the user's
    moved = memory.remember("alice", "Ana lives in Rome.", key="home_city", subject_id=ana.id)
    assert [h.id for h in memory.slot_values("alice", "home_city", ana.id)] == [moved]
    assert [h.id for h in memory.slot_values("alice", "home_city")] == [new]


def test_multi_valued_slots_accumulate(memory: Memory) -> None:
    first = memory.remember("alice", "The user is allergic to peanuts.", key="allergies")
    second = memory.remember("alice", "The user is allergic to shellfish.", key="allergies")
    again = memory.remember("alice", "The user is allergic to peanuts.", key="allergies")
    assert again == first
    values = memory.slot_values("alice", "allergies")
    assert {hit.id for hit in values} == {first, second}
    assert all(hit.valid_to is None for hit in memory.list_items("alice", include_history=True))
    # a single-valued slot in the same batch still supersedes
    ids = memory.remember_many(
        "alice",
        [
            MemoryItem(text="The user is vegetarian.", key="diet"),
            MemoryItem(text="The user is vegan.", key="diet"),
            MemoryItem(text="The user is allergic to kiwi.", key="allergies"),
        ],
    )
    assert [h.id for h in memory.slot_values("alice", "diet")] == [ids[1]]
    assert len(memory.slot_values("alice", "allergies")) == 3


def test_replaces_supersedes_the_listed_items_of_the_user_only(memory: Memory) -> None:
    bobs = memory.remember("bob", "Bob likes tea.")
    tea = memory.remember("alice", "The user drinks tea every morning.")
    kept = memory.remember("alice", "The user likes jazz.")
    (coffee,) = memory.remember_many(
        "alice",
        [MemoryItem(text="The user switched to coffee.", replaces=[tea, bobs, "not-an-id"])],
    )
    assert {item.id for item in memory.list_items("alice")} == {kept, coffee}
    (old,) = [i for i in memory.list_items("alice", include_history=True) if i.id == tea]
    assert old.valid_to is not None
    assert memory.history("alice", tea)[-1]["action"] == "supersede"
    (bob_item,) = memory.list_items("bob", include_history=True)
    assert bob_item.id == bobs and bob_item.valid_to is None
    assert [entry["action"] for entry in memory.history("bob", bobs)] == ["add"]


def test_a_custom_multi_valued_slot_accumulates_in_a_memory(memory: Memory) -> None:
    vocabulary = SlotVocabulary()
    vocabulary.register(Slot("instruments", r"\bplays\b", many=True))
    memory.slots = vocabulary
    guitar = memory.remember("alice", "The user plays guitar.", key="instruments")
    piano = memory.remember("alice", "The user plays piano.", key="instruments")
    assert {h.id for h in memory.slot_values("alice", "instruments")} == {guitar, piano}


def test_the_same_slot_text_about_two_subjects_is_two_items(memory: Memory) -> None:
    (ana,) = memory.resolve("alice", [Mention(name="Ana", relation="sister")])
    hers = memory.remember("alice", "Allergic to peanuts.", key="allergies", subject_id=ana.id)
    mine = memory.remember("alice", "Allergic to peanuts.", key="allergies")
    assert mine != hers
    assert [h.id for h in memory.slot_values("alice", "allergies")] == [mine]


def _slot(statement: str) -> str | None:
    found = DEFAULT_SLOTS.slot_of(statement, about_user=True)
    return found.name if found else None


def test_where_someone_is_right_now_is_its_own_slot() -> None:
    assert _slot("The user is currently in Hanoi.") == "location"
    assert _slot("The user made it to Luang Prabang.") == "location"
    assert _slot("The user lives in Leeds.") == "home_city"
    # not a place: no capitalised name after it
    assert _slot("The user is currently in a band.") is None
    assert DEFAULT_SLOTS.asked_in("where am I right now?", about_user=True) == ["location"]
