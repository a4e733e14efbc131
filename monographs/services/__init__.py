"""
Multi-step writes to monograph content, one module per concern.

Each service runs in one transaction and inside a change context, so every
row it touches is recorded in history with the same author and reason, and
every monograph it changes gets one revision.
"""

from monographs.services.citations import ImportRefused, citations_import
from monographs.services.importing import ImportResult, monograph_import
from monographs.services.revisions import (
    deleted_monographs,
    document_restore,
    monograph_delete,
    monograph_recover,
    monograph_revert,
    monograph_undo,
    monograph_undo_preview,
    revision_record,
)
from monographs.services.seeding import SEED_DIR, SeedReport, seed_load
from monographs.services.workflow import (
    latest_revision,
    monograph_approve,
    monograph_request_changes,
    monograph_submit,
)
from monographs.services.writes import (
    IncompleteDecision,
    WorkflowError,
    WriteCounts,
    row_upsert,
)

__all__ = [
    "SEED_DIR",
    "ImportRefused",
    "ImportResult",
    "SeedReport",
    "IncompleteDecision",
    "WorkflowError",
    "WriteCounts",
    "citations_import",
    "deleted_monographs",
    "document_restore",
    "latest_revision",
    "monograph_approve",
    "monograph_delete",
    "monograph_import",
    "monograph_recover",
    "monograph_request_changes",
    "monograph_revert",
    "monograph_undo",
    "monograph_undo_preview",
    "monograph_submit",
    "revision_record",
    "row_upsert",
    "seed_load",
]
