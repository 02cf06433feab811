"""The engine's errors. Every error a person can see names a field (or a rule) and says what
is wrong in a sentence; none is a raw trace."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with an input document, as the data dictionary's `{field, message}`."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass(frozen=True, slots=True)
class LogicProblem:
    """One problem in a rule's logic text, with its position (1-based column) in that text."""

    message: str
    position: int
    length: int = 1

    def pointer(self, text: str) -> str:
        """The text with a caret line under the offending part, for error pages and the CLI."""
        caret = " " * (self.position - 1) + "^" * max(1, self.length)
        return f"{text}\n{caret}"


class EngineError(Exception):
    """Base of the engine's exceptions."""


class FactsInvalid(EngineError):
    """An input document was rejected as a whole; `errors` lists every problem by field."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))

    def as_list(self) -> list[dict[str, str]]:
        return [e.as_dict() for e in self.errors]


class LogicInvalid(EngineError):
    """A rule's logic text does not parse or does not fit the facts schema."""

    def __init__(self, text: str, problems: list[LogicProblem]) -> None:
        self.text = text
        self.problems = problems
        super().__init__("; ".join(f"{p.message} (at column {p.position})" for p in problems))


@dataclass(frozen=True, slots=True)
class RuleProblem:
    """A problem with one rule of a rule set: which rule, which of its fields, and what."""

    rule: str
    field: str
    message: str
    position: int | None = None

    def __str__(self) -> str:
        where = f" at column {self.position}" if self.position else ""
        return f"{self.rule}.{self.field}: {self.message}{where}"


class RuleSetInvalid(EngineError):
    """A rule set cannot be compiled; `problems` lists every problem by rule and field."""

    def __init__(self, problems: list[RuleProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))
