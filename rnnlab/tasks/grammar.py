"""English-like prose from a small word grammar: the text of the character task's ``words`` source.

Sentences are drawn independently, ``BATCH`` at a time, each choice for the whole batch at once:

    statement  [Intro,] Clause [(, and | , but | , so | because | while) Clause].   (0.8)
    there      There is|was|will be a/an NP PP.                                      (0.1)
    question   Does|Did|Will Subject verb [Object] [PP]?                             (0.1)

    Clause   Subject Verb [Object] [adverb] [PP]        Object   NP | name | him/her/it
    Subject  NP | name | he/she/it                      PP       preposition (NP | name)
    NP       determiner [adjective] [adjective] noun    (a -> an before a vowel)

The verbs of a sentence share its tense: present (third person singular: every subject is one),
past, or future (will + base form); a transitive verb takes an object. A sentence starts with a
capital letter; the next follows after a space, or after a newline that ends the paragraph
(probability ``P_PARAGRAPH``, so about four sentences a paragraph). :func:`generate` draws batches
until it has ``length`` characters and cuts there, so a shorter text is a prefix of a longer one
drawn from the same generator state. About 0.3 s per million characters.
"""

import numpy as np

BATCH = 256            # sentences drawn together (~12k characters)
P_KIND = (0.8, 0.1, 0.1)          # statement, there, question
P_TENSE = (0.4, 0.45, 0.15)       # present, past, future
P_SUBJECT = (0.6, 0.25, 0.15)     # noun phrase, name, pronoun
P_OBJECT = (0.7, 0.2, 0.1)        # noun phrase, name, pronoun
P_INTRO, P_ADJECTIVE = 0.15, 0.35
P_ADVERB, P_PHRASE, P_SECOND_CLAUSE, P_PARAGRAPH = 0.2, 0.35, 0.3, 0.25


def _words(text: str) -> np.ndarray:
    return np.array(text.split(), dtype=object)


DETERMINERS = _words("the a this that my your his her our their every")
DETERMINER_WEIGHTS = np.r_[0.4, 0.25, np.full(9, 0.35 / 9)]
NOUNS = _words("""dog cat bird horse child teacher farmer doctor sailor king queen girl boy
    uncle owl river forest garden house city village road bridge island mountain window door
    table lamp book letter key apple bread ship song story storm stone coat box market""")
ADJECTIVES = _words("""old young small big quiet happy tired clever brave strange little green
    red dark bright cold warm gentle proud lonely careful busy kind wild golden heavy empty""")
VERBS = [  # (base, third person singular, past, transitive)
    ("see", "sees", "saw", True), ("find", "finds", "found", True),
    ("take", "takes", "took", True), ("make", "makes", "made", True),
    ("keep", "keeps", "kept", True), ("bring", "brings", "brought", True),
    ("read", "reads", "read", True), ("write", "writes", "wrote", True),
    ("hold", "holds", "held", True), ("follow", "follows", "followed", True),
    ("carry", "carries", "carried", True), ("watch", "watches", "watched", True),
    ("open", "opens", "opened", True), ("build", "builds", "built", True),
    ("paint", "paints", "painted", True), ("love", "loves", "loved", True),
    ("like", "likes", "liked", True), ("want", "wants", "wanted", True),
    ("visit", "visits", "visited", True), ("leave", "leaves", "left", True),
    ("lose", "loses", "lost", True), ("remember", "remembers", "remembered", True),
    ("walk", "walks", "walked", False), ("run", "runs", "ran", False),
    ("sleep", "sleeps", "slept", False), ("sing", "sings", "sang", False),
    ("wait", "waits", "waited", False), ("laugh", "laughs", "laughed", False),
    ("dance", "dances", "danced", False), ("arrive", "arrives", "arrived", False),
    ("fall", "falls", "fell", False), ("swim", "swims", "swam", False),
    ("rest", "rests", "rested", False), ("cry", "cries", "cried", False),
]
BASE, THIRD, PAST = (np.array(forms, dtype=object) for forms in list(zip(*VERBS))[:3])
TRANSITIVE = np.array([verb[3] for verb in VERBS])
FINITE = np.stack([THIRD, PAST, "will " + BASE])                       # (tense, verb)
AUXILIARIES = _words("does did will")                                   # questions, by tense
THERE = np.array(["there is ", "there was ", "there will be "], dtype=object)
ADVERBS = _words("quickly slowly quietly often again carefully today early late together alone")
INTROS = _words("yesterday later suddenly then sometimes tonight afterwards meanwhile once soon")
PREPOSITIONS = _words("in on near under behind beside across through into over past along "
                      "with without by from")
CONJUNCTIONS = np.array([", and ", ", but ", ", so ", " because ", " while "], dtype=object)
NAMES = _words("Anna Ben Clara David Emma Felix Grace Henry Ivy Jack Lucy Max Nora Oscar Rosa "
               "Sam Tom Zoe")
SUBJECT_PRONOUNS, OBJECT_PRONOUNS = _words("he she it"), _words("him her it")

_FORMS = [word for group in (DETERMINERS, NOUNS, ADJECTIVES, BASE, THIRD, PAST, AUXILIARIES,
                              ADVERBS, INTROS, PREPOSITIONS, NAMES, SUBJECT_PRONOUNS,
                              OBJECT_PRONOUNS, _words("an will there is was be"),
                              [c.strip(" ,") for c in CONJUNCTIONS]) for word in group]
