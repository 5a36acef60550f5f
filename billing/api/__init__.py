"""Blueprints, one per part of the contract."""
from billing.api import accounts, catalog, contract, invoices, operations, reservations, subscriptions, testing

BLUEPRINTS = (accounts.bp, catalog.bp, subscriptions.bp, invoices.bp, reservations.bp,
              operations.bp, testing.bp, contract.bp)
