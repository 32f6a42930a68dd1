"""The controls by name.

``ControlRegistry.default()`` builds a new registry each call (no module-level instance). A control is any
object with ``name``, ``description`` and ``run(ctx, thresholds)``; one with a ``thresholds_model`` (a pydantic
model) has its ``controls.yaml`` thresholds validated at load time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping

from pydantic import BaseModel

from copilot.controls.model import Control
from copilot.errors import CopilotError

__all__ = ["ControlRegistry", "UnknownControl"]

log = logging.getLogger(__name__)


class UnknownControl(CopilotError):
    """No control has this name; the message lists the known ones."""


def _builtins() -> list[Control]:
    from copilot.controls.approvals_waiting import ApprovalsWaiting
    from copilot.controls.credit_hold import CreditHold
    from copilot.controls.late_pos import LatePurchaseOrders
    from copilot.controls.orders_at_risk import OrdersAtRisk
    from copilot.controls.receipts_due import ReceiptsDueToday
    from copilot.controls.tickets import DormantTickets, TicketAging

    return [
        LatePurchaseOrders(),
        OrdersAtRisk(),
        TicketAging(),
        DormantTickets(),
        ApprovalsWaiting(),
        ReceiptsDueToday(),
        CreditHold(),
    ]


class ControlRegistry:
    """Controls by name, in registration order."""

    def __init__(self, controls: Iterable[Control] = ()) -> None:
        self._controls: dict[str, Control] = {}
        for control in controls:
            self.add(control)

    @classmethod
    def default(cls) -> ControlRegistry:
        """The built-in controls."""
        return cls(_builtins())

    def add(self, control: Control) -> None:
        """Register ``control`` under its name (a second one with the same name replaces it)."""
        self._controls[control.name] = control

    def get(self, name: str) -> Control:
        """The control ``name``; ``UnknownControl`` listing the known names otherwise."""
        try:
            return self._controls[name]
        except KeyError:
            raise UnknownControl(f"no control named {name!r} (known: {', '.join(self.names())})") from None

    def names(self) -> list[str]:
        """The registered names, in order."""
        return list(self._controls)

    def thresholds_models(self) -> Mapping[str, type[BaseModel]]:
        """Each control's thresholds model, for those that declare one."""
        return {
            name: model
            for name, control in self._controls.items()
            if isinstance(model := getattr(control, "thresholds_model", None), type) and issubclass(model, BaseModel)
        }

    def __contains__(self, name: object) -> bool:
        return name in self._controls

    def __iter__(self) -> Iterator[Control]:
        return iter(self._controls.values())

    def __len__(self) -> int:
        return len(self._controls)