WORDS = frozenset(word.lower() for word in _FORMS)   # every word the text can hold, lowercased
_STARTS = [*DETERMINERS, *NAMES, *SUBJECT_PRONOUNS, *AUXILIARIES, *INTROS, "there"]
ALPHABET = "".join(sorted(set("".join(_FORMS)) | {word[0].upper() for word in _STARTS}
                          | set(" \n,.?")))        # every character the text can hold, sorted
_VOWEL_NOUN, _VOWEL_ADJECTIVE = (np.array([word[0] in "aeiou" for word in group])
                                 for group in (NOUNS, ADJECTIVES))


def _optional(present: np.ndarray, text: np.ndarray) -> np.ndarray:
    """``text`` where ``present``, else the empty string (object arrays)."""
    return np.where(present, text, "").astype(object)


def _pick(rng: np.random.Generator, count: int, choices, weights) -> np.ndarray:
    """For each of ``count`` places, one of ``choices`` (a tuple of (count,) object arrays)."""
    kind = rng.choice(len(choices), size=count, p=weights)
    return np.choose(kind, choices).astype(object)


def _noun_phrases(rng: np.random.Generator, count: int, determiners=DETERMINERS,
                  weights=DETERMINER_WEIGHTS) -> np.ndarray:
    """``count`` noun phrases: determiner, up to two distinct adjectives, noun."""
    determiner = determiners[rng.choice(len(determiners), size=count, p=weights)]
    first = rng.integers(len(ADJECTIVES), size=count)
    second = (first + 1 + rng.integers(len(ADJECTIVES) - 1, size=count)) % len(ADJECTIVES)
    present = rng.random((2, count)) < P_ADJECTIVE
    present[1] &= present[0]
    noun = rng.integers(len(NOUNS), size=count)
    vowel = np.where(present[0], _VOWEL_ADJECTIVE[first], _VOWEL_NOUN[noun])  # the next word's
    determiner = np.where((determiner == "a") & vowel, "an", determiner).astype(object)
    return (determiner + " " + _optional(present[0], ADJECTIVES[first] + " ")
            + _optional(present[1], ADJECTIVES[second] + " ") + NOUNS[noun])


def _names_or_pronouns(rng: np.random.Generator, count: int, pronouns: np.ndarray, weights):
    """Noun phrases, names or ``pronouns``, one of the three with probabilities ``weights``."""
    phrases, names = _noun_phrases(rng, count), NAMES[rng.integers(len(NAMES), size=count)]
    return _pick(rng, count, (phrases, names, pronouns[rng.integers(len(pronouns), size=count)]),
                 weights)


def _phrases(rng: np.random.Generator, count: int) -> np.ndarray:
    """Prepositional phrases, each with a leading space: " near the old bridge"."""
    place = _pick(rng, count, (_noun_phrases(rng, count),
                               NAMES[rng.integers(len(NAMES), size=count)]), (0.85, 0.15))
    return " " + PREPOSITIONS[rng.integers(len(PREPOSITIONS), size=count)] + " " + place


def _objects(rng: np.random.Generator, count: int, verb: np.ndarray) -> np.ndarray:
    """An object (with a leading space) where the verb is transitive, else the empty string."""
    return _optional(TRANSITIVE[verb],
                     " " + _names_or_pronouns(rng, count, OBJECT_PRONOUNS, P_OBJECT))


def _clauses(rng: np.random.Generator, tense: np.ndarray) -> np.ndarray:
    """Subject, finite verb, [object], [adverb], [prepositional phrase]: one per tense entry."""
    count = len(tense)
    subject = _names_or_pronouns(rng, count, SUBJECT_PRONOUNS, P_SUBJECT)
    verb = rng.integers(len(VERBS), size=count)
    adverb = _optional(rng.random(count) < P_ADVERB,
                       " " + ADVERBS[rng.integers(len(ADVERBS), size=count)])
    return (subject + " " + FINITE[tense, verb] + _objects(rng, count, verb) + adverb
            + _optional(rng.random(count) < P_PHRASE, _phrases(rng, count)))


def _sentences(rng: np.random.Generator, count: int) -> str:
    """``count`` sentences, each followed by a space or a newline (a paragraph's end)."""
    tense = rng.choice(3, size=count, p=P_TENSE)
    intro = _optional(rng.random(count) < P_INTRO,
                      INTROS[rng.integers(len(INTROS), size=count)] + ", ")
    second = _optional(rng.random(count) < P_SECOND_CLAUSE,
                       CONJUNCTIONS[rng.integers(len(CONJUNCTIONS), size=count)]
                       + _clauses(rng, tense))
    statement = intro + _clauses(rng, tense) + second + "."
    there = (THERE[tense] + _noun_phrases(rng, count, np.array(["a"], dtype=object), [1.0])
             + _phrases(rng, count) + ".")
    verb = rng.integers(len(VERBS), size=count)
    question = (AUXILIARIES[tense] + " " + _names_or_pronouns(rng, count, SUBJECT_PRONOUNS,
                                                               P_SUBJECT)
                + " " + BASE[verb] + _objects(rng, count, verb)
                + _optional(rng.random(count) < P_PHRASE, _phrases(rng, count)) + "?")
    sentences = _pick(rng, count, (statement, there, question), P_KIND)
    ends = np.where(rng.random(count) < P_PARAGRAPH, "\n", " ")
    return "".join([sentence[0].upper() + sentence[1:] + end
                    for sentence, end in zip(sentences.tolist(), ends.tolist())])


def generate(length: int, rng: np.random.Generator) -> str:
    """``length`` characters of prose (see the module docstring), drawn from ``rng``."""
    pieces, total = [], 0
    while total < length:
        pieces.append(_sentences(rng, BATCH))
        total += len(pieces[-1])
    return "".join(pieces)[:length]
