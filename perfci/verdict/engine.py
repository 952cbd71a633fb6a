"""The verdict engine: measurements, a baseline and rules in; one verdict per measurement out.

Pure (see README.md): no files, no clock, no environment, no terminal. The
order of decisions for one measurement is: compare with the baseline
(exactly, or statistically for timings), then budgets (a violated budget
overrides the comparison), then acknowledgements (a failing verdict an
unexpired acknowledgement matches becomes ``acknowledged``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import replace
from fnmatch import fnmatchcase

from perfci import units
from perfci.measurement import (
    COUNTS_LABEL,
    MEDIAN,
    Direction,
    Kind,
    Measurement,
    parse_counts,
    quantile,
)
from perfci.verdict import stats
from perfci.verdict.model import (
    AckRule,
    BudgetRule,
    Judgement,
    Mode,
    Outcome,
    Rules,
    ThresholdRule,
    Verdict,
)

# A change within float rounding of the threshold counts as at the threshold (which passes):
# 42 → 46.2 is +10.000000000000009% in binary floating point.
_TOLERANCE = 1e-9
# Fewer samples than this on either side cannot carry a timing verdict: with 4 against 4
# a rank test's smallest p is 0.014, reached whenever one side is wholly shifted, which a
# few correlated samples (e.g. per-second windows under a passing load) do by chance.
_FEW_SAMPLES = 8


def judge(
    current: Sequence[Measurement],
    baseline: Sequence[Measurement] | None,
    rules: Rules,
    *,
    same_run: bool = False,
) -> Judgement:
    """Judge every current measurement against ``baseline`` (None: there is no baseline).

    ``same_run=True`` says the baseline measurements are the base revision measured
    interleaved with head in this very run: timing verdicts get ``Mode.SAME_RUN``
    and no calibration normalisation. Raises ValueError on duplicate names (a bug
    in a check, not a user error).
    """
    current_by_name = _by_name(current, "current")
    baseline_by_name = _by_name(baseline or (), "baseline")
    rule_problems: list[str] = []
    verdicts: list[Verdict] = []
    for measurement in current:
        base = baseline_by_name.get(measurement.name)
        if base is None:
            verdict = _new(measurement, has_baseline=baseline is not None)
        else:
            verdict = compare(measurement, base, rules, same_run=same_run)
        verdict = _not_judged(verdict, measurement, base)
        verdict = _apply_budgets(verdict, measurement, rules.budgets, rule_problems)
        if verdict.fails and base is not None:
            verdict = replace(verdict, notes=(*verdict.notes, *evidence_news(measurement, base)))
        verdicts.append(_apply_acknowledgements(verdict, rules))
    for base in baseline or ():
        if base.name not in current_by_name and base.check not in rules.skipped_checks:
            verdicts.append(_apply_acknowledgements(_missing(base, rules), rules))
    names = current_by_name.keys() | baseline_by_name.keys()
    ran = {m.check for m in current}
    problems = [*unmatched_rules(names, rules, ran_checks=ran), *rule_problems]
    return Judgement(verdicts=tuple(verdicts), unmatched_rules=tuple(dict.fromkeys(problems)))


#: Lines of new evidence shown per failing verdict, and characters per line.
NEWS_LINES = 3
NEWS_CHARS = 300


def evidence_news(current: Measurement, base: Measurement) -> list[str]:
    """What the current evidence has that the baseline's does not: new or grown statement
    shapes, newly scanned tables, new JSON keys. Compared line by line per label (notes
    aside), so it works for any check whose evidence lists one fact per line."""
    before: dict[str, set[str]] = {}
    for item in base.evidence:
        before.setdefault(item.label, set()).update(_lines(item.text))
    news: list[str] = []
    for item in current.evidence:
        # Count tables have their own comparison (``counts_changes``): rows, not lines.
        if item.label == "note" or parse_counts(item) is not None:
            continue
        seen = before.get(item.label, set())
        news += [f"{item.label}: {line}" for line in _lines(item.text) if line not in seen]
    if not news:
        return []
    shown = [n if len(n) <= NEWS_CHARS else n[: NEWS_CHARS - 1] + "…" for n in news[:NEWS_LINES]]
    more = f" (and {len(news) - NEWS_LINES} more)" if len(news) > NEWS_LINES else ""
    return ["new compared with the baseline" + more + ":\n" + "\n".join(shown)]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def threshold_for(name: str, rules: Rules) -> tuple[float, ThresholdRule | None]:
    """The first threshold rule whose glob matches ``name``, else the default threshold."""
    for rule in rules.thresholds:
        if fnmatchcase(name, rule.pattern):
            return rule.threshold, rule
    return rules.default_threshold, None


def compare(
    current: Measurement, base: Measurement, rules: Rules, *, same_run: bool = False
) -> Verdict:
    """Current against its baseline measurement, before budgets and acknowledgements."""
    threshold, rule = threshold_for(current.name, rules)
    notes: list[str] = []
    if base.direction is not current.direction:
        notes.append(
            f"direction changed from {base.direction.value} to {current.direction.value}; "
            "judged by the current one"
        )
    if base.unit != current.unit:
        try:
            converted = _in_unit(base, current.unit)
        except ValueError:
            return _not_comparable(
                current, base, f"unit changed from {base.unit!r} to {current.unit!r}", notes
            )
        notes.append(f"baseline converted from {base.unit} to {current.unit}")
        base = converted
    if current.kind is not Kind.TIMING:
        moved = environment_differences(base, current)
        if moved:
            return _not_comparable(
                current, base, f"measured in another environment: {'; '.join(moved)}", notes
            )
        verdict = _compare_values(current, base, threshold, Mode.EXACT, notes)
        changes = count_changes(base, current) if verdict.change else []
        return replace(verdict, notes=(*verdict.notes, *changes)) if changes else verdict
    mode = Mode.SAME_RUN if same_run else Mode.BASELINE
    missing = [side for side, m in (("baseline", base), ("current", current)) if not m.samples]
    finite = all(math.isfinite(s) for s in (*base.samples, *current.samples))
    if current.direction is Direction.EQUAL or missing or not finite:
        if missing:
            why = f"no samples in the {' and '.join(missing)} measurement"
        elif not finite:
            why = "samples that are not finite numbers"
        else:
            why = "a timing that must stay equal"
        notes.append(f"{why}: values compared without statistics")
        return _compare_values(current, base, threshold, mode, notes)
    calibrated = bool(current.calibration and base.calibration) and not same_run
    if not same_run and bool(current.calibration) != bool(base.calibration):
        side = "current" if current.calibration else "baseline"
        notes.append(f"calibration samples only in the {side} measurement: not normalized")
    strict = rule.strict if rule else False
    verdict = judge_pair(
        current.name,
        base.samples,
        current.samples,
        direction=current.direction,
        threshold=threshold,
        alpha=rules.alpha,
        strict=strict,
        unit=current.unit,
        mode=Mode.NORMALIZED if calibrated else mode,
        statistic=current.statistic,
        base_calibration=base.calibration if calibrated else (),
        head_calibration=current.calibration if calibrated else (),
        current=current,
        baseline=base,
        notes=notes,
    )
    if same_run or strict or not rules.baseline_machine_differences:
        return verdict
    return _across_machines(verdict, rules.baseline_machine_differences)


def environment_differences(base: Measurement, current: Measurement) -> list[str]:
    """``key: before → after`` for what the value depends on and that differs.

    Only when both sides record an environment (a check that declares none, or a
    baseline from before, is compared as it is).
    """
    if not base.environment or not current.environment:
        return []
    keys = sorted(base.environment.keys() | current.environment.keys())
    before, after = base.environment, current.environment
    return [
        f"{key}: {before.get(key, '?')} → {after.get(key, '?')}"
        for key in keys
        if before.get(key) != after.get(key)
    ]


#: Rows of a count table listed per changed table, largest change first.
_COUNT_ROWS = 8


def count_changes(base: Measurement, current: Measurement) -> list[str]:
    """What moved in the count tables both sides carry (``counts_evidence``), largest first.

    ``Python calls: app.serialize_chef 12 → 24``: the cause of a changed
    value, as far as the check could record it. A row a table left out (below
    its floor) is shown as ``< floor`` and ranked by the change that is
    certain.
    """
    before = {e.label: t for e in base.evidence if (t := parse_counts(e)) is not None}
    changes = []
    for evidence in current.evidence:
        parsed = parse_counts(evidence)
        if parsed is None or evidence.label not in before:
            continue
        (old, old_floor), (new, new_floor) = before[evidence.label], parsed
        moved = []
        for name in old.keys() | new.keys():
            low = (old.get(name, 0), new.get(name, 0))
            high = (old.get(name, old_floor), new.get(name, new_floor))
            # The smallest change the tables prove: 0 when a left-out row could explain it.
            certain = max(low[1] - high[0], low[0] - high[1], 0)
            if certain:
                moved.append((certain, name))
        if not moved:
            continue
        moved.sort(key=lambda item: (-item[0], item[1]))

        def shown(table: dict[str, int], floor: int, name: str) -> str:
            return f"{table[name]:,}" if name in table else f"< {floor:,}" if floor else "0"

        rows = [
            f"{name} {shown(old, old_floor, name)} → {shown(new, new_floor, name)}"
            for _, name in moved[:_COUNT_ROWS]
        ]
        more = f"; … and {len(moved) - _COUNT_ROWS} more" if len(moved) > _COUNT_ROWS else ""
        changes.append(f"{evidence.label.removeprefix(COUNTS_LABEL)}: {'; '.join(rows)}{more}")
    return changes


def _across_machines(verdict: Verdict, differences: Sequence[str]) -> Verdict:
    """A timing change against a baseline from another machine: not a verdict on the code.

    Calibration scales for raw CPU speed, not for everything a CPU model or a
    Python release changes (caches, the interpreter's own costs): measured, a
    10-15% shift in either direction. A change past the threshold is
    therefore reported as too noisy to judge, with what differs; a pass stays
    a pass. ``strict`` rules still judge.
    """
    if verdict.outcome not in (Outcome.REGRESSION, Outcome.IMPROVEMENT):
        return verdict
    return replace(
        verdict,
        outcome=Outcome.NOISY,
        reason=f"not comparable across machines: {verdict.reason}",
        notes=(
            *verdict.notes,
            f"the baseline was recorded on another machine ({'; '.join(differences)}); "
            "record one here (perfci baseline update) or measure base and head in one run "
            "(perfci run --against REF)",
        ),
    )


def judge_pair(
    name: str,
    base_samples: Sequence[float],
    head_samples: Sequence[float],
    *,
    direction: Direction = Direction.LOWER,
    threshold: float = 0.10,
    alpha: float = 0.05,
    strict: bool = False,
    unit: str = "",
    mode: Mode = Mode.SAME_RUN,
    statistic: str = MEDIAN,
    base_calibration: Sequence[float] = (),
    head_calibration: Sequence[float] = (),
    current: Measurement | None = None,
    baseline: Measurement | None = None,
    notes: Iterable[str] = (),
) -> Verdict:
    """The statistical verdict on head's timing samples against base's.

    Shared by stored-baseline judging and the same-run A/B mode. ``statistic`` is
    what is compared (``Measurement.statistic``: median, mean, pNN; p50 is the
    median). Regression (or improvement) needs its ratio past the threshold AND
    significance: p < ``alpha``, one-sided (Mann-Whitney for the median, which is
    a location; the bootstrap's share of resampled ratios on the other side of 1
    for any other statistic, e.g. a tail percentile), with a bootstrap interval
    of that ratio either no wider than the threshold band (twice the threshold)
    or wholly past the threshold. A ratio past the threshold without that, or an
    interval wider than the band, is ``too noisy to judge`` unless ``strict``,
    which judges the point ratio. Calibration samples (both or neither)
    normalise the ratio by the probe's median ratio.
    """
    if direction is Direction.EQUAL:
        raise ValueError(f"{name}: judge_pair needs a direction of lower or higher")
    notes = list(notes)
    finite = all(math.isfinite(s) for s in (*base_samples, *head_samples))
    if not (len(base_samples) and len(head_samples) and finite):
        raise ValueError(f"{name}: judge_pair needs finite samples on both sides")
    judged = MEDIAN if quantile(statistic) == 50 else statistic  # p50 is the median
    base_value = stats.statistic_of(base_samples, judged)
    head_value = stats.statistic_of(head_samples, judged)
    if base_value <= 0:
        values = "medians" if statistic == MEDIAN else f"{statistic} values"
        notes.append(
            f"the baseline {statistic} is not positive: {values} compared without statistics"
        )
        return _numbers_verdict(
            name,
            base_value,
            head_value,
            unit,
            direction,
            threshold,
            mode,
            notes,
            current=current,
            baseline=baseline,
            label=f"{statistic} ",
        )
    calibrated = len(base_calibration) > 0 and len(head_calibration) > 0
    if calibrated and min(stats.median(base_calibration), stats.median(head_calibration)) <= 0:
        notes.append("calibration median is not positive: not normalized")
        calibrated = False
        if mode is Mode.NORMALIZED:
            mode = Mode.BASELINE
    lower = direction is Direction.LOWER
    result = stats.compare_samples(
        base_samples,
        head_samples,
        statistic=judged,
        base_calibration=base_calibration if calibrated else None,
        head_calibration=head_calibration if calibrated else None,
        calibration_exponent=-1.0 if lower else 1.0,
    )
    ratio, low, high = result.ratio, result.ci_low, result.ci_high
    upper_limit, lower_limit = 1 + threshold + _TOLERANCE, 1 - threshold - _TOLERANCE
    if lower:
        worse, better = ratio > upper_limit, ratio < lower_limit
        sure_worse, sure_better = low > upper_limit, high < lower_limit
        p_worse, p_better = result.p_greater, result.p_less
    else:
        worse, better = ratio < lower_limit, ratio > upper_limit
        sure_worse, sure_better = high < lower_limit, low > upper_limit
        p_worse, p_better = result.p_less, result.p_greater
    enough = min(result.n_base, result.n_head) >= _FEW_SAMPLES
    precise = enough and result.ci_width <= 2 * threshold + _TOLERANCE
    if strict:
        outcome = Outcome.REGRESSION if worse else Outcome.IMPROVEMENT if better else Outcome.PASS
        if not precise or (worse and p_worse >= alpha) or (better and p_better >= alpha):
            notes.append("strict: judged on the point ratio although the samples are noisy")
    elif worse:
        significant = enough and p_worse < alpha and (precise or sure_worse)
        outcome = Outcome.REGRESSION if significant else Outcome.NOISY
    elif better:
        significant = enough and p_better < alpha and (precise or sure_better)
        outcome = Outcome.IMPROVEMENT if significant else Outcome.NOISY
    else:
        outcome = Outcome.PASS if precise else Outcome.NOISY
    p_value = p_better if better else p_worse
    if calibrated and result.calibration_ratio is not None:
        notes.append(
            f"normalized by the calibration probe (probe ratio {result.calibration_ratio:.3f}, "
            f"raw ratio {result.raw_ratio:.3f})"
        )
    if not enough:
        notes.append(
            f"only {result.n_base} baseline and {result.n_head} current samples "
            f"(a timing verdict needs {_FEW_SAMPLES} on each side)"
        )
    if outcome is Outcome.NOISY:
        if judged == MEDIAN:
            mdc = stats.minimal_detectable_change(
                result.cv_base,
                result.n_base,
                cv_other=result.cv_head,
                n_other=result.n_head,
                alpha=alpha,
            )
        else:  # no rank test: the spread of the bootstrap's ratios is the noise
            mdc = stats.detectable_change(result.ratio_se, alpha=alpha)
        notes.append(f"smallest change detectable at this noise ≈ {_percent(mdc)}")
    if (
        current is not None
        and baseline is not None
        and _headline_differs(current, baseline, judged)
    ):
        compared = "sample medians" if judged == MEDIAN else f"the samples' {statistic}"
        notes.append(
            f"reported values {_format_values(baseline.value, current.value, unit)}; "
            f"the verdict compares {compared}"
        )
    change = ratio - 1
    details = [
        f"{'normalized ' if calibrated else ''}{_signed_percent(change)}",
        f"ratio {ratio:.2f}",
        f"{result.confidence:.0%} CI {low:.2f}–{high:.2f}",
    ]
    if outcome is Outcome.NOISY:
        details.append(f"CV {_percent(result.cv_base)}/{_percent(result.cv_head)}")
    shown_p = _format_p(p_value) if judged == MEDIAN else f"bootstrap {_format_p(p_value)}"
    details += [shown_p, f"threshold {_percent(threshold)}"]
    sentence = (
        f"{statistic} {units.format_change(base_value, head_value, unit)} ({', '.join(details)})"
    )
    if outcome is Outcome.NOISY:
        sentence = f"too noisy to judge: {sentence}"
    return Verdict(
        name=name,
        outcome=outcome,
        mode=mode,
        reason=sentence,
        current=current,
        baseline=baseline,
        change=change,
        threshold=threshold,
        p_value=p_value,
        notes=tuple(notes),
    )


def unmatched_rules(
    names: Iterable[str], rules: Rules, *, ran_checks: Iterable[str] = ()
) -> list[str]:
    """Every rule whose glob matches none of ``names``, unless all it could match is skipped.

    ``ran_checks`` are the checks that measured something in this run: a rule
    whose check segment matches one of them (``*/GET /itemz/queries``) is
    judged even when another check was skipped.
    """
    names = list(names)
    ran = frozenset(ran_checks)
    found: list[str] = []
    kinds: list[tuple[str, Sequence[ThresholdRule | BudgetRule | AckRule]]] = [
        ("threshold", rules.thresholds),
        ("budget", rules.budgets),
        ("acknowledgement", rules.acknowledgements),
    ]
    for kind, kind_rules in kinds:
        for rule in kind_rules:
            if any(fnmatchcase(name, rule.pattern) for name in names):
                continue
            if _targets_only_skipped_checks(rule.pattern, rules.skipped_checks, ran):
                continue
            found.append(f"{_where(rule.source)}{kind} '{rule.pattern}' matches no measurement")
    return found


def _targets_only_skipped_checks(
    pattern: str, skipped: frozenset[str], ran: frozenset[str]
) -> bool:
    """Whether every check the pattern's first segment could name was skipped.

    A typo such as ``*/GET /itemz/queries`` is not excused by ``--quick``: its
    ``*`` also names the checks that ran, and none of their metrics matched.
    """
    check_pattern = pattern.split("/", 1)[0]
    return any(fnmatchcase(check, check_pattern) for check in skipped) and not any(
        fnmatchcase(check, check_pattern) for check in ran
    )


def _by_name(measurements: Iterable[Measurement], side: str) -> dict[str, Measurement]:
    by_name: dict[str, Measurement] = {}
    for measurement in measurements:
        if measurement.name in by_name:
            raise ValueError(f"duplicate {side} measurement {measurement.name!r}")
        by_name[measurement.name] = measurement
    return by_name


def _in_unit(measurement: Measurement, unit: str) -> Measurement:
    """The measurement expressed in ``unit``; ValueError when the units are incompatible."""
    if isinstance(measurement.value, str):
        raise ValueError("a text value has no unit to convert")
    factor = units.convert(1.0, measurement.unit, unit)
    return replace(
        measurement,
        value=measurement.value * factor,
        unit=unit,
        samples=tuple(s * factor for s in measurement.samples),
    )


def _new(measurement: Measurement, *, has_baseline: bool) -> Verdict:
    where = "not in the baseline" if has_baseline else "no baseline"
    value = _format_value(measurement.value, measurement.unit)
    not_a_number = isinstance(measurement.value, float) and math.isnan(measurement.value)
    return Verdict(
        name=measurement.name,
        # Fails closed: a new metric that is NaN measured nothing a gate can pass.
        outcome=Outcome.REGRESSION if not_a_number else Outcome.NEW,
        mode=Mode.UNCOMPARED,
        reason=(
            f"new measurement is not a number ({where}): it never passes"
            if not_a_number
            else f"new measurement: {value} ({where})"
        ),
        current=measurement,
    )


def _missing(base: Measurement, rules: Rules) -> Verdict:
    threshold, _ = threshold_for(base.name, rules)
    value = _format_value(base.value, base.unit)
    return Verdict(
        name=base.name,
        outcome=Outcome.MISSING,
        mode=Mode.EXACT if base.kind is Kind.DETERMINISTIC else Mode.BASELINE,
        reason=(
            f"in the baseline ({value}) but not measured in this run, "
            f"although its check '{base.check}' was not skipped"
        ),
        baseline=base,
        threshold=threshold,
    )


def _not_comparable(current: Measurement, base: Measurement, why: str, notes: list[str]) -> Verdict:
    """A baseline entry that cannot be compared (unit or type changed): judged as new."""
    value = _format_value(current.value, current.unit)
    return Verdict(
        name=current.name,
        outcome=Outcome.NEW,
        mode=Mode.UNCOMPARED,
        reason=f"new measurement: {value} ({why}; the baseline is not comparable)",
        current=current,
        baseline=base,
        notes=(*notes, "update the baseline to start comparing again"),
    )


def _compare_values(
    current: Measurement, base: Measurement, threshold: float, mode: Mode, notes: list[str]
) -> Verdict:
    """Exact comparison of two values, direction-aware."""
    if current.direction is Direction.EQUAL:
        return _compare_equal(current, base, mode, notes)
    if isinstance(current.value, str) or isinstance(base.value, str):
        return _not_comparable(current, base, "a text value in the baseline", notes)
    return _numbers_verdict(
        current.name,
        base.value,
        current.value,
        current.unit,
        current.direction,
        threshold,
        mode,
        notes,
        current=current,
        baseline=base,
    )


def _numbers_verdict(
    name: str,
    before: float,
    after: float,
    unit: str,
    direction: Direction,
    threshold: float,
    mode: Mode,
    notes: list[str],
    *,
    current: Measurement | None,
    baseline: Measurement | None,
    label: str = "",
) -> Verdict:
    if math.isnan(before) or math.isnan(after):
        # Fails closed: a check that produced NaN measured nothing a gate can pass.
        return Verdict(
            name=name,
            outcome=Outcome.REGRESSION,
            mode=mode,
            reason=(
                f"cannot judge: {label}{_format_values(before, after, unit)} is not a number "
                "(a value that is not a number never passes)"
            ),
            current=current,
            baseline=baseline,
            threshold=threshold,
            notes=tuple(notes),
        )
    change = relative_change(before, after)
    grew, shrank = change > threshold + _TOLERANCE, change < -threshold - _TOLERANCE
    if direction is Direction.LOWER:
        outcome = Outcome.REGRESSION if grew else Outcome.IMPROVEMENT if shrank else Outcome.PASS
    else:
        outcome = Outcome.REGRESSION if shrank else Outcome.IMPROVEMENT if grew else Outcome.PASS
    shown = "from zero" if before == 0 and after != 0 else _signed_percent(change)
    reason = (
        f"{label}{units.format_change(before, after, unit)} "
        f"({shown}, threshold {_percent(threshold)})"
    )
    return Verdict(
        name=name,
        outcome=outcome,
        mode=mode,
        reason=reason,
        current=current,
        baseline=baseline,
        change=change,
        threshold=threshold,
        notes=tuple(notes),
    )


def _compare_equal(
    current: Measurement, base: Measurement, mode: Mode, notes: list[str]
) -> Verdict:
    """A fact that must not change: any difference (text or number) is a regression."""
    same = _same_fact(current.value, base.value)
    change: float | None = None
    if not isinstance(current.value, str) and not isinstance(base.value, str):
        change = relative_change(base.value, current.value)
        values = units.format_change(base.value, current.value, current.unit)
    else:
        values = f"{base.value!r} → {current.value!r}"
    if same:
        reason = f"unchanged: {_format_value(current.value, current.unit)} (must not change)"
    else:
        reason = f"{values} (must not change)"
    return Verdict(
        name=current.name,
        outcome=Outcome.PASS if same else Outcome.REGRESSION,
        mode=mode,
        reason=reason,
        current=current,
        baseline=base,
        change=change,
        threshold=0.0,
        notes=tuple(notes),
    )


def _same_fact(current: float | str, base: float | str) -> bool:
    """Text equals text, a number equals a number of the same value: the status code 200
    a results file keeps as an integer is the 200.0 a history store keeps as a float."""
    if isinstance(current, str) or isinstance(base, str):
        return isinstance(current, str) and isinstance(base, str) and current == base
    return float(current) == float(base)


def relative_change(before: float, after: float) -> float:
    """(after - before) / |before|; from zero it is 0 (unchanged) or ±inf."""
    if before == 0:
        return 0.0 if after == 0 else math.copysign(math.inf, after)
    return (after - before) / abs(before)


#: Outcomes of a comparison with the baseline (what ``_not_judged`` may withdraw).
_COMPARED = (Outcome.PASS, Outcome.REGRESSION, Outcome.IMPROVEMENT, Outcome.NOISY)


def _not_judged(verdict: Verdict, current: Measurement, base: Measurement | None) -> Verdict:
    """A comparison with a value that does not measure its subject (``Measurement.unjudged``).

    Such a value is a bound in its subject's disfavour (a generator-bound stage: the
    server did at least that well). The comparison becomes ``too noisy to judge``
    with the reason, what it would have said kept as a note, except a regression of
    a judged current value against an unjudged baseline: the baseline's subject did
    at least as well as its figure, so the regression stands. A new or
    not-a-number verdict is kept, with the reason as a note.
    """
    why = current.unjudged
    base_why = base.unjudged if base is not None else None
    if why is None and base_why is None:
        return verdict
    if verdict.outcome not in _COMPARED:
        return replace(verdict, notes=(*verdict.notes, why or f"baseline: {base_why}"))
    if why is None and verdict.outcome is Outcome.REGRESSION:
        return replace(
            verdict,
            notes=(
                *verdict.notes,
                f"the baseline's value was not judged ({base_why}); it is a bound in the "
                "baseline's favour, so the regression stands",
            ),
        )
    return replace(
        verdict,
        outcome=Outcome.NOISY,
        reason=f"not judged: {why or f'the baseline value was not judged: {base_why}'}",
        notes=(*verdict.notes, f"against the baseline: {verdict.outcome.words}, {verdict.reason}"),
    )


def _apply_budgets(
    verdict: Verdict, measurement: Measurement, budgets: Sequence[BudgetRule], problems: list[str]
) -> Verdict:
    """The first violated budget turns the verdict into a budget violation.

    A budget on a value that does not measure its subject (``Measurement.unjudged``)
    is violated whatever the number: it cannot be held, so it never passes.
    """
    notes = list(verdict.notes)
    for rule in budgets:
        if not fnmatchcase(measurement.name, rule.pattern):
            continue
        where = _where(rule.source)
        if isinstance(measurement.value, str):
            problems.append(
                f"{where}budget '{rule.pattern}' matches {measurement.name!r}, whose value is text"
            )
            continue
        try:
            limits = [
                (kind, limit, _limit_in(limit, rule.unit, measurement.unit))
                for kind, limit in (("max", rule.max), ("min", rule.min))
                if limit is not None
            ]
        except ValueError as error:
            problems.append(f"{where}budget '{rule.pattern}' for {measurement.name!r}: {error}")
            continue
        for kind, written, limit in limits:
            value = measurement.value
            violated = value > limit if kind == "max" else value < limit
            shown = (
                f"budget {kind} {_format_value(written, rule.unit or measurement.unit)} "
                f"('{rule.pattern}'{', ' + rule.source if rule.source else ''})"
            )
            if verdict.mode is Mode.UNCOMPARED:  # a new measurement: the budget is its judge
                verdict = replace(verdict, mode=Mode.BUDGET)
            if measurement.unjudged is not None:
                return replace(
                    verdict,
                    outcome=Outcome.BUDGET,
                    reason=f"the {shown} cannot be held: {measurement.unjudged}",
                    budget=rule,
                    notes=tuple(notes),
                )
            if not violated:
                notes.append(f"within {shown}")
                continue
            if verdict.outcome is not Outcome.NEW:
                notes.append(f"against the baseline: {verdict.outcome.words}, {verdict.reason}")
            verb = "exceeds" if kind == "max" else "is below"
            return replace(
                verdict,
                outcome=Outcome.BUDGET,
                reason=f"{_format_value(value, measurement.unit)} {verb} the {shown}",
                budget=rule,
                notes=tuple(notes),
            )
    return replace(verdict, notes=tuple(notes))


def _limit_in(limit: float, limit_unit: str | None, unit: str) -> float:
    return limit if limit_unit is None else units.convert(limit, limit_unit, unit)


def _apply_acknowledgements(verdict: Verdict, rules: Rules) -> Verdict:
    """A failing verdict matched by an unexpired acknowledgement becomes ``acknowledged``.

    ``expires`` is the last day the acknowledgement applies; expired ones only leave a note.
    """
    notes = list(verdict.notes)
    chosen: AckRule | None = None
    for ack in rules.acknowledgements:
        if not fnmatchcase(verdict.name, ack.pattern):
            continue
        if ack.expires is not None and ack.expires < rules.today:
            notes.append(
                f"acknowledgement '{ack.pattern}'{' (' + ack.source + ')' if ack.source else ''} "
                f"expired on {ack.expires.isoformat()} and no longer applies"
            )
        elif chosen is None:
            chosen = ack
    if chosen is None or not verdict.fails:
        return replace(verdict, notes=tuple(notes)) if notes != list(verdict.notes) else verdict
    until = f" until {chosen.expires.isoformat()}" if chosen.expires else ""
    notes.append(f"{verdict.outcome.words} acknowledged{until}: {verdict.reason}")
    where = f" ({chosen.source})" if chosen.source else ""
    return replace(
        verdict,
        outcome=Outcome.ACKNOWLEDGED,
        reason=f"acknowledged {verdict.outcome.words}{where}: {chosen.reason}",
        acknowledged=chosen,
        notes=tuple(notes),
    )


def _headline_differs(current: Measurement, baseline: Measurement, statistic: str) -> bool:
    """Whether a reported value is not the judged statistic of its samples."""
    values = (current.value, baseline.value)
    judged = (
        stats.statistic_of(current.samples, statistic),
        stats.statistic_of(baseline.samples, statistic),
    )
    return any(
        isinstance(v, str) or not math.isclose(v, m, rel_tol=1e-9)
        for v, m in zip(values, judged, strict=True)
    )


def _where(source: str) -> str:
    return f"{source}: " if source else ""


def _format_value(value: float | str, unit: str) -> str:
    return repr(value) if isinstance(value, str) else units.format_quantity(value, unit)


def _format_values(before: float | str, after: float | str, unit: str) -> str:
    if isinstance(before, str) or isinstance(after, str):
        return f"{before!r} → {after!r}"
    return units.format_change(before, after, unit)


def _percent(fraction: float) -> str:
    """One decimal at most: 0.214 → "21.4%", 0.1 → "10%"."""
    return f"{units.format_number(round(fraction * 100, 1))}%"


def _signed_percent(fraction: float) -> str:
    return ("+" if fraction >= 0 else "") + _percent(fraction)


def _format_p(p: float) -> str:
    return "p<0.0001" if p < 0.0001 else f"p={p:.2g}"
