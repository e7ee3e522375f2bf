"""Replies that respect what is known about the user's safety: allergies, diet, medication, health.

The user's *safety facts* are their current facts in the vocabulary's safety slots
(:meth:`~confidante.memory.slots.SlotVocabulary.safety`). They go into every reply prompt,
and the reply is checked before it is sent, whatever the model's size:

- a message *touches* a safety fact when it names what the fact names ("peanut butter
  cookies" and a peanut allergy), or when it is about what the fact's kind bears on: food and
  drink for diets and intolerances; food, drink and medicines for allergies (a drug allergy);
  medicines and alcohol for medications; food,
  drink, medicines and exercise for health conditions;
- a reply *heeds* a fact when it mentions it (its distinctive words: "peanut", "allerg..."),
  and an allergy only with a word of allergy or caution ("bee stings" alone does not);
- a reply to a question or request that touches a fact it does not heed gets a reminder of
  the fact appended ("Please keep in mind that you are allergic to peanuts.").

The check is lexical (cue words), so it errs on the side of reminding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from confidante.memory.ingest.statements import clauses
from confidante.memory.ingest.verbs import second_person_verb
from confidante.memory.subjects.names import is_relation_word, name_pattern

_WORDS = re.compile(r"[a-z0-9]+")
_FOOD = frozenset(
    """eat eating ate eaten food foods snack snacks meal meals dinner lunch breakfast brunch
    supper dessert desserts cook cooking bake baking recipe recipes dish dishes menu order
    restaurant takeaway takeout cafe bakery bite slice piece plate bowl portion serving taste
    try tasting drink drinks drinking sip cake cakes cookie cookies biscuit biscuits bread
    pastry pie chocolate candy sweets cheese cheeses milk cream butter yogurt egg eggs nut nuts
    peanut peanuts almond almonds cashew walnut sesame soy wheat gluten flour pasta pizza
    noodles rice curry soup salad sandwich burger sauce dressing satay pad thai sushi shrimp
    prawn prawns crab lobster fish seafood shellfish oyster oysters mussels meat beef pork
    chicken lamb bacon sausage ham steak tofu beans lentils fruit fruits banana apple grapefruit
    strawberries berries smoothie juice coffee tea latte wine beer cocktail alcohol booze
    spirits whisky vodka rum gin champagne prosecco rose rosé sangria baklava pavlova biryani
    kebab tacos burrito dumplings ramen pho falafel hummus brownie muffin icecream gelato
    cheesecake tiramisu fondue camembert brie feta mozzarella parmesan honey jam peanutbutter
    buffet barbecue bbq potluck picnic party feast bagel bagels croissant pancake pancakes
    waffle waffles toast cereal crackers porridge oats granola doughnut donut pesto marzipan
    nutella praline macaron macarons frangipane nougat muesli brittle korma salsa guacamole
    chips crisps popcorn pretzels milkshake eggnog custard mousse tart scone scones biscotti
    dosa jollof suya groundnut groundnuts mochi tempura gyoza kimchi paella risotto lasagna
    lasagne quiche omelette crepe crepes fries nachos quesadilla enchilada empanada samosa
    samosas naan roti paratha dal dhal lassi chai matcha boba kombucha soda cola sashimi
    ceviche tartare pate unpasteurised unpasteurized sake soju tequila cider margarita mojito
    spritz sugar sugary candy""".split()
)
_MEDICINE = frozenset(
    """medicine medicines medication pill pills tablet tablets painkiller painkillers ibuprofen
    aspirin paracetamol acetaminophen tylenol advil nurofen naproxen antihistamine antibiotic
    antibiotics amoxicillin supplement supplements vitamin vitamins herbal remedy dose
    alcohol wine beer drink drinks drinking cocktail grapefruit coffee caffeine
    st johns wort decongestant sudafed pseudoephedrine nyquil dayquil melatonin benadryl
    claritin zyrtec cetirizine loratadine codeine tramadol diclofenac voltaren ginkgo ginseng
    turmeric magnesium vaccine jab injection anaesthetic anesthetic antacid laxative
    syrup""".split()
)
_EXERCISE = frozenset(
    """run running jog jogging gym workout exercise lift lifting weights hike hiking climb
    climbing swim swimming sauna hot tub cycle cycling bike ride football soccer tennis yoga
    sport sports marathon training train sprint ski skiing dance dancing rollercoaster
    rollercoasters scuba diving bungee skydiving altitude fasting smoking vaping strobe
    strobes flashing rave""".split()
)
_CUES = {
    "allergies": _FOOD | _MEDICINE,  # an allergy to penicillin bears on amoxicillin
    "diet": _FOOD,
    "medications": _MEDICINE,
    "health_conditions": _FOOD | _MEDICINE | _EXERCISE,
}
_GENERIC = frozenset(
    """the user user's is are has have had a an to of and or with on in at for from by be been
    was were not no does do did very really also
    intolerance takes taking diet condition since after before about knows know knew said
    says told think thinks aware mentioned""".split()
)
_SECOND_PERSON = (
    (re.compile(r"^The user's\b"), "your"),
    (re.compile(r"^The user is\b"), "you are"),
    (re.compile(r"^The user has\b"), "you have"),
    (re.compile(r"^The user was\b"), "you were"),
    (re.compile(r"^The user\b"), "you"),
    (re.compile(r"\bthe user's\b"), "your"),
    (re.compile(r"\bthe user\b"), "you"),
)


def _stems(words: Sequence[str]) -> set[str]:
    """Seven-letter stems of singular words.

    "peanuts" is "peanut", "vegetarian" is not "vegetables"; allergy and intolerance words
    share "allerg" and "intole".
    """
    stems = set()
    for word in words:
        if word.startswith(("allerg", "intoler")):
            stems.add(word[:6])
        else:
            stems.add((word[:-1] if word.endswith("s") and len(word) > 3 else word)[:7])
    return stems


def distinctive(fact: str) -> set[str]:
    """The fact's own words a message or reply may name it by ("peanut", "allerg")."""
    words = [w for w in _WORDS.findall(fact.lower()) if len(w) > 2 and w not in _GENERIC]
    return _stems(words)


