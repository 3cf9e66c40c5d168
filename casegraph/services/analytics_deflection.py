"""The deflection figure of ``analytics``: requests not filed after their writer read a knowledge
article in the portal (the draft sessions of ``casegraph/services/self_service.py``).

A draft session counts as *deflected* when it read at least one article and was abandoned, or
was left without an ending for ``IDLE_ABANDONED`` (the tab was closed); it counts *filed after
reading* when the request was filed. The analytics period bounds the session's last step; the
scope's groups and case types select sessions by the service's case type and its group, as they
select cases. Two statements whatever the number of sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from casegraph.domain.self_service import IDLE_ABANDONED, DraftOutcome
from casegraph.services.analytics import ratio
from casegraph.services.analytics_scope import Scope
from casegraph.services.analytics_sql import Statement
from models import Article

TOP_ARTICLES: Final = 10


@dataclass(frozen=True)
class ArticleDeflection:
    article: Article
    deflected: int


@dataclass(frozen=True)
class Deflection:
    deflected: int
    filed_after_reading: int
    top_articles: list[ArticleDeflection]

    @property
    def rate(self) -> float | None:
        return ratio(self.deflected, self.deflected + self.filed_after_reading)


def _selected(scope: Scope, stmt: Statement) -> str:
    parts = [
        scope.within(stmt, "d.last_step_at"),
        "EXISTS (SELECT 1 FROM self_service_reads r0 WHERE r0.draft_id = d.id)",
    ]
    if scope.group_ids is not None:
        parts.append(f"d.assignment_group_id IN {stmt.values(scope.group_ids)}")
    if scope.case_type_ids is not None:
        parts.append(f"d.case_type_id IN {stmt.values(scope.case_type_ids)}")
    return " AND ".join(parts)


def _deflected(scope: Scope, stmt: Statement) -> str:
    idle_before = stmt.time(scope.now - IDLE_ABANDONED)
    return f"(d.outcome = '{DraftOutcome.ABANDONED.value}' OR (d.outcome IS NULL AND d.last_step_at < {idle_before}))"


async def deflection(scope: Scope) -> Deflection:
    stmt = Statement()
    totals = await stmt.fetch(
        f"SELECT SUM(CASE WHEN {_deflected(scope, stmt)} THEN 1 ELSE 0 END) AS deflected,"
        f" SUM(CASE WHEN d.outcome = '{DraftOutcome.FILED.value}' THEN 1 ELSE 0 END) AS filed"
        f" FROM self_service_drafts d WHERE {_selected(scope, stmt)}"
    )
    stmt = Statement()
    rows = await stmt.fetch(
        "SELECT r.article_id, COUNT(*) AS n FROM self_service_reads r"
        " JOIN self_service_drafts d ON d.id = r.draft_id"
        f" WHERE {_selected(scope, stmt)} AND {_deflected(scope, stmt)}"
        f" GROUP BY r.article_id ORDER BY n DESC, r.article_id LIMIT {TOP_ARTICLES}"
    )
    articles = {str(a.id): a for a in await Article.filter(id__in=[str(row["article_id"]) for row in rows])}
    return Deflection(
        deflected=int(totals[0]["deflected"] or 0),
        filed_after_reading=int(totals[0]["filed"] or 0),
        top_articles=[
            ArticleDeflection(article=articles[str(row["article_id"])], deflected=int(row["n"]))
            for row in rows
            if str(row["article_id"]) in articles
        ],
    )
