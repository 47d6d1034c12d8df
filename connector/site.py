"""The site and the token's service: ``core_webservice_get_site_info``."""

from __future__ import annotations

from collections.abc import Iterable

from connector.client import MoodleClient
from connector.common import MoodleModel, parse

GET_SITE_INFO = "core_webservice_get_site_info"


class ServiceFunction(MoodleModel):
    """A function the token's service lets this user call."""

    name: str
    version: str = ""


class SiteInfo(MoodleModel):
    """Who the token belongs to, which Moodle answers, and what it may call."""

    sitename: str
    siteurl: str = ""
    release: str = ""
    version: str = ""
    username: str
    userid: int
    fullname: str = ""
    lang: str = ""
    userissiteadmin: bool | None = None
    functions: tuple[ServiceFunction, ...] = ()

    @property
    def function_names(self) -> frozenset[str]:
        return frozenset(function.name for function in self.functions)

    def missing_functions(self, required: Iterable[str]) -> list[str]:
        """The functions in ``required`` that the token's service does not offer."""
        names = self.function_names
        return sorted(set(required) - names)


class Site:
    """Site-level web service functions."""

    def __init__(self, client: MoodleClient) -> None:
        self._client = client

    def get_site_info(self) -> SiteInfo:
        """Site name, release, token owner and service functions.

        Calls ``core_webservice_get_site_info``.
        """
        return parse(SiteInfo, self._client.call(GET_SITE_INFO), GET_SITE_INFO)
