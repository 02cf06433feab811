"""Tokenizer and recursive-descent parser for the rule language (no `eval`, ever).

Grammar (lowest precedence first; keywords are case-insensitive):

    expression  := and_expr ( "or" and_expr )*
    and_expr    := not_expr ( "and" not_expr )*
    not_expr    := "not" not_expr | comparison
    comparison  := operand [ compare_op operand | ["not"] "in" ( list | operand ) ]
    operand     := NAME | NUMBER | STRING | "true" | "false" | "(" expression ")"
    list        := "(" literal ( "," literal )* [","] ")"  |  "[" … "]"
    compare_op  := "=" | "==" | "!=" | "≠" | "<" | "<=" | "≤" | ">" | ">=" | "≥"

The parser only builds a syntax tree with positions; `compiler` checks it against the facts
schema and turns it into something that evaluates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rules.engine.errors import LogicInvalid, LogicProblem

COMPARE_OPS = {
    "=": "=",
    "==": "=",
    "!=": "≠",
    "≠": "≠",
    "<>": "≠",
    "<": "<",
    "<=": "≤",
    "≤": "≤",
    ">": ">",
    ">=": "≥",
    "≥": "≥",
}
KEYWORDS = {"and", "or", "not", "in", "true", "false"}
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’"}  # admins paste “smart quotes” from documents

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>-?\d+(?:\.\d+)?(?![A-Za-z_]))
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<>|<=|>=|[=<>≤≥≠])
  | (?P<punct>[(),\[\]])
  | (?P<quote>["'“‘])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # number, name, keyword, op, punct, string, end
    text: str
    position: int  # 1-based column
    length: int


# --- syntax tree ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    position: int
    length: int


@dataclass(frozen=True, slots=True)
class Value:
    value: str | int | float | bool
    position: int
    length: int


@dataclass(frozen=True, slots=True)
class ValueList:
    items: tuple[Value, ...]
    position: int
    length: int


@dataclass(frozen=True, slots=True)
class Comparison:
    op: str  # canonical: = ≠ < ≤ > ≥
    left: Node
    right: Node
    position: int
    length: int


@dataclass(frozen=True, slots=True)
class Membership:
    item: Node
    container: Node | ValueList
    negated: bool
    position: int
    length: int


@dataclass(frozen=True, slots=True)
class Junction:
    op: str  # "and" | "or"
    operands: tuple[Node, ...]
    position: int
    length: int


@dataclass(frozen=True, slots=True)
class Negation:
    operand: Node
    position: int
    length: int


Node = Name | Value | Comparison | Membership | Junction | Negation


def _span(first: Token | Node | ValueList, last: Token | Node | ValueList) -> tuple[int, int]:
    """Position and length covering `first` through `last`."""
    return first.position, last.position + last.length - first.position


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    index = 0
    while index < len(text):
        match = _TOKEN.match(text, index)
        if match is None:
            raise LogicInvalid(
                text, [LogicProblem(f"unexpected character {text[index]!r}", index + 1)]
            )
        kind = match.lastgroup or ""
        chunk = match.group()
        if kind == "quote":
            closing = _QUOTES[chunk]
            end = text.find(closing, match.end())
            if closing == "”" and end < 0:
                end = text.find('"', match.end())
            if end < 0:
                raise LogicInvalid(
                    text, [LogicProblem("text value has no closing quote", index + 1)]
                )
            tokens.append(Token("string", text[match.end() : end], index + 1, end + 1 - index))
            index = end + 1
            continue
        if kind == "name" and chunk.lower() in KEYWORDS:
            tokens.append(Token("keyword", chunk.lower(), index + 1, len(chunk)))
        elif kind != "space":
            tokens.append(Token(kind, chunk, index + 1, len(chunk)))
        index = match.end()
    tokens.append(Token("end", "", len(text) + 1, 1))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at(self, kind: str, text: str | None = None) -> bool:
        token = self.current
        return token.kind == kind and (text is None or token.text == text)

    def fail(self, message: str, token: Token | None = None) -> LogicInvalid:
        token = token or self.current
        return LogicInvalid(self.text, [LogicProblem(message, token.position, token.length)])

    def expect_punct(self, text: str, opening: Token) -> Token:
        if not self.at("punct", text):
            found = repr(self.current.text) if self.current.text else "the end"
            raise self.fail(
                f"expected {text!r} to close the {opening.text!r} at column {opening.position},"
                f" found {found}"
            )
        return self.advance()

    def parse(self) -> Node:
        if self.at("end"):
            raise self.fail("the rule logic is empty")
        node = self.expression()
        if not self.at("end"):
            token = self.current
            hint = " (join conditions with 'and' or 'or')" if token.kind != "punct" else ""
            raise self.fail(f"unexpected {token.text!r}{hint}", token)
        return node

    def expression(self) -> Node:
        return self.junction("or", self.and_expr)

    def and_expr(self) -> Node:
        return self.junction("and", self.not_expr)

    def junction(self, op: str, operand: Callable[[], Node]) -> Node:
        first = operand()
        operands = [first]
        while self.at("keyword", op):
            self.advance()
            operands.append(operand())
        if len(operands) == 1:
            return first
        return Junction(op, tuple(operands), *_span(first, operands[-1]))

    def not_expr(self) -> Node:
        if self.at("keyword", "not"):
            token = self.advance()
            operand = self.not_expr()
            return Negation(operand, *_span(token, operand))
        return self.comparison()

    def comparison(self) -> Node:
        left = self.operand()
        if self.at("op"):
            token = self.advance()
            right = self.operand()
            return Comparison(COMPARE_OPS[token.text], left, right, *_span(left, right))
        negated = False
        if self.at("keyword", "not") and self.tokens[self.index + 1].text == "in":
            self.advance()
            negated = True
        if self.at("keyword", "in"):
            token = self.advance()
            container: Node | ValueList
            if self.at("punct", "(") or self.at("punct", "["):
                container = self.value_list()
            else:
                container = self.operand()
            return Membership(left, container, negated, *_span(left, container))
        return left

    def value_list(self) -> ValueList:
        opening = self.advance()
        closing = ")" if opening.text == "(" else "]"
        items: list[Value] = []
        while not self.at("punct", closing):
            token = self.current
            item = self.operand()
            if not isinstance(item, Value):
                raise self.fail(
                    "a list may hold only fixed values (text in quotes or numbers)", token
                )
            items.append(item)
            if not self.at("punct", ","):
                break
            self.advance()
        end = self.expect_punct(closing, opening)
        if not items:
            raise self.fail("the list is empty", opening)
        return ValueList(tuple(items), opening.position, end.position + 1 - opening.position)

    def operand(self) -> Node:
        token = self.current
        if token.kind == "punct" and token.text == "(":
            self.advance()
            inner = self.expression()
            self.expect_punct(")", token)
            return inner
        if token.kind == "name":
            self.advance()
            return Name(token.text, token.position, token.length)
        if token.kind == "number":
            self.advance()
            number: int | float = float(token.text) if "." in token.text else int(token.text)
            return Value(number, token.position, token.length)
        if token.kind == "string":
            self.advance()
            return Value(token.text, token.position, token.length)
        if token.kind == "keyword" and token.text in ("true", "false"):
            self.advance()
            return Value(token.text == "true", token.position, token.length)
        if token.kind == "end":
            raise self.fail("the rule logic ends too early: a fact or value is missing here")
        raise self.fail(f"expected a fact name or a value, found {token.text!r}")


def parse(text: str) -> Node:
    """Parse rule logic into a syntax tree. Raises `LogicInvalid` with the position of the problem."""
    return _Parser(text).parse()
