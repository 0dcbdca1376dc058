"""``crmbridge serve``: run the web application with uvicorn."""

from __future__ import annotations

import typer
import uvicorn

from crmbridge.config import get_settings
from crmbridge.logging import configure_logging
from crmbridge.store import migrate


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    migrate_first: bool = typer.Option(
        True,
        "--migrate/--no-migrate",
        help="Upgrade the database to the newest revision before serving. Use --no-migrate "
        "when several instances start at once and migrations run as a separate step.",
    ),
    proxy_headers: bool = typer.Option(
        False,
        "--proxy-headers",
        help="Trust X-Forwarded-For from the proxies in FORWARDED_ALLOW_IPS (uvicorn), so "
        "API-key IP allow-lists see the client's address.",
    ),
    with_worker: bool = typer.Option(
        False,
        "--with-worker",
        help="Also run the scheduler and worker loop in this process (the single-machine "
        "default; see `crmbridge worker`).",
    ),
) -> None:
    """Serve the REST API, the admin pages and health probes."""
    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.is_production)
    settings.check_safe_for_production()
    if migrate_first:
        migrate.upgrade(settings.resolved_database_url())
    from crmbridge.web.app import create_app

    app = create_app(settings)
    worker = None
    if with_worker:
        from crmbridge.worker.tasks import build_worker, start_worker_thread

        worker = build_worker(app.state.session_factory, settings)
        app.state.wake_worker = worker.wake  # pushed entries wake it at once
        start_worker_thread(worker)
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_config=None,
            proxy_headers=proxy_headers,
            server_header=False,
        )
    finally:
        if worker is not None:
            worker.stop()
