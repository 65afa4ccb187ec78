"""Text helpers for the insight report: masking personal values, grouping similar messages.

Masking runs before anything else sees a message, so neither the HTML nor the CSV
(nor the grouping) ever holds an e-mail address, a phone number, a long number or
an API key.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from usertext import EMAIL, PERSONAL_NUMBER, PHONE_NUMBER, POSTAL_CODE, SECRET, nfkc

MASK = "＊＊＊"
# Order matters: API keys and e-mail first (their digits are not a phone number), then
# phone numbers (brackets and country code with them), postal codes, then any other
# number of 6 or more digits. The shapes are usertext's, the same the logs mask.
_PATTERNS = [SECRET, EMAIL, PHONE_NUMBER, POSTAL_CODE, PERSONAL_NUMBER]


def mask(text: str | None) -> str:
    """The text with API keys, e-mail addresses, phone numbers, postal codes and numbers of 6+ digits replaced by ＊＊＊."""
    text = text or ""
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text


def grouping_key(text: str) -> str:
    """NFKC, lower case, no spaces or punctuation: ﾛｸﾞｲﾝできない！ and ログインできない group together."""
    text = nfkc(text).lower()
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith(("P", "Z", "S", "C")))


@dataclass
class Group:
    """Similar messages: the most frequent wording represents them."""

    members: list[int] = field(default_factory=list)  # indices into the texts given to group_similar
    variants: Counter = field(default_factory=Counter)  # wording → count

    @property
    def count(self) -> int:
        return len(self.members)

    @property
    def representative(self) -> str:
        return self.variants.most_common(1)[0][0]


def group_similar(texts: list[str], threshold: float = 0.45) -> list[Group]:
    """Groups texts whose character n-gram TF-IDF vectors are close (cosine ≥ threshold).

    Identical texts (after grouping_key) always share a group. Distinct wordings are
    taken most frequent first; each joins the most similar existing group or starts
    one (leader clustering: one pass, deterministic, fine for tens of thousands).
    Largest groups first.
    """
    if not texts:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer

    keys = [grouping_key(t) or t for t in texts]
    by_key: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        by_key.setdefault(key, []).append(i)
    unique = sorted(by_key, key=lambda k: (-len(by_key[k]), k))
    vectors = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True).fit_transform(unique)
    groups: list[Group] = []
    leaders: list[int] = []  # row of each group's first key in `vectors`
    for row, key in enumerate(unique):
        best, best_sim = -1, 0.0
        if leaders:
            sims = (vectors[leaders] @ vectors[row].T).toarray().ravel()
            best = int(sims.argmax())
            best_sim = float(sims[best])
        if best >= 0 and best_sim >= threshold:
            group = groups[best]
        else:
            group = Group()
            groups.append(group)
            leaders.append(row)
        for i in by_key[key]:
            group.members.append(i)
            group.variants[texts[i]] += 1
    return sorted(groups, key=lambda g: (-g.count, g.representative))
