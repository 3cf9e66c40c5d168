"""The fixed part of the benchmark data set: groups, case types, SLA targets, people's names.

An agency's desk with six assignment groups of unequal size, two case types each (both
workflows), SLA targets per priority, and the benchmark's own agent, who works in two groups
(Roads and Parks) like the agents on the dashboard the issue measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from casegraph.domain.enums import Channel, Workflow


@dataclass(frozen=True)
class GroupSpec:
    code: str
    name: str
    weight: float  # share of all cases


@dataclass(frozen=True)
class CaseTypeSpec:
    code: str
    name: str
    group: str
    workflow: Workflow


GROUPS: Final = (
    GroupSpec("ROADS", "Roads and Streets", 0.25),
    GroupSpec("PARKS", "Parks and Trees", 0.12),
    GroupSpec("WATER", "Water and Sewer", 0.15),
    GroupSpec("PERMITS", "Permits and Licensing", 0.13),
    GroupSpec("BENEFITS", "Benefits Desk", 0.20),
    GroupSpec("HOUSING", "Housing Services", 0.15),
)

PS, CS = Workflow.PUBLIC_SERVICE, Workflow.CUSTOMER_SERVICE
CASE_TYPES: Final = (
    CaseTypeSpec("POTHOLE", "Pothole", "ROADS", PS),
    CaseTypeSpec("STREETLIGHT", "Street light out", "ROADS", PS),
    CaseTypeSpec("PARK_MAINTENANCE", "Park maintenance", "PARKS", PS),
    CaseTypeSpec("TREE_REMOVAL", "Tree removal", "PARKS", PS),
    CaseTypeSpec("WATER_LEAK", "Water leak", "WATER", PS),
    CaseTypeSpec("WATER_BILLING", "Water billing question", "WATER", CS),
    CaseTypeSpec("BUILDING_PERMIT", "Building permit", "PERMITS", PS),
    CaseTypeSpec("EVENT_PERMIT", "Event permit question", "PERMITS", CS),
    CaseTypeSpec("BENEFIT_QUESTION", "Benefit question", "BENEFITS", CS),
    CaseTypeSpec("BENEFIT_APPEAL", "Benefit appeal", "BENEFITS", PS),
    CaseTypeSpec("HOUSING_REPAIR", "Housing repair", "HOUSING", PS),
    CaseTypeSpec("RENT_ASSISTANCE", "Rent assistance", "HOUSING", CS),
)

# (response, resolution) targets in minutes per priority, the same for every case type.
SLA_MINUTES: Final = {
    1: (60, 8 * 60),
    2: (4 * 60, 24 * 60),
    3: (8 * 60, 3 * 24 * 60),
    4: (24 * 60, 7 * 24 * 60),
    5: (48 * 60, 14 * 24 * 60),
}

AGENTS_PER_GROUP: Final = 8
BENCH_AGENT_ID: Final = "bench-agent"
BENCH_AGENT_NAME: Final = "Bench Agent"
BENCH_AGENT_GROUPS: Final = ("ROADS", "PARKS")


@dataclass(frozen=True)
class Viewer:
    """An agent the queue benchmark asks as; a member of ``groups``, taking none of their cases."""

    id: str
    name: str
    groups: tuple[str, ...]

    @property
    def sees_every_group(self) -> bool:
        return set(self.groups) == {g.code for g in GROUPS}


# The two ends of what an agent may see: every group's cases, and one small group's.
SEES_ALL: Final = Viewer("bench-all-groups", "All Groups Agent", tuple(g.code for g in GROUPS))
SEES_FEW: Final = Viewer("bench-parks", "Parks Agent", ("PARKS",))
VIEWERS: Final = (SEES_ALL, SEES_FEW)

CHANNELS: Final = (
    (Channel.PORTAL, 0.55),
    (Channel.PHONE, 0.2),
    (Channel.EMAIL, 0.15),
    (Channel.WALK_IN, 0.05),
    (Channel.CHAT, 0.05),
)

FIRST_NAMES: Final = (
    "Alex",
    "Blair",
    "Casey",
    "Dana",
    "Eli",
    "Fran",
    "Grace",
    "Hana",
    "Ivan",
    "Jo",
    "Kim",
    "Lee",
    "Maria",
    "Noor",
    "Omar",
    "Pat",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
    "Uma",
    "Vic",
    "Wen",
    "Yusuf",
    "Zoe",
)
LAST_NAMES: Final = (
    "Adams",
    "Baker",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nguyen",
    "Okafor",
    "Patel",
    "Quist",
    "Rossi",
    "Silva",
    "Tanaka",
    "Ulloa",
    "Varga",
    "Weber",
    "Yilmaz",
)
STREETS: Final = (
    "Elm St",
    "Oak Ave",
    "Main St",
    "Harbor Rd",
    "Mill Lane",
    "Station Sq",
    "River Walk",
    "Hill Rd",
    "Park Ave",
    "Church St",
    "Market Pl",
    "Cedar Ct",
)
TASK_TITLES: Final = (
    "Site visit",
    "Call the requester",
    "Order materials",
    "Schedule crew",
    "Check records",
    "Draft reply",
    "Photograph the site",
    "Confirm with the utility",
    "Update the ledger",
    "Follow up",
)
RESOLUTION_NOTES: Final = ("Repaired on site.", "Answered by phone.", "Scheduled and done.", "Referred and closed.")
