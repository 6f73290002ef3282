"""The application factory: ``create_app(config)`` builds the API and the dashboard.

Routers slot in by resource (``api/routers/<resource>.py``) and pages by page
(``api/pages/``); alerting and bulletins add theirs the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import errors
from api.metrics import Metrics
from api.middleware import HeadersAndTiming, LimitsMiddleware
from api.security import Clock, LoginLimiter
from api.services.cache import AnswerCache
from api.services.incidents import IncidentCache
from models.common import clock_rate as common_clock_rate
from models.common import now_utc
from store import Store
from tingfeng.config import Config

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent


def create_app(
    config: Config,
    store: Store | None = None,
    clock: Clock | None = None,
    *,
    warm_up: bool = False,
    scheduler: Any = None,
    clock_rate: Callable[[], float] | None = None,
) -> FastAPI:
    """Build the app. Refuses (:class:`api.settings.SettingsError`) a missing or placeholder
    ``api.secret_key`` outside development. ``store`` and ``clock`` are injectable for tests
    (``clock_rate``: how fast ``clock`` runs, :func:`models.common.clock_rate` by default);
    by default the configured store is opened and closed with the app. ``warm_up`` loads
    the rumor model in the background at start-up, so the first incident page is fast.
    ``scheduler`` (a :class:`tingfeng.services.worker.EmbeddedScheduler`) is started at
    start-up and stopped at shutdown; without it ``/healthz`` reports it ``disabled``."""
    secret = config.api.check_secret()
    owns_store = store is None
    if store is None:
        from store import open_store

        if config.store.backend == "sqlite":
            config.store.path.parent.mkdir(parents=True, exist_ok=True)
        store = open_store(config.store)

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if warm_up:
            import threading

            from api.services.incidents import warm_up as load_model

            path = str(config.nlp.rumor_model) if config.nlp.rumor_model else None
            threading.Thread(target=load_model, args=(path,), name="warm-up", daemon=True).start()
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()
            if owns_store:
                store.close()

    app = FastAPI(
        title="听风 Tingfeng API",
        version="1",
        description="舆情监测与谣言应对 · public-opinion monitoring and rumor response",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    settings = config.api
    clock = clock or now_utc
    app.state.config = config
    app.state.store = store
    app.state.secret = secret
    app.state.clock = clock
    app.state.clock_rate = clock_rate or common_clock_rate
    app.state.scheduler = scheduler
    app.state.limiter = LoginLimiter(
        settings.login_max_failures,
        timedelta(minutes=settings.login_window_minutes),
        clock,
        store,
        per_address=settings.login_max_failures_per_address,
    )
    app.state.metrics = Metrics(store, config)
    app.state.incident_cache = IncidentCache(settings.cache_seconds)
    app.state.search_cache = AnswerCache(settings.search_cache_seconds)

    errors.install(app)

    from api.pages import router as pages_router
    from api.routers import alerts, audit, auth, health, incidents, posts, sources, tokens, users
    from api.routers.openapi import router as openapi_router
    from api.services.alerts_metrics import AlertCollector

    app.state.metrics.registry.register(AlertCollector(store, clock))
    for module in (health, auth, posts, incidents, alerts, sources, users, tokens, audit):
        app.include_router(module.router)
    from api.routers import bulletins, reports, tasks

    app.include_router(bulletins.router)
    app.include_router(bulletins.incident_router)
    app.include_router(reports.router)
    app.include_router(tasks.router)
    app.include_router(openapi_router)
    from api.pages_incidents import router as incident_list_router
    from api.pages_tasks import router as tasks_router

    app.include_router(incident_list_router)
    app.include_router(tasks_router)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    app.add_middleware(
        LimitsMiddleware, max_body=settings.max_body_bytes, max_query=settings.max_query_bytes
    )
    app.add_middleware(HeadersAndTiming, observe=app.state.metrics.observe)
    return app


def app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory`` worker processes: reads the configuration named by
    ``TINGFENG_CONFIG`` (``tingfeng serve --workers N`` sets it) and its environment."""
    from tingfeng.bootstrap import bootstrap

    app = bootstrap()
    return create_app(app.config, warm_up=True)
