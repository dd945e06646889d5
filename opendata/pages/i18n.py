"""The language of a page: the switch's cookie if set, else Accept-Language, else English (Django's
`get_language_from_request`). Only the pages are translated: the API answers in English whatever it
is asked, so no LocaleMiddleware runs for it."""

from __future__ import annotations

from functools import wraps

from django.utils import translation
from django.utils.cache import patch_vary_headers


def localized(view):
    """Render the view in the request's language; say which (Content-Language) and on what it depends."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        language = translation.get_language_from_request(request)
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", language)
        return response

    return wrapper


def is_chinese() -> bool:
    return (translation.get_language() or "").startswith("zh")
