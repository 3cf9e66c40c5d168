"""Helping themselves in the portal (issue 17), in Chromium: published articles offered while a
request is typed and read in place, a request left after reading counted as deflected (and one
filed after reading counted as filed) in ``analytics``; the requester edits their request (an
edit answering a question resumes it; a refused e-mail address and a conflicting change are
shown in their words), closes it after a confirmation, pages through all their requests, and
reads the whole outcome of a finished one, in Spanish.
"""

from __future__ import annotations

from typing import Any, Final

from playwright.sync_api import Page, expect

from tests.e2e.conftest import E2EServer, Screens, Window
from tests.e2e.portal_steps import file_case, sign_in_with_demo_user
from tests.e2e.world import CASE_TYPE, SERVICE, act_as, token
from tests.live.support import GraphQLHttp, run_sync

DEFLECTION: Final = """query {
  analytics { deflection { deflectedRequests filedAfterReading topArticles { deflectedRequests article { id } } } }
}"""
MY_CASE_COUNT: Final = "query C($filter: CaseFilterInput) { cases(first: 1, filter: $filter) { totalCount } }"
FINISHED: Final = ["CLOSED", "CANCELLED"]
# The portal's page of "My requests" (main.js MY_CASES_PAGE).
PAGE_SIZE: Final = 20


def publish_article(server: E2EServer, title: str, body: str, *, publish: bool = True) -> str:
    async def write() -> str:
        async with GraphQLHttp(server.url) as gql:
            created = await gql.mutate(
                "createArticle", {"title": title, "body": body}, "article { id }", token=token("ada")
            )
            article_id: str = created["article"]["id"]
            if publish:
                await gql.mutate("publishArticle", {"articleId": article_id}, "article { id }", token=token("ada"))
        return article_id

    return run_sync(write)


def read_deflection(server: E2EServer) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        async with GraphQLHttp(server.url) as gql:
            figure: dict[str, Any] = (await gql.data(DEFLECTION, token=token("ada")))["analytics"]["deflection"]
        return figure

    return run_sync(read)


def count_of_my_cases(server: E2EServer, who: str, statuses: list[str] | None = None) -> int:
    async def read() -> int:
        variables = {"filter": {"status": statuses} if statuses else None}
        async with GraphQLHttp(server.url) as gql:
            total: int = (await gql.data(MY_CASE_COUNT, variables, token=token(who)))["cases"]["totalCount"]
        return total

    return run_sync(read)


def reporting(page: Page, step: str) -> Any:
    """Waits for the portal's report of a draft's step (recordSelfService)."""
    return page.expect_response(
        lambda response: (
            response.url.endswith("/graphql")
            and "PortalSelfService" in (post := response.request.post_data or "")
            and f'"step":"{step}"' in post.replace(" ", "")
        )
    )


def new_request(base: str, title: str) -> dict[str, object]:
    return run_sync(lambda: act_as(base, "alice", "createCase", {"caseTypeCode": CASE_TYPE, "title": title}))


def open_service(window: Window) -> Any:
    window.page.locator(f'[data-testid="service"][data-code="{SERVICE}"]').click()
    return window.page.get_by_test_id("file-form")


