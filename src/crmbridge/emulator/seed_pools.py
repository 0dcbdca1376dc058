"""Name, place and word pools for the seed generator, built once from Faker.

Calling Faker per record is far too slow for a million contacts, so the generator
draws from these pools with its own seeded RNG instead: Faker (seeded with the same
number) only decides what the pools hold. Same seed, same Faker version (pinned) →
same pools → same org.
"""

from __future__ import annotations

from dataclasses import dataclass

from faker import Faker

_COMPANY_SUFFIXES = ("Inc", "LLC", "Group", "Partners", "Co", "Ltd", "Foundation", "Association")
_PRODUCTS = (
    "Annual Membership",
    "Premium Upgrade",
    "Corporate Plan",
    "Event Sponsorship",
    "Training Package",
    "Renewal",
    "Consulting",
    "Enterprise License",
)
_TASK_SUBJECTS = (
    "Call",
    "Send Letter",
    "Send Quote",
    "Follow up on renewal",
    "Membership check-in",
    "Support ticket update",
    "Event reminder",
    "Other",
)
_NEXT_STEPS = (
    "Schedule demo",
    "Send proposal",
    "Call decision maker",
    "Negotiate terms",
    "Await signature",
    "",
)


@dataclass(frozen=True)
class SeedPools:
    """Everything the generator picks from (tuples, so picks are index lookups)."""

    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    company_words: tuple[str, ...]
    company_suffixes: tuple[str, ...]
    streets: tuple[str, ...]
    #: (city, state abbreviation, postal code) that belong together.
    places: tuple[tuple[str, str, str], ...]
    job_titles: tuple[str, ...]
    domains: tuple[str, ...]
    sentences: tuple[str, ...]
    products: tuple[str, ...]
    task_subjects: tuple[str, ...]
    next_steps: tuple[str, ...]


def build_pools(seed: int, *, size: int = 1500) -> SeedPools:
    """Build the pools for ``seed`` (about a second; done once per seeding)."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    first = _unique(fake.first_name, size)
    last = _unique(fake.last_name, size)
    words = _unique(lambda: fake.last_name() if fake.boolean() else fake.word().title(), size)
    streets = tuple(fake.street_address() for _ in range(size))
    places = tuple((fake.city(), fake.state_abbr(), fake.zipcode()) for _ in range(size // 2))
    titles = _unique(fake.job, 300)
    domains = _unique(fake.free_email_domain, 12) + _unique(fake.domain_name, 200)
    sentences = tuple(fake.sentence(nb_words=10) for _ in range(400))
    return SeedPools(
        first_names=first,
        last_names=last,
        company_words=words,
        company_suffixes=_COMPANY_SUFFIXES,
        streets=streets,
        places=places,
        job_titles=tuple(t[:128] for t in titles),
        domains=domains,
        sentences=sentences,
        products=_PRODUCTS,
        task_subjects=_TASK_SUBJECTS,
        next_steps=_NEXT_STEPS,
    )


def _unique(make, size: int) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    """Up to ``size`` distinct values of ``make()`` in first-seen order."""
    seen: dict[str, None] = {}
    attempts = 0
    while len(seen) < size and attempts < size * 3:
        seen.setdefault(make(), None)
        attempts += 1
    return tuple(seen)
