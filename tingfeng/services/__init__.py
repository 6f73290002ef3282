"""The application's use cases, shared by the CLI, the scheduler and the API.

Each function takes the settings (:class:`tingfeng.config.Config`) and/or a store and
returns a result object (pydantic model or dataclass); none prints, none knows about
typer or rich. A problem the user can fix is a :class:`ServiceError` with one clear
message. Get settings and a store from :func:`tingfeng.bootstrap.bootstrap`.
"""

from tingfeng.services.errors import ServiceError

__all__ = ["ServiceError"]
