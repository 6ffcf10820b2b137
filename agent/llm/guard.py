"""A switch that makes any real model request fail (for unit tests).

Unit tests set ``ALLOW_MODEL_REQUESTS = False`` (tests/conftest.py) so that
only tests marked ``real_model`` can reach a real model; the scripted fake
ignores the switch. (pydantic-ai's ``ALLOW_MODEL_REQUESTS``.)
"""

ALLOW_MODEL_REQUESTS = True


class ModelRequestsBlocked(RuntimeError):
    """A unit test tried to call a real model without the ``real_model`` marker."""


def check(backend: str) -> None:
    if not ALLOW_MODEL_REQUESTS:
        raise ModelRequestsBlocked(
            f"A real model request ({backend}) was made while ALLOW_MODEL_REQUESTS is False; "
            "use the scripted backend or mark the test `real_model`."
        )