def test_an_article_read_while_typing_then_leaving_counts_as_a_deflected_request(
    open_window: Any, e2e_server: E2EServer, screens: Screens
) -> None:
    # given a published article about parking permits, and a draft one the public must not see
    helpful = publish_article(e2e_server, "Renewing a parking permit", "Renew it online under Permits, any time.")
    publish_article(e2e_server, "Parking permit backlog (internal)", "Staff only: permits are late.", publish=False)
    before = read_deflection(e2e_server)
    window = open_window("constituent")
    sign_in_with_demo_user(window, "alice")
    page = window.page
    # when alice starts a request and types her question
    form = open_service(window)
    form.get_by_test_id("input-title").fill("How do I renew my parking permit?")
    # then the published article is offered, readable in place, and the draft one is not
    suggestions = form.get_by_test_id("suggestions")
    expect(suggestions).to_contain_text("These may answer your question")
    expect(suggestions.get_by_test_id("suggested-article")).to_have_count(1)
    expect(suggestions.get_by_test_id("suggested-article-title")).to_have_text("Renewing a parking permit")
    with reporting(page, "ARTICLE_READ"):
        suggestions.get_by_test_id("suggested-article-title").click()
    expect(suggestions.get_by_test_id("suggested-article-body")).to_have_text(
        "Renew it online under Permits, any time."
    )
    screens.shoot("article read while typing")
    # when she leaves without filing
    with reporting(page, "ABANDONED"):
        form.get_by_role("button", name="Cancel").click()
    # then one more request counts as deflected, to that article's credit
    after = read_deflection(e2e_server)
    assert after["deflectedRequests"] == before["deflectedRequests"] + 1
    assert after["filedAfterReading"] == before["filedAfterReading"]
    assert {"deflectedRequests": 1, "article": {"id": helpful}} in after["topArticles"]
    # and the desk sees it on the dashboard's analytics
    desk = open_window("administrator").page
    desk.goto("/")
    desk.locator('[data-testid="dev-user"][data-user-id="ada"]').click()
    figure = desk.get_by_test_id("deflection")
    expect(figure).to_have_attribute("data-deflected", str(after["deflectedRequests"]))
    expect(figure.locator(f'[data-article-id="{helpful}"]')).to_contain_text("Renewing a parking permit")
    screens.shoot("deflection on the dashboard")

    # when she starts again, reads the article, and files anyway
    form = open_service(window)
    form.get_by_test_id("input-description").fill("My parking permit renewal was refused online.")
    with reporting(page, "ARTICLE_READ"):
        form.get_by_test_id("suggested-article-title").click()
    form.get_by_test_id("input-title").fill("Permit renewal refused")
    with reporting(page, "FILED"):
        form.get_by_test_id("file-submit").click()
    expect(page.get_by_test_id("case-detail").get_by_test_id("case-title")).to_have_text("Permit renewal refused")
    # then it counts as filed after reading, not as deflected
    filed = read_deflection(e2e_server)
    assert (filed["deflectedRequests"], filed["filedAfterReading"]) == (
        after["deflectedRequests"],
        after["filedAfterReading"] + 1,
    )


