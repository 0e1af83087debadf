"""ISO 2859-1 (= ANSI/ASQ Z1.4) single sampling for normal inspection: the sample size and
the acceptance and rejection numbers for a lot, an inspection level and an AQL.

Table I gives the sample size code letter; Table II-A the plan for each letter and AQL. The
plans of Table II-A lie on diagonals: moving one letter down or one AQL step right moves one
place along the sequence 0/1, ↑, ↓, 1/2, 2/3, 3/4, 5/6, 7/8, 10/11, 14/15, 21/22, ↑. An arrow
means: use the first plan in that direction, with its sample size.
"""

from dataclasses import dataclass
from decimal import Decimal

CODE_LETTERS = "ABCDEFGHJKLMNPQR"
SAMPLE_SIZES = (2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000)
LEVELS = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")
# Percent nonconforming, as used for goods inspection (AQL above 10 counts nonconformities
# per hundred units, which this platform does not offer).
AQLS = tuple(
    Decimal(v)
    for v in (
        "0.010",
        "0.015",
        "0.025",
        "0.040",
        "0.065",
        "0.10",
        "0.15",
        "0.25",
        "0.40",
        "0.65",
        "1.0",
        "1.5",
        "2.5",
        "4.0",
        "6.5",
        "10",
    )
)

# Table I: upper bound of the lot size → code letters for S-1, S-2, S-3, S-4, I, II, III.
_TABLE_I = (
    (8, "AAAAAAB"),
    (15, "AAAAABC"),
    (25, "AABBBCD"),
    (50, "ABBCCDE"),
    (90, "BBCCCEF"),
    (150, "BBCDDFG"),
    (280, "BCDEEGH"),
    (500, "BCDEFHJ"),
    (1200, "CCEFGJK"),
    (3200, "CDEGHKL"),
    (10000, "CDFGJLM"),
    (35000, "CDFHKMN"),
    (150000, "DEGJLNP"),
    (500000, "DEGJMPQ"),
    (None, "DEHKNQR"),
)

UP, DOWN = "up", "down"
# Position along a diagonal (letter index + AQL index) → plan or arrow.
_DIAGONAL = {
    14: (0, 1),
    15: UP,
    16: DOWN,
    17: (1, 2),
    18: (2, 3),
    19: (3, 4),
    20: (5, 6),
    21: (7, 8),
    22: (10, 11),
    23: (14, 15),
    24: (21, 22),
}


@dataclass(frozen=True)
class Plan:
    code_letter: str
    sample_size: int
    accept: int  # Ac: accept the lot with at most this many nonconforming in the sample
    reject: int  # Re: reject it with this many or more
    lot_size: int

    @property
    def inspect_all(self) -> bool:
        """The standard's rule: when the sample is as large as the lot, inspect every item."""
        return self.sample_size >= self.lot_size

    def lot_accepted(self, nonconforming: int) -> bool:
        return nonconforming <= self.accept


def code_letter(lot_size: int, level: str) -> str:
    if lot_size < 2:
        raise ValueError("lot_size")
    if level not in LEVELS:
        raise ValueError("level")
    column = LEVELS.index(level)
    for upper, letters in _TABLE_I:
        if upper is None or lot_size <= upper:
            return letters[column]
    raise AssertionError("unreachable")


def _cell(letter_index: int, aql_index: int):
    position = letter_index + aql_index
    if position < 14:
        return DOWN
    return _DIAGONAL.get(position, UP)


def plan(lot_size: int, level: str, aql: Decimal | str) -> Plan:
    """The single sampling plan for normal inspection."""
    aql = Decimal(str(aql))
    if aql not in AQLS:
        raise ValueError("aql")
    row = CODE_LETTERS.index(code_letter(lot_size, level))
    column = AQLS.index(aql)
    cell = _cell(row, column)
    direction = cell if cell in (UP, DOWN) else None
    while cell in (UP, DOWN):
        row += 1 if direction == DOWN else -1
        if not 0 <= row < len(CODE_LETTERS):
            # The arrow leaves the table (only at its corners): go the other way instead.
            direction = UP if direction == DOWN else DOWN
            row += 1 if direction == DOWN else -1
        cell = _cell(row, column)
        if cell in (UP, DOWN) and cell != direction:
            cell = direction
    accept, reject = cell
    return Plan(
        code_letter=CODE_LETTERS[row],
        sample_size=SAMPLE_SIZES[row],
        accept=accept,
        reject=reject,
        lot_size=lot_size,
    )
