"""The mutations the ``assignToMe`` benchmark sends (bench/assign.py), kept beside the cost guard
that checks them (test_action_cost.py): the benchmark imports them from here, so the guard and
the benchmark measure the same documents and tests never import bench/."""

from __future__ import annotations

from typing import Final

ASSIGN_TO_ME: Final = """
mutation AssignToMe($caseId: ID!) {
  assignToMe(input: {caseId: $caseId}) {
    case { id status version assignedTo { id name } }
    event { id version }
    errors { code message field }
  }
}"""
CREATE_CASE: Final = """
mutation File($title: String!) {
  createCase(input: {caseTypeCode: "POTHOLE", title: $title, impact: 2, urgency: 2}) { case { id } errors { code } }
}"""
# The action mutations the write benchmark (bench/writes.py) sends from its concurrent agents;
# test_write_cost.py guards their statement counts.
COMMENT_ON_CASE: Final = """
mutation Comment($caseId: ID!, $body: String!) {
  updateCase(input: {caseId: $caseId, comment: $body}) {
    case { id status version }
    event { sequence version }
    errors { code message field }
  }
}"""
PROPOSE_SOLUTION: Final = """
mutation Propose($caseId: ID!) {
  proposeSolution(input: {caseId: $caseId, resolutionCode: SOLVED, resolutionNotes: "Done as asked."}) {
    case { id status version }
    event { sequence version }
    errors { code message field }
  }
}"""
