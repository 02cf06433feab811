"""The screening rules engine: a pure library (standard library + pydantic, no Django).

It takes a facts document, validates it against the data dictionary, evaluates a rule set with
three-valued logic and returns a frozen `ScreeningResult`. It never reads the clock, a database
or settings: callers pass `today` and the rule set in.

    ruleset = compile_ruleset(spec)                  # parse, check, compile once
    result = ruleset.screen(document, today=today)   # evaluate many times

The rule language
=================

A rule's logic is one condition over facts (names from the data dictionary, plus derived facts).
It reads like this:

    "mdd" in diagnoses and phq9_total >= 10
    current_mood_episode in ("manic", "mixed")
    pregnancy_status != "not_applicable" and breastfeeding
    bp_elevated and not bp_crisis

- **Facts** are written by name: `age_years`, `psychosis_current`. A yes/no fact on its own is a
  condition (`psychosis_current`); `not has_escort_home` is its opposite.
- **Values** are numbers (`10`, `7.5`), `true`/`false`, or text in quotes (`"pregnant"`). Text
  values must be allowed for the fact (`pregnancy_status = "pregant"` is rejected, with the list of
  allowed values).
- **Comparisons**: `=` `!=` `<` `<=` `>` `>=` (also `≠` `≤` `≥`). Numbers must lie in the fact's
  range (`phq9_total >= 30` is rejected: PHQ-9 runs 0–27).
- **Lists**: `fact in ("a", "b")`, `fact not in ("a", "b")`. **Sets** (`diagnoses`):
  `"mdd" in diagnoses`, `"mdd" not in diagnoses`. A set may be *known in part* (open world,
  as EHR data is): `{"includes": ["mdd"], "excludes": ["gad"]}` in the document. Then
  `"mdd" in diagnoses` is true, `"gad" in diagnoses` false and `"bipolar_i" in diagnoses`
  unknown (so `bipolar` is unknown and `diagnoses` is listed under `missing` by the rules it
  leaves open). A complete list (`["mdd"]`) still means every unlisted value is absent.
- **Combining**: `and`, `or`, `not`, and parentheses. `not` binds tightest, then `and`, then `or`.
- **Derived facts**: `failed_adequate_antidepressant_trials` (trials ≥ 6 weeks with no or partial
  response), `suicide_risk` (`none`/`low`/`moderate`/`high`, from the C-SSRS screener),
  `acute_suicidal_ideation_or_behavior` (C-SSRS Q2 or behaviour in the past 3 months),
  `bipolar`, `bp_elevated` (> 140/90), `bp_crisis` (> 180/120), and `pregnancy_status` counts as
  `not_applicable` for males, under 10s and over 55s when nothing was entered.

Unknown is not false
--------------------
A fact that was not recorded is *unknown*. Comparisons with an unknown fact are unknown, and
`and`/`or`/`not` follow Kleene's rules: `false and unknown` is false, `true or unknown` is true,
anything else involving unknown stays unknown. A rule that comes out unknown is *undetermined*: it
never fires, and the facts that left it open are listed under `missing`.

Language levels
---------------
A rule set declares the level of the rule language its rules are written in (`language = 2` in
its data file; 1 when not given), so a published version never changes meaning:

- **Level 1** (rule set version 1): `suicide_risk` is unknown as soon as a C-SSRS answer needed
  to rank it is missing, so every comparison on it is undetermined; `breastfeeding` is what was
  entered.
- **Level 2** adds *partial knowledge*: a comparison on `suicide_risk` (`=`, `!=`, `in`,
  `not in`) is true when it holds for every risk level consistent with the recorded answers,
  false when it fails for every one, and unknown otherwise (only then is `cssrs` missing).
  Test several levels with one `in (…)` rather than an `or` of `=`, so the comparison can be
  decided as a whole. `breastfeeding` counts as false when nothing was entered and
  `sex_at_birth` is male.

`acute_suicidal_ideation_or_behavior` (C-SSRS Q2 or recent behaviour, three-valued) and the
version-2 input facts (`bp_rise_serious_hazard`, `respiratory_compromise`,
`other_cns_depressant_use`, `bladder_symptoms_or_cystitis`, `planned_formulation`) are names at
every level; version-1 rules simply never use them.

Help for rule editors
---------------------
`FACT_LABELS` labels every name above and `OPERATORS` lists every operator the parser accepts
(read off its own tables) with an example that compiles; `evaluate_logic(text, values)` evaluates
logic once (true, false or None, its reasons and the input facts that left it unknown), so an
admin can try logic on a test case before saving it.

Explanations
------------
Each fired rule says why, from its own logic: `age_years = 16 (< 18)`,
`diagnoses includes mdd`, `systolic_bp = 150 (> 140)`. A comparison decided from partial
answers names the answers that decide it: `suicide_risk is not high (cssrs.intent, cssrs.plan,
cssrs.behavior_past_3_months = no)`; a defaulted value says so: `breastfeeding not recorded;
sex_at_birth = male`.
"""

from rules.engine.compiler import Expr, LogicOutcome, check_logic, compile_logic, evaluate_logic
from rules.engine.errors import (
    EngineError,
    FactsInvalid,
    FieldError,
    LogicInvalid,
    LogicProblem,
    RuleProblem,
    RuleSetInvalid,
)
from rules.engine.facts import (
    LANGUAGES,
    DiagnosesInPart,
    Facts,
    IntakeFacts,
    IsoDate,
    parse_document,
    validate_facts,
)
from rules.engine.glossary import FACT_LABELS, OPERATORS, Operator, fact_label
from rules.engine.partial import Possible, SetInPart
from rules.engine.result import Flag, Indication, Missing, RuleSetRef, ScreeningResult
from rules.engine.ruleset import (
    CompiledRuleSet,
    RuleSetSpec,
    RuleSpec,
    compile_ruleset,
    indication_status,
)
from rules.engine.schema import CONDITIONS, DEFINITIONS, FACTS, SEVERITIES, FactType

__all__ = [
    "CONDITIONS",
    "DEFINITIONS",
    "FACTS",
    "FACT_LABELS",
    "LANGUAGES",
    "OPERATORS",
    "SEVERITIES",
    "CompiledRuleSet",
    "DiagnosesInPart",
    "EngineError",
    "Expr",
    "FactType",
    "Facts",
    "FactsInvalid",
    "FieldError",
    "Flag",
    "Indication",
    "IntakeFacts",
    "IsoDate",
    "LogicInvalid",
    "LogicOutcome",
    "LogicProblem",
    "Missing",
    "Operator",
    "Possible",
    "RuleProblem",
    "RuleSetInvalid",
    "RuleSetRef",
    "RuleSetSpec",
    "RuleSpec",
    "ScreeningResult",
    "SetInPart",
    "check_logic",
    "compile_logic",
    "compile_ruleset",
    "evaluate_logic",
    "fact_label",
    "indication_status",
    "parse_document",
    "validate_facts",
]
