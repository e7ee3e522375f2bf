"""Replies about the user's own life use what is known, and speak to the user."""

from __future__ import annotations

from typing import Any

from confidante import Agent
from confidante.graphs.grounding import (
    UNKNOWN_REPLY,
    addressed,
    admits_not_knowing,
    asks_about_the_user,
    bears_on,
    invented,
    of_the_kind_asked,
    only_tells,
)
from confidante.graphs.named_questions import (
    NOT_SAID_EXACTLY,
    answers_from_known,
    asks_about_someone,
    callers,
    known_instead,
    knows_of_someone,
    loose_names,
    name_unfounded,
    unfounded,
)
from confidante.graphs.prompts import ASKING_RULE, TELLING_RULE, UNKNOWN_PROMPT, format_memories
from confidante.graphs.values import RecalledItem
from confidante.models.scripted import ScriptedChatModel
from confidante.models.scripted_rules import default_reply
from confidante.settings import Settings


def test_questions_about_the_user_are_told_apart_from_advice() -> None:
    assert asks_about_the_user("whats my ward manager called?")
    assert asks_about_the_user("Where do I live?")
    assert not asks_about_the_user("Can I eat peanut butter cookies?")
    assert not asks_about_the_user("What should I watch tonight?")
    assert not asks_about_the_user("I live in Porto.")
    assert not asks_about_the_user("Any books you'd recommend for my trip?")
    assert asks_about_the_user("remind me what hourly rate I charge?")
    assert not asks_about_the_user("what's a movie I could watch tonight?")
    assert not asks_about_the_user("what do you think I need for the trip?")


def test_invented_specifics_are_those_never_shown() -> None:
    shown = ["The user lives in Lisbon.", "Ana is the user's sister.", "The user is 34."]
    assert invented("Your ward manager is Dr. Smith.", shown) == {"Dr", "Smith"}
    # words, not letters: "dr" is in "children", "3" in "13"
    assert invented("It is Dr. Smith.", ["The user drives the children.", "13 cats."]) == {
        "Dr",
        "Smith",
    }
    assert invented("You have 3 cats.", ["The user has 13 cats."]) == {"3"}
    assert invented("You live in Lisbon, near your sister Ana.", shown) == set()
    assert invented("You are 34.", shown) == set()
    assert invented("You are 43.", shown) == {"43"}
    # a name that places a shown one is knowledge about it; a surname or a number is not
    assert invented("You're in Lisbon, Portugal.", shown) == set()
    assert invented("Your sister Ana Silva lives in Lisbon.", shown) == {"Silva"}
    assert invented("Your sister is Ana, 43.", shown) == {"43"}


def test_a_reply_about_the_user_is_retold_to_them() -> None:
    assert addressed("The user's boyfriend is Felix.") == "Your boyfriend is Felix."
    assert addressed("Yes, the user is still in a band.") == "Yes, you are still in a band."
    assert addressed("The user works at Shopify.") == "You work at Shopify."
    assert addressed("You live in Lisbon.") == "You live in Lisbon."


def test_a_question_bears_on_a_fact_by_its_words_or_its_slot() -> None:
    jazz = [{"text": "The user likes jazz.", "key": None}]
    assert not bears_on("what instrument do I play?", jazz)
    assert not bears_on("what's my dog's name?", [{"text": "Pixel is the user's cat."}])
    assert bears_on("how old am I again?", [{"text": "The user is 34.", "key": "age"}])
    assert bears_on("where do I work these days?", [{"text": "The user works at the library."}])
    assert bears_on("what instrument do I play?", [], summary="The user plays the cello.")


def test_a_question_that_names_a_kind_bears_on_facts_of_that_kind() -> None:
    pottery = [{"text": "The user signed up for a pottery class, Tuesday nights in Namba."}]
    assert bears_on("what hobby am I into these days?", pottery)
    boulders = [{"text": "The user boulders 3 times a week."}]
    assert bears_on("what do I do in my free time?", boulders)
    assert not bears_on("what hobby am I into?", [{"text": "The user lives in Osaka."}])
    assert not bears_on("what hobby am I into?", [])
    dad = [{"text": "The user's father is turning 60 on November 3.", "subject_id": "f"}]
    assert bears_on("when is my dad's birthday?", dad)
    # "new" is how the question asks, not what: Rachel's new husband is no boss
    husband = [{"text": "Rachel moved to Seattle with her new husband."}]
    assert not bears_on("what's my new boss's name?", husband)
    mustang = [{"text": "The user is restoring a 1967 Mustang in the garage."}]
    assert bears_on("what's my current project?", mustang)
    assert not bears_on("what's my current project?", [{"text": "The user has a cat."}])
    married = [{"text": "The user and Andrés are getting married in Cartagena next March."}]
    assert bears_on("where's my wedding again?", married)


