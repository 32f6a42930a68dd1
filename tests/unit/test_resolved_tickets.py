"""Resolved helpdesk tickets go into the tickets collection once; a re-run embeds nothing."""

from __future__ import annotations

from pathlib import Path

from copilot.config import load_settings
from copilot.odoo import OdooClient
from copilot.retrieval import TicketIndex, VectorStore
from copilot.retrieval.resolved import index_resolved_tickets
from tests.conftest import in_process_sandbox, make_client


def test_resolved_tickets_are_indexed_once_and_found_by_meaning(odoo: OdooClient, tmp_path: Path) -> None:
    tickets = TicketIndex(VectorStore.from_settings(load_settings(data_dir=tmp_path)))
    embedded, total = index_resolved_tickets(odoo, tickets)
    assert total == embedded == 10  # tickets in Done, Cancelled or Rejected stages
    assert index_resolved_tickets(odoo, tickets) == (0, 10)
    [hit] = tickets.search("order arrived with damaged cabinet doors", k=1)
    assert hit.citation.model == "helpdesk.ticket"


def test_an_odoo_without_helpdesk_has_no_resolved_tickets(tmp_path: Path) -> None:
    with in_process_sandbox(helpdesk="none") as server:
        tickets = TicketIndex(VectorStore.from_settings(load_settings(data_dir=tmp_path)))
        assert index_resolved_tickets(make_client(server), tickets) == (0, 0)
