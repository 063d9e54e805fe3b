"""ERP order states and shipments -> shop order-state and tracking commands (on the shop-events
stream, by ERP order). The shop order is named by the shop reference the ERP holds
(streams.shop_commands).

A shop order never steps back through its lifecycle. ERP order states and shipments arrive on two
topics with no order between them, and an ERP may report an earlier state after a later one (Tryton
rewrites a sale, still ``processing``, when its shipment is done). So the furthest lifecycle step
applied to each order is kept (``References``: ``<partition>|erp_state|<id_order>``), and a state
command for an earlier step is not sent. States outside the lifecycle below (a module's own) are
always sent.
"""
from __future__ import annotations

import logging
from typing import Any, Mapping

from pssync.schemas.commands import OrderStateCommand
from pssync.streams.clock import Clock, utc_now
from pssync.streams.outputs import Outputs
from pssync.streams.shop_commands import state_command, tracking_command
from pssync.streams.state import References

log = logging.getLogger(__name__)

# PrestaShop's order lifecycle, by step: awaiting payment, paid, in preparation, shipped, delivered,
# then the ends (cancelled, refunded, payment error), which may follow any step
LIFECYCLE: dict[str, int] = {
    "PS_OS_CHEQUE": 0, "PS_OS_BANKWIRE": 0, "PS_OS_COD_VALIDATION": 0, "PS_OS_OUTOFSTOCK_UNPAID": 0,
    "PS_OS_PAYMENT": 1, "PS_OS_WS_PAYMENT": 1, "PS_OS_OUTOFSTOCK_PAID": 1,
    "PS_OS_PREPARATION": 2, "PS_OS_SHIPPING": 3, "PS_OS_DELIVERED": 4,
    "PS_OS_CANCELED": 5, "PS_OS_REFUND": 5, "PS_OS_ERROR": 5,
}


class ErpStates:
    def __init__(self, outputs: Outputs, *, order_states: Mapping[str, str], shipment_states: Mapping[str, str],
                 reference_prefix: str, refs: References | None = None, now: Clock = utc_now) -> None:
        self.outputs = outputs
        self.order_states = order_states          # streams.erp_order_states: ERP state -> PS_OS_* name
        self.shipment_states = shipment_states    # streams.erp_shipment_states
        self.reference_prefix = reference_prefix  # the order mapping's shop_reference_prefix
        self.refs = refs if refs is not None else References({})
        self.now = now

    async def on_order_status(self, partition: int, event: dict[str, Any]) -> None:
        command = state_command(event, self.order_states, "order-status", self.reference_prefix, self.now())
        if command is not None and self._forward(partition, command):
            await self.outputs.shop_command(command)

    async def on_shipment(self, partition: int, event: dict[str, Any]) -> None:
        now = self.now()
        tracking = tracking_command(event, self.reference_prefix, now)
        if tracking is not None:
            await self.outputs.shop_command(tracking)
        state = state_command(event, self.shipment_states, "shipment", self.reference_prefix, now)
        if state is not None and self._forward(partition, state):
            await self.outputs.shop_command(state)

    def _forward(self, partition: int, command: OrderStateCommand) -> bool:
        """Whether the command moves the order forward (or sideways); records its step if so."""
        step = LIFECYCLE.get(command.state_key)
        if step is None:
            return True
        reached = self.refs.get(partition, "erp_state", command.id_order)
        if reached is not None and step < reached["step"]:
            log.info("order %s: ERP state %r (%s, %s) is behind %s already sent; not sent",
                     command.id_order, command.erp_state, command.state_key, command.source_event_id,
                     reached["state_key"])
            return False
        if reached is None or step > reached["step"]:
            self.refs.set(partition, {"step": step, "state_key": command.state_key}, "erp_state", command.id_order)
        return True