def test_a_question_about_the_user_alone_is_not_answered_by_others_facts() -> None:
    ivan = {"text": "Ivan is allergic to shellfish.", "key": "allergies", "subject_id": "s1"}
    assert not bears_on("am I allergic to anything?", [ivan])
    assert bears_on("is my boyfriend allergic to anything?", [ivan])
    assert bears_on("what is Ivan allergic to?", [ivan])
    # "eat" asks about allergies and diet alike: a diet does not answer an allergy question
    vegan = {"text": "The user has gone fully vegan.", "key": "diet"}
    assert not bears_on("am I allergic to anything?", [ivan, vegan])
    # whom a fact is about counts: "who's my boyfriend?" bears on the ex-boyfriend's news
    split = {"text": "Felix and the user split up.", "subject_id": "s2"}
    assert not bears_on("who's my boyfriend?", [split])
    assert bears_on(
        "who's my boyfriend?", [{**split, "about": "Felix (the user's former boyfriend)"}]
    )


def test_a_made_up_answer_about_the_user_becomes_i_dont_know(settings: Settings) -> None:
    def inventive(payload: dict[str, Any]) -> Any:
        asked = str(payload["messages"][-1]["content"])
        if payload.get("response_format") is None and "ward manager" in asked:
            return "Your ward manager is Dr. Smith."
        return default_reply(payload)

    model = ScriptedChatModel(function=inventive)
    agent = Agent(user_id="seun", settings=settings, model=model)
    agent.turn("I work at Manchester Royal Infirmary.")
    result = agent.turn("What's my ward manager called?")
    assert result.reply == UNKNOWN_REPLY  # the model named someone it was never told of
    assert UNKNOWN_PROMPT in model.calls[-1]["messages"][0]["content"]  # nothing on wards
    result = agent.turn("Where do I work?")
    assert UNKNOWN_PROMPT not in model.calls[-1]["messages"][0]["content"]
    assert "Manchester Royal Infirmary" in result.reply
    agent.close()


def test_a_reply_that_says_you_hasnt_is_made_to_agree() -> None:
    assert addressed("I don't know because you hasn't told me.") == (
        "I don't know because you haven't told me."
    )
    assert addressed("You has a cat. The gift for you is ready.") == (
        "You have a cat. The gift for you is ready."
    )


def test_a_reply_spoken_as_the_user_is_retold_to_them() -> None:
    assert addressed("I'm 34 years old.") == "You're 34 years old."
    assert addressed("My dog's name is Rex.") == "Your dog's name is Rex."
    assert addressed("I'm sorry, I don't know.") == "I'm sorry, I don't know."
    assert addressed("I am an AI, I have no dog.") == "I am an AI, I have no dog."
    assert addressed("I'm not sure where you work.") == "I'm not sure where you work."


def test_a_question_about_a_slot_bears_on_the_slots_other_words() -> None:
    job = [{"text": "The user has a new job that takes all their evenings."}]
    assert bears_on("who do I work for?", job)
    assert not bears_on("who do I work for?", [{"text": "The user likes jazz."}])
    assert addressed("My apologies, I don't know.") == "My apologies, I don't know."


def test_news_of_a_slot_in_other_words_is_not_called_unknown(settings: Settings) -> None:
    """The employer ended ("left the bakery"); "I'm at the library" carries no job word."""
    model = ScriptedChatModel()
    agent = Agent(user_id="nora", settings=settings, model=model)
    old = agent.memory.remember("nora", "The user works at the bakery.", key="employer")
    agent.memory.remember("nora", "The user is at the library now.")
    agent.memory.remember("nora", "The user left the bakery.", replaces=[old])
    agent.turn("Who do I work for?")
    assert UNKNOWN_PROMPT not in model.calls[-1]["messages"][0]["content"]
    stranger = Agent(user_id="olga", settings=settings, model=model)  # never gave an employer
    stranger.memory.remember("olga", "The user is at the library now.")
    stranger.turn("Who do I work for?")
    assert UNKNOWN_PROMPT in model.calls[-1]["messages"][0]["content"]
    agent.close()
    stranger.close()