def test_the_requester_edits_their_request_answers_by_an_edit_and_closes_it(
    open_window: Any, e2e_server: E2EServer, screens: Screens
) -> None:
    window = open_window("constituent")
    sign_in_with_demo_user(window, "alice")
    page = window.page
    case_id, _ = file_case(window, "Broken bench in the park", "The bench by the pond.")
    detail = page.get_by_test_id("case-detail")
    # when she corrects the description
    detail.get_by_test_id("edit-case").locator("summary").click()
    detail.get_by_test_id("edit-description").fill("The second bench by the pond, near the playground.")
    detail.get_by_test_id("edit-submit").click()
    # then the request says so
    expect(detail.get_by_test_id("case-description")).to_have_text("The second bench by the pond, near the playground.")
    expect(detail.get_by_test_id("case-notice")).to_have_text("Your changes are saved.")

    # given the agent asks her a question
    base = e2e_server.url
    run_sync(lambda: act_as(base, "dana", "assignToMe", {"caseId": case_id}))
    run_sync(lambda: act_as(base, "dana", "requestInfo", {"caseId": case_id, "question": "Is it wood or metal?"}))
    expect(detail.get_by_test_id("case-status")).to_have_attribute("data-status", "AWAITING_INFO")
    edit = detail.get_by_test_id("edit-case")
    edit.locator("summary").click()
    expect(edit.get_by_test_id("edit-resumes")).to_be_visible()
    # when she gives an address that is not one, the field says why, in her words
    edit.get_by_test_id("edit-contactEmail").fill("alice at home")
    edit.get_by_test_id("edit-submit").click()
    expect(edit.locator('.field-error[data-field="contactEmail"]')).to_have_text(
        "Enter an e-mail address such as name@example.org."
    )
    expect(detail.get_by_test_id("case-status")).to_have_attribute("data-status", "AWAITING_INFO")
    # when she corrects it, the edit answers the question: the request goes back to where it was
    edit.get_by_test_id("edit-contactEmail").fill("alice@example.org")
    edit.get_by_test_id("edit-submit").click()
    expect(detail.get_by_test_id("case-status")).to_have_attribute("data-status", "OPEN")
    expect(detail.get_by_test_id("case-notice")).to_contain_text("your request is back to: Being handled")
    screens.shoot("edit answered the question")

    # given she starts an edit and the agent changes the request meanwhile
    edit = detail.get_by_test_id("edit-case")
    edit.locator("summary").click()
    edit.get_by_test_id("edit-contactPhone").fill("+1 555 0100")
    run_sync(lambda: act_as(base, "dana", "updateCase", {"caseId": case_id, "comment": "We will look at it."}))
    expect(detail.get_by_test_id("comments")).to_contain_text("We will look at it.")
    # when she saves, she is told someone changed it; a reload keeps what she typed
    edit.get_by_test_id("edit-submit").click()
    expect(edit.get_by_test_id("form-error")).to_contain_text("Someone changed this request")
    edit.get_by_test_id("edit-reload").click()
    expect(edit.get_by_test_id("edit-contactPhone")).to_have_value("+1 555 0100")
    edit.get_by_test_id("edit-submit").click()
    expect(detail.get_by_test_id("case-notice")).to_have_text("Your changes are saved.")

    # when she closes it: asked first, and "keep it open" keeps it open
    close = detail.get_by_test_id("close")
    close.get_by_test_id("close-case").click()
    expect(close.get_by_test_id("close-question")).to_be_visible()
    close.get_by_test_id("close-keep").click()
    expect(close.get_by_test_id("close-question")).to_have_count(0)
    close.get_by_test_id("close-case").click()
    close.get_by_test_id("close-confirm").click()
    # then it is closed by her, and nothing more is offered but the outcome
    expect(detail.get_by_test_id("case-status")).to_have_attribute("data-status", "CLOSED")
    expect(detail.get_by_test_id("outcome-closed")).to_contain_text("Closed by you")
    expect(detail.get_by_test_id("close")).to_have_count(0)
    expect(detail.get_by_test_id("withdraw")).to_have_count(0)
    expect(detail.get_by_test_id("edit-case")).to_have_count(0)
    screens.shoot("closed by the requester")


def test_the_requester_pages_through_all_their_requests_and_filters_them(
    open_window: Any, e2e_server: E2EServer, screens: Screens
) -> None:
    # given more requests than a page holds, one of them withdrawn
    base = e2e_server.url
    created = [new_request(base, f"Lamp {n} out") for n in range(PAGE_SIZE + 2)]
    run_sync(lambda: act_as(base, "alice", "cancelCase", {"caseId": created[0]["id"], "reason": "Fixed itself."}))
    total = count_of_my_cases(e2e_server, "alice")
    window = open_window("constituent")
    sign_in_with_demo_user(window, "alice")
    page = window.page
    rows = page.get_by_test_id("my-case")
    # then the first page and the count of them all are shown
    expect(rows).to_have_count(PAGE_SIZE)
    expect(page.get_by_test_id("cases-count")).to_have_attribute("data-total", str(total))
    # when she asks for more until there are no more
    while page.get_by_test_id("cases-more").count():
        shown = rows.count()
        page.get_by_test_id("cases-more").click()
        expect(rows).not_to_have_count(shown)
    # then every request is listed, once
    expect(rows).to_have_count(total)
    expect(page.get_by_test_id("cases-count")).to_have_attribute("data-shown", str(total))
    screens.shoot("every request")
    # when she shows the finished ones only
    finished = count_of_my_cases(e2e_server, "alice", FINISHED)
    page.get_by_test_id("cases-filter").select_option("closed")
    expect(page.get_by_test_id("cases-count")).to_have_attribute("data-total", str(finished))
    expect(rows).to_have_count(finished)
    expect(page.locator(f'[data-testid="my-case"][data-case-id="{created[0]["id"]}"]')).to_be_visible()
    for status in rows.evaluate_all("rows => rows.map(row => row.dataset.status)"):
        assert status in FINISHED
    page.get_by_test_id("cases-filter").select_option("open")
    expect(page.get_by_test_id("cases-count")).to_have_attribute("data-total", str(total - finished))
    expect(page.locator(f'[data-testid="my-case"][data-case-id="{created[0]["id"]}"]')).to_have_count(0)
    expect(page.locator(f'[data-testid="my-case"][data-case-id="{created[-1]["id"]}"]')).to_be_visible()


