"""The safety check: a reply ignoring a safety fact the message touches gets a reminder."""

from __future__ import annotations

import pytest

from confidante.graphs.safety import distinctive, heeds, reminder, second_person, touches

PEANUTS = {"text": "The user is allergic to peanuts.", "key": "allergies"}
VEGAN = {"text": "The user is vegan.", "key": "diet"}
ASTHMA = {"text": "The user has asthma.", "key": "health_conditions"}
THINNERS = {"text": "The user is on blood thinners.", "key": "medications"}


def test_a_reply_that_ignores_an_allergy_gets_a_reminder() -> None:
    warning = reminder("Can I eat peanut butter cookies?", "Yes!", [PEANUTS])
    assert warning == "Please keep in mind that you are allergic to peanuts."
    assert "peanut" in warning


@pytest.mark.parametrize(
    "reply",
    [
        "No, you are allergic to peanuts.",
        "Careful: those contain peanuts.",
        "Better not, given your allergy.",
    ],
)
def test_no_reminder_when_the_reply_mentions_the_fact(reply: str) -> None:
    assert heeds(reply, PEANUTS)
    assert reminder("Can I eat peanut butter cookies?", reply, [PEANUTS]) == ""


def test_a_yes_that_echoes_the_question_is_no_heed() -> None:
    reply = "Yes, you can eat peanut butter cookies."
    assert not heeds(reply, PEANUTS, "Can I eat peanut butter cookies?")
    assert reminder("Can I eat peanut butter cookies?", reply, [PEANUTS]) == (
        "Please keep in mind that you are allergic to peanuts."
    )
    assert heeds("Yes, but not with your allergy.", PEANUTS, "Can I eat peanut butter cookies?")


def test_no_reminder_for_statements() -> None:
    assert reminder("I ate peanut butter cookies yesterday.", "Nice!", [PEANUTS]) == ""
    assert reminder("I'm going to a party tonight, there will be cake.", "Fun!", [PEANUTS]) == ""


def test_no_reminder_for_a_question_about_someone_else() -> None:
    assert reminder("and what does Omar eat?", "Omar is vegan.", [PEANUTS], ["Omar"]) == ""
    # a capitalised word that is nobody the user knows is no one else
    assert reminder("is this Snickers bar ok to eat?", "Sure, enjoy!", [PEANUTS]) != ""
    assert reminder("are they safe to eat?", "Sure, enjoy!", [PEANUTS]) != ""
    assert reminder("can my dog eat peanut butter?", "Yes, in small amounts.", [PEANUTS]) == ""
    assert reminder("Should Omar and I get the satay?", "Sure!", [PEANUTS]) != ""
    assert reminder("Please order satay for Ana.", "Ordered.", [PEANUTS]) != ""
    assert reminder("is this satay ok?", "Looks tasty!", [PEANUTS]) != ""


def test_no_reminder_for_an_unrelated_question() -> None:
    assert not touches("What movie should I watch?", PEANUTS)
    assert reminder("What movie should I watch?", "Watch Alien.", [PEANUTS]) == ""
    assert reminder("Can I eat peanut butter cookies?", "Yes!", []) == ""


def test_a_request_about_food_touches_diet_and_allergy_facts() -> None:
    assert reminder("Recommend a dessert for tonight.", "Try tiramisu.", [VEGAN]) == (
        "Please keep in mind that you are vegan."
    )
    assert reminder("Recommend a dessert for tonight.", "Try tiramisu.", [PEANUTS, VEGAN]) == (
        "Please keep in mind that you are allergic to peanuts; you are vegan."
    )


def test_each_kind_of_fact_has_its_own_cues() -> None:
    assert reminder("Should I go for a run tonight?", "Sure!", [ASTHMA]) == (
        "Please keep in mind that you have asthma."
    )
    assert reminder("Should I go for a run tonight?", "Sure!", [PEANUTS, VEGAN]) == ""
    assert touches("Can I have a glass of wine?", THINNERS)
    assert not touches("Should I go for a run tonight?", THINNERS)
    assert touches("Is satay ok?", PEANUTS)  # food cue
    penicillin = {"text": "The user is allergic to penicillin.", "key": "allergies"}
    asked = "GP is suggesting amoxicillin for my ear infection. sound ok?"
    assert reminder(asked, "Amoxicillin is a common antibiotic.", [penicillin]) == (
        "Please keep in mind that you are allergic to penicillin."
    )