def test_a_confident_answer_when_nothing_known_bears_on_it_becomes_i_dont_know(
    settings: Settings,
) -> None:
    """The model names only what it was shown (the user's own name), but nothing answers."""

    def confident(payload: dict[str, Any]) -> Any:
        asked = str(payload["messages"][-1]["content"])
        if payload.get("response_format") is None and "dog" in asked:
            return "Your dog's name is Jamal."
        if payload.get("response_format") is None and "instrument" in asked:
            return "I'm not sure, you haven't told me about any instrument."
        return default_reply(payload)

    model = ScriptedChatModel(function=confident)
    agent = Agent(user_id="jamal", settings=settings, model=model)
    agent.turn("I'm Jamal, I fly for Delta.")
    assert agent.turn("What's my dog's name?").reply == UNKNOWN_REPLY
    # a reply that already admits it is left as the model said it
    said = agent.turn("What instrument do I play?").reply
    assert said == "I'm not sure, you haven't told me about any instrument."
    agent.close()


def test_replies_that_admit_not_knowing_are_told_apart() -> None:
    assert admits_not_knowing("I don't know what your dog is called.")
    assert admits_not_knowing("You haven't told me about a dog.")
    assert not admits_not_knowing("Your dog's name is Jamal.")
    assert not admits_not_knowing("You play the cello.")


def test_news_is_told_apart_from_questions_and_requests() -> None:
    assert only_tells("good news: started at Stripe on Monday!")
    assert only_tells("my sister Aiko lives in Kyoto, she's a nurse")
    assert not only_tells("I moved to Leeds. Where's a good gym?")
    assert not only_tells("remind me to call mum")
    assert not only_tells("")


def test_news_gets_a_reply_to_it_and_a_question_gets_answers_from_facts(
    settings: Settings,
) -> None:
    """A prompt that says "answer that you don't know" makes a small model say it to news."""
    model = ScriptedChatModel()
    agent = Agent(user_id="kenji", settings=settings, model=model)

    def reply_prompt() -> str:
        systems = [str(call["messages"][0]["content"]) for call in model.calls]
        return [text for text in systems if text.startswith("You are confidante")][-1]

    agent.turn("Good news, I started at Stripe on Monday!")
    assert TELLING_RULE in reply_prompt() and ASKING_RULE not in reply_prompt()
    agent.turn("Where do I work?")
    assert ASKING_RULE in reply_prompt() and TELLING_RULE not in reply_prompt()
    agent.close()


def test_a_question_in_the_present_bears_on_a_fact_in_the_past() -> None:
    grew = [{"text": "The user grew up in Cali.", "key": "hometown"}]
    assert bears_on("quiz time, I'm testing you: where did I grow up?", grew)
    assert not bears_on("what instrument do I play?", grew)


def test_facts_of_the_kind_asked_are_labeled_for_the_prompt() -> None:
    pottery = RecalledItem(id="1", text="The user signed up for a pottery class.", kind="fact")
    knee = RecalledItem(id="2", text="The user tore their meniscus.", kind="fact")
    jazz = RecalledItem(id="3", text="Ana loves jazz.", kind="fact", subject_id="s1")
    labeled = of_the_kind_asked("what hobby am I into these days?", [pottery, knee, jazz])
    assert [item.key for item in labeled] == ["hobby", None, None]
    assert "(hobby) The user signed up" in format_memories(labeled)
    assert of_the_kind_asked("where do I live?", [pottery]) == [pottery]


def test_a_made_up_answer_about_someone_named_becomes_i_dont_know(settings: Settings) -> None:
    def inventive(payload: dict[str, Any]) -> Any:
        asked = str(payload["messages"][-1]["content"])
        if payload.get("response_format") is None and "studying" in asked:
            return "Tavita is studying at the University of Toronto."
        if payload.get("response_format") is None and "from" in asked:
            return "Tavita is from Auckland."
        return default_reply(payload)

    model = ScriptedChatModel(function=inventive)
    agent = Agent(user_id="aisha", settings=settings, model=model)
    agent.turn("Our new roommate Tavita is a grad student from Auckland.")
    assert agent.turn("what's Tavita studying?").reply == UNKNOWN_REPLY
    assert agent.turn("where's Tavita from?").reply == "Tavita is from Auckland."
    assert not asks_about_someone("Tavita brought cake, should I have some?", ["Tavita"])
    agent.close()


