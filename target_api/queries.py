"""Statement builders for every list and detail: pure, no session, no request.

Each statement is built once per *shape* (which filters are present, lean or
fat columns) with bound parameters, and memoized: a request only binds
values. A list page is ONE statement whatever the page size: per-row counts
are correlated scalar subqueries over an index, and the list's total rides
along as an uncorrelated scalar subquery (column ``_total``, computed once;
for chefs, a primary-key lookup in the trigger-kept ``chef_totals``, see
:mod:`target_api.totals`). Only a page past the end, which has no row to
carry it, needs the separate count statement. Lists order by primary key,
which an equality filter on an indexed column already yields, so no plan
needs a temporary B-tree.
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, Integer, Select, bindparam, func, select, true
from sqlalchemy.orm import lazyload

from target_api import totals
from target_api.models import (
    AIEmployee,
    Booking,
    Campaign,
    CampaignApplication,
    Chef,
    Product,
    Scenario,
    SNSAccount,
    SNSPost,
    User,
)
from target_api.params import Page

#: A select of any columns (SQLAlchemy 2.1 types a Select by its column tuple).
AnySelect: TypeAlias = Select[*tuple[Any, ...]]

CHEF_LIST_COLUMNS = (
    Chef.id,
    Chef.name,
    Chef.cuisine_type,
    Chef.location,
    Chef.price_per_session,
    Chef.rating,
    Chef.rating_count,
)
BOOKING_COLUMNS = (
    Booking.id,
    Booking.chef_id,
    Booking.user_id,
    Booking.booking_date,
    Booking.duration_hours,
    Booking.total_price,
    Booking.status,
)


def page_params(page: Page, **filters: Any) -> dict[str, Any]:
    """Bind values for a page statement: the filters plus ``limit`` and ``offset``."""
    return {**filters, "limit": page.size, "offset": page.offset}


#: The label of the total-rows column every page statement carries.
TOTAL = "_total"


def _paged(statement: AnySelect, order_by: Any, count: AnySelect) -> AnySelect:
    # correlate(None): the count must not bind to the outer query's table.
    total = count.correlate(None).scalar_subquery().label(TOTAL)
    return (
        statement.add_columns(total)
        .order_by(order_by)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )


def _count(entity: Any, conditions: list[ColumnElement[bool]]) -> AnySelect:
    return select(func.count()).select_from(entity).where(*conditions)


def _columns(model: Any, lean: tuple[Any, ...], all_columns: bool) -> tuple[Any, ...]:
    return tuple(model.__table__.columns) if all_columns else lean


def _count_of_children(child_fk: Any, parent_id: Any, parent: Any, label: str) -> Any:
    """``(SELECT count(*) FROM child WHERE child.fk = parent.id)``: an index-only count."""
    return (
        select(func.count())
        .where(child_fk == parent_id)
        .correlate(parent)
        .scalar_subquery()
        .label(label)
    )


# --- CooCook -------------------------------------------------------------


def _chef_conditions(cuisine: bool, location: bool) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Chef.is_active == true()]
    if cuisine:
        conditions.append(Chef.cuisine_type == bindparam("cuisine"))
    if location:
        conditions.append(Chef.location == bindparam("location"))
    return conditions


@cache
def chefs_page(cuisine: bool, location: bool, all_columns: bool = False) -> AnySelect:
    """One page of active chefs, each with its booking count, in one statement."""
    booking_count = _count_of_children(Booking.chef_id, Chef.id, Chef, "booking_count")
    columns = _columns(Chef, CHEF_LIST_COLUMNS, all_columns)
    conditions = _chef_conditions(cuisine, location)
    statement = select(*columns, booking_count).where(*conditions)
    return _paged(statement, Chef.id, totals.total_statement(cuisine, location))


@cache
def chefs_page_lazy(cuisine: bool, location: bool) -> AnySelect:
    """The ``n_plus_one`` fault: whole Chef objects whose bookings load one chef at a time."""
    statement = (
        select(Chef).options(lazyload(Chef.bookings)).where(*_chef_conditions(cuisine, location))
    )
    return (
        statement.order_by(Chef.id)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )


@cache
def chefs_count(cuisine: bool, location: bool) -> AnySelect:
    return totals.total_statement(cuisine, location)


@cache
def chef_detail() -> AnySelect:
    booking_count = _count_of_children(Booking.chef_id, Chef.id, Chef, "booking_count")
    return select(*Chef.__table__.columns, booking_count).where(
        Chef.id == bindparam("chef_id"), Chef.is_active == true()
    )


@cache
def recent_bookings() -> AnySelect:
    """The chef's latest bookings (``chef_id``, ``limit``)."""
    return (
        select(Booking.id, Booking.booking_date, Booking.status)
        .where(Booking.chef_id == bindparam("chef_id"))
        .order_by(Booking.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )


def _booking_conditions(user_id: bool) -> list[ColumnElement[bool]]:
    return [Booking.user_id == bindparam("user_id")] if user_id else []


@cache
def bookings_page(user_id: bool, all_columns: bool = False) -> AnySelect:
    columns = _columns(Booking, BOOKING_COLUMNS, all_columns)
    conditions = _booking_conditions(user_id)
    statement = select(*columns).where(*conditions)
    return _paged(statement, Booking.id.desc(), _count(Booking, conditions))


@cache
def bookings_count(user_id: bool) -> AnySelect:
    return _count(Booking, _booking_conditions(user_id))


# --- Products --------------------------------------------------------------


@cache
def products_page(all_columns: bool = False) -> AnySelect:
    lean = (Product.id, Product.name, Product.price, Product.billing_period)
    columns = _columns(Product, lean, all_columns)
    conditions = [Product.is_active == true()]
    return _paged(select(*columns).where(*conditions), Product.id, _count(Product, conditions))


@cache
def products_count() -> AnySelect:
    return _count(Product, [Product.is_active == true()])


# --- SNS -------------------------------------------------------------------


def _post_conditions(status: bool, account_id: bool) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if status:
        conditions.append(SNSPost.status == bindparam("status"))
    if account_id:
        conditions.append(SNSPost.account_id == bindparam("account_id"))
    return conditions


@cache
def posts_page(status: bool, account_id: bool, all_columns: bool = False) -> AnySelect:
    """Posts joined to their account (by primary key) for the handle: no per-row query."""
    lean = (SNSPost.id, SNSPost.account_id, SNSPost.status, SNSPost.scheduled_at)
    conditions = _post_conditions(status, account_id)
    statement = (
        select(*_columns(SNSPost, lean, all_columns), SNSAccount.platform, SNSAccount.handle)
        .join(SNSAccount, SNSAccount.id == SNSPost.account_id)
        .where(*conditions)
    )
    return _paged(statement, SNSPost.id, _count(SNSPost, conditions))


@cache
def posts_count(status: bool, account_id: bool) -> AnySelect:
    return _count(SNSPost, _post_conditions(status, account_id))


# --- Review campaigns ------------------------------------------------------


def _campaign_conditions(status: bool) -> list[ColumnElement[bool]]:
    return [Campaign.status == bindparam("status")] if status else []


@cache
def campaigns_page(status: bool, all_columns: bool = False) -> AnySelect:
    application_count = _count_of_children(
        CampaignApplication.campaign_id, Campaign.id, Campaign, "application_count"
    )
    lean = (Campaign.id, Campaign.title, Campaign.status, Campaign.budget)
    conditions = _campaign_conditions(status)
    statement = select(*_columns(Campaign, lean, all_columns), application_count)
    return _paged(statement.where(*conditions), Campaign.id, _count(Campaign, conditions))


@cache
def campaigns_count(status: bool) -> AnySelect:
    return _count(Campaign, _campaign_conditions(status))


@cache
def campaign_exists() -> AnySelect:
    return select(Campaign.id).where(Campaign.id == bindparam("campaign_id"))


def _application_conditions(status: bool) -> list[ColumnElement[bool]]:
    conditions = [CampaignApplication.campaign_id == bindparam("campaign_id")]
    if status:
        conditions.append(CampaignApplication.status == bindparam("status"))
    return conditions


@cache
def applications_page(status: bool, all_columns: bool = False) -> AnySelect:
    lean = (CampaignApplication.id, CampaignApplication.user_id, CampaignApplication.status)
    conditions = _application_conditions(status)
    statement = (
        select(*_columns(CampaignApplication, lean, all_columns), User.name.label("applicant"))
        .join(User, User.id == CampaignApplication.user_id)
        .where(*conditions)
    )
    count = _count(CampaignApplication, conditions)
    return _paged(statement, CampaignApplication.id, count)


@cache
def applications_count(status: bool) -> AnySelect:
    return _count(CampaignApplication, _application_conditions(status))


# --- AI automation ---------------------------------------------------------


def _employee_conditions(user_id: bool) -> list[ColumnElement[bool]]:
    return [AIEmployee.user_id == bindparam("user_id")] if user_id else []


@cache
def employees_page(user_id: bool, all_columns: bool = False) -> AnySelect:
    scenario_count = _count_of_children(
        Scenario.ai_employee_id, AIEmployee.id, AIEmployee, "scenario_count"
    )
    lean = (AIEmployee.id, AIEmployee.user_id, AIEmployee.name, AIEmployee.role)
    conditions = _employee_conditions(user_id)
    statement = select(*_columns(AIEmployee, lean, all_columns), scenario_count)
    return _paged(statement.where(*conditions), AIEmployee.id, _count(AIEmployee, conditions))


@cache
def employees_count(user_id: bool) -> AnySelect:
    return _count(AIEmployee, _employee_conditions(user_id))


def _scenario_conditions(category: bool) -> list[ColumnElement[bool]]:
    return [Scenario.category == bindparam("category")] if category else []


@cache
def scenarios_page(category: bool, all_columns: bool = False) -> AnySelect:
    lean = (Scenario.id, Scenario.ai_employee_id, Scenario.category, Scenario.title)
    conditions = _scenario_conditions(category)
    statement = select(*_columns(Scenario, lean, all_columns)).where(*conditions)
    return _paged(statement, Scenario.id, _count(Scenario, conditions))


@cache
def scenarios_count(category: bool) -> AnySelect:
    return _count(Scenario, _scenario_conditions(category))
