"""core_webservice_get_site_info."""

from __future__ import annotations

from typing import Any

from sandbox.functions.common import profile_image_url
from sandbox.params import M, Param, S, V, default
from sandbox.registry import CallContext, ws_function

SERVICE = "syncbot_service"
PARTICIPANT_SERVICE = "participant_sim"
_ADVANCED = (
    "usecomments",
    "usetags",
    "enablenotes",
    "messaging",
    "enableblogs",
    "enablecompletion",
    "enablebadges",
    "mnet_dispatcher_mode",
    "enableglobalsearch",
    "enablecourserelativedates",
    "enableaccessibilitytools",
    "enablecustomreports",
)


def service_functions(ctx: CallContext) -> tuple[str, ...]:
    """The functions of the caller's service."""
    if ctx.caller.service == PARTICIPANT_SERVICE:
        return ctx.options.participant_functions
    return ctx.options.service_functions


@ws_function(
    "core_webservice_get_site_info",
    S(serviceshortnames=default(M(V(Param.ALPHANUMEXT)), [])),
)
def get_site_info(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Who the token belongs to, the site's release and the service's functions."""
    user = ctx.site.users[ctx.caller.userid]
    options = ctx.options
    return {
        "sitename": options.site_name,
        "username": user.username,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "fullname": user.fullname,
        "lang": user.lang,
        "userid": user.id,
        "siteurl": options.wwwroot,
        "userpictureurl": profile_image_url(ctx, "f1"),
        "functions": [
            {"name": name, "version": options.version} for name in service_functions(ctx)
        ],
        "downloadfiles": 0,
        "uploadfiles": 0,
        "release": options.release,
        "version": options.version,
        "mobilecssurl": "",
        "advancedfeatures": [
            {"name": name, "value": 0 if name == "mnet_dispatcher_mode" else 1}
            for name in _ADVANCED
        ],
        "usercanmanageownfiles": True,
        "userquota": 104857600,
        "usermaxuploadfilesize": 67108864,
        "userhomepage": 1,
        "userprivateaccesskey": f"{user.id:032x}",
        "siteid": 1,
        "sitecalendartype": "gregorian",
        "usercalendartype": "gregorian",
        "userissiteadmin": user.id == 2,
        "theme": "boost",
        "limitconcurrentlogins": 0,
        "policyagreed": 0,
    }