def test_what_is_known_of_someone_named_bears_on_a_question_about_them_or_not() -> None:
    about = "Mattias (the user's partner)"
    partner = RecalledItem(
        id="1", text="Mattias is the user's partner.", kind="fact", subject_id="m", about=about
    )
    football = RecalledItem(
        id="2", text="Mattias plays football on Sundays.", kind="fact", subject_id="m", about=about
    )
    nurse = RecalledItem(
        id="3",
        text="Mattias is a nurse.",
        kind="fact",
        subject_id="m",
        about=about,
        key="job_title",
    )
    together = RecalledItem(id="4", text="The user and Mattias are flying to Oslo.", kind="fact")
    # the name is not what is asked: only his partner and his football are known
    assert not knows_of_someone("what does Mattias do for work?", [partner, football])
    assert knows_of_someone("what does Mattias do for work?", [partner, nurse])
    assert knows_of_someone("which sport does Mattias play?", [partner, football])
    assert knows_of_someone("where are Mattias and I flying?", [partner, together])
    assert knows_of_someone("who is Mattias?", [partner])
    assert knows_of_someone("how is Mattias doing?", [partner, football])
    movies = football.model_copy(update={"text": "Mattias loves horror movies."})
    assert knows_of_someone("what movie does Mattias like?", [partner, movies])
    assert knows_of_someone("what's Mattias like?", [partner, football])
    kids = RecalledItem(id="5", text="The user has two kids: Max is 9 and Lily is 6.", kind="fact")
    son = RecalledItem(
        id="6", text="Max is the user's kid.", kind="fact", subject_id="x", about="Max (kid)"
    )
    assert knows_of_someone("how old is Max?", [son, kids])
    assert not knows_of_someone("how old is Max?", [son])
    brewery = football.model_copy(update={"text": "Mattias runs a brewery in Porto."})
    assert knows_of_someone("and where's Mattias based again?", [partner, brewery])
    assert knows_of_someone("which city does Mattias work out of?", [partner, brewery])
    assert not knows_of_someone("and where's Mattias based again?", [partner, football])


def test_a_reply_about_someone_stands_when_it_says_what_is_known_of_them() -> None:
    reza = RecalledItem(
        id="1",
        text="Reza does the catering from Houston.",
        kind="fact",
        subject_id="r",
        about="Reza (the user's cousin)",
    )
    assert answers_from_known("Reza works out of Houston.", "where does Reza work?", [reza])
    assert not answers_from_known("Reza works as a chef.", "what does Reza do?", [reza])


def test_a_reply_that_only_restates_what_is_known_becomes_i_dont_know_with_it() -> None:
    about = "Mattias (the user's partner)"
    football = RecalledItem(
        id="2", text="Mattias plays football on Sundays", kind="fact", subject_id="m", about=about
    )
    asked = "what does Mattias do for work?"
    instead = known_instead("Mattias plays football on Sundays.", asked, [football])
    assert instead == f"{NOT_SAID_EXACTLY} What I do know: Mattias plays football on Sundays."
    assert admits_not_knowing(instead)
    assert known_instead("I'm not sure what Mattias does.", asked, [football]) is None
    assert known_instead("Mattias is a chef.", asked, [football]) is None


def test_someone_only_mentioned_in_a_fact_is_asked_about_like_a_subject() -> None:
    cian = RecalledItem(
        id="1",
        text="The user's brother Cian is marrying his fiancé Tiago in Lisbon next June.",
        kind="fact",
        subject_id="c",
        about="Cian (the user's brother)",
    )
    me = RecalledItem(id="2", text="The user's name is Siobhán.", kind="fact", key="name")
    home = RecalledItem(id="3", text="The user lives in Lisbon.", kind="fact", key="home_city")
    known = [cian, me, home]
    asked = "what does Tiago do for a living?"
    assert loose_names(asked, known) == ["Tiago"]
    assert not knows_of_someone(asked, known)  # only that he marries Cian
    reply = "Tiago is marrying Cian in Lisbon next June."
    assert known_instead(reply, asked, known) == f"{NOT_SAID_EXACTLY} What I do know: {cian.text}"
    assert loose_names("what's Tiago's job?", known) == ["Tiago"]
    # a place the items only put something in, the user's own name, a stranger: no one asked
    assert loose_names("Is Lisbon nice in May?", known) == []
    python = RecalledItem(id="4", text="The user is learning Python.", kind="fact")
    assert loose_names("what does Python do well?", [python]) == []
    assert loose_names("what does Siobhán do?", known) == []
    assert loose_names("what does Beyoncé sing?", known) == []


