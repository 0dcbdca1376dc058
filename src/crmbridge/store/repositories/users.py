"""Queries on people who log in (crmbridge users, not platform records)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.store.models import User


def add_user(session: Session, user: User) -> User:
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, user_id: str) -> User | None:
    return session.get(User, user_id)


def get_tenant_user(session: Session, tenant_id: str, user_id: str) -> User | None:
    return session.scalar(sa.select(User).where(User.id == user_id, User.tenant_id == tenant_id))


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(sa.select(User).where(User.email == email.lower()))


def email_taken(session: Session, email: str, *, except_id: str | None = None) -> bool:
    query = sa.select(User.id).where(User.email == email.lower())
    if except_id is not None:
        query = query.where(User.id != except_id)
    return session.scalar(query) is not None


def list_tenant_users(session: Session, tenant_id: str) -> list[User]:
    query = sa.select(User).where(User.tenant_id == tenant_id).order_by(User.email)
    return list(session.scalars(query))


def delete_user(session: Session, user: User) -> None:
    session.delete(user)
    session.flush()
