"""Unsupervised estimation of Fellegi-Sunter m and u values by expectation-maximization.

Nobody labels which stored persons are the same: the m values are learned from the candidate
pairs that blocking produces, treating "match" as a hidden class (Winkler's EM under conditional
independence of fields), and the u values from random pairs. Identical comparison vectors are
counted once with a weight, so a run over millions of pairs costs little more than one over the
few thousand distinct vectors.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from app.matching.scoring import BIRTH_DATE, MISSING, NAME, FieldWeights, Weights

# Probabilities never reach 0 or 1: a level unseen in one class would otherwise become an
# infinite weight and veto or force every future pair showing it.
_FLOOR = 1e-6


@dataclass(frozen=True, slots=True)
class EstimationReport:
    """How the EM run went: iterations used, whether it converged, final mean log-likelihood."""

    iterations: int
    converged: bool
    log_likelihood: float
    kept: tuple[str, ...] = ()
    """Fields seen in too few pairs to estimate: their initial m stays."""
    not_one_person: tuple[str, ...] = ()
    """Fields whose EM over all candidates found a class that differs in them more than it
    agrees (a household, not a person): m was learnt within pairs of one name instead."""
    namesake_u: tuple[str, ...] = ()
    """Fields whose u was raised to how often namesakes (two persons of one name among the
    candidates) agree in them, where that is more often than random pairs do."""


def _normalized(counts: Mapping[str, float], levels: Iterable[str]) -> dict[str, float]:
    floored = {level: max(counts.get(level, 0.0), 0.0) + _FLOOR for level in levels}
    total = sum(floored.values())
    return {level: value / total for level, value in floored.items()}


def estimate_weights_with_report(
    pairs: Iterable[Mapping[str, str]],
    initial: Weights,
    *,
    max_iterations: int = 200,
    tolerance: float = 1e-6,
    fix_u: bool = False,
    fix_prior: bool = False,
    fix_m: bool = False,
) -> tuple[Weights, EstimationReport]:
    """EM over comparison vectors (field → level, ``missing`` skipped); also say how it went.

    ``fix_u`` keeps the initial u values (measured on random pairs by ``estimate_u``) and
    ``fix_prior`` the initial prior: among blocked candidates non-matches agree on the very fields
    blocking used, so u and the prior estimated there describe candidates, not random persons.
    ``fix_m`` keeps the initial m values (learnt already: only the other class is sought).
    """

    field_names = tuple(initial.fields)
    vectors: Counter[tuple[str, ...]] = Counter(
        tuple(pair.get(name, MISSING) for name in field_names) for pair in pairs
    )
    if not vectors:
        return initial, EstimationReport(0, True, 0.0)
    for vector in vectors:
        for name, level in zip(field_names, vector, strict=True):
            if level != MISSING and level not in initial.fields[name].m:
                raise ValueError(f"unknown level {level!r} for field {name!r}")

    m = {name: dict(fw.m) for name, fw in initial.fields.items()}
    u = {name: dict(fw.u) for name, fw in initial.fields.items()}
    prior = initial.prior
    total = sum(vectors.values())
    previous = -math.inf
    converged = False
    iterations = 0
    mean_ll = 0.0
    for _ in range(max_iterations):
        iterations += 1
        m_counts: dict[str, dict[str, float]] = {name: {} for name in field_names}
        u_counts: dict[str, dict[str, float]] = {name: {} for name in field_names}
        matched = 0.0
        log_likelihood = 0.0
        for vector, count in vectors.items():
            log_m = math.log(prior)
            log_u = math.log(1 - prior)
            for name, level in zip(field_names, vector, strict=True):
                if level == MISSING:
                    continue
                log_m += math.log(m[name][level])
                log_u += math.log(u[name][level])
            top = max(log_m, log_u)
            evidence = top + math.log(math.exp(log_m - top) + math.exp(log_u - top))
            posterior = math.exp(log_m - evidence)
            log_likelihood += count * evidence
            matched += count * posterior
            for name, level in zip(field_names, vector, strict=True):
                if level == MISSING:
                    continue
                m_counts[name][level] = m_counts[name].get(level, 0.0) + count * posterior
                u_counts[name][level] = u_counts[name].get(level, 0.0) + count * (1 - posterior)
        for name in field_names:
            if not fix_m:
                m[name] = _normalized(m_counts[name], m[name])
            if not fix_u:
                u[name] = _normalized(u_counts[name], u[name])
        if not fix_prior:
            prior = min(max(matched / total, _FLOOR), 1 - _FLOOR)
        mean_ll = log_likelihood / total
        if abs(mean_ll - previous) < tolerance:
            converged = True
            break
        previous = mean_ll

    weights = Weights(
        fields={name: FieldWeights(m=m[name], u=u[name]) for name in field_names},
        prior=prior,
    )
    return weights, EstimationReport(iterations, converged, mean_ll)


def estimate_weights(
    pairs: Iterable[Mapping[str, str]],
    initial: Weights,
    *,
    fix_u: bool = False,
    fix_prior: bool = False,
) -> Weights:
    """Estimate m, u and the prior share of matches from unlabelled candidate pairs."""
    return estimate_weights_with_report(pairs, initial, fix_u=fix_u, fix_prior=fix_prior)[0]


#: A field seen (not missing) in fewer candidate pairs than this keeps its initial m: a store
#: without NIKs or passports says nothing of how often one person's two records show them equal.
#: (`sinergi dedup calibrate` asks as many as it needs candidate pairs to store anything.)
MIN_FIELD_PAIRS = 200
#: Where EM over candidates starts the share of matches among them (it learns its own).
_CANDIDATE_PRIOR = 0.1
#: Where EM within pairs of one name starts the share of matches among them.
_NAMESAKE_PRIOR = 0.5
#: A level's u among namesakes is trusted where namesakes are at least this share of the matches
#: at that level. EM leaves a percent or so of one person's pairs in the other class; at a level
#: where matches outnumber namesakes more than twenty to one (an exact birth date, an equal
#: phone), that percent is most of what the namesakes' class holds there (issue 22, `housecal`).
NAMESAKE_SHARE_OF_MATCHES = 0.05


def estimate_m_among_candidates(
    pairs: Iterable[Mapping[str, str]],
    initial: Weights,
    *,
    min_field_pairs: int = MIN_FIELD_PAIRS,
    namesake_u: bool = True,
) -> tuple[Weights, EstimationReport]:
    """m by EM over blocked candidate pairs, each class's u and the share of matches learnt there
    too; the result keeps ``initial``'s u (measured on random pairs, or shipped) and prior.

    Blocking brings namesakes together: among candidates two persons agree on the name far more
    often than random pairs do. Held at the random pairs' u, a namesake pair cannot be explained as
    two persons, so EM calls namesakes matches and learns that one person's records mostly differ
    in birth date (m 0.69 on the synthetic sets, issue 22). The candidates' own u explains them.

    Where households share an address and a phone, EM over all candidates may find the household
    instead of the person: a class whose records differ in birth date more often than they agree.
    Then m is learnt as Splink does, within pairs that agree on one field, that field left out:
    every field's among pairs of one name, the name's among pairs of one birth date.

    With ``namesake_u``, each other field's u is then raised to how often namesakes agree in it
    (``_namesakes_u``): a pair is linked on an agreeing name plus the rest, and two persons of one
    name agree on sex, birth year or a birth date a digit apart far more often than random
    persons do. Held at the random pairs' u, those agreements weigh as if independent of the name
    and join namesakes (issue 22: a store of households lost precision 0.99 so).
    """
    pairs = list(pairs)
    estimated, report, seen = _em_among(pairs, initial)
    fields = {name: estimated.fields[name] for name in seen if seen[name] >= min_field_pairs}
    not_one_person = sorted(name for name, fw in fields.items() if not _one_person(fw))
    if not_one_person:
        by_name, name_report, name_seen = _em_among(_within(pairs, NAME), initial)
        by_birth, birth_report, birth_seen = _em_among(_within(pairs, BIRTH_DATE), initial)
        fields = {
            name: (by_birth if name == NAME else by_name).fields[name]
            for name in initial.fields
            if (birth_seen if name == NAME else name_seen)[name] >= min_field_pairs
        }
        fields = {name: fw for name, fw in fields.items() if _one_person(fw)}
        report = EstimationReport(
            name_report.iterations + birth_report.iterations,
            name_report.converged and birth_report.converged,
            name_report.log_likelihood,
            not_one_person=tuple(not_one_person),
        )
    kept = tuple(name for name in initial.fields if name not in fields)
    learnt = Weights(
        fields={
            name: FieldWeights(m=dict(fields[name].m if name in fields else fw.m), u=dict(fw.u))
            for name, fw in initial.fields.items()
        },
        prior=initial.prior,
        term_frequencies=initial.term_frequencies,
    )
    raised: tuple[str, ...] = ()
    if namesake_u:
        learnt, raised = _namesakes_u(_within(pairs, NAME), learnt, min_field_pairs)
    return learnt, replace(report, kept=kept, namesake_u=raised)


def _em_among(
    pairs: list[Mapping[str, str]], initial: Weights
) -> tuple[Weights, EstimationReport, Counter[str]]:
    """EM with u and the share of matches free; also how many pairs show each field."""
    # Most candidates are two persons: the levels' frequencies are a close first u.
    start, seen = _start_at_frequencies(pairs, initial, _CANDIDATE_PRIOR)
    estimated, report = estimate_weights_with_report(pairs, start)
    return estimated, report, seen


def _start_at_frequencies(
    pairs: list[Mapping[str, str]], initial: Weights, prior: float
) -> tuple[Weights, Counter[str]]:
    """EM's start: ``initial``'s m, each field's u its levels' frequencies among ``pairs`` (the
    other class is most of them), ``prior``; also how many pairs show each field."""
    seen: Counter[str] = Counter()
    frequencies: dict[str, dict[str, float]] = {name: {} for name in initial.fields}
    for pair in pairs:
        for name, counts in frequencies.items():
            level = pair.get(name, MISSING)
            if level != MISSING:
                seen[name] += 1
                counts[level] = counts.get(level, 0.0) + 1.0
    start = Weights(
        fields={
            name: FieldWeights(
                m=dict(fw.m),
                u=_normalized(frequencies[name], fw.u) if frequencies[name] else dict(fw.u),
            )
            for name, fw in initial.fields.items()
        },
        prior=prior,
    )
    return start, seen


def _namesakes_u(
    pairs: list[Mapping[str, str]], learnt: Weights, min_field_pairs: int
) -> tuple[Weights, tuple[str, ...]]:
    """``learnt`` with each field's u (the name's aside) at least the namesakes' among ``pairs``
    (pairs of one name, the name left out); also the fields raised.

    EM holds m at ``learnt``'s and learns the other class's u and the share of matches: the other
    class of pairs of one name is the namesakes. A field is raised only where the namesakes showing
    it are ``min_field_pairs`` or more and differ in it more often than one person's records do
    (two persons), and a level only where they are at least
    ``NAMESAKE_SHARE_OF_MATCHES`` of the matches there; "different" takes what the raised levels
    leave. Nothing is raised when the other class shares a birth date more often than not (it is
    one person's records: there are too few namesakes to find).
    """
    if not pairs:
        return learnt, ()
    start, seen = _start_at_frequencies(pairs, learnt, _NAMESAKE_PRIOR)
    estimated, _ = estimate_weights_with_report(pairs, start, fix_m=True)
    share = estimated.prior
    born = estimated.fields[BIRTH_DATE].u
    if born["exact"] >= born["different"]:
        # The other class shares a birth date more often than not: one person's records, not
        # namesakes (FEBRL1: nearly all its pairs of one name are one person's). Nothing to learn.
        return learnt, ()
    fields = dict(learnt.fields)
    raised = []
    for name, fw in learnt.fields.items():
        namesakes = estimated.fields[name].u
        if (
            name == NAME
            or seen[name] * (1 - share) < min_field_pairs
            or namesakes["different"] <= fw.m["different"]
        ):
            # Too few namesakes, or a class that differs in it no more often than one person's
            # records do: no namesakes' u to learn there.
            continue
        floor = {
            level: u
            for level, u in namesakes.items()
            if level != "different"
            and (1 - share) * u >= NAMESAKE_SHARE_OF_MATCHES * share * fw.m[level]
            and u > fw.u[level]
        }
        if floor:
            fields[name] = FieldWeights(m=dict(fw.m), u=_u_at_least(fw.u, floor))
            raised.append(name)
    return replace(learnt, fields=fields), tuple(raised)


def _u_at_least(u: Mapping[str, float], floor: Mapping[str, float]) -> dict[str, float]:
    """``u`` with the levels ``floor`` names raised to it, "different" taking what is left."""
    raised = {level: max(p, floor.get(level, 0.0)) for level, p in u.items()}
    raised["different"] = max(1.0 - sum(p for lv, p in raised.items() if lv != "different"), _FLOOR)
    return raised


def _within(pairs: list[Mapping[str, str]], field: str) -> list[Mapping[str, str]]:
    """The pairs whose ``field`` agrees exactly, the field left out (it says nothing there)."""
    return [{**pair, field: MISSING} for pair in pairs if pair.get(field) == "exact"]


def _one_person(field: FieldWeights) -> bool:
    """One person's records agree on the field (its strongest level) more often than they
    differ, as the estimated class of matches must if it is one person."""
    return field.m[next(iter(field.m))] > field.m["different"]


def estimate_u(random_pairs: Iterable[Mapping[str, str]], initial: Weights) -> Weights:
    """u values as level frequencies among random pairs of stored persons.

    Two persons drawn at random are almost never one, so how often their fields agree is how often
    non-matches agree; no EM is needed.
    """
    counts: dict[str, dict[str, float]] = {name: {} for name in initial.fields}
    for pair in random_pairs:
        for name, level in pair.items():
            if level == MISSING or name not in counts:
                continue
            if level not in initial.fields[name].u:
                raise ValueError(f"unknown level {level!r} for field {name!r}")
            counts[name][level] = counts[name].get(level, 0.0) + 1.0
    return Weights(
        fields={
            name: FieldWeights(
                m=dict(fw.m),
                u=_normalized(counts[name], fw.u) if counts[name] else dict(fw.u),
            )
            for name, fw in initial.fields.items()
        },
        prior=initial.prior,
    )


def match_probability(levels: Mapping[str, str], weights: Weights) -> float:
    """A pair's match probability from its comparison levels alone (no name-frequency or rule)."""
    bits = sum(
        weights.fields[name].bits(level)
        for name, level in levels.items()
        if level != MISSING and name in weights.fields
    )
    logit = bits * math.log(2) + math.log(weights.prior / (1 - weights.prior))
    if logit >= 0:
        return 1.0 / (1.0 + math.exp(-logit))
    e = math.exp(logit)
    return e / (1.0 + e)


def link_threshold_for_precision(
    pairs: Iterable[Mapping[str, str]], weights: Weights, precision: float
) -> float | None:
    """The lowest link threshold whose links the model expects to be right ``precision`` of the
    time: pairs ranked by probability, the expected precision of linking the top k being the
    mean probability of those k. None when even the surest pair falls short.
    """
    probabilities = sorted((match_probability(p, weights) for p in pairs), reverse=True)
    threshold = None
    total = 0.0
    for k, probability in enumerate(probabilities, 1):
        total += probability
        if total / k < precision:
            break
        threshold = probability
    return threshold
