"""ERP order states and shipments -> shop order-state and tracking commands (on the shop-events
stream, by ERP order). One event gives its commands; nothing is looked up or kept: the shop order
is named by the shop reference the ERP holds (streams.shop_commands)."""
from __future__ import annotations

from typing import Any, Mapping

from pssync.streams.clock import Clock, utc_now
from pssync.streams.outputs import Outputs
from pssync.streams.shop_commands import state_command, tracking_command


class ErpStates:
    def __init__(self, outputs: Outputs, *, order_states: Mapping[str, str], shipment_states: Mapping[str, str],
                 reference_prefix: str, now: Clock = utc_now) -> None:
        self.outputs = outputs
        self.order_states = order_states          # streams.erp_order_states: ERP state -> PS_OS_* name
        self.shipment_states = shipment_states    # streams.erp_shipment_states
        self.reference_prefix = reference_prefix  # the order mapping's shop_reference_prefix
        self.now = now

    async def on_order_status(self, partition: int, event: dict[str, Any]) -> None:
        command = state_command(event, self.order_states, "order-status", self.reference_prefix, self.now())
        if command is not None:
            await self.outputs.shop_command(command)

    async def on_shipment(self, partition: int, event: dict[str, Any]) -> None:
        now = self.now()
        for command in (tracking_command(event, self.reference_prefix, now),
                        state_command(event, self.shipment_states, "shipment", self.reference_prefix, now)):
            if command is not None:
                await self.outputs.shop_command(command)
