"""Brokerage models, one module per concern: notifications, referral, partners and webhooks."""

from .notifications import EmailStatus, Notification

__all__ = ["EmailStatus", "Notification"]
