"""What a conversation uses of the assistant: a small frozen set of services the App builds once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.config import DialogueSettings, ShopSettings
from assistant.household import Household, Member
from assistant.nlu.parse import Parse
from assistant.purchase import PurchaseGate
from assistant.skills.access_log import AccessLog
from assistant.skills.folders import MemberFolders
from assistant.store import Catalog, Database
from assistant.store.conversations import ConversationRecords

if TYPE_CHECKING:
    from assistant.dialogue.dispatch import Dispatcher


@dataclass(frozen=True)
class Services:
    """Shared by every conversation of one process; none of it holds a conversation's state."""

    shop: ShopSettings
    dialogue: DialogueSettings
    db: Database
    """For the member's own stores (basket, orders, lists, watches) a turn opens."""
    catalog: Catalog
    household: Household
    gate: PurchaseGate
    """The only way to price and place an order."""
    access_log: AccessLog
    dispatcher: Dispatcher
    records: ConversationRecords
    """Where each conversation's state is kept between turns."""
    parse: Callable[[str], Parse]
    """The NLU's reading of a text, unsure ones as out_of_scope."""
    forget: Callable[[Member, str], None]
    """'Delete my data' for a member, everywhere but the asking conversation (its key), which starts afresh itself."""
    keep_s: float
    """How long a conversation's state outlives its last turn."""
    folders: MemberFolders
    """Skills' storage folders of members on this disk (erasures heard by other replicas applied before use)."""
