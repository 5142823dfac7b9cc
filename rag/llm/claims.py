"""Does a generated sentence say what its source span says? Checks of meaning, not overlap.

A sentence that shares most of its words with a source sentence can still change one fact: another
name, number or date, a "not", the opposite verb, or another actor. ``conflict`` looks for each of
these between a claim and its supporting span (and the span's neighbouring sentences and the
article's title, for names), and returns the first one found, or None. The checks are plain rules,
so they can be read and tested; what they catch and miss is measured by ``bench/bench_claims.py``
(docs/trust.md).

- Names (capitalised words: people, organisations, places, nationalities) must occur in the span or
  the title, written the same way; a name of the neighbouring sentences is allowed only to complete
  one the span uses ("Lena" of "Lena Marsh" where the span says "Marsh"). Two names written side by
  side in the claim must stand side by side in the source ("Mark James" is not "Mark Delaney ... James").
- Numbers (digits and number words), months and days must occur in the span, as often as the claim
  uses them; and each number, date or name beside some of the words it stands beside in the claim.
- A name's role ("prime minister Tomas Varga") must stand near that name in the source.
- Pronouns: a claim's "she" where the span says "he" (counted, as opposites are), or a gender the
  span and its neighbours never use.
- Negation: the claim and the part of the span its words cover must hold as many negations.
- Opposites: the claim uses one side of a pair in ``OPPOSITE_FORMS`` more often than the span does,
  and the other side less often ("rose" where the span says "fell"); then the same for any antonyms
  WordNet knows (antonyms.py: "bought" where the span says "sold").
- Actor: for each verb of the claim that the source uses, the claim's subject (its names, and at least
  half of its other words) must be the source's subject of that verb: the clause's words before it,
  after "by" in a passive, the name after a speech verb ("said Andrew Burke"). So "Belmora welcomed"
  fails against "Arland's minister welcomed", and "the union boycotted" against "the union took part".
- A name in another's place: a name of the claim between the very words that hold another name in the
  span ("the judge in Gazprom granted" against "the judge in Texas granted ... barred Gazprom").
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from ..text import STOPWORDS, sentence_spans, stem
from . import antonyms

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|[;:,]", re.UNICODE)

NEGATIONS = frozenset("not no never nobody nothing none neither nor without cannot".split())

NUMBER_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14",
    "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19", "twenty": "20",
    "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80",
    "ninety": "90", "hundred": "100", "thousand": "1000", "million": "million", "billion": "billion",
    "trillion": "trillion", "first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th",
    "sixth": "6th", "seventh": "7th", "eighth": "8th", "ninth": "9th", "tenth": "10th", "half": "half",
    "dozen": "12", "double": "double", "twice": "twice", "triple": "triple",
}  # fmt: skip
CALENDAR = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)

# Pairs of words that say opposite things about the same event (their forms, stemmed below). A claim
# that uses one side more than the span does, where the span uses the other more, contradicts it.
# Written by reading news verbs; bench/bench_claims.py measures what pairs outside this list get through.
OPPOSITE_FORMS = [
    ("rise rises rose risen rising", "fall falls fell fallen falling"),
    ("increase increases increased increasing", "decrease decreases decreased decreasing cut cuts cutting"),
    ("raise raises raised raising", "lower lowers lowered lowering"),
    ("win wins won winning victory", "lose loses lost losing defeat"),
    ("gain gains gained", "loss losses lose loses lost"),
    ("approve approves approved approval accept accepts accepted", "reject rejects rejected rejection"),
    ("agree agrees agreed accept accepts accepted", "refuse refuses refused refusal disagree disagreed"),
    ("support supports supported back backs backed", "oppose opposes opposed opposition"),
    ("welcome welcomes welcomed praise praises praised",
     "criticise criticises criticised criticize criticizes criticized condemn condemns condemned"),
    ("confirm confirms confirmed admit admits admitted", "deny denies denied"),
    ("boycott boycotts boycotted boycotting", "part attend attends attended join joins joined participate "
     "participates participated"),
    ("open opens opened opening", "close closes closed closing shut shuts"),
    ("allow allows allowed permit permits permitted lift lifts lifted", "ban bans banned forbid forbids "
     "forbade prohibit prohibits prohibited impose imposes imposed"),
    ("acquit acquits acquitted", "convict convicts convicted"),
    ("release releases released free freed", "arrest arrests arrested detain detains detained jail jailed"),
    ("hire hires hired appoint appoints appointed", "fire fires fired sack sacks sacked dismiss dismissed"),
    ("expand expands expanded grow grows grew growth", "shrink shrinks shrank contract contracted"),
    ("higher more larger bigger stronger", "lower less fewer smaller weaker"),
    ("before earlier", "after later"),
    ("profit profits surplus", "loss losses deficit"),
    ("succeed succeeds succeeded success pass passed", "fail fails failed failure"),
    ("start starts started begin begins began launch launched", "end ends ended stop stops stopped halt halted "
     "scrap scrapped cancel cancelled canceled"),
    ("resume resumes resumed continue continues continued", "suspend suspends suspended"),
    ("stay stays stayed remain remains remained", "leave leaves left quit quits"),
    ("guilty", "innocent"),
    ("legal", "illegal"),
]


@lru_cache(maxsize=1)
def _opposites() -> list[tuple[frozenset[str], frozenset[str]]]:
    return [(frozenset(stem(w) for w in a.split()), frozenset(stem(w) for w in b.split())) for a, b in OPPOSITE_FORMS]


# Words that name a role, for "prime minister Tomas Varga": the role's words must stand near the name.
ROLES = frozenset(
    "minister president secretary chancellor mayor governor chief director spokesman spokeswoman spokesperson "
    "leader chairman chairwoman chair head ambassador general judge senator captain coach manager ceo king queen "
    "prince princess pope bishop commissioner premier officer editor founder owner boss presenter champion "
    "striker goalkeeper midfielder defender winger chef actor actress singer author writer producer "
    "mp mep deputy inspector superintendent sergeant constable prosecutor lawyer attorney".split()
)
# Where the subject of a clause starts: the claim's actor is looked for after the last of these before the verb.
_CLAUSE = frozenset(";:".split() + "while whereas but although though because".split())
_AUXILIARIES = frozenset(
    "will would can could may might must shall should has have had is are was were be been being did does do "
    "also now still already just then".split()
)
_IRREGULAR = frozenset(
    "said says say told tells took takes won wins lost loses met meets made makes gave gives went goes came "
    "comes became becomes left leaves led leads held holds paid pays sold sells bought buys found finds saw "
    "sees sent sends spent spends set sets put puts cut cuts hit hits beat beats brought brings built builds "
    "chose chooses fell falls rose rises grew grows kept keeps knew knows ran runs stood stands struck strikes "
    "wrote writes began begins broke breaks drew draws fought fights flew flies forgot froze hid hung lay lent "
    "meant rang sang sank shot shut slept spoke swore threw understood wore withdrew".split()
)
_PASSIVE = frozenset("is are was were been being be".split())
_GENDER = ({"he", "him", "his", "himself"}, {"she", "her", "hers", "herself"})


@dataclass(frozen=True)
class Conflict:
    """Why a claim does not say what its span says: ``kind`` is one of name, number, role, pronoun,
    negation, opposite, actor; ``detail`` names the words."""

    kind: str
    detail: str


@dataclass(frozen=True)
class _Token:
    text: str  # as written
    low: str  # lower case, without a possessive 's
    stem: str
    name: bool  # capitalised, not a stop word, and not a common word that only opens a sentence
    first: bool  # opens its sentence (its capital says nothing)

    @property
    def form(self) -> str:
        """As written, without a possessive: how a name must be matched."""
        return re.sub(r"['’]s$", "", self.text)


# Capitalised only because they open a sentence: never taken for names there.
_COMMON_OPENERS = frozenset(
    "officials police people experts critics analysts residents witnesses ministers researchers scientists "
    "campaigners investors shares prices sales however meanwhile yesterday today earlier later last next "
    "under despite although even many some several most".split()
)
_SPEECH = frozenset("said says told tells added adds insisted warned explained argued claimed stated".split())


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    for match in _TOKEN.finditer(text):
        word = match.group().replace("’", "'")
        low = word.lower()
        if low.endswith("'s"):
            low = low[:-2]
        first = not out or out[-1].text in ";:" or bool(re.search(r"[.!?\n]\W*$", text[: match.start()][-3:]))
        common = low in STOPWORDS or (first and low in _COMMON_OPENERS)
        name = word[:1].isupper() and not common and low.isalpha()
        out.append(_Token(word, low, stem(low.split("'")[0]) if low[:1].isalpha() else low, name, first))
    return out


@lru_cache(maxsize=4096)
def _cached_tokens(text: str) -> tuple[_Token, ...]:
    return tuple(_tokens(text))


def _numbers(text: str) -> Counter[str]:
    """Numbers as written in digits or words ("1,200" and "1200" are one number), with their counts."""
    found: Counter[str] = Counter(n.replace(",", "") for n in re.findall(r"\d+(?:[.,]\d+)*", text))
    found.update(NUMBER_WORDS[t.low] for t in _cached_tokens(text) if t.low in NUMBER_WORDS)
    return found


_WORDS_AND_NUMBERS = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+", re.UNICODE)


def _misplaced(claim: str, span: str, reach: int = 4) -> tuple[str, str]:
    """A number, date or name of the claim that the span states only about something else: none of the
    claim's words beside it (up to three content words, numbers or names each side) stands within ``reach``
    words of it in the span, twice that for names ("formed in 1972" against "formed in 1971 … 1972's
    Virginia Plain"; "telling Blair members" against "telling Labour members … Mr Blair's leadership").
    Returns (kind, word), or ("", "")."""

    def words(text: str) -> list[str]:
        return [NUMBER_WORDS.get(w.lower(), w.replace(",", "")) for w in _WORDS_AND_NUMBERS.findall(text)]

    def kind(i: int, w: str) -> str:
        if w[:1].isdigit():
            return "number"
        if w.lower() in CALENDAR or (i > 0 and w[:1].isupper() and w.lower() not in STOPWORDS):
            return "name"
        return ""

    def key(w: str) -> str:
        return w if w[:1].isdigit() else stem(w.lower())

    c, s = words(claim), words(span)
    meaningful = [i for i, w in enumerate(c) if w[:1].isdigit() or w.lower() not in STOPWORDS]
    for n, i in enumerate(meaningful):
        what = kind(i, c[i])
        if not what:
            continue
        near = {key(c[j]) for j in meaningful[max(0, n - 3) : n] + meaningful[n + 1 : n + 4]}
        places = [j for j, x in enumerate(s) if x == c[i]]
        wide = reach if what == "number" or c[i].lower() in CALENDAR else 2 * reach  # names: paraphrase moves them
        if near and places and not any(
            key(x) in near for j in places for x in s[max(0, j - wide) : j + wide + 1] if x != c[i]
        ):
            return what, c[i]
    return "", ""


def _negations(tokens: Sequence[_Token]) -> int:
    return sum(1 for t in tokens if t.low in NEGATIONS or t.low.endswith("n't"))


def _is_verb(tokens: Sequence[_Token], i: int) -> bool:
    """A verb by its look: a common irregular form, an -ed word, or a word after an auxiliary."""
    t = tokens[i]
    if i == 0 or t.name or not t.low.isalpha():
        return False
    if t.low in _IRREGULAR or t.low in _SPEECH or (len(t.low) > 4 and t.low.endswith("ed")):
        return True
    return tokens[i - 1].low in _AUXILIARIES and t.low not in _AUXILIARIES | NEGATIONS | STOPWORDS


def _content(tokens: Sequence[_Token]) -> set[str]:
    return {t.stem for t in tokens if t.low.isalnum() and t.low not in STOPWORDS and t.low not in _AUXILIARIES}


@dataclass(frozen=True)
class _Actor:
    names: frozenset[str]
    words: frozenset[str]  # content stems, names included, adverbs (-ly) left out

    def within(self, other: _Actor) -> bool:
        """The same subject: its names in the other (one shared name is enough: "Jeffrey MacDonald" is the
        source's "MacDonald"), and at least half of its words."""
        same = self.names <= other.names or bool(self.names & other.names)
        words = self.words - (self.names - other.names) if same else self.words
        return same and len(words & other.words) * 2 >= len(words)


def _actor_of(tokens: Sequence[_Token]) -> _Actor:
    kept = [t for t in tokens if not t.low.endswith("ly")]
    return _Actor(frozenset(t.low for t in kept if t.name), frozenset(_content(kept)))


def _actor(tokens: Sequence[_Token], verb: int, narrow: bool = True) -> _Actor:
    """The subject of the verb at ``verb``: after "by" in a passive, the name after a speech verb, else
    the clause's words before the verb (for a speech verb, narrowly those after the last comma: "…, officials
    said"; a source's subject is taken broadly, appositions included: "Belmora's premier, Tomas Varga, said")."""
    after = list(tokens[verb + 1 : verb + 8])
    cut = next((i for i, t in enumerate(after) if t.text in ",;:" or t.low in _CLAUSE), len(after))
    after = after[:cut]
    if verb >= 1 and tokens[verb - 1].low in _PASSIVE | {"not"} and after and after[0].low == "by":
        return _actor_of(after[1:])
    if tokens[verb].low in _SPEECH and after and (after[0].name or (len(after) > 1 and after[1].name)):
        return _actor_of(after)
    start = max(0, verb - 10)
    ends = ";:," if narrow and tokens[verb].low in _SPEECH else ";:"
    for i in range(verb - 1, start - 1, -1):
        if tokens[i].low in _CLAUSE or tokens[i].text in ends:
            start = i + 1
            break
    return _actor_of(tokens[start:verb])


def _positions(tokens: Sequence[_Token], verb_stem: str) -> list[int]:
    return [i for i, t in enumerate(tokens) if t.stem == verb_stem]


def _runs(tokens: Sequence[_Token], roles: bool = False) -> list[list[_Token]]:
    """Names written side by side ("Lena Marsh", "Bank"); role words ("Minister") only with ``roles``."""
    runs: list[list[_Token]] = []
    for i, t in enumerate(tokens):
        if t.name and (roles or t.low not in ROLES):
            if runs and i > 0 and runs[-1][-1] is tokens[i - 1]:
                runs[-1].append(t)
            else:
                runs.append([t])
    return runs


def _slots(tokens: Sequence[_Token]) -> dict[tuple[str, str], set[tuple[str, ...]]]:
    """Each name (role words included), as written, by the words just before and after it: ("in",
    "granted") -> {("Texas",)} for "judge in Texas granted"."""
    slots: dict[tuple[str, str], set[tuple[str, ...]]] = {}
    start = 0
    for end in range(1, len(tokens)):
        if not tokens[end - 1].name:
            start = end
        elif not tokens[end].name and start > 0:  # a name ran from start to end - 1
            slots.setdefault((tokens[start - 1].low, tokens[end].low), set()).add(
                tuple(t.form for t in tokens[start:end])
            )
    return slots


def _swapped_name(claim: Sequence[_Token], source: Sequence[_Token]) -> str:
    """A name of the claim standing between the very words that hold another name in the source, and never
    this one ("the judge in Gazprom granted" against "the judge in Texas granted ... barred Gazprom"): a
    name moved into another's place, which the name and placement checks let through because both names
    are in the span. Names sharing a word ("Thomas Murphy", "Thomas S. Murphy") are one name. Returns the
    claim's name, or ""."""
    theirs = _slots(source)
    for place, names in _slots(claim).items():
        there = theirs.get(place, set())
        for name in names - there:
            if any(not {w.lower() for w in name} & {w.lower() for w in other} for other in there):
                return " ".join(name)
    return ""


def _written(tokens: Sequence[_Token]) -> set[str]:
    """What a claim's name matches: a word as written (a sentence's first word also in lower case), or the
    stem of a capitalised word, marked with "~" ("Catholics" matches "Catholic")."""
    forms = {t.form for t in tokens}
    forms |= {t.low for t in tokens if t.first}
    forms |= {"~" + t.stem for t in tokens if t.form[:1].isupper()}
    return forms


def _found(t: _Token, forms: set[str]) -> bool:
    return t.form in forms or "~" + t.stem in forms


def _initial(t: _Token) -> bool:
    return len(t.form) == 1 and t.form.isupper()


def _pairs(tokens: Sequence[_Token]) -> set[tuple[str, str]]:
    """Words side by side, initials left out ("Thomas S. Murphy" holds "Thomas Murphy")."""
    return {(a.low, b.low) for a, b in itertools.pairwise([t for t in tokens if not _initial(t)])}


def _roles(tokens: Sequence[_Token]) -> list[tuple[str, list[str]]]:
    """(name, its role words) for each name written right after a role: "foreign minister Lena Marsh"."""
    found = []
    for i, t in enumerate(tokens):
        if not t.name or (i > 0 and tokens[i - 1].name):
            continue
        j = i - 1
        if j >= 0 and tokens[j].text == ",":
            j -= 1
        run: list[str] = []
        while (j >= 0 and len(run) < 3 and not tokens[j].name and tokens[j].low.isalpha()
               and tokens[j].low not in STOPWORDS and not _is_verb(tokens, j)):
            run.insert(0, tokens[j].low)
            j -= 1
        if run and run[-1] in ROLES:
            found.append((t.low, run))
    return found


def _near(tokens: Sequence[_Token], name: str, words: Sequence[str], reach: int = 5) -> bool:
    for i, t in enumerate(tokens):
        if t.low == name:
            window = {x.low for x in tokens[max(0, i - reach) : i + reach + 1]}
            if all(w in window for w in words):
                return True
    return False


def _covered(claim: Sequence[_Token], source: Sequence[_Token]) -> Sequence[_Token]:
    """The part of ``source`` the claim's words stand for: from its first to its last content word of the
    claim, widened by as many tokens as the claim has before its first and after its last content word
    ("…, with 40% saying they did not." keeps its "not")."""
    wanted = _content(claim)
    mine = [i for i, t in enumerate(claim) if t.stem in wanted]
    if not mine:
        return source
    first, last = claim[mine[0]].stem, claim[mine[-1]].stem
    start = next((i for i, t in enumerate(source) if t.stem == first), None)
    if start is None:
        return source
    end = next((i for i in range(start, len(source)) if source[i].stem == last), None)
    if end is None:  # the claim puts its words in another order: the whole sentence
        return source
    return source[max(0, start - mine[0] - 1) : end + len(claim) - mine[-1] + 1]


def _opposite(claim: Sequence[_Token], source: Sequence[_Token]) -> str:
    """A side of an opposite pair the claim uses more than the source does while the source uses the other
    side more than the claim ("rose" where the source says "fell"), as "claim word/source word"; or "".
    The pairs: ``OPPOSITE_FORMS``, then WordNet's antonyms (``antonyms.opposed``) between such words."""
    mine, theirs = Counter(t.stem for t in claim), Counter(t.stem for t in source)
    for a, b in _opposites():
        for said, other in ((a, b), (b, a)):
            more = sum(mine[w] for w in said) > sum(theirs[w] for w in said)
            instead = sum(theirs[w] for w in other) > sum(mine[w] for w in other)
            if more and instead:
                return f"{min(w for w in said if mine[w])}/{min(w for w in other if theirs[w])}"
    said = {w for w in _plain_words(claim) if mine[stem(w)] > theirs[stem(w)]}
    other = {w for w in _plain_words(source) if theirs[stem(w)] > mine[stem(w)]}
    for a, b in itertools.product(sorted(said), sorted(other)):
        if antonyms.opposed(a, b):
            return f"{a}/{b}"
    return ""


_AGE = frozenset("year years month months week weeks day days".split())


def _plain_words(tokens: Sequence[_Token]) -> list[str]:
    """Lower-case words that are neither names nor stop words, without the "old" of an age ("a
    5-year-old", which says nothing against "young")."""
    return [
        t.low
        for i, t in enumerate(tokens)
        if not t.name and t.low not in STOPWORDS and not (t.low == "old" and i and tokens[i - 1].low in _AGE)
    ]


def closest_sentence(claim: str, span: str) -> str:
    """The sentence of ``span`` that shares most content words with the claim (a span may be two)."""
    sentences = [span[s:e] for s, e in sentence_spans(span)] or [span]
    wanted = _content(_cached_tokens(claim))
    return max(sentences, key=lambda s: len(wanted & _content(_cached_tokens(s))))


def conflict(claim: str, span: str, context: str = "", title: str = "") -> Conflict | None:
    """The first fact of ``claim`` that ``span`` (amid ``context``: the span with its neighbouring
    sentences; under ``title``) does not support, or None."""
    c = _cached_tokens(claim)
    s = _cached_tokens(span)
    around = _cached_tokens(context or span)
    heading = _cached_tokens(title)
    in_span, in_title, in_context = _written(s), _written(heading), _written(around)
    for run in _runs(c, roles=True):
        anchored = any(_found(t, in_span) for t in run)
        for t in run:
            here = _found(t, in_span) or _found(t, in_title)
            if t.low in CALENDAR and t.form not in in_span:
                return Conflict("name", t.form)
            if not here and not (anchored and _found(t, in_context)):
                return Conflict("name", t.form)
    source_pairs = _pairs(around) | _pairs(heading)
    for run in _runs(c):
        for a, b in itertools.pairwise([t for t in run if not _initial(t)]):
            if (a.low, b.low) not in source_pairs:
                return Conflict("name", f"{a.form} {b.form}")
    missing = _numbers(claim) - _numbers(span)
    if missing:
        return Conflict("number", sorted(missing)[0])
    what, word = _misplaced(claim, span)
    if what:
        return Conflict(what, word)
    for name, role in _roles(c):
        if not _near(around, name, role) and not _near(heading, name, role):
            return Conflict("role", f"{' '.join(role)} {name}")
    mine = Counter(t.low.split("'")[0] for t in c)
    theirs = Counter(t.low.split("'")[0] for t in s)
    nearby = {t.low.split("'")[0] for t in around}
    for gender, other in (_GENDER, _GENDER[::-1]):
        used = sum(mine[w] for w in gender)
        if not used:
            continue
        swapped = used > sum(theirs[w] for w in gender) and sum(theirs[w] for w in other) > sum(mine[w] for w in other)
        if swapped or not (gender & set(theirs) or gender & nearby):
            return Conflict("pronoun", min(w for w in gender if mine[w]))
    sentence = _cached_tokens(closest_sentence(claim, span))
    if _negations(c) != _negations(_covered(c, sentence)):
        return Conflict("negation", "not" if _negations(c) else "(affirmed)")
    opposite = _opposite(c, sentence)
    if opposite:
        return Conflict("opposite", opposite)
    for verb in (i for i in range(len(c)) if _is_verb(c, i)):
        actor = _actor(c, verb)
        used = c[verb].stem
        sources = _sentences_with(used, span, context)
        doers = [_actor(x, p, narrow=False) for x in sources for p in _positions(x, used) if _is_verb(x, p)]
        if not actor.words or not doers or any(actor.within(doer) for doer in doers):
            continue
        if not any(d.words for d in doers):
            continue  # the source's subject is a pronoun ("he said"): who it is cannot be told here
        # Only where it can be told: the claim's subject is another participant of the source (a word of the
        # sentence, a name of the neighbouring sentences or the title), not a word the source never uses.
        elsewhere = set().union(*(_content(x) for x in sources)) | {t.low for x in (*sources, around, heading)
                                                                    for t in x if t.name}
        differ = (actor.words - set().union(*(d.words for d in doers))) | (
            actor.names - set().union(*(d.names for d in doers)))
        if differ <= elsewhere:
            return Conflict("actor", f"{' '.join(sorted(actor.words))} {c[verb].text}")
    swapped = _swapped_name(c, s)
    return Conflict("name", swapped) if swapped else None


def _sentences_with(verb: str, span: str, context: str) -> list[tuple[_Token, ...]]:
    """The span's sentences that use the verb; failing those, the context's (a claim can join a name
    from one sentence to the verb of its neighbour)."""
    for text in (span, context):
        found = [t for t in (_cached_tokens(text[a:b]) for a, b in sentence_spans(text)) if _positions(t, verb)]
        if found:
            return found
    return []


def contradicts(first: str, second: str) -> bool:
    """Two sentences of one answer that deny each other: mostly the same words, but one negated where the
    other is not, or one using the opposite of the other's word."""
    a, b = _cached_tokens(first), _cached_tokens(second)
    ca, cb = _content(a) - NEGATIONS, _content(b) - NEGATIONS
    if not ca or not cb:
        return False
    shared = len(ca & cb) / len(ca | cb)
    if shared >= 0.6 and _negations(a) != _negations(b):
        return True
    return shared >= 0.5 and bool(_opposite(a, b) or _opposite(b, a))
