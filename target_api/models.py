"""The SoftFactory tables, their relationships and every index the report asks for.

Indexes are declared here, next to the columns they serve, with the report's
names; :mod:`target_api.migrations` creates them on an existing database.
Relationships default to ``lazy="raise"`` so an accidental lazy load (an N+1)
is an error instead of a silent query per row.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names, so migrations and EXPLAIN output are predictable.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


BOOKING_STATUSES = ("pending", "confirmed", "completed", "cancelled")
POST_STATUSES = ("draft", "scheduled", "published", "failed")
CAMPAIGN_STATUSES = ("draft", "active", "closed")
APPLICATION_STATUSES = ("pending", "approved", "rejected")
SUBSCRIPTION_STATUSES = ("active", "cancelled", "expired")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Chef(Base):
    __tablename__ = "chefs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(80))
    bio: Mapped[str] = mapped_column(Text)
    cuisine_type: Mapped[str] = mapped_column(String(40))
    location: Mapped[str] = mapped_column(String(80))
    price_per_session: Mapped[float] = mapped_column(Float)
    rating: Mapped[float] = mapped_column(Float)
    rating_count: Mapped[int] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    bookings: Mapped[list[Booking]] = relationship(
        back_populates="chef", lazy="raise", order_by="Booking.id"
    )

    __table_args__ = (
        Index("idx_chefs_is_active", "is_active"),
        Index("idx_chefs_cuisine", "cuisine_type"),
        Index("idx_chefs_location", "location"),
        Index("idx_chefs_user_id", "user_id"),
    )


class ChefTotal(Base):
    """Active chefs per filter combination, kept exact by triggers (:mod:`target_api.totals`)."""

    __tablename__ = "chef_totals"

    #: Which filters the row is for: 0 none, 1 cuisine, 2 location, 3 both.
    scope: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: ``''`` where the scope has no cuisine filter (likewise ``location``).
    cuisine_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    location: Mapped[str] = mapped_column(String(80), primary_key=True)
    active: Mapped[int] = mapped_column(Integer)

    # A lookup is by the whole key: SQLite stores the rows in the key's B-tree.
    __table_args__ = ({"sqlite_with_rowid": False},)


class Booking(Base):
    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chef_id: Mapped[int] = mapped_column(ForeignKey("chefs.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    booking_date: Mapped[dt.date] = mapped_column(Date)
    duration_hours: Mapped[int] = mapped_column(Integer)
    total_price: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    chef: Mapped[Chef] = relationship(back_populates="bookings", lazy="raise")

    __table_args__ = (
        Index("idx_bookings_user_id", "user_id"),
        Index("idx_bookings_chef_id", "chef_id"),
        Index("idx_bookings_status", "status"),
    )


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text)
    price: Mapped[float] = mapped_column(Float)
    billing_period: Mapped[str] = mapped_column(String(20))
    is_active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (Index("idx_products_is_active", "is_active"),)


class Subscription(Base):
    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("idx_subscriptions_user_id", "user_id"),
        Index("idx_subscriptions_product_id", "product_id"),
    )


class SNSAccount(Base):
    __tablename__ = "sns_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    platform: Mapped[str] = mapped_column(String(20))
    handle: Mapped[str] = mapped_column(String(80))
    followers: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (Index("idx_sns_accounts_user_id", "user_id"),)


class SNSPost(Base):
    __tablename__ = "sns_posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("sns_accounts.id"))
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    scheduled_at: Mapped[dt.datetime] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("idx_sns_posts_status", "status"),
        Index("idx_sns_posts_account_id", "account_id"),
    )


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    budget: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("idx_campaigns_status", "status"),
        Index("idx_campaigns_owner_id", "owner_id"),
    )


class CampaignApplication(Base):
    __tablename__ = "campaign_applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("idx_campaign_apps_status", "status"),
        Index("idx_campaign_apps_campaign_id", "campaign_id"),
        Index("idx_campaign_apps_user_id", "user_id"),
    )


class AIEmployee(Base):
    __tablename__ = "ai_employees"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(40))
    is_active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (Index("idx_ai_employees_user_id", "user_id"),)


class Scenario(Base):
    __tablename__ = "scenarios"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ai_employee_id: Mapped[int] = mapped_column(ForeignKey("ai_employees.id"))
    category: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("idx_scenarios_category", "category"),
        Index("idx_scenarios_ai_employee_id", "ai_employee_id"),
    )