def touches(message: str, fact: dict[str, Any]) -> bool:
    """Whether a message bears on a safety fact (``{"text", "key"}``); see the module doc."""
    words = _WORDS.findall(message.lower())
    if _stems(words) & (distinctive(fact["text"]) - {"allerg", "intole"}):
        return True
    cues = _CUES.get(str(fact.get("key")), _FOOD | _MEDICINE)
    return bool(set(words) & cues)


_AFFIRMS = re.compile(
    r"^\W*(?:yes|yeah|yep|sure|of course|absolutely|definitely|certainly|go ahead|enjoy|"
    r"you can|you could|feel free)\b",
    re.I,
)


def heeds(reply: str, fact: dict[str, Any], message: str = "") -> bool:
    """Whether a reply mentions the fact (one of its distinctive words).

    A word of the fact the message said already ("peanut" in "Can I eat peanut butter
    cookies?") counts only in a reply that does not open by saying yes: "Yes, you can eat
    peanut butter cookies." echoes the question, "Careful: those contain peanuts." warns.
    """
    words = _WORDS.findall(reply.lower())
    named = _stems(words) & distinctive(fact["text"])
    if fact.get("key") == "allergies" and not _warns(reply, distinctive(fact["text"])):
        return False  # "protect yourself from bee stings" forgets that stings are the danger
    said = _stems(_WORDS.findall(message.lower()))
    return bool(named - said) or (bool(named) and not _AFFIRMS.match(reply))


def _warns(reply: str, allergy: set[str]) -> bool:
    """Whether a sentence of the reply names the allergy, or names the allergen with caution."""
    for sentence in re.split(r"(?<=[.!?])\s+", reply.lower()):
        words = _WORDS.findall(sentence)
        named = _stems(words) & allergy
        if "allerg" in named or (named and set(words) & _CAUTION):
            return True
    return False


#: Words of a reply that warns about an allergen it names ("careful: those contain peanuts").
_CAUTION = frozenset(
    """careful caution avoid avoiding contain contains containing warning warn risk risky
    unsafe safe safer not don't dont skip epipen anaphylaxis reaction react trigger""".split()
)


def second_person(fact: str) -> str:
    """Retell a fact to the user: "The user takes X." → "you take X"."""
    text = fact.strip().rstrip(".")
    verb = re.match(r"^The user ((?:\w+ly |also |still |now )?)(\w+)", text)
    if verb:
        text = f"you {verb.group(1)}{second_person_verb(verb.group(2))}{text[verb.end() :]}"
    for pattern, replacement in _SECOND_PERSON:
        text = pattern.sub(replacement, text)
    return re.sub(r"^(?:The|A|An|My|Your) ", lambda m: m.group(0).lower(), text)


def reminder(
    message: str, reply: str, facts: Sequence[dict[str, Any]], others: Iterable[str] = ()
) -> str:
    """The sentence to append to ``reply``, or "" when it heeds every fact the message touches.

    Only a message that asks something (a question or a request) is checked: "I'm going to
    a party tonight" needs no reminder, and a question about someone else ("what does Omar
    eat?", with Omar among ``others``, the names of the user's subjects) asks nothing of the
    user's own safety.
    """
    names = [name for name in others if name]
    asking = [(text, kind) for text, kind in clauses(message) if kind != "statement"]
    if all(kind == "question" and _of_someone_else(text, names) for text, kind in asking):
        return ""
    missed = [fact for fact in facts if touches(message, fact) and not heeds(reply, fact, message)]
    if not missed:
        return ""
    said = "; ".join(second_person(fact["text"]) for fact in missed[:3])
    return f"Please keep in mind that {said}."


_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i'd|i'll|i've|me|my|mine|we|we're|us|our|let's)\b", re.I)


def _of_someone_else(asking: str, names: Sequence[str]) -> bool:
    """Whether a question is about someone else, not the user.

    "what does Omar eat?" (Omar one of the user's ``names``), "can my dog eat grapes?", "can
    she have nuts?" are; "can I have a slice?", "is this Snickers bar ok?" (asked for
    oneself) and "what should I cook for Ana?" are not.
    """
    text = re.sub(
        r"\b(?:my|our)\s+([\w-]+(?:\s+[\w-]+)?)",
        lambda m: " someone " if _relation_in(m.group(1)) else m.group(0),
        asking,
        flags=re.I,
    )
    if _FIRST_PERSON.search(text):
        return False
    named = any(name_pattern(name).search(text) for name in names)
    return "someone" in text.split() or named or bool(_PRONOUN.search(text))


_PRONOUN = re.compile(r"\b(?:he|she|him|his|hers)\b|\bher\b(?! own)", re.I)


def _relation_in(words: str) -> bool:
    first = words.split()[0]
    return is_relation_word(words) or is_relation_word(first)