def test_cues_reach_common_dishes_medicines_and_risky_activities() -> None:
    epilepsy = {"text": "The user has epilepsy.", "key": "health_conditions"}
    assert touches("is a rave with strobes a bad idea for me?", epilepsy)
    assert touches("Can I get the pesto pasta?", PEANUTS)
    assert touches("Is Sudafed ok for my cold?", THINNERS)
    assert not touches("how fast can I get to Leeds?", epilepsy)


def test_only_missed_facts_are_reminded_and_at_most_three() -> None:
    facts = [PEANUTS, VEGAN, ASTHMA, {"text": "The user is coeliac.", "key": "health_conditions"}]
    warning = reminder("What should I cook for dinner?", "Pasta with pesto.", facts)
    assert warning == (
        "Please keep in mind that you are allergic to peanuts; you are vegan; you have asthma."
    )
    warning = reminder("What should I cook for dinner?", "A vegan curry.", [PEANUTS, VEGAN])
    assert warning == "Please keep in mind that you are allergic to peanuts."


def test_second_person_and_distinctive_words() -> None:
    assert second_person("The user is allergic to peanuts.") == "you are allergic to peanuts"
    assert second_person("The user's doctor banned alcohol.") == "your doctor banned alcohol"
    assert second_person("The user has asthma.") == "you have asthma"
    assert distinctive("The user is allergic to peanuts.") == {"allerg", "peanut"}
    assert distinctive("The user is lactose intolerant.") == {"lactose", "intole"}


def test_a_reply_about_vegetables_does_not_heed_a_vegetarian_diet() -> None:
    vegetarian = {"text": "The user is a vegetarian.", "key": "diet"}
    message = "Ammu is making mutton biryani for my birthday, what should I have on the side?"
    assert not heeds("You can have a side of rice or vegetables.", vegetarian)
    assert reminder(message, "You can have a side of rice or vegetables.", [vegetarian])
    assert heeds("As a vegetarian, skip the mutton.", vegetarian)


def test_second_person_agrees_the_verb() -> None:
    assert second_person("The user takes blood thinners.") == "you take blood thinners"


def test_a_medication_someone_gave_the_user_is_the_users_safety_fact() -> None:
    from confidante.memory.ingest.extraction import FactExtraction, interpret
    from confidante.memory.slots import DEFAULT_SLOTS

    message = "doctor put me on warfarin after the heart trouble in spring"
    said = ["The doctor prescribed warfarin to the user after the heart trouble."]
    (statement,) = interpret(FactExtraction(facts=said), message, [], DEFAULT_SLOTS).statements
    assert (statement.subject, statement.slot) == (None, "medications")
    fact = {"text": statement.text, "key": statement.slot}
    warning = reminder("Can I just take an aspirin?", "Yes, you can.", [fact])
    assert warning == (
        "Please keep in mind that the doctor prescribed warfarin to you after the heart trouble."
    )


def test_a_reply_saying_know_does_not_heed_a_fact_worded_with_knows() -> None:
    """A fact a model worded "knows about coeliac disease" is heeded by "coeliac", not "know"."""
    message = "thinking of grabbing a bagel before shift. plain or sesame, what do you reckon?"
    fact = {"text": "The user knows about coeliac disease.", "key": "health_conditions"}
    assert reminder(message, "I don't know what you mean by bagel.", [fact])
    assert not reminder(message, "With your coeliac disease, pick a gluten-free one.", [fact])


def test_naming_the_allergen_without_a_word_of_caution_does_not_heed_the_allergy() -> None:
    stings = [{"text": "The user is allergic to bee stings.", "key": "allergies"}]
    message = "my uncle keeps bees and wants me to help with the hives. what should I wear?"
    assert reminder(message, "Wear long sleeves to protect yourself from bee stings.", stings)
    assert not reminder(message, "With your bee sting allergy, bring your EpiPen.", stings)
    # a word of caution elsewhere in the reply does not make it about the allergen
    long = "Wear a hat to protect yourself from bee stings. Avoid loose shoes on the hill."
    assert reminder(message, long, stings)
