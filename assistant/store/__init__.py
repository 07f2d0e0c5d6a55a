"""The SQLite store: catalogue, baskets, orders, recommendation signals."""

from assistant.store.catalog import Catalog, ImportReport, Product
from assistant.store.db import Database, default_data_dir
from assistant.store.demo import ensure_demo
from assistant.store.orders import Line, Order, Orders, Quote
from assistant.store.recommend import Recommender, Suggestion

__all__ = [
    "Catalog",
    "Database",
    "ImportReport",
    "Line",
    "Order",
    "Orders",
    "Product",
    "Quote",
    "Recommender",
    "Suggestion",
    "default_data_dir",
    "ensure_demo",
]
