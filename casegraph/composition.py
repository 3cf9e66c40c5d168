"""The composition root: which desk features take part in every case change, and in what order.

``services/extensions.py`` defines the contract (a transition check, a change hook) and runs
what is installed; the features implement it without importing each other. Every process that
changes cases installs them first: the application (``create_app``), the command line, and the
test suite. Order matters and is read here, in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from casegraph.attachment_scanner import AttachmentScanner
from casegraph.attachment_sweeper import AttachmentSweeper
from casegraph.clock import Clock
from casegraph.periodic import PeriodicWorker
from casegraph.services import extensions
from casegraph.services.assignment_notifications import notify_assignment_change
from casegraph.services.attachment_links import AttachmentLinks
from casegraph.services.attachment_store import STAGING, AttachmentStore, LocalDirectoryStore, NoScanner, Scanner
from casegraph.services.attachments import AttachmentDesk
from casegraph.services.case_tree import check_children_settled, recheck_children_settled
from casegraph.services.clamd_scanner import ClamdScanner
from casegraph.services.duplicate_links import forget_duplicate_link
from casegraph.services.finished_case_tasks import cancel_tasks_of_finished_case
from casegraph.services.intake import check_required_fields_at_submit
from casegraph.services.playbooks import check_required_steps, copy_playbook_on_submission
from casegraph.services.publisher import NullPublisher, Publisher
from casegraph.services.referral_outbox import enqueue_referral_outcomes, enqueue_referral_updates
from casegraph.services.requester_mail import enqueue_requester_mail
from casegraph.services.s3_store import S3Store
from casegraph.services.sla_timers import track_sla
from casegraph.services.webhooks import enqueue_webhooks
from casegraph.settings import Settings

TRANSITION_CHECKS: tuple[extensions.TransitionCheck, ...] = (
    check_required_fields_at_submit,  # intake: fields the case type/template require
    check_required_steps,  # playbooks: a stage is not left with required steps open
    check_children_settled,  # parent cases: not resolved/closed while a child is open
)
# Each runs its first phase before the event's sequence is taken, its second (if any) after:
# services/extensions.py.
CHANGE_HOOKS: tuple[extensions.ChangeHook, ...] = (
    copy_playbook_on_submission,  # playbooks: a submitted case gets its type's checklist
    recheck_children_settled,  # parent cases: the same rule again, children locked
    forget_duplicate_link,  # duplicates: a reopened duplicate no longer points at its original
    # tasks: a closed or cancelled case takes its open tasks with it (naming the event)
    extensions.after_sequence(cancel_tasks_of_finished_case),
    track_sla,  # SLAs: timers run, pause and stop with the case; alerts are planned
    enqueue_webhooks,  # webhooks: one outbox delivery per matching endpoint, sent after commit
    # referrals: a received case's changes go back to the referring agency
    extensions.after_sequence(enqueue_referral_updates),
    # referrals: a referred case's end closes (or reopens) the partner's case
    extensions.after_sequence(enqueue_referral_outcomes),
    # mail: the requester hears of receipt, questions, proposals, the end and the survey
    enqueue_requester_mail,
    # notifications: an agent hears of a case assigned to them or taken from them (naming the event)
    extensions.after_sequence(notify_assignment_change),
)


def install_case_extensions() -> None:
    """Install the checks and hooks above (idempotent: every app a test builds calls it)."""
    extensions.install(checks=TRANSITION_CHECKS, hooks=CHANGE_HOOKS)


def attachment_desk(settings: Settings) -> AttachmentDesk:
    """Attachments' parts (issue 18): where bytes are kept, who scans them, how links are signed.

    The embedded default: a local directory and no scanner. An S3-compatible bucket
    (``CASEGRAPH_ATTACHMENTS_URL``) and clamd (``CASEGRAPH_CLAMD_URL``) are other implementations of
    the same protocols (services/attachment_store.py), chosen here.
    """
    return AttachmentDesk(
        store=attachment_store(settings),
        scanner=attachment_scanner(settings),
        links=AttachmentLinks(settings.mail_signing_secret, timedelta(seconds=settings.attachment_link_seconds)),
        max_bytes=settings.attachment_max_bytes,
        case_max_bytes=settings.attachment_case_max_bytes,
    )


def attachment_store(settings: Settings) -> AttachmentStore:
    location = settings.attachments_url
    if location is None:
        return LocalDirectoryStore(settings.attachments_dir)
    # Uploads are still received and converted on this machine: staging stays in the directory.
    return S3Store(
        bucket=location.bucket,
        prefix=location.prefix,
        staging_dir=f"{settings.attachments_dir}/{STAGING}",
        endpoint_url=settings.s3_endpoint_url,
    )


def attachment_scanner(settings: Settings) -> Scanner:
    return NoScanner() if settings.clamd_url is None else ClamdScanner(settings.clamd_url)


# Seconds between sweeps of the attachment store for bytes no attachment names (a crash between
# keeping a file and committing its row leaves such bytes).
ATTACHMENT_SWEEP_INTERVAL = 3600.0
# Seconds between looks for files waiting for the scanner (a new upload waits at most this long).
ATTACHMENT_SCAN_INTERVAL = 1.0


def periodic_workers(
    desk: AttachmentDesk, clock: Clock, publisher: Callable[[], Publisher] | None = None
) -> list[PeriodicWorker]:
    """Background passes the server runs besides the SLA evaluator, the outbox and mail."""
    workers: list[PeriodicWorker] = [AttachmentSweeper(desk.store, clock=clock, interval=ATTACHMENT_SWEEP_INTERVAL)]
    if isinstance(desk.scanner, ClamdScanner):
        workers.append(
            AttachmentScanner(
                desk.store,
                desk.scanner,
                publisher=publisher or NullPublisher,
                clock=clock,
                interval=ATTACHMENT_SCAN_INTERVAL,
            )
        )
    return workers