def test_my_someone_is_not_given_the_users_own_name() -> None:
    me = RecalledItem(id="1", text="The user's name is Ingrid.", kind="fact", key="name")
    coaching = RecalledItem(id="2", text="The user coaches the under-10s.", kind="fact")
    wife = RecalledItem(id="3", text="The user is married to Sofia.", kind="fact")
    known = [me, coaching, wife]
    asked = "what's my assistant coach called?"
    assert name_unfounded("Your assistant coach is Ingrid.", asked, known)
    assert name_unfounded("You're called you.", asked, known)
    assert unfounded("Your assistant coach is Ingrid.", ["Ingrid"], asked, known, False) == []
    # a name from what is known stands, and so does anything asked other than a name
    assert not name_unfounded("Your wife is Sofia.", "what's my wife's name?", known)
    assert not name_unfounded("Your doctor is Dr Okafor.", "who's my doctor?", known)
    assert not name_unfounded("You live at 12 Elm Street, Ingrid.", "what's my address?", known)
    assert not name_unfounded("Ingrid coaches the under-10s.", "what do I coach?", known)


def test_a_subject_called_by_relation_is_asked_about_like_one_named() -> None:
    label = "Yoni (the user's brother)"
    assert callers(label)[:3] == ["Yoni", "my brother", "our brother"]
    assert "my bro" in callers(label)  # the familiar word for the relation too
    assert callers("the user's mother")[:2] == ["my mother", "our mother"]
    assert "my mum" in callers("the user's mother")
    yoni = RecalledItem(
        id="1", text="Yoni is the user's brother.", kind="fact", subject_id="y", about=label
    )
    home = RecalledItem(id="2", text="The user lives in Haifa.", kind="fact", key="home_city")
    asked = "where does my brother live?"
    assert asks_about_someone(asked, callers(label))
    assert not knows_of_someone(asked, [yoni, home])
    # the user's city said of him is no answer; his own fact is
    assert not answers_from_known("Yoni lives in Haifa.", asked, [yoni, home])
    wife = RecalledItem(
        id="4",
        text="The user's wife moved here too.",
        kind="fact",
        subject_id="w",
        about="the user's wife",
    )
    assert not knows_of_someone("what's my wife's name?", [wife, yoni])
    assert knows_of_someone("what's my brother's name?", [wife, yoni])
    eilat = yoni.model_copy(update={"id": "3", "text": "Yoni moved to Eilat.", "key": None})
    assert knows_of_someone(asked, [yoni, eilat])


def test_a_question_about_someone_with_nothing_known_gets_i_dont_know(settings: Settings) -> None:
    def guessing(payload: dict[str, Any]) -> Any:
        if payload.get("response_format") is None and "work" in str(payload["messages"][-1]):
            return "Mattias works as a software engineer."
        return default_reply(payload)

    agent = Agent(user_id="lena", settings=settings, model=ScriptedChatModel(function=guessing))
    agent.turn("My partner Mattias plays football on Sundays.")
    assert agent.turn("what does Mattias do for work?").reply == UNKNOWN_REPLY
    agent.close()


def test_a_true_reply_that_is_no_answer_about_someone_admits_it(settings: Settings) -> None:
    def restating(payload: dict[str, Any]) -> Any:
        if payload.get("response_format") is None and "work" in str(payload["messages"][-1]):
            return "Mattias plays football on Sundays, and he's your partner."
        return default_reply(payload)

    agent = Agent(user_id="lena", settings=settings, model=ScriptedChatModel(function=restating))
    agent.turn("My partner Mattias plays football on Sundays.")
    reply = agent.turn("what does Mattias do for work?").reply
    assert reply.startswith(NOT_SAID_EXACTLY)
    assert "football" in reply and "the user" not in reply
    agent.close()
