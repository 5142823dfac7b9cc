"""Every user-facing answer rule in one place, so answerers cannot drift apart.

The extractive answerer uses the fixed sentences below; LLM answerers (to come)
will take their instructions from here too.
"""

NO_ANSWER = "The indexed articles don't answer this question."

# Shown before an answer whose confidence is below answering.WEAK_CONFIDENCE (UI and CLI).
WEAK_ANSWER = "Weak answer (about {percent}% likely to hold what you asked):"

EMPTY_QUESTION = "The question is empty: type a question about the indexed articles."
MAX_QUESTION_CHARS = 2000
TOO_LONG = (
    "The question is too long ({length:,} characters; the limit is {limit:,}). "
    "Ask about one thing at a time."
)

# For LLM answerers: the contract the extractive answerer keeps by construction.
ANSWER_RULES = (
    "Answer only from the numbered passages. After every sentence put the number of the passage it comes "
    f"from, like [1]. If the passages do not contain the answer, reply exactly: {NO_ANSWER}"
)
