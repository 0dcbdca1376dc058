"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from starlette.middleware.sessions import SessionMiddleware

from crmbridge.config import Settings, get_settings
from crmbridge.store.db import create_db_engine, create_session_factory
from crmbridge.web import health
from crmbridge.web.api import (
    admin,
    fields,
    inbound,
    mappings,
    records,
    salesforce,
    scheduler,
    sync,
)
from crmbridge.web.api.openapi import install_openapi
from crmbridge.web.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from crmbridge.web.problems import install_problem_handlers
from crmbridge.web.ui import routes as ui

API_PREFIX = "/api/v1"
SESSION_COOKIE = "crmbridge_session"
#: Browser sessions end after 12 hours.
SESSION_MAX_AGE_SECONDS = 12 * 3600

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """Build the web application.

    Args:
        settings: configuration (default: read from the environment).
        engine: an existing engine to share (tests); by default one is created from
            ``settings`` and disposed of when the application shuts down.
    """
    settings = settings or get_settings()
    settings.check_safe_for_production()
    own_engine = engine is None
    engine = engine or create_db_engine(settings.resolved_database_url())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if own_engine:
            engine.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="crmbridge",
        version="0.1.0",
        summary="Two-way sync between a membership/growth platform and Salesforce.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = create_session_factory(engine)

    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(admin.router, prefix=API_PREFIX)
    app.include_router(fields.router, prefix=API_PREFIX)
    app.include_router(records.router, prefix=API_PREFIX)
    app.include_router(salesforce.router, prefix=API_PREFIX)
    app.include_router(mappings.router, prefix=API_PREFIX)
    mappings.install_mapping_problems(app)
    app.include_router(sync.router, prefix=API_PREFIX)
    app.include_router(inbound.router, prefix=API_PREFIX)
    app.include_router(scheduler.router, prefix=API_PREFIX)
    app.include_router(salesforce.pages)
    app.include_router(ui.router)
    install_openapi(app)

    # Added last = outermost: request ids wrap everything, including 413 answers.
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.signing_key("session").hex(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE_SECONDS,
        same_site="lax",
        https_only=settings.is_production,
    )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    return app