def test_a_spanish_requester_reads_the_whole_outcome_of_a_closed_request(
    open_window: Any, e2e_server: E2EServer, screens: Screens
) -> None:
    # given a request solved by the agent, with a public comment, accepted and rated
    base = e2e_server.url
    case = run_sync(
        lambda: act_as(base, "alice", "createCase", {"caseTypeCode": CASE_TYPE, "title": "Recogida de muebles"})
    )
    case_id = case["id"]
    run_sync(lambda: act_as(base, "dana", "assignToMe", {"caseId": case_id}))
    run_sync(lambda: act_as(base, "dana", "updateCase", {"caseId": case_id, "comment": "Pasamos el martes."}))
    run_sync(
        lambda: act_as(
            base,
            "dana",
            "proposeSolution",
            {"caseId": case_id, "resolutionCode": "SOLVED", "resolutionNotes": "Recogidos el martes por la mañana."},
        )
    )
    run_sync(lambda: act_as(base, "alice", "acceptSolution", {"caseId": case_id}))
    run_sync(lambda: act_as(base, "alice", "submitSurvey", {"caseId": case_id, "rating": 5, "comment": "Rápido."}))
    # when she opens it in a Spanish browser
    window = open_window("constituent-es", locale="es-ES")
    page = window.page
    page.goto("/portal")
    page.locator('[data-testid="dev-user"][data-user-id="alice"]').click()
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-status", "live")
    page.get_by_test_id("cases-filter").select_option("closed")
    page.locator(f'[data-testid="my-case"][data-case-id="{case_id}"]').click()
    detail = page.get_by_test_id("case-detail")
    # then the whole outcome is there, in Spanish
    outcome = detail.get_by_test_id("case-outcome")
    expect(outcome.get_by_test_id("outcome-code")).to_have_text("Resuelto")
    expect(outcome.get_by_test_id("outcome-notes")).to_have_text("Recogidos el martes por la mañana.")
    expect(outcome.get_by_test_id("outcome-by")).to_contain_text("Decidido por Dana Desk")
    expect(outcome.get_by_test_id("outcome-closed")).to_contain_text("Cerrada por usted")
    expect(detail.get_by_test_id("comments")).to_contain_text("Pasamos el martes.")
    expect(detail.get_by_test_id("survey-thanks")).to_contain_text("Ha valorado nuestro servicio con 5 de 5.")
    screens.shoot("outcome in Spanish")

    # and a withdrawn request says why
    withdrawn = run_sync(
        lambda: act_as(base, "alice", "createCase", {"caseTypeCode": CASE_TYPE, "title": "Ruido nocturno"})
    )
    run_sync(lambda: act_as(base, "alice", "cancelCase", {"caseId": withdrawn["id"], "reason": "Ya paró."}))
    page.locator(f'[data-testid="my-case"][data-case-id="{withdrawn["id"]}"]').click()
    cancelled = detail.get_by_test_id("case-cancelled")
    expect(cancelled).to_contain_text("Esta solicitud fue retirada")
    expect(cancelled.get_by_test_id("cancel-reason-text")).to_have_text("Ya paró.")
